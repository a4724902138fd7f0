"""Issue 16: 100,000 executions waiting in one worker under 1 GiB RSS.

Two kinds of waiting, each on a fresh SQLite state store (WAL):

- *Wait*: Task -> Wait (one year) -> Pass, the Task a Python callable (without it the start
  itself would run Pass -> Wait and leave the worker nothing to do). Each execution ends up as
  a timer row.
- *task token*: a ``.waitForTaskToken`` Task (a Python callable stands in for the Lambda the
  token would be handed to). Each execution ends up as a task row waiting for SendTaskSuccess.

Phases, each in its own process so that each peak RSS is that phase's alone:

1. *start*: ``StartExecution`` ``count`` times through the service (one transaction each, as an
   API caller would); the figure is the wall time.
2. *worker*: one worker as ``eltflow worker`` runs it (default options, real clock) takes every
   execution into its wait and lets it go; the figure is the wall time until it is idle (every
   execution RUNNING and held by nobody) and the process's peak RSS (VmHWM), next to the RSS of
   the same process before the worker ran (interpreter, eltflow and the app loaded).

``bench.runtime_bench``'s memory probe (10,000 executions, Task -> Wait -> Pass on a virtual
clock, starts and worker in one process) also lets the timers fire; this one only measures the
holding, at the target's scale.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import machine_note, table

TARGET_BYTES = 1 << 30
KINDS = ("wait", "token")
CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"
STEP = "arn:aws:lambda:us-east-1:123456789012:function:step"
IDLE_CHECK_SECONDS = 0.5
YEAR_SECONDS = 365 * 24 * 3600


def _definition(kind: str) -> dict[str, Any]:
    if kind == "wait":
        return {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Task", "Resource": STEP, "Next": "W"},
                "W": {"Type": "Wait", "Seconds": YEAR_SECONDS, "Next": "B"},
                "B": {"Type": "Pass", "End": True},
            },
        }
    return {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": CALLBACK,
                "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }


def _peak_rss() -> int:
    """This process's peak resident set in bytes (VmHWM: ru_maxrss survives exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _app(folder: Path) -> Any:
    from eltflow.app import build_app

    return build_app(state_url=f"sqlite:///{folder / 'state.db'}")


def start_phase(kind: str, count: int, folder: Path) -> dict[str, Any]:
    """Phase 1 (own process): create the machine and start ``count`` executions."""
    app = _app(folder)
    app.service.create_state_machine(name=kind, definition=_definition(kind))
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(count):
        app.service.start_execution(state_machine_arn=kind, name=f"x{i}", input='{"n": 0}')
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    app.close()
    return {"start_seconds": seconds, "start_cpu": cpu, "start_rss": _peak_rss()}


def worker_phase(kind: str, count: int, folder: Path) -> dict[str, Any]:
    """Phase 2 (own process): one worker until every execution waits and none is held."""
    app = _app(folder)
    calls = 0

    def callback(params: Any) -> Any:
        nonlocal calls
        calls += 1
        return {"StatusCode": 200}

    app.register(CALLBACK, callback)
    app.register(STEP, lambda params: params)
    baseline = _peak_rss()
    worker = app.worker()

    last_check = 0.0

    def idle() -> bool:
        # A whole-table count: asked at most every IDLE_CHECK_SECONDS (the figure's resolution)
        # and only once every execution was claimed, so it costs the worker next to nothing.
        nonlocal last_check
        now = time.perf_counter()
        if worker.stats.claimed < count or now - last_check < IDLE_CHECK_SECONDS:
            return False
        last_check = now
        with app.db.transaction() as conn:
            rows = conn.execute(
                "SELECT COUNT(*) AS n FROM sfn_executions "
                "WHERE status = :status AND lease_owner IS NULL",
                {"status": "RUNNING"},
            )
        return int(rows[0]["n"]) >= count

    t0, c0 = time.perf_counter(), time.process_time()
    worker.run(until=idle)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = _peak_rss()
    with app.db.transaction() as conn:
        timers = int(conn.execute("SELECT COUNT(*) AS n FROM sfn_timers")[0]["n"])
    statuses = app.store.count_by_status()
    app.close()
    return {
        "idle_seconds": seconds,
        "idle_cpu": cpu,
        "worker_rss": peak,
        "baseline_rss": baseline,
        "timers": timers,
        "calls": calls,
        "statuses": statuses,
        "claimed": worker.stats.claimed,
        "steps": worker.stats.steps,
    }


def _in_process(phase: str, kind: str, count: int, folder: Path) -> dict[str, Any]:
    code = (
        "import json, sys; from pathlib import Path; from bench import waiting_bench as w; "
        f"print(json.dumps(w.{phase}(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, kind, str(count), str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure(kind: str, count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        started = _in_process("start_phase", kind, count, Path(tmp))
        ran = _in_process("worker_phase", kind, count, Path(tmp))
    return {"kind": kind, "count": count, **started, **ran}


def _us(cpu_seconds: float, count: int) -> str:
    return f"{cpu_seconds * 1e6 / count:,.0f} µs CPU each"


def _held(m: dict[str, Any]) -> bool:
    """Every execution RUNNING in its wait: a timer each (Wait) or a call each (token)."""
    running = m["statuses"].get("RUNNING", 0) == m["count"]
    waits = m["timers"] if m["kind"] == "wait" else m["calls"]
    return bool(running and waits >= m["count"])


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.waiting_bench")
    p.add_argument("--count", type=int, default=100_000, help="executions (default 100,000)")
    p.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    args = p.parse_args(argv)
    mib = 1 << 20
    results = [measure(kind, args.count) for kind in args.kinds]
    print(
        f"\nExecutions waiting in one worker (SQLite, WAL; {machine_note()}): "
        "start and worker each in their own process"
    )
    rows = []
    for m in results:
        what = "Task -> Wait 1 year -> Pass" if m["kind"] == "wait" else ".waitForTaskToken Task"
        ok = _held(m) and m["worker_rss"] < TARGET_BYTES
        rows.append(
            [
                what,
                f"{m['count']:,}",
                f"{m['start_seconds']:.1f} s ({_us(m['start_cpu'], m['count'])})",
                f"{m['idle_seconds']:.1f} s ({_us(m['idle_cpu'], m['count'])})",
                f"{m['worker_rss'] / mib:,.0f} MiB (before: {m['baseline_rss'] / mib:,.0f})",
                "met" if ok else "NOT MET",
            ]
        )
    headers = ["machine", "executions", "start", "worker to idle", "worker peak RSS", "< 1 GiB"]
    print(table(headers, rows))
    print(
        "wall time (CPU per execution, every thread of the phase's process: on a shared "
        "machine the CPU figure is the one that does not move with the load)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
