"""Bad requests give DynamoDB's error code and message, checked against moto case by case."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eltflow.errors import AwsApiError
from eltflow.items.service import DynamoDB
from eltflow.items.storage import ItemStore
from eltflow.store.db import Database
from eltflow.store.migrate import migrate

TABLE: dict[str, Any] = {
    "TableName": "Audit",
    "KeySchema": [
        {"AttributeName": "JobID", "KeyType": "HASH"},
        {"AttributeName": "Run", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "JobID", "AttributeType": "S"},
        {"AttributeName": "Run", "AttributeType": "N"},
    ],
}
KEY = {"JobID": {"S": "101"}, "Run": {"N": "1"}}
ITEM = {**KEY, "JobState": {"S": "Ready"}, "Count": {"N": "1"}, "Tags": {"SS": ["a"]}}


def upd(expr: str, values: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    req: dict[str, Any] = {"TableName": "Audit", "Key": KEY, "UpdateExpression": expr, **extra}
    if values is not None:
        req["ExpressionAttributeValues"] = values
    return req


S = {"S": "x"}
N = {"N": "1"}
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("syntax: trailing word", "update_item", upd("SET a = :v WHERE", {":v": S})),
    ("syntax: end", "update_item", upd("SET a = ", {":v": S})),
    ("syntax: bad section", "update_item", upd("PUT a = :v", {":v": S})),
    ("syntax: double equals", "update_item", upd("SET a == :v", {":v": S})),
    ("reserved word", "update_item", upd("SET Status = :v", {":v": S})),
    ("undefined value", "update_item", upd("SET a = :w", {":v": S})),
    ("unused value", "update_item", upd("SET a = :v", {":v": S, ":x": S})),
    (
        "unused name",
        "update_item",
        upd("SET a = :v", {":v": S}, ExpressionAttributeNames={"#n": "n"}),
    ),
    ("invalid value key", "update_item", upd("SET a = :v", {":v": S, "x": S})),
    ("key attribute", "update_item", upd("SET JobID = :v", {":v": S})),
    ("overlap", "update_item", upd("SET a = :v, a = :w", {":v": S, ":w": S})),
    ("section twice", "update_item", upd("SET a = :v SET b = :w", {":v": S, ":w": S})),
    ("plus string literal", "update_item", upd("SET a = Count + :v", {":v": S})),
    ("plus string attribute", "update_item", upd("SET a = JobState + :v", {":v": N})),
    ("missing operand attribute", "update_item", upd("SET a = nope", None)),
    ("add to string set a number", "update_item", upd("ADD Tags :v", {":v": {"NS": ["1"]}})),
    ("list_append non list", "update_item", upd("SET a = list_append(:v, :v)", {":v": S})),
    (
        "condition failed",
        "update_item",
        upd("SET a = :v", {":v": S, ":r": {"S": "Running"}}, ConditionExpression="JobState = :r"),
    ),
    (
        "condition redundant parentheses",
        "update_item",
        upd("SET a = :v", {":v": S}, ConditionExpression="((attribute_exists(a)))"),
    ),
    ("empty values", "update_item", upd("SET a = :v", {})),
    ("missing table get", "get_item", {"TableName": "Nope", "Key": KEY}),
    ("missing table put", "put_item", {"TableName": "Nope", "Item": ITEM}),
    ("missing table describe", "describe_table", {"TableName": "Nope"}),
    ("put missing key", "put_item", {"TableName": "Audit", "Item": {"JobID": {"S": "1"}}}),
    (
        "put wrong key type",
        "put_item",
        {"TableName": "Audit", "Item": {"JobID": {"S": "1"}, "Run": {"S": "x"}}},
    ),
    (
        "put bad number",
        "put_item",
        {"TableName": "Audit", "Item": {**KEY, "x": {"N": "abc"}}},
    ),
    (
        "put empty set",
        "put_item",
        {"TableName": "Audit", "Item": {**KEY, "x": {"SS": []}}},
    ),
    (
        "put return updated",
        "put_item",
        {"TableName": "Audit", "Item": ITEM, "ReturnValues": "ALL_NEW"},
    ),
    (
        "query missing partition key",
        "query",
        {
            "TableName": "Audit",
            "KeyConditionExpression": "Run = :r",
            "ExpressionAttributeValues": {":r": N},
        },
    ),
]

# Cases where moto's wording is known to differ from DynamoDB's (moto crashes, accepts the
# request, or words it differently); the expected text is DynamoDB's own.
AWS_CASES: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "undefined name",
        "update_item",
        upd("SET #m = :v, #n = :v", {":v": S}, ExpressionAttributeNames={"#m": "m"}),
        "Invalid UpdateExpression: An expression attribute name used in the document path is "
        "not defined; attribute name: #n",
    ),
    (
        "add string",
        "update_item",
        upd("ADD a :v", {":v": S}),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
        "ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND",
    ),
    (
        "delete number",
        "update_item",
        upd("DELETE a :v", {":v": N}),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
        "DELETE, operand type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND",
    ),
    (
        "unknown function",
        "update_item",
        upd("SET a = foo(:v)", {":v": S}),
        "Invalid UpdateExpression: Invalid function name; function: foo",
    ),
    (
        "condition function in update",
        "update_item",
        upd("SET a = size(b)", None),
        "Invalid UpdateExpression: The function is not allowed in an update expression; function: "
        "size",
    ),
    (
        "condition syntax",
        "update_item",
        upd("SET a = :v", {":v": S}, ConditionExpression="JobState = "),
        'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "="',
    ),
    (
        "condition update function",
        "update_item",
        upd("SET a = :v", {":v": S}, ConditionExpression="list_append(a, :v) = :v"),
        "Invalid ConditionExpression: The function is not allowed in a condition expression; "
        "function: list_append",
    ),
    (
        "attribute_type bad name",
        "update_item",
        upd("SET a = :v", {":v": S}, ConditionExpression="attribute_type(a, :v)"),
        "Invalid ConditionExpression: Invalid attribute type name found; type: x, valid types: { "
        "B,BOOL,BS,L,M,N,NS,NULL,S,SS }",
    ),
    (
        "key missing sort",
        "get_item",
        {"TableName": "Audit", "Key": {"JobID": {"S": "1"}}},
        "The provided key element does not match the schema",
    ),
    (
        "key wrong type",
        "get_item",
        {"TableName": "Audit", "Key": {"JobID": {"N": "1"}, "Run": {"N": "1"}}},
        "The provided key element does not match the schema",
    ),
    (
        "put empty key",
        "put_item",
        {"TableName": "Audit", "Item": {"JobID": {"S": ""}, "Run": {"N": "1"}}},
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: JobID",
    ),
    (
        "projection reserved",
        "get_item",
        {"TableName": "Audit", "Key": KEY, "ProjectionExpression": "Count, a"},
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: "
        "Count",
    ),
]


@pytest.fixture(scope="module")
def moto_client() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client(
            "dynamodb",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_table(BillingMode="PAY_PER_REQUEST", **TABLE)
        yield client


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynamoDB]:
    path: Path = tmp_path_factory.mktemp("ddb") / "state.db"
    db = Database(f"sqlite:///{path}")
    migrate(db)
    service = DynamoDB(ItemStore(db))
    service.create_table(TABLE)
    yield service
    db.close()


@pytest.mark.parametrize(("what", "op", "request_"), CASES, ids=[c[0] for c in CASES])
def test_error_matches_moto(
    moto_client: Any, local: DynamoDB, what: str, op: str, request_: dict[str, Any]
) -> None:
    from botocore.exceptions import ClientError

    moto_client.put_item(TableName="Audit", Item=ITEM)
    local.put_item({"TableName": "Audit", "Item": ITEM})
    with pytest.raises(ClientError) as theirs:
        getattr(moto_client, op)(**request_)
    with pytest.raises(AwsApiError) as ours:
        local.call(op.title().replace("_", ""), request_)
    expected = theirs.value.response["Error"]
    assert (ours.value.code, ours.value.message) == (expected["Code"], expected["Message"])


@pytest.fixture
def fresh(local: DynamoDB) -> DynamoDB:
    local.put_item({"TableName": "Audit", "Item": ITEM})
    return local


@pytest.mark.parametrize(
    ("what", "op", "request_", "message"), AWS_CASES, ids=[c[0] for c in AWS_CASES]
)
def test_error_matches_dynamodb(
    fresh: DynamoDB, what: str, op: str, request_: dict[str, Any], message: str
) -> None:
    with pytest.raises(AwsApiError) as ours:
        fresh.call(op.title().replace("_", ""), request_)
    assert (ours.value.code, ours.value.message) == ("ValidationException", message)


def test_missing_table_messages(fresh: DynamoDB) -> None:
    with pytest.raises(AwsApiError) as e:
        fresh.delete_table({"TableName": "Nope"})
    assert e.value.code == "ResourceNotFoundException"
    with pytest.raises(AwsApiError) as e:
        fresh.update_item(upd("SET a = :v", {":v": S}) | {"TableName": "Nope"})
    assert (e.value.code, e.value.message) == (
        "ResourceNotFoundException",
        "Requested resource not found",
    )
