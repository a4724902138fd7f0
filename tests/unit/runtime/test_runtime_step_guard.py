"""A step's lock and check travel with its writes (issue 16): on PostgreSQL the execution's row
lock is queued ahead of the step's writes and checked, before COMMIT, against the row the step
was evaluated from. A step (or a group of steps) whose execution changed meanwhile must leave
nothing behind, although its writes reached the server before the check was made; on SQLite
and in memory the check is made before anything is written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from tests.support.engines import event_types, start, two_apps

from eltflow.app import App
from eltflow.errors import ConflictError
from eltflow.interpreter.protocol import TaskSucceeded
from eltflow.store.rows import to_us

STEP = "arn:aws:lambda:us-east-1:123456789012:function:step"
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
    with two_apps(store_url, "nap", NAP) as pair:
        yield pair


def test_a_group_whose_execution_changed_meanwhile_leaves_nothing(apps: tuple[App, App]) -> None:
    app, other = apps
    first_arn, first = start(app, "nap", "first")
    second_arn, second = start(app, "nap", "second")
    before = event_types(app, first_arn)
    with pytest.raises(ConflictError), app.engine.group():
        # Both steps are evaluated (their Wait's timer fires) and their writes held for the
        # group's one transaction; meanwhile another writer stops the second execution.
        app.engine.apply(first, [], due_timers=True)
        app.engine.apply(second, [], due_timers=True)
        other.service.stop_execution(execution_arn=second_arn, error="Halt", cause="test")
    # The first step's writes were made in the group's transaction before the second's
    # check failed: they were rolled back with it.
    assert event_types(app, first_arn) == before
    assert app.service.describe_execution(execution_arn=first_arn)["status"] == "RUNNING"
    assert app.service.describe_execution(execution_arn=second_arn)["status"] == "ABORTED"
    # Recorded on its own, the first step lands once.
    result = app.engine.apply(first, [], due_timers=True)
    assert result.status == "SUCCEEDED"
    types = event_types(app, first_arn)
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
    arn, execution_id = start(app, "nap", "lone")
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
    types = event_types(app, arn)
    assert types[-1] == "ExecutionAborted" and "PassStateEntered" not in types
    assert types.count("ExecutionAborted") == 1


TASKS = json.dumps(
    {
        "StartAt": "First",
        "States": {
            "First": {"Type": "Task", "Resource": STEP, "Next": "Second"},
            "Second": {"Type": "Task", "Resource": STEP, "Next": "Done"},
            "Done": {"Type": "Pass", "End": True},
        },
    }
)


def _count_reads(app: App) -> list[str]:
    """Record the execution of every step read (store.step_reads_txn) from now on."""
    reads: list[str] = []
    real = app.store.step_reads_txn

    def counted(conn: object, execution_id: str, **kwargs: object) -> object:
        reads.append(execution_id)
        return real(conn, execution_id, **kwargs)  # type: ignore[arg-type]

    app.store.step_reads_txn = counted  # type: ignore[method-assign,assignment]
    return reads


def test_a_held_execution_without_timers_is_read_once_per_claim(apps: tuple[App, App]) -> None:
    app, _ = apps
    app.register(STEP, lambda value: value)
    app.service.create_state_machine(name="tasks", definition=TASKS)
    arns = [
        str(app.service.start_execution(state_machine_arn="tasks", name=f"t{i}")["executionArn"])
        for i in range(3)
    ]
    reads = _count_reads(app)
    app.worker(threads=2).run(until_idle=True)
    for arn in arns:
        assert app.service.describe_execution(execution_arn=arn)["status"] == "SUCCEEDED"
        types = event_types(app, arn)
        assert types.count("LambdaFunctionSucceeded") == 2 and types[-1] == "ExecutionSucceeded"
    # Three steps each (claim, two task outcomes); only the first, after the claim, reads.
    assert sorted(reads) == sorted(app.store.get_execution_by_arn(a).id for a in arns)  # type: ignore[union-attr]


def test_a_held_execution_with_a_timer_is_read_at_every_step(apps: tuple[App, App]) -> None:
    app, _ = apps
    app.register(STEP, lambda value: value)
    timed = {"Type": "Task", "Resource": STEP, "TimeoutSeconds": 60, "End": True}
    definition = json.dumps({"StartAt": "Timed", "States": {"Timed": timed}})
    app.service.create_state_machine(name="timed", definition=definition)
    arn = str(app.service.start_execution(state_machine_arn="timed", name="x")["executionArn"])
    reads = _count_reads(app)
    app.worker(threads=2).run(until_idle=True)
    assert app.service.describe_execution(execution_arn=arn)["status"] == "SUCCEEDED"
    # The task's timeout is a timer: the outcome's step reads which timers are due.
    assert len(reads) == 2


def test_a_known_step_whose_execution_another_writer_changed_is_read_again(
    apps: tuple[App, App],
) -> None:
    app, other = apps
    app.register(STEP, lambda value: value)
    app.service.create_state_machine(name="tasks", definition=TASKS)
    arn = str(app.service.start_execution(state_machine_arn="tasks", name="t")["executionArn"])
    row = app.store.get_execution_by_arn(arn)
    assert row is not None
    now_us = to_us(app.clock.now())
    assert app.store.claim(owner="w", now_us=now_us, lease_us=10**9, limit=1) == [row.id]
    first = app.engine.apply(
        row.id, [], owner="w", due_timers=True, inbox=True, dispatch=lambda task: True
    )
    [task] = first.dispatch
    # The worker's next step would need no read; another writer stops the execution first.
    other.service.stop_execution(execution_arn=arn, error="Halt", cause="test")
    reads = _count_reads(app)
    guards: list[str] = []
    real_guard = app.store.guard_execution_txn

    def guard(conn: Any, execution_id: str, unchanged: Any) -> Any:
        guards.append(execution_id)
        return real_guard(conn, execution_id, unchanged)

    app.store.guard_execution_txn = guard  # type: ignore[method-assign]
    done = TaskSucceeded(task_id=task.task_id, output={"n": 1})
    result = app.engine.apply(row.id, [done], owner="w", due_timers=True, dispatch=lambda t: True)
    # Evaluated first from what the worker knew, without a read; the lock found the row
    # changed, so it was read again and found the execution ended.
    assert guards == [row.id, row.id]
    assert reads == [row.id]
    assert result.status == "ABORTED" and not result.dispatch
    types = event_types(app, arn)
    assert types[-1] == "ExecutionAborted" and "LambdaFunctionSucceeded" not in types
