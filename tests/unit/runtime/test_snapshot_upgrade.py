"""A snapshot written by the previous eltflow resumes: the execution state is versioned and
older versions are upgraded on read (docs/ARCHITECTURE.md, "Durable state")."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from eltflow.app import App, build_app
from eltflow.clock import VirtualClock
from eltflow.errors import EltflowError
from eltflow.interpreter.state import SNAPSHOT_VERSION, ExecutionState, upgrade_snapshot
from eltflow.types import JSON

FIXTURES = Path(__file__).parents[2] / "fixtures" / "snapshots"
START = datetime(2026, 1, 1, tzinfo=UTC)
STEP = "arn:aws:lambda:us-east-1:123456789012:function:step"
DEFINITION = {
    "StartAt": "P",
    "States": {
        "P": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}},
            ],
            "Next": "T",
        },
        "T": {"Type": "Task", "Resource": STEP, "End": True},
    },
}


def step(p: JSON) -> JSON:
    return {"after": p}


def waiting_app(url: str, clock: VirtualClock) -> tuple[App, str]:
    """An execution parked in the Parallel's Wait branch (the state the fixture captures)."""
    app = build_app(state_url=url, clock=clock)
    app.register(STEP, step)
    app.service.create_state_machine(name="m", definition=DEFINITION)
    out = app.service.start_execution(state_machine_arn="m", name="e", input='{"x": 1}')
    app.worker().run(until=lambda: _waiting(app))
    return app, str(out["executionArn"])


def _waiting(app: App) -> bool:
    return bool(app.store.db.execute("SELECT 1 FROM sfn_executions WHERE wake_us IS NOT NULL"))


def _stored(app: App, arn: str) -> dict[str, Any]:
    rows = app.store.db.execute(
        "SELECT snapshot FROM sfn_executions WHERE arn = :arn", {"arn": arn}
    )
    snapshot: dict[str, Any] = json.loads(str(rows[0]["snapshot"]))
    return snapshot


def test_snapshots_are_written_with_the_current_version(tmp_path: Path) -> None:
    app, arn = waiting_app(f"sqlite:///{tmp_path / 's.db'}", VirtualClock(START))
    assert _stored(app, arn)["version"] == SNAPSHOT_VERSION
    app.close()


def _decoded(app: App, arn: str, snapshot: dict[str, Any]) -> dict[str, Any]:
    """What ``snapshot`` holds, its parts read back from the store (its results slots left
    out: which slots a snapshot took depends on when its results were first written)."""
    row = app.store.get_execution_by_arn(arn)
    assert row is not None
    with app.store.read_transaction() as conn:
        parts = app.store.snapshot_parts_txn(conn, row.id)
    state = ExecutionState.from_json(snapshot, lambda: parts).to_json()
    return {k: v for k, v in state.items() if k != "slots"}


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5])
def test_a_snapshot_written_by_a_previous_version_resumes(tmp_path: Path, version: int) -> None:
    """Each fixture is the stored snapshot of this very execution, written by an earlier
    eltflow: v1 before snapshots had a version, v2 before frames had ``task_submitted``, v3
    while the finished Pass branch still had its frame (v4 keeps its output in the Parallel's
    ``results``), v4 before a Map's items could be written as its input, v5 before results
    and large payloads were parts (the Parallel's results in the snapshot). It replaces the
    current one in the store; the worker must pick it up, finish the Wait and run the rest."""
    old = json.loads((FIXTURES / f"v{version}-parallel-waiting.json").read_text())
    assert old.get("version", 1) == version  # what that version looked like
    clock = VirtualClock(START)
    app, arn = waiting_app(f"sqlite:///{tmp_path / 's.db'}", clock)
    current = _stored(app, arn)
    # The same execution, upgraded step by step (read back with its parts, if it names any).
    upgraded = upgrade_snapshot(old)
    assert upgraded["version"] == SNAPSHOT_VERSION
    assert _decoded(app, arn, upgraded) == _decoded(app, arn, current)
    app.store.db.execute(
        "UPDATE sfn_executions SET snapshot = :s WHERE arn = :arn",
        {"s": json.dumps(old), "arn": arn},
    )
    clock.advance(3600)
    app.worker().run(until_idle=True)
    desc = app.service.describe_execution(execution_arn=arn)
    assert desc["status"] == "SUCCEEDED", desc
    assert json.loads(str(desc["output"])) == {"after": [{"x": 1}, {"x": 1}]}
    app.close()


def test_a_snapshot_from_a_newer_eltflow_is_refused_clearly() -> None:
    old = json.loads((FIXTURES / "v1-parallel-waiting.json").read_text())
    with pytest.raises(EltflowError, match=r"snapshot version 99 .* newer eltflow"):
        ExecutionState.from_json({**old, "version": 99})


def test_an_unknown_frame_field_is_named() -> None:
    old = json.loads((FIXTURES / "v1-parallel-waiting.json").read_text())
    old["frames"][0]["renamed_field"] = 1
    with pytest.raises(EltflowError, match="renamed_field"):
        ExecutionState.from_json(old)
