"""Issue 16's linearity and latency figures: CPU per item of an in-memory Map of Task states
as the item count grows (it must stay flat), and start -> SUCCEEDED latency on SQLite with a
worker thread in the same process (set by wake-ups, not a poll).

Measure: ``time.process_time`` (all threads) per item, item counts interleaved twice so the
shared machine's load hits each size alike; latency in wall time (what a caller waits), p50
and p90 over sequential executions.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import eltflow
from bench.common import start_to_succeeded_ms, table
from eltflow.types import JSON, JSONObject

FN = "arn:aws:lambda:us-east-1:123456789012:function:work"


def _map_of_tasks() -> JSONObject:
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Work",
                    "States": {"Work": {"Type": "Task", "Resource": FN, "End": True}},
                },
                "End": True,
            }
        },
    }


def _work(value: JSON) -> JSON:
    time.sleep(0.002)  # a task that waits on I/O: many in flight at once
    return value


def map_cpu_per_item(sizes: Sequence[int], rounds: int = 2) -> dict[int, float]:
    """µs of CPU per item for a Map over each size (sum over ``rounds`` interleaved runs)."""
    definition = _map_of_tasks()
    eltflow.execute(definition, {"items": [0]}, tasks={FN: _work})  # warm-up
    cpu = dict.fromkeys(sizes, 0.0)
    for _ in range(rounds):
        for n in sizes:
            started = time.process_time()
            result = eltflow.execute(definition, {"items": list(range(n))}, tasks={FN: _work})
            cpu[n] += time.process_time() - started
            if result.status != "SUCCEEDED":
                raise RuntimeError(f"Map of {n}: {result.status} {result.error} {result.cause}")
    return {n: cpu[n] / (rounds * n) * 1e6 for n in sizes}


def sqlite_latency_ms(runs: int = 40) -> tuple[float, float]:
    """(p50, p90) ms from StartExecution to SUCCEEDED for Pass -> Wait 0 -> Pass, with a
    worker thread of the same App (the Wait makes the worker run the execution)."""
    from eltflow.app import build_app

    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "W"},
            "W": {"Type": "Wait", "Seconds": 0, "Next": "B"},
            "B": {"Type": "Pass", "End": True},
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(state_url=f"sqlite:///{Path(tmp) / 'state.db'}")
        app.service.create_state_machine(name="latency", definition=json.dumps(definition))
        try:
            return start_to_succeeded_ms(app, input_text="{}", runs=runs)
        finally:
            app.close()


def main(argv: Sequence[str] | None = None) -> int:
    del argv
    sizes = [100, 1000, 3000]
    per_item = map_cpu_per_item(sizes)
    print("\nMap of Task states in memory (task sleeps 2 ms): µs of CPU per item")
    flat = per_item[sizes[-1]] / per_item[sizes[0]]
    rows = [[f"{n:,} items", f"{per_item[n]:,.0f}"] for n in sizes]
    print(table(["size", "µs CPU/item"], rows))
    print(f"{sizes[-1]:,} vs {sizes[0]:,} items: {flat:.2f}x per item (target: flat, ~1x)")
    p50, p90 = sqlite_latency_ms()
    print(
        f"\nSQLite start -> SUCCEEDED (Pass, Wait 0, Pass; worker thread in-process): "
        f"p50 {p50:.1f} ms, p90 {p90:.1f} ms (target p50 <= 20 ms)"
    )
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
