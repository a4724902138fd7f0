"""Smoke test of ``bench/concurrent_starts_bench.py`` on SQLite with the smallest rounds: every
start of every round is recorded under a name of its own, and the WAL pages it appended are
counted. No timing assertions (the numbers depend on the machine)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import concurrent_starts_bench, durable_bench


def test_rounds_record_every_start_and_count_its_wal_pages(tmp_path: Path) -> None:
    app = durable_bench._open(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        case = durable_bench.task_case()
        app.service.create_state_machine(name=case.name, definition=case.definition_text)
        start = concurrent_starts_bench.in_process(app, case.name, json.dumps(case.input))
        got = concurrent_starts_bench.run(
            app, start, label="sqlite", threads=[1, 2], starts=4, rounds=1
        )
        listed = app.service.list_executions(state_machine_arn=case.name, max_results=100)
    finally:
        app.close()
    assert [s.threads for s in got] == [1, 2]
    assert all(s.samples[0].starts == 4 for s in got)
    # The warm-up round and one round per thread count, each start a new execution.
    executions = listed["executions"]
    assert isinstance(executions, list) and len(executions) == 12
    for summary in got:
        pages = summary.wal_pages
        assert pages is not None and pages > 1  # a start writes several pages
    assert "WAL pages/start" in concurrent_starts_bench.render(got)
