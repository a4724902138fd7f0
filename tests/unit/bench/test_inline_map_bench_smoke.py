"""Smoke test of bench/inline_map_bench.py at a tiny size: the Map runs to its end with its
items, every step's snapshot encoding and decoding is counted, and the report names what it
measured. No timing assertions: the numbers depend on the machine."""

from __future__ import annotations

from bench import inline_map_bench


def test_the_map_runs_and_its_snapshots_are_measured() -> None:
    result = inline_map_bench.run(20, 1)

    # MaxConcurrency 1: at least a step per item (its task's result), each writing a snapshot.
    assert result.steps >= 20
    assert result.snapshot_bytes > 0
    assert 0 < result.encode_seconds + result.decode_seconds <= result.cpu_seconds
    text = inline_map_bench.render([result])
    for needle in ("20 items, MaxConcurrency 1", "CPU ms/item", "snapshot MB written", "load avg"):
        assert needle in text
