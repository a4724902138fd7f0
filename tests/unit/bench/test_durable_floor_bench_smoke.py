"""Smoke test of ``bench/durable_floor_bench.py`` with the smallest rounds: its raw statements
are eltflow's own (captured from a start), each runner writes a new execution, and the table
has a row per runner. No timing assertions (the numbers depend on the machine)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench import durable_floor_bench


def test_the_raw_runners_write_what_a_start_writes(tmp_path: Path) -> None:
    floor = durable_floor_bench.Floor(tmp_path)
    try:
        assert "INSERT INTO sfn_executions" in floor.row_sql
        assert "INSERT INTO sfn_history_steps" in floor.history_sql
        assert floor.row["status"] == "SUCCEEDED"
        floor.same()
        floor.plain()
        floor.plain_grouped(3)
        floor.empty()
    finally:
        floor.close()
    with sqlite3.connect(floor.raw_path) as conn:
        rows = conn.execute("SELECT status, output FROM sfn_executions WHERE arn LIKE '%-raw%'")
        got = rows.fetchall()
        histories = conn.execute("SELECT count(*) FROM sfn_history_steps").fetchone()
    assert len(got) == 5 and {status for status, _ in got} == {"SUCCEEDED"}
    assert histories[0] == 2 + 5  # the two starts copied with the store, and the five


def test_the_table_has_a_row_per_runner() -> None:
    rows = durable_floor_bench.measure(executions=2, rounds=1)
    assert [r[0] for r in rows][:3] == [
        "in memory (eltflow.execute)",
        "eltflow durable start (runs to its end)",
        "same statements, raw sqlite3",
    ]
    assert len(rows) == 6
