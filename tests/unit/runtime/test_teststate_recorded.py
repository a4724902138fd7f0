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
