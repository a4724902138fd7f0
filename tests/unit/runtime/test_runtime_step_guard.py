"""A step's lock and check travel with its writes (issue 16): on PostgreSQL the execution's row
lock is queued ahead of the step's writes and checked, before COMMIT, against the row the step
was evaluated from. A step (or a group of steps) whose execution changed meanwhile must leave
nothing behind, although its writes reached the server before the check was made; on SQLite
and in memory the check is made before anything is written."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from eltflow.app import App, build_app
from eltflow.clock import SystemClock
from eltflow.errors import ConflictError

NAP = json.dumps(
    {
        "StartAt": "Nap",
        "States": {
            "Nap": {"Type": "Wait", "Seconds": 0, "Next": "Done"},
            "Done": {"Type": "Pass", "End": True},
        },
    }
)


@pytest.fixture
def apps(store_url: str) -> Iterator[tuple[App, App]]:
    """Two processes' worth of eltflow on one store: the worker's and another writer's."""
    app = build_app(state_url=store_url, clock=SystemClock())
    other = build_app(state_url=store_url, clock=SystemClock())
    app.service.create_state_machine(name="nap", definition=NAP)
    yield app, other
    other.close()
    app.close()


def _start(app: App, name: str) -> tuple[str, str]:
    arn = str(app.service.start_execution(state_machine_arn="nap", name=name)["executionArn"])
    row = app.store.get_execution_by_arn(arn)
    assert row is not None
    return arn, row.id


def _history(app: App, arn: str) -> list[str]:
    events = app.service.get_execution_history(execution_arn=arn)["events"]
    assert isinstance(events, list)
    return [str(e["type"]) for e in events if isinstance(e, dict)]


def test_a_group_whose_execution_changed_meanwhile_leaves_nothing(apps: tuple[App, App]) -> None:
    app, other = apps
    first_arn, first = _start(app, "first")
    second_arn, second = _start(app, "second")
    before = _history(app, first_arn)
    with pytest.raises(ConflictError), app.engine.group():
        # Both steps are evaluated (their Wait's timer fires) and their writes held for the
        # group's one transaction; meanwhile another writer stops the second execution.
        app.engine.apply(first, [], due_timers=True)
        app.engine.apply(second, [], due_timers=True)
        other.service.stop_execution(execution_arn=second_arn, error="Halt", cause="test")
    # The first step's writes were made in the group's transaction before the second's
    # check failed: they were rolled back with it.
    assert _history(app, first_arn) == before
    assert app.service.describe_execution(execution_arn=first_arn)["status"] == "RUNNING"
    assert app.service.describe_execution(execution_arn=second_arn)["status"] == "ABORTED"
    # Recorded on its own, the first step lands once.
    result = app.engine.apply(first, [], due_timers=True)
    assert result.status == "SUCCEEDED"
    types = _history(app, first_arn)
    assert types[len(before) :] == [
        "WaitStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]


def test_a_step_whose_execution_changed_meanwhile_is_evaluated_again(
    apps: tuple[App, App],
) -> None:
    app, other = apps
    arn, execution_id = _start(app, "lone")
    changed: list[bool] = []
    real_reads = app.store.step_reads_txn

    def reads_then_a_stop(*args: object, **kwargs: object) -> object:
        found = real_reads(*args, **kwargs)  # type: ignore[arg-type]
        # Between the step's read and its write, another writer stops the execution (once).
        if not changed:
            changed.append(True)
            other.service.stop_execution(execution_arn=arn, error="Halt", cause="test")
        return found

    app.store.step_reads_txn = reads_then_a_stop  # type: ignore[method-assign,assignment]
    result = app.engine.apply(execution_id, [], due_timers=True)
    # Evaluated again from the stopped record: the timer's step was dropped, not written.
    assert result.status == "ABORTED"
    types = _history(app, arn)
    assert types[-1] == "ExecutionAborted" and "PassStateEntered" not in types
    assert types.count("ExecutionAborted") == 1
