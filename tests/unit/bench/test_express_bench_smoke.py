"""Smoke test of the EXPRESS benchmark: each way runs once with a zero budget and the report
has a row per way. No timing assertions (the numbers depend on the machine)."""

from __future__ import annotations

from bench import express_bench


def test_every_way_runs_and_renders() -> None:
    rows = express_bench.run(seconds=0.0)
    assert [name for name, _ in rows] == [
        "eltflow.execute (in memory)",
        "service.start_sync_execution",
        "boto3 over HTTP",
    ]
    assert all(rate > 0 for _, rate in rows)
    assert "boto3 over HTTP" in express_bench.render(rows)
