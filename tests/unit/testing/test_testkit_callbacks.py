"""Mocked ``.waitForTaskToken`` and ``.sync`` tasks in the test kit: the mock's ``Return`` or
``Throw`` is the token's (or the job's) answer, recorded after ``TaskSubmitted`` as AWS
records a callback task (LocalStack's local_mocking/test_base_callbacks recordings: TaskStarted,
TaskSubmitted, then TaskSucceeded or TaskFailed). Before, such a task waited for a token no
one could send, and the run never ended."""

from __future__ import annotations

from typing import Any

import pytest

from eltflow.testing.mocks import run_test_case

CALLBACK = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
SYNC = "arn:aws:states:::states:startExecution.sync:2"
CONFIG = {
    "StateMachines": {"M": {"TestCases": {"Ok": {"S": "Answered"}, "Failed": {"S": "Refused"}}}},
    "MockedResponses": {
        "Answered": {"0": {"Return": {"approved": True}}},
        "Refused": {"0": {"Throw": {"Error": "Failure error", "Cause": "Failure cause"}}},
    },
}


def _definition(resource: str) -> dict[str, Any]:
    # Only a .waitForTaskToken task has a token ($$.Task.Token) to pass on.
    body = {"token.$": "$$.Task.Token"} if resource == CALLBACK else {"n": 1}
    return {
        "StartAt": "S",
        "States": {
            "S": {
                "Type": "Task",
                "Resource": resource,
                "Parameters": {"QueueUrl": "q", "MessageBody": body},
                "End": True,
            }
        },
    }


@pytest.mark.parametrize("resource", [CALLBACK, SYNC])
def test_a_mocked_answer_follows_the_submission(resource: str) -> None:
    result = run_test_case(
        _definition(resource), {}, mock_config=CONFIG, state_machine="M", test_case="Ok"
    )
    assert result.succeeded and result.output == {"approved": True}
    assert result.event_types()[2:6] == [
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
    ]


def test_a_mocked_failure_follows_the_submission() -> None:
    result = run_test_case(
        _definition(CALLBACK), {}, mock_config=CONFIG, state_machine="M", test_case="Failed"
    )
    assert (result.status, result.error, result.cause) == (
        "FAILED",
        "Failure error",
        "Failure cause",
    )
    assert result.event_types()[2:6] == [
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskFailed",
    ]
