"""Issue 16: parents waiting on ``states:startExecution.sync:2`` children, in one worker.

``count`` parents (default 200) each start a child with ``startExecution.sync:2``; each child
runs one ``.waitForTaskToken`` Task (a Python callable keeps its token) and so stays RUNNING
until the bench answers it. One worker (default options, real clock, SQLite WAL or
PostgreSQL) runs everything in this process. Measured:

1. *waiting*: once every child waits for its token (and every parent reported its child as
   submitted), a window of ``window`` seconds in which nothing is to be done: the process's
   CPU time (every thread) and its thread count (the most seen, sampled every 50 ms), and the
   threads of the worker's wait pool (``eltflow-wait``);
2. *completion*: every token answered at once (SendTaskSuccess, one after another); the wall
   time from the first answer until every parent SUCCEEDED, and the CPU time of it.

A parent that polls its child holds a thread and wakes every poll interval while it waits; one
completed from its child's end holds neither.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import machine_note, table

CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"
SAMPLE_SECONDS = 0.05


def _child() -> dict[str, Any]:
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


def _parent() -> dict[str, Any]:
    return {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {
                    "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:child",
                    "Input": {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"},
                },
                "End": True,
            }
        },
    }


def _wait_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("eltflow-wait"))


def _submitted(app: Any) -> int:
    """Parents whose TaskSubmitted is recorded."""
    with app.db.transaction() as conn:
        rows = conn.execute(
            "SELECT COUNT(*) AS n FROM sfn_history_steps WHERE events LIKE :pattern",
            {"pattern": '%"TaskSubmitted"%'},
        )
    return int(rows[0]["n"])


def measure(url: str, count: int, window: float) -> dict[str, Any]:
    from eltflow.app import build_app

    app = build_app(state_url=url)
    tokens: list[str] = []
    lock = threading.Lock()

    def callback(params: Any) -> Any:
        with lock:
            tokens.append(str(params["Payload"]["token"]))
        return {"StatusCode": 200}

    app.register(CALLBACK, callback)
    app.service.create_state_machine(name="child", definition=json.dumps(_child()))
    app.service.create_state_machine(name="parent", definition=json.dumps(_parent()))
    parents = [
        str(app.service.start_execution(state_machine_arn="parent", name=f"p{i}")["executionArn"])
        for i in range(count)
    ]
    worker = app.worker()
    done = threading.Event()
    runner = threading.Thread(target=lambda: worker.run(until=done.is_set), name="bench-worker")
    runner.start()
    try:
        t0 = time.perf_counter()
        while len(tokens) < count or _submitted(app) < count:
            if time.perf_counter() - t0 > 120:
                raise RuntimeError(f"only {len(tokens)} of {count} children started in 120 s")
            time.sleep(0.05)
        settle_seconds = time.perf_counter() - t0
        # Waiting: nothing to do but wait.
        most_threads = most_wait = 0
        c0, w0 = time.process_time(), time.perf_counter()
        while time.perf_counter() - w0 < window:
            most_threads = max(most_threads, threading.active_count())
            most_wait = max(most_wait, _wait_threads())
            time.sleep(SAMPLE_SECONDS)
        wait_cpu, wait_wall = time.process_time() - c0, time.perf_counter() - w0
        # Completion: answer every child at once.
        c0, t0 = time.process_time(), time.perf_counter()
        for token in tokens:
            app.service.send_task_success(task_token=token, output='{"ok": true}')
        while True:
            ended = app.store.count_by_status().get("SUCCEEDED", 0)
            if ended >= 2 * count:
                break
            if time.perf_counter() - t0 > 120:
                raise RuntimeError(f"only {ended} of {2 * count} executions ended in 120 s")
            time.sleep(0.01)
        done_seconds, done_cpu = time.perf_counter() - t0, time.process_time() - c0
        out = app.service.describe_execution(execution_arn=parents[0])
        assert json.loads(str(out["output"]))["Output"] == {"ok": True}, out
    finally:
        done.set()
        runner.join()
        app.close()
    return {
        "count": count,
        "settle_seconds": settle_seconds,
        "wait_cpu": wait_cpu,
        "wait_wall": wait_wall,
        "threads": most_threads,
        "wait_threads": most_wait,
        "done_seconds": done_seconds,
        "done_cpu": done_cpu,
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.sync_wait_bench")
    p.add_argument("--count", type=int, default=200, help="waiting parents (default 200)")
    p.add_argument("--window", type=float, default=5.0, help="seconds of waiting measured")
    p.add_argument("--pg", help="a PostgreSQL URL (default: a fresh SQLite file)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.pg or f"sqlite:///{Path(tmp) / 'state.db'}"
        m = measure(url, args.count, args.window)
    store = "PostgreSQL" if args.pg else "SQLite"
    print(f"\n.sync:2 parents waiting on their children, one worker ({store}; {machine_note()})")
    rows = [
        [
            f"{m['count']} parents",
            f"{m['wait_cpu'] * 1000 / m['wait_wall']:.0f} ms/s",
            f"{m['threads']} ({m['wait_threads']} eltflow-wait)",
            f"{m['done_seconds'] * 1000:.0f} ms ({m['done_cpu'] * 1000:.0f} ms CPU)",
        ]
    ]
    headers = ["waiting", "CPU while waiting", "threads", "all answered -> all SUCCEEDED"]
    print(table(headers, rows))
    print(
        f"CPU: process time of every thread over a {m['wait_wall']:.1f} s window with nothing "
        "to do; threads: the most alive in it (sampled every 50 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
