"""DynamoDB reached as Task integrations, as a boto3-shaped client and from config."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eltflow import aws
from eltflow.config import load_settings
from eltflow.errors import ConfigError, StatesError
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.integrations.dynamodb import register
from eltflow.items.config import build_items, table_specs
from eltflow.items.service import DynamoDB
from eltflow.store.db import Database
from eltflow.store.migrate import migrate

TOML = """
[tables.JobAudit]
partition_key = "JobID"

[tables.Runs]
partition_key = "JobID"
sort_key = "RunNo"
sort_key_type = "N"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "eltflow.toml").write_text(TOML, encoding="utf-8")
    return tmp_path


@pytest.fixture
def ddb(project: Path, store_url: str) -> Iterator[DynamoDB]:
    settings = load_settings(project, environ={"ELTFLOW_STATE": store_url})
    db = Database(settings.state_url)
    migrate(db)
    service = build_items(settings, db)
    yield service
    db.close()


def _task(registry: Registry, resource: str, params: dict[str, Any]) -> Any:
    integration = registry.resolve(resource)
    assert integration is not None
    return integration(TaskRequest(resource=resource, parameters=params))


def test_tables_come_from_config(ddb: DynamoDB) -> None:
    names = ddb.list_tables({})["TableNames"]
    assert names == ["JobAudit", "Runs"]
    runs = ddb.describe_table({"TableName": "Runs"})["Table"]
    assert runs["KeySchema"] == [
        {"AttributeName": "JobID", "KeyType": "HASH"},
        {"AttributeName": "RunNo", "KeyType": "RANGE"},
    ]
    assert {"AttributeName": "RunNo", "AttributeType": "N"} in runs["AttributeDefinitions"]


def test_optimized_integration_lock_and_error_name(ddb: DynamoDB) -> None:
    registry = Registry()
    register(registry, ddb)
    put = "arn:aws:states:::dynamodb:putItem"
    _task(
        registry,
        put,
        {"TableName": "JobAudit", "Item": {"JobID": {"S": "101"}, "JobState": {"S": "Ready"}}},
    )
    got = _task(
        registry,
        "arn:aws:states:::dynamodb:getItem",
        {"TableName": "JobAudit", "Key": {"JobID": {"S": "101"}}},
    )
    assert got["Item"]["JobState"] == {"S": "Ready"}
    assert got["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert got["SdkResponseMetadata"]["RequestId"]
    lock = {
        "TableName": "JobAudit",
        "Key": {"JobID": {"S": "101"}},
        "UpdateExpression": "SET JobState = :running",
        "ConditionExpression": "JobState = :ready",
        "ExpressionAttributeValues": {":running": {"S": "Running"}, ":ready": {"S": "Ready"}},
        "ReturnValues": "UPDATED_NEW",
    }
    first = _task(registry, "arn:aws:states:::dynamodb:updateItem", lock)
    assert first["Attributes"] == {"JobState": {"S": "Running"}}
    with pytest.raises(StatesError) as e:
        _task(registry, "arn:aws:states:::dynamodb:updateItem", lock)
    assert e.value.error == "DynamoDB.ConditionalCheckFailedException"
    assert e.value.cause.startswith("The conditional request failed (Service: AmazonDynamoDBv2;")
    assert "Error Code: ConditionalCheckFailedException" in e.value.cause


def test_sdk_integration_query_and_error_prefix(ddb: DynamoDB) -> None:
    registry = Registry()
    register(registry, ddb)
    for n in (3, 1, 2):
        _task(
            registry,
            "arn:aws:states:::aws-sdk:dynamodb:putItem",
            {"TableName": "Runs", "Item": {"JobID": {"S": "j"}, "RunNo": {"N": str(n)}}},
        )
    out = _task(
        registry,
        "arn:aws:states:::aws-sdk:dynamodb:query",
        {
            "TableName": "Runs",
            "KeyConditionExpression": "JobID = :j AND RunNo >= :two",
            "ExpressionAttributeValues": {":j": {"S": "j"}, ":two": {"N": "2"}},
            "ScanIndexForward": False,
        },
    )
    assert [i["RunNo"]["N"] for i in out["Items"]] == ["3", "2"]
    assert "SdkHttpMetadata" not in out
    with pytest.raises(StatesError) as e:
        _task(
            registry,
            "arn:aws:states:::aws-sdk:dynamodb:getItem",
            {"TableName": "Nope", "Key": {"JobID": {"S": "x"}}},
        )
    assert e.value.error == "DynamoDb.ResourceNotFoundException"
    assert e.value.cause.startswith(
        "Requested resource not found (Service: DynamoDb, Status Code: 400"
    )


def test_query_pages_with_limit_and_exclusive_start_key(ddb: DynamoDB) -> None:
    for n in range(5):
        ddb.put_item({"TableName": "Runs", "Item": {"JobID": {"S": "p"}, "RunNo": {"N": str(n)}}})
    seen: list[str] = []
    start: dict[str, Any] | None = None
    while True:
        req: dict[str, Any] = {
            "TableName": "Runs",
            "KeyConditionExpression": "JobID = :j",
            "ExpressionAttributeValues": {":j": {"S": "p"}},
            "Limit": 2,
        }
        if start:
            req["ExclusiveStartKey"] = start
        page = ddb.query(req)
        seen += [i["RunNo"]["N"] for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert seen == ["0", "1", "2", "3", "4"]
    scan = ddb.scan(
        {
            "TableName": "Runs",
            "FilterExpression": "RunNo > :x",
            "ExpressionAttributeValues": {":x": {"N": "2"}},
        }
    )
    assert scan["Count"] == 2 and scan["ScannedCount"] == 5


def test_boto3_shaped_client(
    project: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(project, environ={"ELTFLOW_STATE": store_url})
    client = aws.client("dynamodb", settings)
    try:
        client.put_item(
            TableName="JobAudit", Item={"JobID": {"S": "1"}, "Blob": {"B": b"\x00\x01"}}
        )
        item = client.get_item(TableName="JobAudit", Key={"JobID": {"S": "1"}})["Item"]
        assert item["Blob"] == {"B": b"\x00\x01"}
        with pytest.raises(client.exceptions.ConditionalCheckFailedException) as e:
            client.put_item(
                TableName="JobAudit",
                Item={"JobID": {"S": "1"}},
                ConditionExpression="attribute_not_exists(JobID)",
            )
        assert e.value.response["Error"]["Message"] == "The conditional request failed"
    finally:
        client.close()


def test_bad_table_config_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "eltflow.toml").write_text('[tables.Xyz]\nsort_key = "a"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[tables.Xyz\]: partition_key is required"):
        table_specs(load_settings(tmp_path, environ={}))
    (tmp_path / "eltflow.toml").write_text('[tables.X]\npartition_key = "a"\n', "utf-8")
    with pytest.raises(ConfigError, match=r"\[tables.X\]: a table name is 3-255 characters"):
        table_specs(load_settings(tmp_path, environ={}))
    (tmp_path / "eltflow.toml").write_text(
        '[tables.Xyz]\npartition_key = "a"\npartition_key_type = "Z"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="partition_key_type must be one of S, N, B"):
        table_specs(load_settings(tmp_path, environ={}))


def test_results_are_json(ddb: DynamoDB) -> None:
    ddb.put_item({"TableName": "JobAudit", "Item": {"JobID": {"S": "1"}, "n": {"N": "1.50"}}})
    out = ddb.get_item({"TableName": "JobAudit", "Key": {"JobID": {"S": "1"}}})
    assert json.loads(json.dumps(out)) == {"Item": {"JobID": {"S": "1"}, "n": {"N": "1.5"}}}


def test_legacy_parameters_are_refused_not_ignored(ddb: DynamoDB) -> None:
    from eltflow.errors import AwsApiError

    with pytest.raises(AwsApiError, match="legacy parameter\\(s\\) Expected"):
        ddb.put_item(
            {
                "TableName": "JobAudit",
                "Item": {"JobID": {"S": "1"}},
                "Expected": {"JobID": {"Exists": False}},
            }
        )


def test_item_size_limit(ddb: DynamoDB) -> None:
    from eltflow.errors import AwsApiError

    big = {"JobID": {"S": "1"}, "blob": {"S": "x" * 410_000}}
    with pytest.raises(AwsApiError, match="Item size has exceeded the maximum allowed size"):
        ddb.put_item({"TableName": "JobAudit", "Item": big})


def test_delete_item_condition_and_all_old(ddb: DynamoDB) -> None:
    from eltflow.errors import AwsApiError

    key = {"JobID": {"S": "9"}}
    ddb.put_item({"TableName": "JobAudit", "Item": key | {"JobState": {"S": "Running"}}})
    request = {
        "TableName": "JobAudit",
        "Key": key,
        "ConditionExpression": "JobState = :ready",
        "ExpressionAttributeValues": {":ready": {"S": "Ready"}},
        "ReturnValues": "ALL_OLD",
    }
    with pytest.raises(AwsApiError, match="The conditional request failed"):
        ddb.delete_item(request)
    request["ExpressionAttributeValues"] = {":ready": {"S": "Running"}}
    out = ddb.delete_item(request)
    assert out == {"Attributes": key | {"JobState": {"S": "Running"}}}
    assert ddb.get_item({"TableName": "JobAudit", "Key": key}) == {}
    assert ddb.delete_item({"TableName": "JobAudit", "Key": key, "ReturnValues": "ALL_OLD"}) == {}


def test_parallel_scan_segments_are_disjoint_and_complete(ddb: DynamoDB) -> None:
    for n in range(40):
        ddb.put_item({"TableName": "JobAudit", "Item": {"JobID": {"S": f"job-{n}"}}})
    seen: list[str] = []
    for segment in range(4):
        page = ddb.scan({"TableName": "JobAudit", "Segment": segment, "TotalSegments": 4})
        seen += [i["JobID"]["S"] for i in page["Items"]]
    assert sorted(seen) == sorted(f"job-{n}" for n in range(40))


def test_unmodeled_codes_take_the_sdk_base_exception_name(ddb: DynamoDB) -> None:
    """ValidationException has no SDK class: Step Functions reports the SDK's base exception."""
    registry = Registry()
    register(registry, ddb)
    bad = {
        "TableName": "JobAudit",
        "Key": {"JobID": {"S": "1"}},
        "UpdateExpression": "SET a = ",
    }
    with pytest.raises(StatesError) as e:
        _task(registry, "arn:aws:states:::dynamodb:updateItem", bad)
    assert e.value.error == "DynamoDB.AmazonDynamoDBException"
    assert "Error Code: ValidationException;" in e.value.cause
    assert e.value.cause.startswith('Invalid UpdateExpression: Syntax error; token: "<EOF>"')
    with pytest.raises(StatesError) as e:
        _task(registry, "arn:aws:states:::aws-sdk:dynamodb:updateItem", bad)
    assert e.value.error == "DynamoDb.DynamoDbException"
