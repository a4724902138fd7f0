"""History events: AWS's sequences, type names and *EventDetails shapes (GetExecutionHistory)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from eltflow import execute
from eltflow.asl.parser import parse
from eltflow.interpreter import advance, start
from eltflow.interpreter.events import resource_kind
from eltflow.interpreter.protocol import ExecutionContext, RunTask, TaskSucceeded
from eltflow.types import JSON

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:HelloWorld"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _ctx() -> ExecutionContext:
    return ExecutionContext(
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:hello:run-1",
        execution_name="run-1",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:hello",
        state_machine_name="hello",
        start_time=T0,
        seed="s",
    )


def _hello(payload: JSON) -> JSON:
    return {"Hello": "World"}


def test_lambda_task_history_matches_the_api_reference_example() -> None:
    # GetExecutionHistory's example: a one-state machine calling a Lambda function by ARN.
    definition = {
        "StartAt": "HelloWorld",
        "States": {"HelloWorld": {"Type": "Task", "Resource": LAMBDA, "End": True}},
    }
    result = execute(definition, {}, tasks={LAMBDA: _hello})
    assert result.event_types() == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert [e.id for e in result.history] == [1, 2, 3, 4, 5, 6, 7]
    # The first state's entry points at no event (0), as in every history recorded on AWS
    # (e.g. LocalStack's AWS-recorded snapshots: FailStateEntered/PassStateEntered id 2, 0).
    assert [e.previous_event_id for e in result.history] == [0, 0, 2, 3, 4, 5, 6]
    scheduled = result.history[2].details["lambdaFunctionScheduledEventDetails"]
    assert scheduled == {"resource": LAMBDA, "input": "{}", "inputDetails": {"truncated": False}}
    assert "lambdaFunctionStartedEventDetails" not in result.history[3].details
    assert result.history[4].details == {
        "lambdaFunctionSucceededEventDetails": {
            "output": '{"Hello":"World"}',
            "outputDetails": {"truncated": False},
        }
    }
    assert result.history[-1].details == {
        "executionSucceededEventDetails": {
            "output": '{"Hello":"World"}',
            "outputDetails": {"truncated": False},
        }
    }


def test_service_integration_task_events_name_resource_type_and_api() -> None:
    resource = "arn:aws:states:::dynamodb:getItem"
    definition = {
        "StartAt": "Get",
        "States": {
            "Get": {
                "Type": "Task",
                "Resource": resource,
                "TimeoutSeconds": 30,
                "Parameters": {"TableName": "jobs", "Key": {"JobID": {"S.$": "$.id"}}},
                "End": True,
            }
        },
    }
    result = execute(definition, {"id": "101"}, tasks={resource: lambda p: {"Item": {}}})
    assert result.event_types()[2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
    details = result.history[2].details["taskScheduledEventDetails"]
    assert isinstance(details, dict)
    assert details["resourceType"] == "dynamodb"
    assert details["resource"] == "getItem"
    assert details["region"] == "us-east-1"
    assert details["timeoutInSeconds"] == 30
    assert json.loads(str(details["parameters"])) == {
        "TableName": "jobs",
        "Key": {"JobID": {"S": "101"}},
    }
    assert result.history[3].details == {
        "taskStartedEventDetails": {"resourceType": "dynamodb", "resource": "getItem"}
    }


def test_state_entered_and_exited_details() -> None:
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "End": True}},
    }
    result = execute(definition, {"a": "é"})
    entered, exited = result.history[1], result.history[2]
    assert entered.type == "PassStateEntered"
    assert entered.details == {
        "stateEnteredEventDetails": {
            "name": "P",
            "input": '{"a":"é"}',
            "inputDetails": {"truncated": False},
        }
    }
    assert exited.details == {
        "stateExitedEventDetails": {
            "name": "P",
            "output": '{"a":"é","r":{"x":1}}',
            "outputDetails": {"truncated": False},
        }
    }
    started = result.history[0].details["executionStartedEventDetails"]
    assert isinstance(started, dict)
    assert started["input"] == '{"a":"é"}'
    assert "roleArn" in started


def test_assigned_variables_appear_in_the_exited_event() -> None:
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Assign": {"n": 1, "who.$": "$.name"}, "End": True}},
    }
    result = execute(definition, {"name": "x"})
    details = result.history[2].details["stateExitedEventDetails"]
    assert isinstance(details, dict)
    assert details["assignedVariables"] == {"n": "1", "who": '"x"'}
    assert details["assignedVariablesDetails"] == {"truncated": False}


def test_parallel_and_map_event_families() -> None:
    definition = {
        "StartAt": "Par",
        "States": {
            "Par": {
                "Type": "Parallel",
                "Next": "Map",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
                ],
            },
            "Map": {
                "Type": "Map",
                "End": True,
                "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            },
        },
    }
    result = execute(definition, {})
    types = result.event_types()
    assert types[:3] == ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted"]
    assert types.index("ParallelStateSucceeded") < types.index("ParallelStateExited")
    started = result.events("MapStateStarted")[0]
    assert started.details == {"mapStateStartedEventDetails": {"length": 2}}
    iterations = result.events("MapIterationStarted")
    assert [e.details for e in iterations] == [
        {"mapIterationStartedEventDetails": {"name": "Map", "index": 0}},
        {"mapIterationStartedEventDetails": {"name": "Map", "index": 1}},
    ]
    assert len(result.events("MapIterationSucceeded")) == 2
    assert types[-3:] == ["MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]
    assert result.output == [{}, {}]


def test_fail_state_events() -> None:
    definition = {
        "StartAt": "F",
        "States": {"F": {"Type": "Fail", "Error": "Custom.Error", "Cause": "it broke"}},
    }
    result = execute(definition, {})
    assert result.event_types() == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    assert result.history[-1].details == {
        "executionFailedEventDetails": {"error": "Custom.Error", "cause": "it broke"}
    }
    assert (result.status, result.error, result.cause) == ("FAILED", "Custom.Error", "it broke")


def test_event_ids_are_sequential_and_timestamps_come_from_now() -> None:
    machine = parse(
        {
            "StartAt": "T",
            "States": {
                "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
            },
        }
    )
    state, events, effects = start(machine, {}, _ctx(), T0)
    assert [e.timestamp for e in events] == [T0, T0, T0]
    run = effects[0]
    assert isinstance(run, RunTask)
    later = datetime(2026, 3, 1, 12, 5, tzinfo=UTC)
    state, more, _ = advance(machine, state, TaskSucceeded(task_id=run.task_id, output=1), later)
    assert [e.id for e in events + more] == list(range(1, len(events) + len(more) + 1))
    assert {e.timestamp for e in more} == {later}
    assert [e.to_aws()["type"] for e in more][-1] == "ExecutionSucceeded"
    assert more[-1].to_aws()["timestamp"] == later.isoformat()


def test_lambda_function_failed_and_timed_out_details() -> None:
    def boom(payload: JSON) -> JSON:
        raise RuntimeError("exploded")

    definition = {
        "StartAt": "F",
        "States": {"F": {"Type": "Task", "Resource": LAMBDA, "End": True}},
    }
    result = execute(definition, {}, tasks={LAMBDA: boom})
    failed = result.events("LambdaFunctionFailed")[0]
    assert failed.details == {
        "lambdaFunctionFailedEventDetails": {"error": "RuntimeError", "cause": "exploded"}
    }
    assert result.event_types()[-2:] == ["LambdaFunctionFailed", "ExecutionFailed"]


def test_wait_for_task_token_gets_a_token_in_context_and_effect() -> None:
    machine = parse(
        {
            "StartAt": "Cb",
            "States": {
                "Cb": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                    "Parameters": {"MessageBody": {"token.$": "$$.Task.Token"}},
                    "End": True,
                }
            },
        }
    )
    _, events, effects = start(machine, {}, _ctx(), T0)
    run = effects[0]
    assert isinstance(run, RunTask)
    assert run.task_token
    assert run.parameters == {"MessageBody": {"token": run.task_token}}
    scheduled = events[-1].details["taskScheduledEventDetails"]
    assert isinstance(scheduled, dict)
    assert (scheduled["resourceType"], scheduled["resource"]) == (
        "sqs",
        "sendMessage.waitForTaskToken",
    )
    # The same execution and task always get the same token (replay-safe).
    _, _, again = start(machine, {}, _ctx(), T0)
    assert again[0] == run


def test_catch_assign_in_jsonpath_reads_the_error_output() -> None:
    def boom(payload: JSON) -> JSON:
        raise ValueError("bad")

    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": LAMBDA,
                "End": True,
                "Catch": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Assign": {"err.$": "$.Error"},
                        "ResultPath": None,
                        "Next": "H",
                    }
                ],
            },
            "H": {"Type": "Pass", "Parameters": {"seen.$": "$err", "input.$": "$"}, "End": True},
        },
    }
    result = execute(definition, {"k": 1}, tasks={LAMBDA: boom})
    assert result.output == {"seen": "ValueError", "input": {"k": 1}}


@pytest.mark.parametrize(
    ("resource", "kind"),
    [
        ("arn:aws:states:::states:startExecution.sync:2", ("states", "startExecution.sync:2")),
        ("arn:aws:states:::states:startExecution.sync", ("states", "startExecution.sync")),
        ("arn:aws:states:::lambda:invoke.waitForTaskToken", ("lambda", "invoke.waitForTaskToken")),
        ("arn:aws:states:::aws-sdk:s3:getObject", ("aws-sdk:s3", "getObject")),
    ],
)
def test_task_events_name_the_integration_as_aws_does(resource: str, kind: tuple[str, str]) -> None:
    # The version of an integration pattern (".sync:2") belongs to the resource name.
    _, rtype, rname, _ = resource_kind(resource)
    assert (rtype, rname) == kind
