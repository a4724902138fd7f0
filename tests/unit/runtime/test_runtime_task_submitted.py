"""``TaskSubmitted`` through the runtime's task runner, in memory (``eltflow.execute``): a
``.waitForTaskToken`` call's response is recorded once the call is made, and the task then
waits for its token. The sequence is the one AWS recorded for a callback task that timed out
(LocalStack's test_callback snapshot, ``test_sqs_wait_for_task_token_timeout``):
TaskScheduled, TaskStarted, TaskSubmitted, TaskTimedOut, ExecutionFailed, each event after
the one before it. The durable store is covered by test_runtime_task_tokens.py and
test_runtime_nested.py."""

from __future__ import annotations

import json

import pytest

from eltflow import execute
from eltflow.types import JSON

PATTERNS = [
    "arn:aws:states:::lambda:invoke.waitForTaskToken",
    "arn:aws:states:::sns:publish.waitForTaskToken",
]


@pytest.mark.parametrize("resource", PATTERNS)
def test_a_callback_records_the_call_response_then_times_out_waiting(resource: str) -> None:
    calls: list[JSON] = []

    def call(params: JSON) -> JSON:
        calls.append(params)
        return {"MessageId": "m-1", "StatusCode": 200}

    definition = {
        "StartAt": "Notify",
        "States": {
            "Notify": {
                "Type": "Task",
                "Resource": resource,
                "Parameters": {"token.$": "$$.Task.Token"},
                "TimeoutSeconds": 5,
                "End": True,
            }
        },
    }
    result = execute(definition, {}, tasks={resource: call}, virtual_time=True)
    assert len(calls) == 1
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    tail = [(e.id, e.previous_event_id, e.type) for e in result.history[2:]]
    assert tail == [
        (3, 2, "TaskScheduled"),
        (4, 3, "TaskStarted"),
        (5, 4, "TaskSubmitted"),
        (6, 5, "TaskTimedOut"),
        (7, 6, "ExecutionFailed"),
    ]
    details = result.history[4].details["taskSubmittedEventDetails"]
    assert isinstance(details, dict)
    service, action = resource.removeprefix("arn:aws:states:::").split(":")
    assert (details["resourceType"], details["resource"]) == (service, action)
    assert json.loads(str(details["output"])) == {"MessageId": "m-1", "StatusCode": 200}
    assert details["outputDetails"] == {"truncated": False}


def test_a_request_response_task_records_no_submission() -> None:
    resource = "arn:aws:states:::lambda:invoke"
    definition = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": resource, "End": True}},
    }
    result = execute(definition, {}, tasks={resource: lambda p: {"ok": True}})
    assert result.succeeded
    assert "TaskSubmitted" not in result.event_types()
