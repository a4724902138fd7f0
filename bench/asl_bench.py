"""Issue 2's benchmark: in-memory executions per second, eltflow vs moto's ASL interpreter.

For each case both engines first run the definition once and must agree on status and output
(a benchmark of two engines that disagree measures nothing). Then each side runs for the same
time budget:

- eltflow: ``eltflow.execute(definition, input)`` with the definition as a dict, exactly as a
  caller writes it, and again with a definition parsed once up front (``parse``), which shows
  what the parse cache costs per call;
- moto: ``start_execution`` + polling ``describe_execution`` on a machine created once.

The ratio is eltflow (dict definition) over moto in wall-clock executions per second; the
target is 100x on each case. "ratio CPU" divides executions per CPU-second of this process
instead, which other processes' load on a shared machine distorts less.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import eltflow
from bench.common import (
    Case,
    MotoStepFunctions,
    Outcome,
    Rate,
    asl_cases,
    format_rate,
    format_ratio,
    measure_interleaved,
    moto_stepfunctions,
    table,
)
from eltflow.asl.parser import parse

TARGET_RATIO = 100.0


class OutputMismatch(Exception):
    """eltflow and moto ended an execution of the same case differently."""


@dataclass(frozen=True)
class CaseResult:
    case: Case
    eltflow: Rate
    eltflow_parsed: Rate
    moto: Rate

    @property
    def ratio(self) -> float:
        return self.eltflow.per_second / self.moto.per_second

    @property
    def ratio_parsed(self) -> float:
        return self.eltflow_parsed.per_second / self.moto.per_second

    @property
    def ratio_cpu(self) -> float:
        """The same ratio in executions per CPU-second (see :attr:`Rate.per_cpu_second`)."""
        return self.eltflow.per_cpu_second / self.moto.per_cpu_second

    @property
    def target_met(self) -> bool:
        return self.ratio >= TARGET_RATIO


def eltflow_outcome(case: Case) -> Outcome:
    result = eltflow.execute(case.definition, case.input)
    return Outcome(
        status=result.status, output=result.output, error=result.error, cause=result.cause
    )


def _canonical(outcome: Outcome) -> str:
    return json.dumps([outcome.status, outcome.output, outcome.error], sort_keys=True)


def verify(case: Case, moto: MotoStepFunctions, machine_arn: str) -> Outcome:
    """Run ``case`` once on both engines; raise :class:`OutputMismatch` unless they agree.

    Also the warm-up run: the first execution pays one-off costs (imports, parse cache) on
    both sides, which are not what executions per second should count.
    """
    ours = eltflow_outcome(case)
    theirs = moto.run(machine_arn, case.input)
    if ours.status != "SUCCEEDED" or _canonical(ours) != _canonical(theirs):
        raise OutputMismatch(
            f"{case.name}: eltflow and moto disagree\n"
            f"  eltflow: {_canonical(ours)[:500]}\n"
            f"  moto:    {_canonical(theirs)[:500]}"
        )
    return ours


def bench_case(
    case: Case, moto: MotoStepFunctions, *, seconds: float, min_runs: int = 1, slices: int = 10
) -> CaseResult:
    """Verify one case, then time eltflow (dict and pre-parsed definition) and moto on it."""
    machine_arn = moto.create(case.definition_text)
    verify(case, moto, machine_arn)
    parsed = parse(case.definition)

    def run_dict() -> None:
        result = eltflow.execute(case.definition, case.input)
        if result.status != "SUCCEEDED":  # cheap guard: a failing run is not a fast run
            raise OutputMismatch(f"{case.name}: eltflow run ended {result.status}")

    def run_parsed() -> None:
        result = eltflow.execute(parsed, case.input)
        if result.status != "SUCCEEDED":
            raise OutputMismatch(f"{case.name}: eltflow run ended {result.status}")

    def run_moto() -> None:
        outcome = moto.run(machine_arn, case.input)
        if outcome.status != "SUCCEEDED":
            raise OutputMismatch(f"{case.name}: moto run ended {outcome.status}")

    ours, ours_parsed, theirs = measure_interleaved(
        [run_dict, run_parsed, run_moto], seconds=seconds, slices=slices, min_runs=min_runs
    )
    return CaseResult(case=case, eltflow=ours, eltflow_parsed=ours_parsed, moto=theirs)


def run(
    cases: Sequence[Case] | None = None,
    *,
    seconds: float = 3.0,
    min_runs: int = 1,
    poll_interval: float = 0.001,
) -> list[CaseResult]:
    """Benchmark every case; each gets a fresh moto backend so earlier executions (which moto
    keeps in a list it scans) don't slow later cases."""
    results = []
    for case in cases if cases is not None else asl_cases():
        with moto_stepfunctions(poll_interval) as moto:
            results.append(bench_case(case, moto, seconds=seconds, min_runs=min_runs))
    return results


def _verdict(result: CaseResult) -> str:
    if result.target_met:
        return "met"
    if result.ratio_cpu >= TARGET_RATIO:
        return "NOT MET (met by CPU)"
    return "NOT MET"


NOTE = (
    "ratio: wall-clock exec/s (the target's measure). ratio CPU: exec per CPU-second of this "
    "process,\nwhich other processes' load distorts less (moto's several threads win a larger "
    "share of a busy CPU than eltflow's one)."
)


def render(results: Sequence[CaseResult]) -> str:
    headers = [
        "case",
        "eltflow exec/s",
        "pre-parsed exec/s",
        "moto exec/s",
        "ratio",
        "ratio pre-parsed",
        "ratio CPU",
        f"target >={TARGET_RATIO:.0f}x",
    ]
    rows = [
        [
            r.case.title,
            format_rate(r.eltflow.per_second),
            format_rate(r.eltflow_parsed.per_second),
            format_rate(r.moto.per_second),
            format_ratio(r.ratio),
            format_ratio(r.ratio_parsed),
            format_ratio(r.ratio_cpu),
            _verdict(r),
        ]
        for r in results
    ]
    return table(headers, rows)
