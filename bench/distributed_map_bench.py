"""Issue 16's Distributed Map at scale: a Map Run of 100,000 Pass items, in memory and durably
on SQLite, with items/s and the peak RSS of the process that ran it (target < 1 GiB).

The items are a JSON array in a local S3 bucket (ItemReader), each child one Pass state, the
results exported with ResultWriter (AWS's manifest and SUCCEEDED file: 100,000 outputs would
not fit the 256 KiB state output). Each mode runs in a fresh subprocess so its peak RSS is its
own (``ru_maxrss``); items/s is wall time from StartExecution to the parent's end, next to
the CPU time per item of every thread of that process (steadier on a shared machine).

``python -m bench.distributed_map_bench [--items N]``
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
from pathlib import Path
from typing import Any

from bench.common import machine_note, table

ITEMS = 100_000


def definition() -> dict[str, Any]:
    return {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "Label": "Fan",
                "MaxConcurrency": 10_000,
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket": "bench", "Key": "items.json"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Touch",
                    "States": {
                        "Touch": {
                            "Type": "Pass",
                            "Parameters": {"id.$": "$.id", "done": True},
                            "End": True,
                        }
                    },
                },
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": "bench", "Prefix": "results"},
                },
                "End": True,
            }
        },
    }


def _objects(folder: Path, items: int) -> Any:
    from datetime import UTC, datetime

    from eltflow.s3.service import S3Service

    s3 = S3Service(folder / "s3")
    s3.create_bucket("bench", datetime.now(UTC))
    body = json.dumps([{"id": i, "name": f"item-{i}"} for i in range(items)]).encode()
    s3.put_object("bench", "items.json", body)
    return s3


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_memory(items: int) -> dict[str, Any]:
    import eltflow

    # eltflow.execute is imported on first use: not inside the timed part (~0.3 s of CPU).
    execute = eltflow.execute
    with tempfile.TemporaryDirectory() as tmp:
        s3 = _objects(Path(tmp), items)
        started, cpu = time.perf_counter(), time.process_time()
        result = execute(definition(), {}, s3=s3)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        ok = result.status == "SUCCEEDED"
        return {
            "status": result.status,
            "seconds": seconds,
            "cpu": cpu,
            "ok": ok,
            "peak_mib": _peak_mib(),
        }


def run_durable(items: int) -> dict[str, Any]:
    from eltflow.app import build_app
    from eltflow.runtime.run import run_to_end

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        app = build_app(state_url=f"sqlite:///{folder / 'state.db'}")
        app.s3 = _objects(folder, items)
        app.service.create_state_machine(name="fan", definition=json.dumps(definition()))
        started, cpu = time.perf_counter(), time.process_time()
        arn = str(app.service.start_execution(state_machine_arn="fan")["executionArn"])
        desc = run_to_end(app, arn)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        runs: Any = app.service.list_map_runs(execution_arn=arn)["mapRuns"]
        counts: Any = app.service.describe_map_run(map_run_arn=runs[0]["mapRunArn"])
        succeeded = counts["executionCounts"]["succeeded"]
        app.close()
        return {
            "status": desc["status"],
            "seconds": seconds,
            "cpu": cpu,
            "ok": desc["status"] == "SUCCEEDED" and succeeded == items,
            "peak_mib": _peak_mib(),
        }


def _in_subprocess(mode: str, items: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.distributed_map_bench",
            "--mode",
            mode,
            "--items",
            str(items),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return {"status": f"error: {out.stderr.strip()[-300:]}", "ok": False}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.distributed_map_bench")
    p.add_argument("--items", type=int, default=ITEMS)
    p.add_argument("--mode", choices=["memory", "durable"], help="one mode, in this process")
    args = p.parse_args(argv)
    if args.mode is not None:
        run = run_memory if args.mode == "memory" else run_durable
        print(json.dumps(run(args.items)))
        return 0
    rows = []
    status = 0
    for mode in ("memory", "durable"):
        r = _in_subprocess(mode, args.items)
        if not r.get("ok"):
            status = 1
        rate = args.items / r["seconds"] if r.get("seconds") else 0.0
        peak = r.get("peak_mib", 0.0)
        rows.append(
            [
                "in memory" if mode == "memory" else "SQLite (durable)",
                r["status"],
                f"{r.get('seconds', 0):.1f}",
                f"{rate:,.0f}",
                f"{r.get('cpu', 0) * 1e6 / args.items:,.0f}",
                f"{peak:,.0f}",
                "yes" if peak and peak < 1024 else "NO",
            ]
        )
    print(f"\nDistributed Map: one Map Run of {args.items:,} Pass items (ItemReader JSON ->")
    print("child executions -> ResultWriter), start to end; peak RSS of the process")
    headers = ["mode", "status", "s", "items/s", "µs CPU/item", "peak RSS MiB", "< 1 GiB"]
    print(table(headers, rows))
    print(
        f"({machine_note()}; CPU: every thread of the process, the figure that moves least "
        "with the machine's load)"
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
