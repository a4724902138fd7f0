"""``TaskSubmitted``, driven through the pure interpreter (start / advance, no runtime).

AWS records it for a ``.sync`` or ``.waitForTaskToken`` task once the service accepted the
request: after ``TaskStarted``, before the outcome, with the service's response as ``output``
(API_TaskSubmittedEventDetails; the order and ids as in the histories LocalStack's test suite
recorded on AWS, tests/aws/services/stepfunctions/v2/callback/test_callback.snapshot.json).
Activities and Lambda function ARNs have no such event.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from tests.support.interp import T0, context, task_machine

from eltflow.asl.model import StateMachine
from eltflow.interpreter import ExecutionState, advance, start
from eltflow.interpreter.protocol import (
    HistoryEvent,
    RunTask,
    TaskFailed,
    TaskStarted,
    TaskSubmitted,
    TaskSucceeded,
    TimerFired,
)
from eltflow.types import JSON

CALLBACK = "arn:aws:states:::sns:publish.waitForTaskToken"
SYNC = "arn:aws:states:::states:startExecution.sync:2"
ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:worker"
RESPONSE: JSON = {"MessageId": "m-1", "SdkResponseMetadata": {"RequestId": "r-1"}}


def _run(
    machine: StateMachine, *inbounds: TaskStarted | TaskSubmitted | TaskSucceeded | TaskFailed
) -> tuple[ExecutionState, list[HistoryEvent], str]:
    """Start, then feed ``inbounds`` (their task id filled in with the first task's)."""
    state, events, effects = start(machine, {"in": 1}, context(), T0)
    [task] = [e for e in effects if isinstance(e, RunTask)]
    history = list(events)
    for inbound in inbounds:
        fed = replace(inbound, task_id=task.task_id)
        state, events, _ = advance(machine, state, fed, T0 + timedelta(seconds=1))
        history += events
    return state, history, task.task_id


def _submitted(output: JSON = RESPONSE) -> TaskSubmitted:
    return TaskSubmitted(task_id="", output=output)


def test_the_submission_is_recorded_between_the_start_and_the_outcome() -> None:
    _, history, _ = _run(
        task_machine(CALLBACK),
        TaskStarted(task_id=""),
        _submitted(),
        TaskSucceeded(task_id="", output={"answer": 1}),
    )
    assert [(e.id, e.previous_event_id, e.type) for e in history[2:]] == [
        (3, 2, "TaskScheduled"),
        (4, 3, "TaskStarted"),
        (5, 4, "TaskSubmitted"),
        (6, 5, "TaskSucceeded"),
        (7, 6, "TaskStateExited"),
        (8, 7, "ExecutionSucceeded"),
    ]
    assert history[4].details == {
        "taskSubmittedEventDetails": {
            "resourceType": "sns",
            "resource": "publish.waitForTaskToken",
            "output": '{"MessageId":"m-1","SdkResponseMetadata":{"RequestId":"r-1"}}',
            "outputDetails": {"truncated": False},
        }
    }
    # The task's result is the token's answer, not the submission's response.
    final: Any = history[-1].details["executionSucceededEventDetails"]
    assert final["output"] == '{"answer":1}'


def test_a_sync_resource_keeps_its_pattern_in_the_resource_name() -> None:
    _, history, _ = _run(
        task_machine(SYNC), TaskStarted(task_id=""), _submitted({"ExecutionArn": "c"})
    )
    details: Any = history[-1].details["taskSubmittedEventDetails"]
    assert (history[-1].type, details["resourceType"], details["resource"]) == (
        "TaskSubmitted",
        "states",
        "startExecution.sync:2",
    )


def test_a_submission_before_the_start_records_the_start_first() -> None:
    _, history, _ = _run(task_machine(CALLBACK), _submitted())
    assert [e.type for e in history[2:]] == ["TaskScheduled", "TaskStarted", "TaskSubmitted"]


def test_a_second_report_of_the_same_attempt_is_recorded_once_even_after_a_snapshot() -> None:
    machine = task_machine(SYNC)
    state, history, task_id = _run(machine, TaskStarted(task_id=""), _submitted())
    # A worker resumed from the snapshot re-attaches to the job and reports it again.
    resumed = ExecutionState.from_json(state.to_json())
    resumed, events, effects = advance(
        machine, resumed, TaskSubmitted(task_id=task_id, output=RESPONSE), T0
    )
    assert (events, effects) == ([], [])
    assert resumed.status == "RUNNING"
    assert [e.type for e in history].count("TaskSubmitted") == 1


def test_each_attempt_records_its_own_submission() -> None:
    machine = task_machine(
        CALLBACK, Retry=[{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 1}]
    )
    state, history, first = _run(
        machine, _submitted(), TaskFailed(task_id="", error="Boom", cause="")
    )
    [retry] = [k for k in state.waiting if "/retry/" in k]
    state, events, effects = advance(machine, state, TimerFired(timer_id=retry), T0)
    [again] = [e for e in effects if isinstance(e, RunTask)]
    assert again.task_id != first
    state, more, _ = advance(machine, state, TaskSubmitted(task_id=again.task_id, output=1), T0)
    types = [e.type for e in history + events + more]
    assert types.count("TaskSubmitted") == 2 and types[-1] == "TaskSubmitted"


def test_a_report_for_a_task_that_no_longer_waits_is_ignored() -> None:
    _, history, _ = _run(task_machine(CALLBACK), TaskSucceeded(task_id="", output=1), _submitted())
    assert "TaskSubmitted" not in [e.type for e in history]
    assert history[-1].type == "ExecutionSucceeded"


def test_an_activity_records_no_submission() -> None:
    _, history, _ = _run(task_machine(ACTIVITY), TaskStarted(task_id=""), _submitted())
    assert [e.type for e in history[2:]] == ["ActivityScheduled", "ActivityStarted"]


def test_a_response_over_the_payload_limit_fails_the_state() -> None:
    """Unverified on AWS: the state fails as for a result over the limit."""
    state, history, _ = _run(task_machine(CALLBACK), _submitted({"big": "x" * 300_000}))
    assert state.status == "FAILED"
    assert state.error == "States.DataLimitExceeded"
    assert "TaskSubmitted" not in [e.type for e in history]
    assert not [k for k in state.waiting if "/task/" in k]  # the task no longer waits
