"""HeartbeatSeconds, driven through the pure interpreter (start / advance, no runtime).

A task that can heartbeat (an activity, or a ``.waitForTaskToken`` integration) fails with
``States.HeartbeatTimeout`` -- recorded as ``TaskTimedOut`` / ``ActivityTimedOut`` -- when more
than HeartbeatSeconds pass without a ``TaskHeartbeat``; each heartbeat restarts the countdown.
``States.Timeout`` in a Retry/Catch also matches a heartbeat timeout.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import cast

from tests.support.interp import T0, context, task_machine

from eltflow.asl.parser import parse
from eltflow.interpreter import ExecutionState, advance, start
from eltflow.interpreter.protocol import (
    CancelTask,
    CancelTimer,
    Effect,
    HistoryEvent,
    RunTask,
    StartTimer,
    TaskHeartbeat,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
)
from eltflow.types import JSON, JSONObject

CALLBACK = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:worker"
LAMBDA = "arn:aws:states:::lambda:invoke"


def _detail(event: HistoryEvent, key: str, field: str) -> JSON:
    return cast(JSONObject, event.details[key])[field]


def _timers(effects: list[Effect]) -> list[StartTimer]:
    return [e for e in effects if isinstance(e, StartTimer)]


def _heartbeat_timer(effects: list[Effect]) -> StartTimer:
    [timer] = [t for t in _timers(effects) if "/heartbeat/" in t.timer_id]
    return timer


def test_heartbeat_timeout_fails_the_task_with_states_heartbeattimeout() -> None:
    machine = task_machine(CALLBACK, HeartbeatSeconds=30, TimeoutSeconds=300)
    state, events, effects = start(machine, {}, context(), T0)
    run = next(e for e in effects if isinstance(e, RunTask))
    assert run.heartbeat_seconds == 30
    assert _detail(events[-1], "taskScheduledEventDetails", "heartbeatInSeconds") == 30
    beat = _heartbeat_timer(effects)
    assert beat.due == T0 + timedelta(seconds=30)
    timeout = next(t for t in _timers(effects) if "/timeout/" in t.timer_id)

    due = beat.due
    state, events, effects = advance(machine, state, TimerFired(timer_id=beat.timer_id), due)
    assert [e.type for e in events] == ["TaskTimedOut", "ExecutionFailed"]
    assert events[0].details == {
        "taskTimedOutEventDetails": {
            "resourceType": "sqs",
            "resource": "sendMessage.waitForTaskToken",
            "error": "States.HeartbeatTimeout",
        }
    }
    assert (state.status, state.error, state.cause) == ("FAILED", "States.HeartbeatTimeout", "")
    # The task is cancelled and so is the overall TimeoutSeconds countdown.
    assert CancelTask(task_id=run.task_id) in effects
    assert CancelTimer(timer_id=timeout.timer_id) in effects


def test_each_heartbeat_restarts_the_countdown() -> None:
    machine = task_machine(CALLBACK, HeartbeatSeconds=10)
    state, _, effects = start(machine, {}, context(), T0)
    run = next(e for e in effects if isinstance(e, RunTask))
    first = _heartbeat_timer(effects)
    state, events, effects = advance(machine, state, TaskStarted(task_id=run.task_id), T0)
    assert [e.type for e in events] == ["TaskStarted"]
    started = _heartbeat_timer(effects)  # the countdown runs from the start
    assert CancelTimer(timer_id=first.timer_id) in effects

    later = T0 + timedelta(seconds=8)
    state, events, effects = advance(machine, state, TaskHeartbeat(task_id=run.task_id), later)
    assert events == []  # heartbeats are not written to history
    renewed = _heartbeat_timer(effects)
    assert renewed.due == later + timedelta(seconds=10)
    assert renewed.timer_id not in (first.timer_id, started.timer_id)
    assert CancelTimer(timer_id=started.timer_id) in effects

    # The replaced countdowns firing late (a runtime that could not cancel them) are ignored.
    for old in (first, started):
        state, events, effects = advance(machine, state, TimerFired(timer_id=old.timer_id), later)
        assert (events, effects, state.status) == ([], [], "RUNNING")

    done = T0 + timedelta(seconds=15)
    state, events, effects = advance(
        machine, state, TaskSucceeded(task_id=run.task_id, output={"ok": True}), done
    )
    assert state.status == "SUCCEEDED" and state.output == {"ok": True}
    assert CancelTimer(timer_id=renewed.timer_id) in effects
    # A heartbeat for a finished task changes nothing.
    state, events, effects = advance(machine, state, TaskHeartbeat(task_id=run.task_id), done)
    assert (events, effects) == ([], [])


def test_activity_heartbeat_timeout_is_caught_by_states_timeout_and_retried() -> None:
    machine = parse(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": ACTIVITY,
                    "HeartbeatSecondsPath": "$.beat",
                    "Retry": [
                        {
                            "ErrorEquals": ["States.HeartbeatTimeout"],
                            "MaxAttempts": 1,
                            "IntervalSeconds": 1,
                        }
                    ],
                    "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}],
                    "End": True,
                },
                "Late": {"Type": "Pass", "End": True},
            },
        }
    )
    state, events, effects = start(machine, {"beat": 5}, context(), T0)
    assert events[-1].type == "ActivityScheduled"
    assert _detail(events[-1], "activityScheduledEventDetails", "heartbeatInSeconds") == 5
    now = T0
    history = list(events)
    for _ in range(2):  # first attempt, then the retry: both miss their heartbeat
        beat = _heartbeat_timer(effects)
        now = beat.due
        # The durable runtime snapshots between steps: the countdown survives a round trip.
        state = ExecutionState.from_json(cast(JSONObject, json.loads(json.dumps(state.to_json()))))
        state, events, effects = advance(machine, state, TimerFired(timer_id=beat.timer_id), now)
        history += events
        if state.status == "RUNNING" and not any(isinstance(e, RunTask) for e in effects):
            retry = next(t for t in _timers(effects) if "/retry/" in t.timer_id)
            now = retry.due
            state, events, effects = advance(
                machine, state, TimerFired(timer_id=retry.timer_id), now
            )
            history += events
    timed_out = [e for e in history if e.type == "ActivityTimedOut"]
    assert len(timed_out) == 2
    assert timed_out[0].details == {
        "activityTimedOutEventDetails": {"error": "States.HeartbeatTimeout"}
    }
    assert state.status == "SUCCEEDED"
    assert state.output == {"Error": "States.HeartbeatTimeout", "Cause": ""}


def test_heartbeat_is_not_enforced_on_tasks_that_cannot_send_one() -> None:
    # A request-response call holds no task token, so nothing could ever heartbeat it.
    machine = task_machine(LAMBDA, HeartbeatSeconds=10, TimeoutSeconds=60)
    state, events, effects = start(machine, {}, context(), T0)
    assert [t for t in _timers(effects) if "/heartbeat/" in t.timer_id] == []
    assert _detail(events[-1], "taskScheduledEventDetails", "heartbeatInSeconds") == 10
    run = next(e for e in effects if isinstance(e, RunTask))
    assert run.heartbeat_seconds == 10  # still passed on to the runtime
    state, _, _ = advance(machine, state, TaskSucceeded(task_id=run.task_id, output=1), T0)
    assert state.status == "SUCCEEDED"
