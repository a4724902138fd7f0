"""botocore's models as the endpoint's contract: input checks worded as AWS words them,
output shaped for the JSON protocols, error statuses from the model."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from eltflow.endpoint.contract import check_input, error_status, service_model, to_json
from eltflow.errors import AwsApiError


def _op(service: str, name: str) -> Any:
    return service_model(service).operation_model(name)


def _problem(service: str, name: str, params: Any) -> AwsApiError:
    with pytest.raises(AwsApiError) as e:
        check_input(_op(service, name), params)
    return e.value


def test_every_missing_required_member_is_listed() -> None:
    e = _problem("stepfunctions", "CreateStateMachine", {"name": "m"})
    assert e.code == "ValidationException"
    assert e.message == (
        "2 validation errors detected: "
        "Value null at 'definition' failed to satisfy constraint: Member must not be null; "
        "Value null at 'roleArn' failed to satisfy constraint: Member must not be null"
    )


def test_lengths_ranges_and_enums() -> None:
    e = _problem(
        "stepfunctions",
        "ListExecutions",
        {"stateMachineArn": "a", "maxResults": 5000, "statusFilter": "DONE"},
    )
    assert (
        "Value 5000 at 'maxResults' failed to satisfy constraint: Member must have value "
        "less than or equal to 1000"
    ) in e.message
    assert "Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, " in (
        e.message
    )


def test_nested_paths_and_map_keys() -> None:
    e = _problem(
        "dynamodb",
        "BatchWriteItem",
        {"RequestItems": {"": [], "jobs": [{"PutRequest": {}}]}},
    )
    assert (
        "Value '' at 'requestItems' failed to satisfy constraint: Map keys must satisfy "
        "constraint: [Member must have length greater than or equal to 1]"
    ) in e.message
    assert "Value null at 'requestItems.jobs.1.member.putRequest.item'" in e.message


def test_wrong_json_types_are_serialization_errors() -> None:
    e = _problem("dynamodb", "GetItem", {"TableName": 7, "Key": {}})
    assert e.code == "SerializationException" and "tableName" in e.message
    assert _problem("dynamodb", "GetItem", [1]).code == "SerializationException"


def test_sensitive_values_stay_out_of_messages() -> None:
    e = _problem("stepfunctions", "StartExecution", {"stateMachineArn": "a", "input": "x" * 262145})
    assert "Value at 'input'" in e.message and "xxx" not in e.message


def test_output_keeps_modelled_members_with_wire_types() -> None:
    op = _op("stepfunctions", "DescribeExecution")
    out = to_json(
        op.output_shape,
        {
            "executionArn": "arn",
            "startDate": "2026-01-02T03:04:05.678+00:00",
            "stopDate": datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
            "status": "SUCCEEDED",
            "notInTheModel": 1,
            "redriveCount": Decimal(2),
        },
    )
    assert out == {
        "executionArn": "arn",
        "startDate": 1767323045.678,
        "stopDate": 1767323046.0,
        "status": "SUCCEEDED",
        "redriveCount": 2,
    }


def test_error_status_comes_from_the_model() -> None:
    assert error_status(service_model("sns"), "NotFound") == 404
    assert error_status(service_model("lambda"), "ResourceNotFoundException") == 404
    assert error_status(service_model("stepfunctions"), "StateMachineDoesNotExist") == 400
    assert error_status(service_model("dynamodb"), "InternalServerError") == 500
