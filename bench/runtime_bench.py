"""Durable runtime benchmarks (issue 3): executions/s on a SQLite state store vs moto's Step
Functions, and the memory of one worker holding 10,000 executions in a Wait.

Durable means every state transition is committed to ``.eltflow``-style SQLite (WAL) before
the next starts. Two eltflow modes are timed:

- *one at a time*: start an execution and run it to its end before starting the next — the
  same pattern as the moto peer (start_execution, then poll describe_execution);
- *worker*: start a batch, then one worker drains it (how executions are run in practice).

Run with ``python -m bench.runtime_bench`` (or as part of ``python -m bench``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    Case,
    Rate,
    asl_cases,
    format_rate,
    format_ratio,
    machine_note,
    measure,
    moto_stepfunctions,
    table,
)
from eltflow.app import App, build_app

TARGET_RATIO = 10.0
MEMORY_TARGET_BYTES = 1 << 30
STEP = "arn:aws:lambda:us-east-1:123456789012:function:step"


@dataclass(frozen=True)
class RuntimeResult:
    case: Case
    one_at_a_time: Rate
    worker: Rate
    moto: Rate

    @property
    def ratio(self) -> float:
        return self.one_at_a_time.per_second / self.moto.per_second


def _fresh_app(folder: Path) -> App:
    return build_app(state_url=f"sqlite:///{folder / 'state.db'}")


def _check(app: App, arn: str, expected: Any) -> None:
    desc = app.service.describe_execution(execution_arn=arn)
    if desc["status"] != "SUCCEEDED" or json.loads(str(desc["output"])) != expected:
        raise AssertionError(f"{arn}: {desc['status']} {str(desc.get('output'))[:200]}")


def bench_case(case: Case, *, seconds: float, poll_interval: float = 0.001) -> RuntimeResult:
    with tempfile.TemporaryDirectory() as tmp:
        app = _fresh_app(Path(tmp))
        app.service.create_state_machine(name="bench", definition=case.definition)
        text = json.dumps(case.input)
        counter = iter(range(10**9))

        def one() -> str:
            arn = str(
                app.service.start_execution(
                    state_machine_arn="bench", input=text, name=f"one-{next(counter)}"
                )["executionArn"]
            )
            row = app.store.get_execution_by_arn(arn)
            assert row is not None
            if row.status == "RUNNING":
                app.worker(only=row.id, threads=4).run(until_idle=True)
            return arn

        # Warm-up and the expected output (the same as moto's, checked below).
        expected = json.loads(
            str(app.service.describe_execution(execution_arn=one()).get("output"))
        )
        single = measure(one, seconds=seconds)

        batch = max(20, int(single.per_second * seconds))
        start = time.perf_counter()
        arns = [
            str(
                app.service.start_execution(
                    state_machine_arn="bench", input=text, name=f"batch-{i}"
                )["executionArn"]
            )
            for i in range(batch)
        ]
        app.worker(threads=8, batch=128, max_held=5000).run(until_idle=True)
        worker = Rate(runs=batch, seconds=time.perf_counter() - start)
        for arn in arns[:: max(1, batch // 10)]:
            _check(app, arn, expected)
        app.close()

    with moto_stepfunctions(poll_interval) as moto:
        machine = moto.create(case.definition_text)
        theirs = moto.run(machine, case.input)
        if theirs.status != "SUCCEEDED" or theirs.output != expected:
            raise AssertionError(f"{case.name}: moto gave {theirs}, eltflow {expected}")
        moto_rate = measure(lambda: moto.run(machine, case.input), seconds=seconds)
    return RuntimeResult(case=case, one_at_a_time=single, worker=worker, moto=moto_rate)


def render(results: Sequence[RuntimeResult]) -> str:
    rows = [
        [
            r.case.title,
            format_rate(r.one_at_a_time.per_second),
            format_rate(r.worker.per_second),
            format_rate(r.moto.per_second),
            format_ratio(r.ratio),
            format_ratio(r.worker.per_second / r.moto.per_second),
        ]
        for r in results
    ]
    headers = ["case", "durable 1-by-1/s", "durable worker/s", "moto/s", "1-by-1", "worker"]
    return table(headers, rows)


# --- memory: 10,000 executions waiting in one worker ------------------------------------------


def _peak_rss() -> int:
    """Peak resident set of this process in bytes. VmHWM, not ru_maxrss: Linux keeps
    ru_maxrss across exec, so a child would report its parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def memory_probe(count: int, folder: Path) -> dict[str, Any]:
    """Run in a fresh process: start ``count`` executions of Task -> Wait(1 h) -> Pass, let one
    worker take them all into the Wait (virtual clock), then let the timers fire and finish.
    Returns peak RSS and how many were waiting at once."""
    from eltflow.clock import VirtualClock

    baseline = _peak_rss()
    app = build_app(state_url=f"sqlite:///{folder / 'state.db'}", clock=VirtualClock())

    def step(p: Any) -> Any:
        return {"n": p["n"] + 1}

    app.register(STEP, step)
    definition = {
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": STEP, "Next": "W"},
            "W": {"Type": "Wait", "Seconds": 3600, "Next": "P"},
            "P": {"Type": "Pass", "End": True},
        },
    }
    app.service.create_state_machine(name="waits", definition=definition)
    start = time.perf_counter()
    for i in range(count):
        app.service.start_execution(state_machine_arn="waits", name=f"w{i}", input='{"n": 0}')
    started = time.perf_counter() - start
    worker = app.worker(threads=8, batch=256, max_held=count)
    waiting = 0

    def all_waiting() -> bool:
        nonlocal waiting
        with app.db.transaction() as conn:
            rows = conn.execute("SELECT COUNT(*) AS n FROM sfn_timers")
        waiting = int(rows[0]["n"])
        return waiting >= count

    # Phase 1: run every execution into its Wait (the clock doesn't move while work remains).
    t0 = time.perf_counter()
    worker.run(until=all_waiting)
    phase1 = time.perf_counter() - t0
    peak_waiting = waiting
    rss_waiting = _peak_rss()
    # Phase 2: an hour passes (virtually); the timers fire and every execution finishes.
    t0 = time.perf_counter()
    app.worker(threads=8, batch=256, max_held=count).run(until_idle=True)
    phase2 = time.perf_counter() - t0
    statuses = app.store.count_by_status()
    app.close()
    return {
        "count": count,
        "waiting_at_once": peak_waiting,
        "statuses": statuses,
        "baseline_rss": baseline,
        "rss_while_waiting": rss_waiting,
        "peak_rss": _peak_rss(),
        "start_seconds": started,
        "into_wait_seconds": phase1,
        "finish_seconds": phase2,
    }


def memory_bench(count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        code = (
            "import json, sys; from pathlib import Path; from bench.runtime_bench import "
            f"memory_probe; print(json.dumps(memory_probe({count}, Path(sys.argv[1]))))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, tmp], capture_output=True, text=True, check=True
        )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.runtime_bench")
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--waiting", type=int, default=10_000, help="executions for the memory probe")
    p.add_argument("--no-memory", action="store_true")
    args = p.parse_args(argv)
    print()
    print(
        f"Durable runtime (SQLite state store, WAL) vs moto: completed executions/s "
        f"({machine_note()})"
    )
    results = [bench_case(c, seconds=args.seconds) for c in asl_cases()]
    print(render(results))
    missed = [r.case.title for r in results if r.ratio < TARGET_RATIO]
    print(
        f"target: durable 1-by-1 >= {TARGET_RATIO:.0f}x moto: "
        f"{'MET' if not missed else 'NOT MET for ' + ', '.join(missed)}"
    )
    if args.no_memory:
        return 0
    print()
    m = memory_bench(args.waiting)
    mib = 1 << 20
    print(
        f"Memory: {m['waiting_at_once']:,} executions waiting at once in one worker "
        f"(Task -> Wait 1 h -> Pass; all {m['statuses']})"
    )
    print(
        f"  peak RSS {m['peak_rss'] / mib:,.0f} MiB (while all waiting: "
        f"{m['rss_while_waiting'] / mib:,.0f} MiB; interpreter baseline "
        f"{m['baseline_rss'] / mib:,.0f} MiB); start {m['start_seconds']:.1f} s, "
        f"into the Wait {m['into_wait_seconds']:.1f} s, finish {m['finish_seconds']:.1f} s"
    )
    ok = m["peak_rss"] < MEMORY_TARGET_BYTES and m["waiting_at_once"] >= args.waiting
    print(f"target: < 1 GiB for {args.waiting:,} waiting: {'MET' if ok else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
