"""Smoke test of ``python -m bench``: every case runs on both engines with the smallest
budget, the outputs agree, and the report has a row per case. No timing assertions: the
numbers depend on the machine; this only proves the harness measures what it says."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from bench import asl_bench
from bench.__main__ import main
from bench.common import (
    Case,
    asl_cases,
    measure,
    measure_interleaved,
    moto_stepfunctions,
    table,
)


@pytest.mark.parametrize("case", asl_cases(), ids=lambda c: c.name)
def test_each_case_runs_on_both_engines_with_identical_outputs(case: Case) -> None:
    with moto_stepfunctions() as moto:
        result = asl_bench.bench_case(case, moto, seconds=0.0)
        arn = moto.create(case.definition)
        theirs = moto.run(arn, case.input)
    ours = asl_bench.eltflow_outcome(case)

    assert ours.status == theirs.status == "SUCCEEDED"
    assert ours.output == theirs.output
    # Each side ran exactly once with a zero budget, and took some time doing it.
    for rate in (result.eltflow, result.eltflow_parsed, result.moto):
        assert rate.runs == 1
        assert rate.seconds > 0


def test_cases_have_the_shapes_the_issue_asks_for() -> None:
    chain, parallel, map_ = asl_cases()
    chain_states = chain.definition["States"]
    assert isinstance(chain_states, dict) and len(chain_states) == 10
    assert all(s["Type"] == "Pass" for s in chain_states.values() if isinstance(s, dict))

    fork: Any = parallel.definition["States"]["Fork"]  # type: ignore[call-overload,index]
    assert fork["Type"] == "Parallel" and len(fork["Branches"]) == 2
    assert all(len(b["States"]) == 3 for b in fork["Branches"])

    items: Any = map_.input["items"]  # type: ignore[call-overload,index]
    assert len(items) == 100
    expected = asl_bench.eltflow_outcome(map_).output
    assert expected == items  # a Pass iterator hands each item back unchanged


def test_a_mismatch_is_reported_not_timed() -> None:
    chain = asl_cases()[0]
    other = Case(
        name="wrong",
        title="differs",
        definition=chain.definition,
        input=chain.input,
    )
    with moto_stepfunctions() as moto:
        # moto runs a machine whose last state rewrites the output, eltflow the original.
        altered = {
            "StartAt": "Only",
            "States": {"Only": {"Type": "Pass", "Result": {"moto": True}, "End": True}},
        }
        arn = moto.create(altered)
        with pytest.raises(asl_bench.OutputMismatch, match="disagree"):
            asl_bench.verify(other, moto, arn)


def test_measure_respects_min_and_max_runs() -> None:
    calls: list[int] = []
    rate = measure(lambda: calls.append(1), seconds=0.0, min_runs=5)
    assert rate.runs == len(calls) == 5
    rate = measure(lambda: calls.append(1), seconds=60.0, max_runs=3)
    assert rate.runs == 3


def test_measure_interleaved_takes_turns() -> None:
    calls: list[str] = []
    a, b = measure_interleaved(
        [lambda: calls.append("a"), lambda: calls.append("b")], seconds=0.03, slices=3
    )
    assert a.runs == calls.count("a") and b.runs == calls.count("b")
    # Three turns each: the sequence switches runner at least five times.
    switches = sum(1 for x, y in itertools.pairwise(calls) if x != y)
    assert switches >= 5
    assert a.cpu_seconds >= 0 and b.seconds > 0

    once = measure_interleaved([lambda: calls.append("c")], seconds=0.0, slices=4)
    assert once[0].runs == 1


def test_table_aligns_columns() -> None:
    text = table(["case", "n"], [["a", "1"], ["longer", "22"]])
    lines = text.splitlines()
    assert len({len(line) for line in lines}) == 1
    assert lines[2] == "a      |  1"


def test_main_prints_one_row_per_case(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--seconds", "0", "--cases", "pass-chain", "parallel", "--no-runtime"])
    out = capsys.readouterr().out
    assert code == 0
    assert "10-state Pass chain" in out and "Parallel 2 branches x 3 Pass" in out
    assert "Map over" not in out
    assert "target: eltflow >= 100x moto on each case" in out


def test_profile_names_interpreter_hotspots() -> None:
    from bench.profiling import render_profile

    text = render_profile(asl_cases()[2], runs=3, top=5)
    assert "CPU ms per execution" in text
    assert "eltflow/interpreter/" in text  # the per-file view points at the interpreter
    assert text.count("\n") > 10


def test_target_verdict_uses_wall_ratio_and_mentions_cpu() -> None:
    from bench.common import Rate

    case = asl_cases()[0]
    moto = Rate(runs=10, seconds=1.0, cpu_seconds=1.0)

    def verdict(runs: int, cpu_seconds: float) -> tuple[bool, str]:
        ours = Rate(runs=runs, seconds=1.0, cpu_seconds=cpu_seconds)
        result = asl_bench.CaseResult(case=case, eltflow=ours, eltflow_parsed=ours, moto=moto)
        return result.target_met, asl_bench.render([result]).splitlines()[-1]

    met, row = verdict(1000, 1.0)  # exactly 100x
    assert met and row.endswith("met") and "100x" in row
    met, row = verdict(500, 0.25)  # 50x wall, 200x per CPU-second
    assert not met and row.endswith("NOT MET (met by CPU)")
    met, row = verdict(500, 1.0)
    assert not met and row.endswith("NOT MET")
