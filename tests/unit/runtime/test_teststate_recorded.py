"""TestState answers as AWS recorded: LocalStack's TestState suite (Apache-2.0) recorded these
requests on AWS (test_test_state_scenarios, test_test_state_machine_scenarios,
test_test_state_mock_scenarios snapshots, Nov-Dec 2025). JSON text fields are compared parsed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import eltflow
from eltflow.errors import AwsApiError
from eltflow.types import JSON

HELLO: JSON = {"Value": "HelloWorld"}
NESTED: JSON = {
    "initialData": {"fieldFromInput": "value from input", "otherField": "other"},
    "unrelatedData": {"someOtherField": 1234},
}
IO_PASS = {
    "Type": "Pass",
    "InputPath": "$.initialData",
    "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
    "ResultPath": "$.modifiedData",
    "End": True,
}
CHOICE = {
    "Type": "Choice",
    "Choices": [
        {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
        {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
        {
            "And": [
                {"Variable": "$.value", "NumericGreaterThanEquals": 20},
                {"Variable": "$.value", "NumericLessThan": 30},
            ],
            "Next": "ValueInTwenties",
        },
    ],
    "Default": "DefaultState",
}
MODIFIED = {"staticValue": "some value", "inputValue": "value from input"}
RESULT = {"resultKey": "result value"}

# (state, input, the recorded DEBUG response; INFO is the same without inspectionData and
# TRACE the same as DEBUG for these states)
CASES: list[tuple[str, dict[str, Any], JSON, dict[str, Any]]] = [
    (
        "BASE_PASS_STATE",
        {"Type": "Pass", "End": True},
        HELLO,
        {
            "status": "SUCCEEDED",
            "output": HELLO,
            "inspectionData": {
                "input": HELLO,
                "afterInputPath": HELLO,
                "afterParameters": HELLO,
                "afterResultSelector": HELLO,
                "afterResultPath": HELLO,
            },
        },
    ),
    (
        "BASE_RESULT_PASS_STATE",
        {"Type": "Pass", "Result": RESULT, "End": True},
        HELLO,
        {
            "status": "SUCCEEDED",
            "output": RESULT,
            "inspectionData": {
                "input": HELLO,
                "result": RESULT,
                "afterResultSelector": RESULT,
                "afterResultPath": RESULT,
            },
        },
    ),
    (
        "IO_PASS_STATE",
        IO_PASS,
        NESTED,
        {
            "status": "SUCCEEDED",
            "output": {**NESTED, "modifiedData": MODIFIED},  # type: ignore[dict-item]
            "inspectionData": {
                "input": NESTED,
                "afterInputPath": NESTED["initialData"],  # type: ignore[call-overload,index]
                "afterParameters": MODIFIED,
                "afterResultSelector": MODIFIED,
                "afterResultPath": {**NESTED, "modifiedData": MODIFIED},  # type: ignore[dict-item]
            },
        },
    ),
    (
        "IO_RESULT_PASS_STATE",
        {**IO_PASS, "Result": RESULT},
        NESTED,
        {
            "status": "SUCCEEDED",
            "output": {**NESTED, "modifiedData": RESULT},  # type: ignore[dict-item]
            "inspectionData": {
                "input": NESTED,
                "result": RESULT,
                "afterResultSelector": RESULT,
                "afterResultPath": {**NESTED, "modifiedData": RESULT},  # type: ignore[dict-item]
            },
        },
    ),
    (
        "BASE_FAIL_STATE",
        {
            "Type": "Fail",
            "Error": "SomeFailure",
            "Cause": "This state machines raises a 'SomeFailure' failure.",
        },
        HELLO,
        {
            "status": "FAILED",
            "error": "SomeFailure",
            "cause": "This state machines raises a 'SomeFailure' failure.",
            "inspectionData": {"input": HELLO, "afterInputPath": HELLO},
        },
    ),
    (
        "BASE_SUCCEED_STATE",
        {"Type": "Succeed"},
        HELLO,
        {
            "status": "SUCCEEDED",
            "output": HELLO,
            "inspectionData": {"input": HELLO, "afterInputPath": HELLO},
        },
    ),
    (
        "BASE_CHOICE_STATE",
        CHOICE,
        {"type": "Private", "value": 22},
        {
            "status": "SUCCEEDED",
            "nextState": "ValueInTwenties",
            "output": {"type": "Private", "value": 22},
            "inspectionData": {
                "input": {"type": "Private", "value": 22},
                "afterInputPath": {"type": "Private", "value": 22},
            },
        },
    ),
]


def _parsed(response: dict[str, Any]) -> dict[str, Any]:
    out = dict(response)
    if "output" in out:
        out["output"] = json.loads(out["output"])
    if "inspectionData" in out:
        out["inspectionData"] = {
            k: json.loads(v) if isinstance(v, str) else v for k, v in out["inspectionData"].items()
        }
    return out


@pytest.mark.parametrize("level", ["INFO", "DEBUG", "TRACE"])
@pytest.mark.parametrize(
    ("name", "state", "state_input", "recorded"), CASES, ids=[c[0] for c in CASES]
)
def test_recorded_inspection_levels(
    name: str, state: dict[str, Any], state_input: JSON, recorded: dict[str, Any], level: Any
) -> None:
    result = eltflow.test_state(state, state_input, inspection_level=level)
    expected = dict(recorded)
    if level == "INFO":
        expected.pop("inspectionData")
    assert _parsed(dict(result.to_aws())) == expected


def test_recorded_state_name_cases() -> None:
    jsonata_fail = {
        "QueryLanguage": "JSONata",
        "StartAt": "State0",
        "States": {"State0": {"Type": "Fail", "Error": "SomeFailure", "Cause": "why"}},
    }
    result = eltflow.test_state(jsonata_fail, HELLO, state_name="State0", inspection_level="DEBUG")
    # A JSONata state reports only its input.
    assert _parsed(dict(result.to_aws())) == {
        "status": "FAILED",
        "error": "SomeFailure",
        "cause": "why",
        "inspectionData": {"input": HELLO},
    }
    for missing in ("dne", "invalid name"):
        with pytest.raises(AwsApiError) as e:
            eltflow.test_state(jsonata_fail, HELLO, state_name=missing)
        assert (e.value.code, e.value.message) == (
            "ValidationException",
            "State not found in definition",
        )


def test_recorded_mock_results() -> None:
    io_dynamodb = {
        "Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:putItem",
        "Parameters": {"TableName.$": "$.TableName", "Item.$": "$.Item"},
        "ResultPath": "$.putItemOutput",
        "End": True,
    }
    state_input: JSON = {"TableName": "t", "Item": {"id": {"S": "id1"}}}
    metadata: JSON = {"SdkHttpMetadata": {"HttpStatusCode": 200}}
    result = eltflow.test_state(io_dynamodb, state_input, mock_result=metadata)
    assert result.output_value == {**state_input, "putItemOutput": metadata}  # type: ignore[dict-item]
    lambda_ = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName.$": "$.FunctionName", "Payload.$": "$.Payload"},
        "End": True,
    }
    mocked: JSON = {"Payload": "function output", "SdkHttpMetadata": {"HttpStatusCode": 200}}
    result = eltflow.test_state(lambda_, {"FunctionName": "f", "Payload": None}, mock_result=mocked)
    assert (result.status, result.output_value) == ("SUCCEEDED", mocked)


# --- mocked Map states (test_state_configuration snapshots) ------------------------------------

MAP_PROCESSOR = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    "StartAt": "TestState",
    "States": {
        "TestState": {
            "Type": "Task",
            "QueryLanguage": "JSONata",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": "foo", "Payload": "bar"},
            "End": True,
        }
    },
}
BASE_MAP = {
    "Type": "Map",
    "QueryLanguage": "JSONata",
    "Items": "{% $states.input.Values %}",
    "ItemProcessor": MAP_PROCESSOR,
    "Output": "{% $states %}",
    "End": True,
}
MAP_CATCH = {
    **{k: v for k, v in BASE_MAP.items() if k != "Output"},
    "Catch": [
        {"ErrorEquals": ["MockException"], "Output": "{% $states %}", "Next": "HandleMockError"},
        {
            "ErrorEquals": ["States.ExceedToleratedFailureThreshold"],
            "Output": "{% $states %}",
            "Next": "HandleThreshold",
        },
    ],
    "ToleratedFailureCount": 1,
}
MAP_RETRY = {
    **{k: v for k, v in BASE_MAP.items() if k != "Output"},
    "Retry": [
        {"ErrorEquals": ["MockException"], "MaxAttempts": 3},
        {"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "MaxAttempts": 2},
    ],
    "ToleratedFailureCount": 1,
}
VALUES: JSON = {"Values": ["first", "second", "third"]}
EXCEEDED = "The specified tolerated failure threshold was exceeded"


def _map_test(state: dict[str, Any], failures: int, mock: list[int]) -> dict[str, Any]:
    result = eltflow.test_state(
        state,
        VALUES,
        mock_result=mock,  # type: ignore[arg-type]
        map_iteration_failure_count=failures,
        inspection_level="DEBUG",
    )
    return _parsed(dict(result.to_aws()))


def test_recorded_mocked_map_without_tolerance_succeeds() -> None:
    out = _map_test(BASE_MAP, 2, [0, 0, 1])
    assert out["status"] == "SUCCEEDED"
    assert out["inspectionData"] == {"input": VALUES, "maxConcurrency": 0}
    assert out["output"]["input"] == VALUES and out["output"]["result"] == [0, 0, 1]
    assert out["output"]["context"]["State"] == {
        "Name": "StateName",
        "EnteredTime": out["output"]["context"]["State"]["EnteredTime"],
        "RetryCount": 0,
    }


def test_recorded_mocked_map_over_its_tolerance_is_caught_or_retriable() -> None:
    below = _map_test(MAP_CATCH, 0, [1, 1, 1])
    assert (below["status"], below["output"]) == ("SUCCEEDED", [1, 1, 1])
    assert below["inspectionData"] == {
        "input": VALUES,
        "maxConcurrency": 0,
        "toleratedFailureCount": 1,
    }
    caught = _map_test(MAP_CATCH, 2, [0, 0, 1])
    assert (caught["status"], caught["nextState"]) == ("CAUGHT_ERROR", "HandleThreshold")
    assert (caught["error"], caught["cause"]) == (
        "States.ExceedToleratedFailureThreshold",
        EXCEEDED,
    )
    assert caught["output"]["errorOutput"] == {
        "Error": "States.ExceedToleratedFailureThreshold",
        "Cause": EXCEEDED,
    }
    assert caught["inspectionData"]["errorDetails"] == {"catchIndex": 1}
    retriable = _map_test(MAP_RETRY, 2, [0, 0, 1])
    assert retriable == {
        "status": "RETRIABLE",
        "error": "States.ExceedToleratedFailureThreshold",
        "cause": EXCEEDED,
        "inspectionData": {
            "input": VALUES,
            "maxConcurrency": 0,
            "toleratedFailureCount": 1,
            "errorDetails": {"retryBackoffIntervalSeconds": 1, "retryIndex": 1},
        },
    }


def test_recorded_mocked_map_error_caused_by_an_inner_state() -> None:
    result = eltflow.test_state(
        BASE_MAP,
        {"Values": [1, 1, 1]},
        mock_error=("MockException", "Mock the cause of the error."),
        error_caused_by_state="TestState",
        inspection_level="DEBUG",
    )
    assert _parsed(dict(result.to_aws())) == {
        "status": "FAILED",
        "error": "MockException",
        "cause": "Mock the cause of the error.",
        "inspectionData": {"input": {"Values": [1, 1, 1]}, "maxConcurrency": 0},
    }


def test_recorded_callback_task_with_a_context_token() -> None:
    # AWS, IO_SQS_SERVICE_TASK_WAIT at TRACE with a full context holding Task.Token "abcd123".
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {
            "QueueUrl": "https://sqs.us-east-2.amazonaws.com/123456789012/myQueue",
            "MessageBody": {
                "Message": "Hello from Step Functions!",
                "TaskToken.$": "$$.Task.Token",
            },
        },
        "ResultPath": "$.SQS",
        "Next": "NEXT_STATE",
    }
    context: dict[str, JSON] = {
        "Execution": {
            "Id": "arn:aws:states:::execution:MyStateMachine:execution-name-12345",
            "Input": {"input-value": 0},
            "Name": "execution-name-12345",
            "RoleArn": "arn:aws:iam:::role/StepFunctionsRole",
            "StartTime": "2025-01-15T10:30:00.000Z",
        },
        "State": {
            "EnteredTime": "2025-01-15T10:30:01.500Z",
            "Name": "MyTaskState",
            "RetryCount": 0,
        },
        "StateMachine": {
            "Id": "arn:aws:states:::stateMachine:MyStateMachine",
            "Name": "MyStateMachine",
        },
        "Task": {"Token": "abcd123"},
    }
    pokemon: JSON = {"pokemon": ["charizard", "pikachu", "bulbasaur"]}
    result = eltflow.test_state(
        state, None, inspection_level="TRACE", context=context, mock_result=pokemon
    )
    assert _parsed(dict(result.to_aws())) == {
        "status": "SUCCEEDED",
        "nextState": "NEXT_STATE",
        "output": {"SQS": pokemon},
        "inspectionData": {
            "input": {},
            "afterInputPath": {},
            "afterParameters": {
                "QueueUrl": "https://sqs.us-east-2.amazonaws.com/123456789012/myQueue",
                "MessageBody": {"Message": "Hello from Step Functions!", "TaskToken": "abcd123"},
            },
            "result": pokemon,
            "afterResultSelector": pokemon,
            "afterResultPath": {"SQS": pokemon},
        },
    }


HANDLE_ITEM = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    "StartAt": "HandleItem",
    "States": {"HandleItem": {"Type": "Pass", "End": True}},
}


def test_recorded_item_reader_map_in_a_machine() -> None:
    machine = {
        "QueryLanguage": "JSONata",
        "StartAt": "State0",
        "States": {
            "State0": {
                "Type": "Map",
                "MaxConcurrency": 1,
                "ItemReader": {
                    "ReaderConfig": {"InputType": "JSON"},
                    "Resource": "arn:aws:states:::s3:getObject",
                    "Arguments": {
                        "Bucket": "{% $states.input.Bucket %}",
                        "Key": "{% $states.input.Key %}",
                    },
                },
                "ItemProcessor": HANDLE_ITEM,
                "End": True,
            }
        },
    }
    where: JSON = {"Bucket": "test-bucket", "Key": "test-key"}
    read = eltflow.test_state(
        machine,
        where,
        state_name="State0",
        map_item_reader_data=[1, 2, 3],
        mock_result=[1, 4, 9],
        inspection_level="DEBUG",
    )
    assert _parsed(dict(read.to_aws())) == {
        "status": "SUCCEEDED",
        "output": [1, 4, 9],
        "inspectionData": {"input": where, "maxConcurrency": 1},
    }
    for failures in (0, 2):
        failed = eltflow.test_state(
            machine,
            where,
            state_name="State0",
            map_item_reader_data=[1, 2, 3],
            map_iteration_failure_count=failures,
            error_caused_by_state="HandleItem",
            mock_error=("MockException", "Mock the error cause."),
            inspection_level="DEBUG",
        )
        assert _parsed(dict(failed.to_aws())) == {
            "status": "FAILED",
            "error": "MockException",
            "cause": "Mock the error cause.",
            "inspectionData": {"input": where, "maxConcurrency": 1},
        }


def test_recorded_jsonpath_map_in_a_machine_with_an_inner_error() -> None:
    machine = {
        "StartAt": "State0",
        "States": {
            "State0": {
                "Type": "Map",
                "ItemsPath": "$.Values",
                "ItemProcessor": HANDLE_ITEM,
                "ToleratedFailureCount": 2,
                "End": True,
            }
        },
    }
    for failures in (0, 2):
        failed = eltflow.test_state(
            machine,
            VALUES,
            state_name="State0",
            map_iteration_failure_count=failures,
            error_caused_by_state="HandleItem",
            mock_error=("MockException", "Mock the error cause."),
            inspection_level="TRACE",
        )
        assert _parsed(dict(failed.to_aws())) == {
            "status": "FAILED",
            "error": "MockException",
            "cause": "Mock the error cause.",
            "inspectionData": {
                "input": VALUES,
                "afterInputPath": VALUES,
                "afterItemsPath": ["first", "second", "third"],
                "maxConcurrency": 0,
                "toleratedFailureCount": 2,
            },
        }
