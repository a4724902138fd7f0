"""Smoke test of the aws-local-stepfunctions comparison (issue 16): the choice-loop case runs
on eltflow with the shape the issue asks for, and, where node and npm are present, on the
peer with the same output. No timing assertions."""

from __future__ import annotations

import json
import shutil

import pytest
from bench import peer_bench

import eltflow


def test_choice_loop_counts_to_its_iterations() -> None:
    case = peer_bench.choice_loop_case(50)
    result = eltflow.execute(case.definition, case.input)
    assert result.status == "SUCCEEDED"
    assert result.output == {"i": 50}
    assert [c.name for c in peer_bench.peer_cases()] == [
        "pass-chain",
        "parallel",
        "map",
        "choice-loop",
    ]


@pytest.mark.parametrize("parsed", [True, False])
def test_eltflow_side_runs_a_parsed_machine_or_the_dict(parsed: bool) -> None:
    case = peer_bench.peer_cases()[0]  # the 10-Pass chain
    result = peer_bench.bench_case(case, None, seconds=0.0, rounds=1, parsed=parsed)
    assert result.peer is None and result.eltflow.runs == 1


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_peer_agrees_with_eltflow_on_a_small_case() -> None:
    try:
        folder = peer_bench.ensure_peer()
    except peer_bench.PeerUnavailable as e:  # no registry reachable: nothing to compare
        pytest.skip(str(e))
    case = peer_bench.choice_loop_case(20)
    result = peer_bench.bench_case(case, folder, seconds=0.0, rounds=1)
    assert result.peer is not None and result.peer.runs == 1
    assert result.eltflow.runs == 1


def test_scale_bench_measures_a_map_and_a_sqlite_latency() -> None:
    from bench import scale_bench

    per_item = scale_bench.map_cpu_per_item([3, 5], rounds=1)
    assert set(per_item) == {3, 5} and all(v > 0 for v in per_item.values())
    p50, p90 = scale_bench.sqlite_latency_ms(runs=2)
    assert 0 < p50 <= p90


def test_memory_bench_task_machine_and_payload_sizes() -> None:
    from bench import memory_bench

    result = eltflow.execute(
        memory_bench.task_machine(), {"n": 1}, tasks={memory_bench._FN: lambda v: v}
    )
    assert result.status == "SUCCEEDED" and result.output == {"n": 1}
    document = memory_bench.payload(4)
    assert 4 * 1024 <= len(json.dumps(document, separators=(",", ":"))) < 5 * 1024
    assert memory_bench.main(["--seconds", "0"]) == 0
