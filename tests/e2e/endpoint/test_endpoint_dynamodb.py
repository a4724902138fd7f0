"""DynamoDB through the AWS endpoint: boto3's client (and resource layer) and the AWS CLI
against a real server, eltflow's item tables answering."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from eltflow.serve import Server

ClientFactory = Callable[[str], Any]


@pytest.fixture(scope="module")
def ddb(client: ClientFactory) -> Any:
    ddb = client("dynamodb")
    ddb.create_table(
        TableName="jobs",
        KeySchema=[{"AttributeName": "JobID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "JobID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.create_table(
        TableName="events",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return ddb


def test_tables(ddb: Any) -> None:
    names = ddb.list_tables()["TableNames"]
    assert {"jobs", "events"} <= set(names)
    table = ddb.describe_table(TableName="events")["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    assert table["CreationDateTime"].tzinfo is not None
    with pytest.raises(ddb.exceptions.ResourceInUseException):
        ddb.create_table(
            TableName="jobs",
            KeySchema=[{"AttributeName": "JobID", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "JobID", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.describe_table(TableName="nope")


def test_the_audit_lock_as_the_reference_pipeline_takes_it(ddb: Any) -> None:
    ddb.put_item(
        TableName="jobs",
        Item={"JobID": {"S": "101"}, "JobState": {"S": "Ready"}, "Blob": {"B": b"\x00\xff"}},
    )
    got = ddb.get_item(TableName="jobs", Key={"JobID": {"S": "101"}})["Item"]
    assert got["JobState"] == {"S": "Ready"} and got["Blob"] == {"B": b"\x00\xff"}
    lock = {
        "TableName": "jobs",
        "Key": {"JobID": {"S": "101"}},
        "UpdateExpression": "SET JobState = :running, JobStart = :now",
        "ConditionExpression": "JobState = :ready",
        "ExpressionAttributeValues": {
            ":running": {"S": "Running"},
            ":ready": {"S": "Ready"},
            ":now": {"N": "1700000000"},
        },
        "ReturnValues": "ALL_NEW",
    }
    assert ddb.update_item(**lock)["Attributes"]["JobState"] == {"S": "Running"}
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as e:
        ddb.update_item(**lock, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert e.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert e.value.response["Item"]["JobState"] == {"S": "Running"}
    ddb.delete_item(TableName="jobs", Key={"JobID": {"S": "101"}})
    assert "Item" not in ddb.get_item(TableName="jobs", Key={"JobID": {"S": "101"}})


def test_query_scan_and_batches(ddb: Any) -> None:
    ddb.batch_write_item(
        RequestItems={
            "events": [
                {"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"N": str(i)}}}} for i in range(5)
            ]
            + [{"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"N": "1"}}}}]
        }
    )
    page = ddb.query(
        TableName="events",
        KeyConditionExpression="pk = :p AND sk >= :s",
        ExpressionAttributeValues={":p": {"S": "a"}, ":s": {"N": "2"}},
        ScanIndexForward=False,
    )
    assert [i["sk"]["N"] for i in page["Items"]] == ["4", "3", "2"]
    assert page["Count"] == 3
    paginator = ddb.get_paginator("scan")
    items = [i for p in paginator.paginate(TableName="events", Limit=2) for i in p["Items"]]
    assert len(items) == 6
    got = ddb.batch_get_item(
        RequestItems={"events": {"Keys": [{"pk": {"S": "b"}, "sk": {"N": "1"}}]}}
    )
    assert got["Responses"]["events"] == [{"pk": {"S": "b"}, "sk": {"N": "1"}}]


def test_transactions_and_cancellation_reasons(ddb: Any) -> None:
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "jobs", "Item": {"JobID": {"S": "t1"}, "v": {"N": "1"}}}},
            {"Put": {"TableName": "jobs", "Item": {"JobID": {"S": "t2"}, "v": {"N": "2"}}}},
        ]
    )
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as e:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "jobs", "Item": {"JobID": {"S": "t3"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "jobs",
                        "Key": {"JobID": {"S": "t1"}},
                        "ConditionExpression": "v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
            ]
        )
    reasons = e.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
    got = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": "jobs", "Key": {"JobID": {"S": "t1"}}}},
            {"Get": {"TableName": "jobs", "Key": {"JobID": {"S": "t3"}}}},
        ]
    )["Responses"]
    assert got[0]["Item"]["v"] == {"N": "1"} and "Item" not in got[1]


def test_boto3_resource_layer(server: Server) -> None:
    table = boto3.resource(
        "dynamodb",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).Table("jobs")
    table.put_item(Item={"JobID": "res", "Count": 3, "Tags": {"x", "y"}})
    item = table.get_item(Key={"JobID": "res"})["Item"]
    assert item == {"JobID": "res", "Count": 3, "Tags": {"x", "y"}}


def test_the_aws_cli_gets_an_item(ddb: Any, aws_cli: Callable[..., Any]) -> None:
    ddb.put_item(TableName="jobs", Item={"JobID": {"S": "cli"}, "JobState": {"S": "Ready"}})
    out = aws_cli(
        "dynamodb", "get-item", "--table-name", "jobs", "--key", json.dumps({"JobID": {"S": "cli"}})
    )
    assert out["Item"]["JobState"] == {"S": "Ready"}


def test_validation_like_dynamodb(server: Server) -> None:
    import httpx

    r = httpx.post(
        server.url + "/",
        content=b'{"Key": {"JobID": {"S": "x"}}}',
        headers={
            "X-Amz-Target": "DynamoDB_20120810.GetItem",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    assert r.status_code == 400
    assert r.json() == {
        "__type": "ValidationException",
        "message": "1 validation error detected: Value null at 'tableName' failed to satisfy "
        "constraint: Member must not be null",
    }


def test_oversized_items_are_refused_like_dynamodb(ddb: Any) -> None:
    with pytest.raises(ddb.exceptions.ClientError) as e:
        ddb.put_item(TableName="jobs", Item={"JobID": {"S": "big"}, "Blob": {"S": "x" * 410_000}})
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "size" in e.value.response["Error"]["Message"].lower()
