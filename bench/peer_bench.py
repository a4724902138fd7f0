"""Issue 16's benchmark: eltflow in memory vs the fastest peer, ``aws-local-stepfunctions``.

The peer is a JavaScript ASL interpreter on V8 (npm). The bench installs the pinned version
into a cache folder with the machine's own ``npm`` the first time (``~/.cache/eltflow-bench``,
or ``$XDG_CACHE_HOME``), then runs ``bench/peer_runner.mjs`` with ``node`` once per case and
round. Where node or npm is absent, or the install fails, the peer column is skipped with the
reason; eltflow's own numbers still print.

Like for like: each side parses the definition once and runs the parsed machine many times,
as a caller running one machine would. ``bench/peer_runner.mjs`` builds ``new StateMachine``
once; eltflow runs ``eltflow.execute`` on the model ``eltflow.asl.parser.parse`` returns (its
parsed-machine API). Handed the definition as a dict instead, ``execute`` looks the parsed
model up in its cache under the dict's JSON text: ~10k instructions more per execution
(callgrind), ~10% of a 10-Pass chain; ``--dict`` measures that way.

Measure: executions per CPU-second of each side's own process (Python: ``time.process_time``
over every thread; node: ``process.cpuUsage``), taken in interleaved rounds so both sides see
the same machine load. CPU time, not wall time, because the machine is shared: another
process's load changes wall time by ±50% and CPU time far less. Each side warms up first (the
peer's JIT, eltflow's parse cache). Both sides must agree on each case's output first.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import eltflow
from bench.common import (
    Case,
    Rate,
    format_rate,
    format_ratio,
    map_case,
    measure,
    parallel_case,
    pass_chain_case,
    table,
)
from eltflow.asl.model import StateMachine
from eltflow.asl.parser import parse
from eltflow.types import JSON, JSONObject

PEER_PACKAGE = "aws-local-stepfunctions"
PEER_VERSION = "3.0.0"
TARGET_RATIO = 3.0
_RUNNER = Path(__file__).with_name("peer_runner.mjs")


def choice_loop_case(iterations: int = 1000) -> Case:
    """A counter loop: Pass (``States.MathAdd``) → Choice, ``iterations`` times, then Succeed."""
    definition: JSONObject = {
        "Comment": f"{iterations}-iteration Choice loop",
        "StartAt": "Increment",
        "States": {
            "Increment": {
                "Type": "Pass",
                "Parameters": {"i.$": "States.MathAdd($.i, 1)"},
                "Next": "Done?",
            },
            "Done?": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.i", "NumericGreaterThanEquals": iterations, "Next": "Done"}
                ],
                "Default": "Increment",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    return Case(
        name="choice-loop",
        title=f"Choice loop x {iterations:,}",
        definition=definition,
        input={"i": 0},
    )


def peer_cases() -> list[Case]:
    """The four workloads issue 16 names, in its order."""
    return [pass_chain_case(), parallel_case(), map_case(), choice_loop_case()]


class PeerUnavailable(Exception):
    """node/npm missing or the install failed: the reason is the message."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "eltflow-bench" / f"{PEER_PACKAGE}-{PEER_VERSION}"


def ensure_peer() -> Path:
    """The folder holding the pinned peer and a copy of the runner; installs on first use."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise PeerUnavailable("node/npm not found on PATH")
    folder = cache_dir()
    manifest = folder / "node_modules" / PEER_PACKAGE / "package.json"
    installed = None
    if manifest.is_file():
        installed = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    if installed != PEER_VERSION:
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(folder),
             f"{PEER_PACKAGE}@{PEER_VERSION}"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise PeerUnavailable(f"npm install failed: {done.stderr.strip()[-300:]}")
    # The runner imports the package by name, so it must live beside node_modules.
    shutil.copyfile(_RUNNER, folder / _RUNNER.name)
    return folder


@dataclass(frozen=True)
class PeerRun:
    rate: Rate
    output: JSON


def run_peer(folder: Path, case: Case, *, seconds: float, warmup: float) -> PeerRun:
    job = {"definition": case.definition, "input": case.input, "seconds": seconds}
    job["warmup_seconds"] = warmup
    done = subprocess.run(
        ["node", str(folder / _RUNNER.name)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise PeerUnavailable(f"node failed on {case.name}: {done.stderr.strip()[-300:]}")
    got = json.loads(done.stdout)
    rate = Rate(runs=got["runs"], seconds=got["wall_us"] / 1e6, cpu_seconds=got["cpu_us"] / 1e6)
    return PeerRun(rate=rate, output=got["output"])


@dataclass(frozen=True)
class PeerResult:
    case: Case
    eltflow: Rate
    peer: Rate | None

    @property
    def ratio_cpu(self) -> float | None:
        return None if self.peer is None else self.eltflow.per_cpu_second / self.peer.per_cpu_second

    @property
    def ratio_wall(self) -> float | None:
        return None if self.peer is None else self.eltflow.per_second / self.peer.per_second


def _add(a: Rate, b: Rate) -> Rate:
    return Rate(a.runs + b.runs, a.seconds + b.seconds, a.cpu_seconds + b.cpu_seconds)


def bench_case(
    case: Case, folder: Path | None, *, seconds: float, rounds: int, parsed: bool = True
) -> PeerResult:
    """Both sides on ``case``; eltflow runs a machine parsed once (as the peer does) unless
    ``parsed`` is False, when it is handed the definition dict on every run."""
    definition: StateMachine | JSONObject = parse(case.definition) if parsed else case.definition
    result = eltflow.execute(definition, case.input)  # warms the parse cache too
    if result.status != "SUCCEEDED":
        raise RuntimeError(f"{case.name}: eltflow ended {result.status}: {result.error}")

    def run_ours() -> None:
        if eltflow.execute(definition, case.input).status != "SUCCEEDED":
            raise RuntimeError(f"{case.name}: eltflow run failed")

    ours = Rate(0, 0.0, 0.0)
    theirs: Rate | None = None if folder is None else Rate(0, 0.0, 0.0)
    share = seconds / rounds
    for _ in range(rounds):
        ours = _add(ours, measure(run_ours, seconds=share))
        if folder is not None and theirs is not None:
            peer = run_peer(folder, case, seconds=share, warmup=min(0.5, share))
            if json.dumps(peer.output, sort_keys=True) != json.dumps(result.output, sort_keys=True):
                raise RuntimeError(
                    f"{case.name}: outputs differ\n  eltflow: {str(result.output)[:300]}"
                    f"\n  peer:    {str(peer.output)[:300]}"
                )
            theirs = _add(theirs, peer.rate)
    return PeerResult(case=case, eltflow=ours, peer=theirs)


def render(results: Sequence[PeerResult]) -> str:
    headers = ["case", "eltflow µs CPU", "peer µs CPU", "ratio CPU", "ratio wall", "target"]
    rows = []
    for r in results:
        peer_us = None if r.peer is None else 1e6 / r.peer.per_cpu_second
        verdict = (
            "-" if r.ratio_cpu is None else "met" if r.ratio_cpu >= TARGET_RATIO else "NOT MET"
        )
        rows.append(
            [
                r.case.title,
                format_rate(1e6 / r.eltflow.per_cpu_second),
                format_rate(peer_us),
                format_ratio(r.ratio_cpu),
                format_ratio(r.ratio_wall),
                verdict,
            ]
        )
    return table(headers, rows)


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m bench.peer_bench")
    p.add_argument("--seconds", type=float, default=3.0, help="budget per case per side")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds per case")
    p.add_argument("--cases", nargs="+", choices=[c.name for c in peer_cases()])
    p.add_argument(
        "--dict",
        action="store_true",
        help="hand eltflow the definition dict on every run (default: parsed once, as the peer)",
    )
    args = p.parse_args(argv)
    how = (
        "eltflow handed the definition dict on every run, the peer parsing it once"
        if args.dict
        else "each side parses the definition once and runs the parsed machine"
    )
    print(
        f"\nASL in memory vs {PEER_PACKAGE} {PEER_VERSION} (node): µs of CPU per execution, "
        f"each side's own process, {args.rounds} interleaved rounds; {how}"
    )
    folder: Path | None
    try:
        started = time.perf_counter()
        folder = ensure_peer()
        if time.perf_counter() - started > 5:
            print(f"(installed the peer into {folder})")
    except (PeerUnavailable, OSError, subprocess.SubprocessError) as e:
        print(f"(peer column skipped: {e})")
        folder = None
    cases = [c for c in peer_cases() if args.cases is None or c.name in args.cases]
    try:
        results = [
            bench_case(
                c, folder, seconds=args.seconds, rounds=max(args.rounds, 1), parsed=not args.dict
            )
            for c in cases
        ]
    except PeerUnavailable as e:
        print(f"(peer column skipped: {e})")
        results = [
            bench_case(c, None, seconds=args.seconds, rounds=1, parsed=not args.dict) for c in cases
        ]
    print(render(results))
    print(
        "ratio CPU: eltflow executions per CPU-second over the peer's (the target's measure); "
        "ratio wall: the same in wall time, which the shared machine's load distorts."
    )
    if folder is not None:
        missed = [r.case.title for r in results if (r.ratio_cpu or 0.0) < TARGET_RATIO]
        print(
            f"target: eltflow >= {TARGET_RATIO:.0f}x {PEER_PACKAGE} on each case: "
            + ("MET" if not missed else "NOT MET for " + ", ".join(missed))
        )
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
