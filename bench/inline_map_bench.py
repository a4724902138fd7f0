"""Issue 16's "frames serialised only when they change": what a durable inline Map over a Task
costs per item as the Map grows, and how much of it is the execution's snapshot.

Every step of a durable execution decodes the whole snapshot (``Engine._load``) and encodes it
again (``Engine._snapshot``): every frame, changed or not. An inline Map keeps a frame per
iteration until the Map state ends, so with ``MaxConcurrency: 1`` (one step per item) the work
per item grows with the item count: the run is quadratic. This runs a Map of N items over one
Task (a registered function returning its input) on SQLite, one process, and reports CPU
(``time.process_time``, all threads) per item, the steps recorded, the CPU of snapshot
encoding and decoding (``time.thread_time`` around the engine's own methods, so a change to
them is measured as it is), and the snapshot text written: the snapshots and the parts
written beside them (``insert_snapshot_parts_txn``), and the largest snapshot, and what the
process wrote in all (``write()`` bytes: the WAL and its checkpoints, history included). CPU,
not wall time: the machine is shared (its load is printed).

``python -m bench.inline_map_bench [--items 250 500 1000] [--concurrency 1]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import machine_note, table
from eltflow.app import build_app
from eltflow.runtime.run import run_to_end

ECHO = "arn:aws:lambda:us-east-1:123456789012:function:echo"


def definition(concurrency: int) -> dict[str, Any]:
    processor = {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": ECHO, "End": True}},
    }
    return {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "MaxConcurrency": concurrency,
                "ItemProcessor": processor,
                "End": True,
            }
        },
    }


@dataclass(frozen=True)
class Result:
    items: int
    concurrency: int
    cpu_seconds: float
    steps: int
    encode_seconds: float
    decode_seconds: float
    snapshot_bytes: int
    largest_snapshot: int
    written: int | None

    @property
    def cpu_ms_per_item(self) -> float:
        return self.cpu_seconds * 1000 / self.items


def run(items: int, concurrency: int) -> Result:
    """One Map of ``items`` items, from its first step to its end, on a fresh SQLite store."""
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(state_url=f"sqlite:///{Path(folder) / 'state.db'}")
        try:
            app.register(ECHO, lambda value: value)
            app.service.create_state_machine(name="map", definition=definition(concurrency))
            started = app.service.start_execution(
                state_machine_arn="map", input=json.dumps(list(range(items)))
            )
            totals = {"encode": 0.0, "decode": 0.0, "steps": 0, "bytes": 0, "largest": 0}
            engine: Any = app.engine
            snapshot: Callable[..., str] = engine._snapshot
            load: Callable[..., Any] = engine._load

            def timed_snapshot(*args: Any) -> str:
                t = time.thread_time()
                text = snapshot(*args)
                totals["encode"] += time.thread_time() - t
                totals["steps"] += 1
                totals["bytes"] += len(text)
                totals["largest"] = max(totals["largest"], len(text))
                return text

            store: Any = app.store
            # (A store before snapshot v6 has no parts: A/B against it.)
            insert_parts: Callable[..., None] = getattr(
                store, "insert_snapshot_parts_txn", lambda *args: None
            )

            def counted_parts(conn: Any, execution_id: str, parts: Any) -> None:
                totals["bytes"] += sum(len(body) for _, body in parts)
                insert_parts(conn, execution_id, parts)

            def timed_load(*args: Any) -> Any:
                t = time.thread_time()
                state = load(*args)
                totals["decode"] += time.thread_time() - t
                return state

            # Instance attributes: the engine's own methods still do the work.
            engine._snapshot, engine._load = timed_snapshot, timed_load
            store.insert_snapshot_parts_txn = counted_parts
            cpu, before = time.process_time(), _written()
            desc = run_to_end(app, str(started["executionArn"]), poll_seconds=0.001)
            cpu, wrote = time.process_time() - cpu, _written() - before
            if desc["status"] != "SUCCEEDED" or json.loads(str(desc["output"])) != list(
                range(items)
            ):
                raise RuntimeError(f"the Map did not succeed with its items: {desc}")
        finally:
            app.close()
    return Result(
        items=items,
        concurrency=concurrency,
        cpu_seconds=cpu,
        steps=int(totals["steps"]),
        encode_seconds=totals["encode"],
        decode_seconds=totals["decode"],
        snapshot_bytes=int(totals["bytes"]),
        largest_snapshot=int(totals["largest"]),
        written=None if before < 0 else wrote,
    )


def _written() -> int:
    """Bytes this process has passed to write() so far (Linux ``/proc/self/io`` wchar: the
    store's WAL frames and checkpoints, whatever SQLite makes of the rows); -1 elsewhere."""
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("wchar:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def render(results: Sequence[Result]) -> str:
    rows = [
        [
            f"{r.items} items, MaxConcurrency {r.concurrency}",
            f"{r.cpu_ms_per_item:.2f}",
            str(r.steps),
            f"{r.encode_seconds:.2f} ({100 * r.encode_seconds / r.cpu_seconds:.0f}%)",
            f"{r.decode_seconds:.2f} ({100 * r.decode_seconds / r.cpu_seconds:.0f}%)",
            f"{r.snapshot_bytes / 1e6:.1f}",
            f"{r.largest_snapshot / 1e3:.1f}",
            "n/a" if r.written is None else f"{r.written / 1e6:.1f}",
        ]
        for r in results
    ]
    headers = ["durable inline Map over a Task (SQLite)", "CPU ms/item", "steps"]
    headers += ["encode s (of CPU)", "decode s (of CPU)", "snapshot MB written"]
    headers += ["largest snapshot KB", "write() MB"]
    return table(headers, rows) + f"\n{machine_note()}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, nargs="+", default=[250, 500, 1000])
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args(argv)
    print(render([run(n, args.concurrency) for n in args.items]))


if __name__ == "__main__":
    main()
