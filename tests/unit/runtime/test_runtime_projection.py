"""The execution row is a projection of its history: rebuilt from events alone it matches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from eltflow.app import App, build_app
from eltflow.clock import VirtualClock
from eltflow.runtime.projection import project
from eltflow.types import JSON

FLAKY = "arn:aws:lambda:us-east-1:123456789012:function:flaky"


@pytest.fixture
def app(store_url: str) -> Iterator[App]:
    app = build_app(state_url=store_url, clock=VirtualClock())
    yield app
    app.close()


def _assert_projection_matches(app: App, arn: str) -> None:
    row = app.store.get_execution_by_arn(arn)
    assert row is not None
    p = project(app.store.history(row.id, limit=100_000))
    assert (p.status, p.output, p.error, p.cause) == (row.status, row.output, row.error, row.cause)
    # The event holds the input re-serialised compactly; the row keeps the text as sent.
    assert p.input is not None and json.loads(p.input) == json.loads(row.input)
    assert (p.start_us, p.stop_us) == (row.start_us, row.stop_us)
    assert (p.redrive_count, p.redrive_us, p.event_count) == (
        row.redrive_count,
        row.redrive_us,
        row.event_count,
    )


def test_rebuilt_projection_equals_the_stored_row(app: App) -> None:
    s: Any = app.service
    fail_next = {"on": True}

    def flaky(p: JSON) -> JSON:
        if fail_next["on"]:
            raise ValueError("broken")
        return p

    app.register(FLAKY, flaky)
    s.create_state_machine(
        name="t",
        definition={
            "StartAt": "W",
            "States": {
                "W": {"Type": "Wait", "Seconds": 5, "Next": "T"},
                "T": {"Type": "Task", "Resource": FLAKY, "End": True},
            },
        },
    )
    ok = s.start_execution(state_machine_arn="t", name="ok", input='{"x": 1}')["executionArn"]
    stopped = s.start_execution(state_machine_arn="t", name="stopped")["executionArn"]
    s.stop_execution(execution_arn=stopped, error="E", cause="by hand")
    _assert_projection_matches(app, ok)  # still RUNNING
    app.worker().run(until_idle=True)
    _assert_projection_matches(app, ok)  # FAILED
    fail_next["on"] = False
    s.redrive_execution(execution_arn=ok)
    _assert_projection_matches(app, ok)  # RUNNING again, redriven
    app.worker().run(until_idle=True)
    for arn in (ok, stopped):
        _assert_projection_matches(app, arn)
    assert s.describe_execution(execution_arn=ok)["status"] == "SUCCEEDED"
