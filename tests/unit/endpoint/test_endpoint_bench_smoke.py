"""Smoke test of the endpoint benchmark: both sides run once with a zero budget and the report
has both rows. No timing assertions (the numbers depend on the machine)."""

from __future__ import annotations

from bench import endpoint_bench


def test_both_sides_run_and_render() -> None:
    result = endpoint_bench.run(seconds=0.0)
    assert result.in_process.runs == 1 and result.http.runs == 1
    report = endpoint_bench.render(result)
    assert "in process" in report and "boto3 over HTTP" in report
