"""eltflow.test_state mocks: result / errorOutput, fieldValidationMode STRICT / PRESENT / NONE
against the APIs' botocore models, Retry → RETRIABLE and Catch → CAUGHT_ERROR, and the bundled
reference pipeline's LoadFact state tested alone.

Expected messages are AWS's, recorded on AWS by LocalStack's TestState suite
(test_field_validation_mode*.snapshot.json, test_state_configuration.snapshot.json).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import eltflow
from eltflow.errors import AwsApiError
from eltflow.pipelines import reference
from eltflow.runtime.mock_shapes import FieldValidationMode
from eltflow.types import JSON

START = {
    "Type": "Task",
    "Resource": "arn:aws:states:::states:startExecution",
    "Parameters": {"StateMachineArn.$": "$.arn"},
    "End": True,
}
PUT_EVENTS = {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "End": True}
GET_OBJECT = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject", "End": True}
PREFIX = "Mock result schema validation error: "


def _refusal(state: dict[str, Any], result: Any, mode: FieldValidationMode) -> str | None:
    try:
        eltflow.test_state(state, {"arn": "a"}, mock_result=result, field_validation_mode=mode)
    except AwsApiError as e:
        assert e.code == "ValidationException"
        return e.message.removeprefix(PREFIX)
    return None


@pytest.mark.parametrize(
    ("state", "result", "strict", "present"),
    [
        (START, {}, "Required field 'ExecutionArn' is missing", None),
        (
            START,
            {"executionArn": "a", "startDate": "b"},
            "Required field 'ExecutionArn' is missing",
            None,
        ),
        (
            START,
            {"ExecutionArn": "a", "StartDate": True},
            "Field 'StartDate' must be a string",
            "Field 'StartDate' must be a string",
        ),
        (START, {"ExecutionArn": "a", "StartDate": "2025-11-26T00:00:00Z"}, None, None),
        (PUT_EVENTS, {"random": "json"}, None, None),
        (PUT_EVENTS, {"Entries": "x"}, "Field 'Entries' must be an array", None),
        (
            PUT_EVENTS,
            {"Entries": [{"EventId": "ok"}, {"EventId": ["not", "a", "string"]}]},
            "Field 'EventId' must be a string",
            None,
        ),
        (GET_OBJECT, {"ContentLength": "9000"}, "Field 'ContentLength' must be a number", None),
        (
            GET_OBJECT,
            {"StorageClass": "Papyrus"},
            "Field 'StorageClass' is not an expected value",
            None,
        ),
    ],
)
def test_field_validation_modes(
    state: dict[str, Any], result: Any, strict: str | None, present: str | None
) -> None:
    assert _refusal(state, result, "STRICT") == strict
    # PRESENT checks only the fields given: missing required fields pass, wrong types do not.
    expected_present = strict if strict and "Required field" not in strict else present
    assert _refusal(state, result, "PRESENT") == expected_present
    assert _refusal(state, result, "NONE") is None


def test_strict_is_the_default_and_none_passes_anything_through() -> None:
    with pytest.raises(AwsApiError, match="Required field 'ExecutionArn' is missing"):
        eltflow.test_state(START, {"arn": "a"}, mock_result={})
    result = eltflow.test_state(
        START, {"arn": "a"}, mock_result={"StartDate": 1}, field_validation_mode="NONE"
    )
    assert result.output_value == {"StartDate": 1}


def test_strict_refuses_a_json_lambda_payload_as_aws_does() -> None:
    # Lambda's Invoke models Payload as a blob (a string); AWS validates mocks against it.
    invoke = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
    assert _refusal(invoke, {"Payload": {"a": 1}}, "STRICT") == "Field 'Payload' must be a string"
    assert (
        _refusal(invoke, {"StatusCode": "200"}, "STRICT") == "Field 'StatusCode' must be a number"
    )


RETRY_TASK = {
    "Type": "Task",
    "QueryLanguage": "JSONata",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Arguments": {"FunctionName": "foo", "Payload": "bar"},
    "Retry": [
        {"ErrorEquals": ["MockException"], "IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2}
    ],
    "End": True,
}


def test_error_output_follows_the_retry_rules() -> None:
    # AWS recorded: retrierRetryCount 4 of MaxAttempts 5 → RETRIABLE, backoff 1 * 2**4 = 16;
    # 5 → FAILED, the retrier still named.
    mock = ("MockException", "Mock the cause of the error.")
    left = eltflow.test_state(
        RETRY_TASK, {}, mock_error=mock, retrier_retry_count=4, inspection_level="DEBUG"
    )
    assert left.to_aws() == {
        "status": "RETRIABLE",
        "error": "MockException",
        "cause": "Mock the cause of the error.",
        "inspectionData": {
            "input": "{}",
            "afterArguments": '{"FunctionName":"foo","Payload":"bar"}',
            "errorDetails": {"retryIndex": 0, "retryBackoffIntervalSeconds": 16},
        },
    }
    spent = eltflow.test_state(
        RETRY_TASK, {}, mock_error=mock, retrier_retry_count=5, inspection_level="DEBUG"
    )
    assert (spent.status, spent.error) == ("FAILED", "MockException")
    assert spent.inspection_data is not None
    assert spent.inspection_data["errorDetails"] == {"retryIndex": 0}
    other = eltflow.test_state(RETRY_TASK, {}, mock_error="OtherError")
    assert (other.status, other.error, other.cause) == ("FAILED", "OtherError", "")


def test_recorded_jsonata_catch_case() -> None:
    # AWS, BASE_TASK_STATE_CATCH at DEBUG: catchIndex per catcher, the catcher's Output over
    # $states (input, context, errorOutput), the lone state's context name "StateName".
    catch = {"ErrorEquals": ["MockException"], "Output": "{% $states %}", "Next": "HandleMockError"}
    failed = {**catch, "ErrorEquals": ["States.TaskFailed"], "Next": "HandleThreshold"}
    state = {**RETRY_TASK, "Catch": [catch, failed]}
    state.pop("Retry")
    for error, index, target in (
        ("MockException", 0, "HandleMockError"),
        ("States.TaskFailed", 1, "HandleThreshold"),
    ):
        result = eltflow.test_state(
            state, {"Value": "HelloWorld"}, mock_error=(error, "why"), inspection_level="DEBUG"
        )
        assert (result.status, result.next_state) == ("CAUGHT_ERROR", target)
        assert result.inspection_data == {
            "input": '{"Value":"HelloWorld"}',
            "afterArguments": '{"FunctionName":"foo","Payload":"bar"}',
            "errorDetails": {"catchIndex": index},
        }
        output = result.output_value
        assert isinstance(output, dict)
        assert output["input"] == {"Value": "HelloWorld"}
        assert output["errorOutput"] == {"Error": error, "Cause": "why"}
        context = output["context"]
        assert isinstance(context, dict) and isinstance(context["State"], dict)
        assert context["State"]["Name"] == "StateName"
        assert ":express:" in str(context["Execution"]["Id"])  # type: ignore[call-overload,index]


# --- the reference pipeline's LoadFact, alone --------------------------------------------------


def _load_fact() -> str:
    return reference.definition("lambda", reference.ReferenceConfig())


JOB: dict[str, JSON] = {
    "JobID": "101",
    "dimensions": [{"table": "public.dim_supplier", "rows": 10}],
}
# What the load Lambda returns once the Data API's statement finished (handlers.load_table):
# the DescribeStatement's ResultRows and Id, under the Lambda integration's Payload.
DATA_API_LOADED: JSON = {
    "StatusCode": 200,
    "ExecutedVersion": "$LATEST",
    "Payload": {"table": "public.fact_yearly_sale", "rows": 4213, "statementId": "d9b1-7f"},
}


def test_load_fact_alone_with_a_mocked_data_api_result() -> None:
    result = eltflow.test_state(
        _load_fact(),
        JOB,
        state_name="LoadFact",
        mock_result=DATA_API_LOADED,
        field_validation_mode="NONE",  # the Payload is JSON here, a blob in Lambda's model
        inspection_level="DEBUG",
    )
    assert (result.status, result.next_state) == ("SUCCEEDED", "ReleaseLock")
    fact: JSON = {"table": "public.fact_yearly_sale", "rows": 4213}
    assert result.output_value == {**JOB, "fact": fact}
    assert result.inspection_data is not None
    sent = json.loads(str(result.inspection_data["afterParameters"]))
    assert sent["FunctionName"] == reference.LOAD_FUNCTION
    assert sent["Payload"]["sql_file"] == "load_fact.sql"
    assert sent["Payload"]["execution"].startswith("arn:aws:states:")  # $$.Execution.Id
    assert json.loads(str(result.inspection_data["afterResultSelector"])) == {
        "table": "public.fact_yearly_sale",
        "rows": 4213,
    }


def test_load_fact_error_is_retriable_then_caught() -> None:
    definition = _load_fact()
    first = eltflow.test_state(
        definition,
        JOB,
        state_name="LoadFact",
        mock_error=("TransientLoadError", "statement d9b1-7f aborted"),
        inspection_level="DEBUG",
    )
    assert (first.status, first.next_state, first.output) == ("RETRIABLE", None, None)
    assert first.inspection_data is not None
    # IntervalSeconds 2, BackoffRate 2, first retry: 2 s (before the FULL jitter's draw).
    assert first.inspection_data["errorDetails"] == {
        "retryIndex": 0,
        "retryBackoffIntervalSeconds": 2,
    }
    spent = eltflow.test_state(
        definition,
        JOB,
        state_name="LoadFact",
        mock_error=("TransientLoadError", "statement d9b1-7f aborted"),
        retrier_retry_count=3,  # MaxAttempts 3: no retry left, the States.ALL catcher takes it
        inspection_level="DEBUG",
    )
    assert (spent.status, spent.next_state, spent.error) == (
        "CAUGHT_ERROR",
        "MarkJobFailed",
        "TransientLoadError",
    )
    assert spent.output_value == {
        **JOB,
        "error": {"Error": "TransientLoadError", "Cause": "statement d9b1-7f aborted"},
    }
    assert spent.inspection_data is not None
    assert spent.inspection_data["errorDetails"] == {"retryIndex": 0, "catchIndex": 0}
    # An error no retrier names goes straight to the catcher.
    fatal = eltflow.test_state(
        definition, JOB, state_name="LoadFact", mock_error=("Lambda.Unknown", "out of memory")
    )
    assert (fatal.status, fatal.next_state) == ("CAUGHT_ERROR", "MarkJobFailed")


def test_sdk_variant_submits_the_fact_load_with_a_strictly_valid_data_api_response() -> None:
    definition = reference.definition("sdk", reference.ReferenceConfig())
    response: JSON = {
        "Id": "d9b1-7f",
        "ClusterIdentifier": "eltflow-local",
        "Database": "dev",
        "CreatedAt": "2025-11-26T00:00:00Z",
    }
    result = eltflow.test_state(
        definition, JOB, state_name="SubmitFact", mock_result=response, inspection_level="DEBUG"
    )
    assert (result.status, result.next_state) == ("SUCCEEDED", "WaitFact")
    assert result.output_value == {**JOB, "factStatement": {"Id": "d9b1-7f"}}
    with pytest.raises(AwsApiError, match="Field 'Id' must be a string"):
        eltflow.test_state(definition, JOB, state_name="SubmitFact", mock_result={"Id": 7})
