"""The store's floor under issue 16's durable Pass-chain target, measured in the same run.

A durable 10-Pass chain's StartExecution runs the execution to its end and commits its row
(status, output, snapshot) and its history row in one transaction: two statements and a
commit. This bench times, in one process and interleaved (thread CPU per execution, median of
rounds), what eltflow costs for that against the same facts written with ``sqlite3`` directly:

- ``in memory``: ``eltflow.execute`` (the ratio's numerator in bench.durable_bench);
- ``eltflow durable start``: StartExecution on a SQLite store (no worker step is left);
- ``same statements, raw``: eltflow's own two statements, with the parameters of one of its
  starts (new id and ARN each time), in BEGIN IMMEDIATE ... COMMIT on a copy of the store;
- ``plain INSERTs, raw``: the same rows by two plain ``INSERT ... VALUES``;
- ``plain INSERTs, 50 per commit``: the same, 50 executions per transaction (group commit);
- ``empty commit``: BEGIN IMMEDIATE; COMMIT.

with the WAL pages each writes per execution. Run with ``python -m bench.durable_floor_bench``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import eltflow
from bench.common import machine_note, pass_chain_case, table
from eltflow.app import build_app
from eltflow.store import db as dbmod

PRAGMAS = ("journal_mode=WAL", "busy_timeout=5000", "foreign_keys=ON", "synchronous=NORMAL")
PLAIN_ROW = (
    "INSERT INTO sfn_executions (id, arn, machine_name, version_id, name, status, input, output,"
    " start_us, stop_us, snapshot, event_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)
PLAIN_HISTORY = (
    "INSERT INTO sfn_history_steps (execution_id, first_seq, last_seq, events) VALUES (?,?,?,?)"
)


class Floor:
    """eltflow and raw sqlite3 writing the same facts, side by side in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.case = pass_chain_case()
        self.text = json.dumps(self.case.input)
        self.path = folder / "eltflow.db"
        self.app = build_app(state_url=f"sqlite:///{self.path}")
        self.service = self.app.service
        self.service.create_state_machine(name=self.case.name, definition=self.case.definition_text)
        self.starts = 0
        self.start()
        self.row_sql, self.row, self.history_sql, self.history = self._captured()
        raw_path = folder / "raw.db"
        with sqlite3.connect(self.path) as src, sqlite3.connect(raw_path) as dst:
            src.backup(dst)
        self.raw_path = raw_path
        self.raw = sqlite3.connect(raw_path, isolation_level=None)
        for pragma in PRAGMAS:
            self.raw.execute(f"PRAGMA {pragma}")
        self.n = 0

    def _captured(self) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
        """eltflow's statements and parameters for one start."""
        seen: list[tuple[str, dict[str, Any]]] = []
        original = dbmod.SqliteConnection.execute

        def record(conn: dbmod.SqliteConnection, sql: str, params: Any = None) -> Any:
            if sql.lstrip().startswith("INSERT") and threading.current_thread() is caller:
                seen.append((sql, dict(params or {})))
            return original(conn, sql, params)

        caller = threading.current_thread()  # not the status events' thread reading rows

        dbmod.SqliteConnection.execute = record  # type: ignore[method-assign,assignment]
        try:
            self.start()
        finally:
            dbmod.SqliteConnection.execute = original  # type: ignore[method-assign]
        (row_sql, row), (history_sql, history) = seen
        return row_sql, row, history_sql, history

    def close(self) -> None:
        self.raw.close()
        self.app.close()

    # -- what is timed ---------------------------------------------------------------------
    def in_memory(self) -> None:
        eltflow.execute(self.case.definition, self.case.input)

    def start(self) -> None:
        self.starts += 1
        self.service.start_execution(
            state_machine_arn=self.case.name, input=self.text, name=f"r{self.starts}"
        )

    def _ids(self) -> tuple[str, str]:
        self.n += 1
        return f"{self.n:032x}", f"{self.row['arn']}-raw{self.n}"

    def same(self) -> None:
        execution_id, arn = self._ids()
        raw = self.raw
        raw.execute("BEGIN IMMEDIATE")
        raw.execute(self.row_sql, {**self.row, "id": execution_id, "arn": arn}).fetchall()
        raw.execute(self.history_sql, {**self.history, "execution_id": execution_id})
        raw.execute("COMMIT")

    def _plain(self) -> None:
        execution_id, arn = self._ids()
        r, h = self.row, self.history
        names = ("machine_name", "version_id", "status", "input", "output", "start_us")
        row = (execution_id, arn, *(r[k] for k in names[:2]), arn, *(r[k] for k in names[2:]))
        row += (r["stop_us"], r["snapshot"], r["event_count"])
        self.raw.execute(PLAIN_ROW, row)
        self.raw.execute(PLAIN_HISTORY, (execution_id, h["first_seq"], h["last_seq"], h["events"]))

    def plain(self) -> None:
        self.raw.execute("BEGIN IMMEDIATE")
        self._plain()
        self.raw.execute("COMMIT")

    def plain_grouped(self, size: int = 50) -> None:
        self.raw.execute("BEGIN IMMEDIATE")
        for _ in range(size):
            self._plain()
        self.raw.execute("COMMIT")

    def empty(self) -> None:
        self.raw.execute("BEGIN IMMEDIATE")
        self.raw.execute("COMMIT")

    # -- WAL pages -------------------------------------------------------------------------
    def wal_pages(self, run: Callable[[], None], path: Path, count: int, per_run: int) -> float:
        """WAL frames written per execution by ``count`` runs (checkpoints held off)."""
        store: Any = self.service.store
        conn = store.db._sqlite() if path == self.path else self.raw
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        wal = Path(f"{path}-wal")
        before = wal.stat().st_size if wal.exists() else 0
        for _ in range(count):
            run()
        pages = (wal.stat().st_size - before) / (4096 + 24) / (count * per_run)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA wal_autocheckpoint=1000")
        return pages


def measure(executions: int, rounds: int) -> list[list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        floor = Floor(Path(tmp))
        try:
            grouped = 50
            runners: dict[str, tuple[Callable[[], None], int, Path | None]] = {
                "in memory (eltflow.execute)": (floor.in_memory, 1, None),
                "eltflow durable start (runs to its end)": (floor.start, 1, floor.path),
                "same statements, raw sqlite3": (floor.same, 1, floor.raw_path),
                "plain INSERTs, raw": (floor.plain, 1, floor.raw_path),
                f"plain INSERTs, {grouped} per commit": (
                    floor.plain_grouped,
                    grouped,
                    floor.raw_path,
                ),
                "empty commit": (floor.empty, 1, floor.raw_path),
            }
            times: dict[str, list[float]] = {name: [] for name in runners}
            for _ in range(rounds):
                for name, (run, per_run, _) in runners.items():
                    count = max(executions // per_run, 1)
                    cpu = time.thread_time()
                    for _ in range(count):
                        run()
                    times[name].append((time.thread_time() - cpu) / (count * per_run))
            median = {name: statistics.median(t) for name, t in times.items()}
            memory = median["in memory (eltflow.execute)"]
            floor_us = median["same statements, raw sqlite3"]
            rows = []
            for name, (run, per_run, path) in runners.items():
                pages = "" if path is None else f"{floor.wal_pages(run, path, 20, per_run):.1f}"
                rows.append(
                    [
                        name,
                        f"{median[name] * 1e6:,.1f}",
                        f"{memory / median[name]:.3f}x",
                        f"{median[name] / floor_us:.2f}x",
                        pages,
                    ]
                )
            return rows
        finally:
            floor.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--executions", type=int, default=1000, help="per runner and round")
    p.add_argument("--rounds", type=int, default=4)
    args = p.parse_args(argv)
    rows = measure(args.executions, args.rounds)
    print(f"\nDurable 10-Pass chain vs the store's floor, SQLite (issue 16; {machine_note()})")
    print("thread CPU per execution, median of interleaved rounds\n")
    header = ["", "us CPU/exec", "in memory / this", "this / raw same", "WAL pages/exec"]
    print(table(header, rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
