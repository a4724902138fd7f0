"""Smoke test of ``bench/durable_bench.py`` on SQLite with the smallest budget: both machines
run durably and in memory with the same output, and the round-trip counter sees the work.
No timing assertions (the numbers depend on the machine)."""

from __future__ import annotations

from pathlib import Path

from bench import durable_bench
from bench.common import Rate


def test_throughput_runs_each_machine_durably_and_in_memory() -> None:
    for case in durable_bench.cases():
        result = durable_bench.throughput(
            case, dialects=["sqlite"], pg_url=None, seconds=0.0, batch=3
        )
        got = result.durable["sqlite"]
        assert isinstance(got, Rate) and got.runs == 3  # one round of the batch
        assert result.in_memory.runs == 1
        ratio = result.ratio("sqlite")
        assert ratio is not None and ratio > 0


def test_round_trips_count_the_statements_of_each_execution(tmp_path: Path) -> None:
    app = durable_bench._open(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        start, whole = durable_bench.round_trips(app, durable_bench.task_case(), runs=2)
    finally:
        app.close()
    assert start.transactions >= 1 and start.statements > 0
    # The worker's steps (Task, Task, end) come on top of StartExecution's transaction.
    assert whole.transactions > start.transactions
    assert whole.statements > start.statements
