"""Issue 16's in-memory figures that have no peer column: a Task machine's CPU and the payload
path's cost per KB.

- Task -> Task -> Pass through ``eltflow.execute`` (Python callables as the tasks): µs of CPU
  per execution, every thread of the process counted (the tasks run on the worker's pool).
- Payload path: a 10-Pass chain given inputs of about 1, 64 and 200 KB (rows with ints,
  strings, floats and booleans; no nulls, which take json's slower path, see
  ``interpreter/events.py``): the slope of CPU per execution over input size, in µs per KB of
  compact JSON. Target: <= 10 µs per KB.

CPU time (``time.process_time``), not wall time, for the reason given in ``peer_bench``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

import eltflow
from bench.common import measure, pass_chain_case, table
from eltflow.asl.parser import parse
from eltflow.types import JSON, JSONObject

PAYLOAD_TARGET_US_PER_KB = 10.0
_FN = "arn:aws:lambda:us-east-1:123456789012:function:step"


def task_machine() -> JSONObject:
    return {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Task", "Resource": _FN, "Next": "B"},
            "B": {"Type": "Task", "Resource": _FN, "Next": "C"},
            "C": {"Type": "Pass", "End": True},
        },
    }


def _echo(value: JSON) -> JSON:
    return value


def task_machine_us(seconds: float) -> float:
    """CPU µs per execution of Task -> Task -> Pass in memory."""
    machine = parse(task_machine())
    tasks = {_FN: _echo}

    def once() -> None:
        if eltflow.execute(machine, {"order": 42}, tasks=tasks).status != "SUCCEEDED":
            raise RuntimeError("the Task machine did not succeed")

    once()  # warm up
    rate = measure(once, seconds=seconds)
    return 1e6 / rate.per_cpu_second


def payload(kb: float) -> JSONObject:
    """About ``kb`` KB of compact JSON: rows as a warehouse query might return them."""
    rows: list[JSON] = []
    size = 2
    while size < kb * 1024:
        i = len(rows)
        row: JSONObject = {"id": i, "sku": f"SKU-{i:05d}", "price": i * 1.25, "ok": i % 2 == 0}
        rows.append(row)
        size += len(json.dumps(row, separators=(",", ":"))) + 1
    return {"rows": rows}


def payload_us_per_kb(seconds: float, sizes: Sequence[float] = (1, 64, 200)) -> list[float]:
    """[µs per execution at each size..., µs per KB (least-squares slope)]."""
    machine = parse(pass_chain_case().definition)
    points: list[tuple[float, float]] = []
    for kb in sizes:
        document = payload(kb)
        actual_kb = len(json.dumps(document, separators=(",", ":"))) / 1024

        def once(document: JSON = document) -> None:
            eltflow.execute(machine, document)

        once()
        rate = measure(once, seconds=seconds / len(sizes))
        points.append((actual_kb, 1e6 / rate.per_cpu_second))
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum(
        (x - mean_x) ** 2 for x, _ in points
    )
    return [y for _, y in points] + [slope]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.memory_bench")
    p.add_argument("--seconds", type=float, default=3.0, help="budget per figure")
    args = p.parse_args(argv)
    task_us = task_machine_us(args.seconds)
    *per_size, slope = payload_us_per_kb(args.seconds)
    print("\nIn memory, no peer column: µs of CPU (every thread of the process)")
    rows = [["Task -> Task -> Pass (Python callables)", f"{task_us:,.0f} µs", "-"]]
    sizes = ", ".join(f"{us:,.0f}" for us in per_size)
    verdict = "met" if slope <= PAYLOAD_TARGET_US_PER_KB else "NOT MET"
    rows.append([f"10-Pass chain payload (1/64/200 KB: {sizes} µs)", f"{slope:.1f} µs/KB", verdict])
    print(table(["figure", "value", f"target <= {PAYLOAD_TARGET_US_PER_KB:g} µs/KB"], rows))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
