"""SNS as a boto3-shaped local client, and the sns:publish / dynamodb integrations over real
boto3 (``[aws] mode = "aws"``), with moto standing in for AWS."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eltflow import aws
from eltflow.config import load_settings
from eltflow.errors import StatesError
from eltflow.integrations import dynamodb, sns
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.integrations.boto3_service import Boto3Service


def test_local_sns_client(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    client = aws.client("sns", settings)
    try:
        arn = client.create_topic(Name="etl")["TopicArn"]
        client.subscribe(TopicArn=arn, Protocol="file", Endpoint="out.jsonl")
        message_id = client.publish(TopicArn=arn, Message="hi", Subject="S")["MessageId"]
        line = json.loads((tmp_path / "out.jsonl").read_text("utf-8"))
        assert (line["MessageId"], line["Message"], line["Subject"]) == (message_id, "hi", "S")
        with pytest.raises(client.exceptions.NotFoundException) as e:
            client.publish(TopicArn=arn + "x", Message="hi")
        assert e.value.response["Error"] == {
            "Code": "NotFound",
            "Message": "Topic does not exist",
            "Type": "Sender",
        }
    finally:
        client.close()


@pytest.fixture
def moto_aws() -> Iterator[None]:
    from moto import mock_aws

    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ["AWS_ACCESS_KEY_ID"] = os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    with mock_aws():
        yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _call(registry: Registry, resource: str, params: dict[str, Any]) -> Any:
    integration = registry.resolve(resource)
    assert integration is not None
    return integration(TaskRequest(resource=resource, parameters=params))


def test_integrations_over_real_boto3(tmp_path: Path, moto_aws: None) -> None:
    (tmp_path / "eltflow.toml").write_text('[aws]\nmode = "aws"\nregion = "us-east-1"\n', "utf-8")
    settings = load_settings(tmp_path, environ={})
    sns_client = aws.client("sns", settings)
    ddb_client = aws.client("dynamodb", settings)
    assert type(sns_client).__module__.startswith("botocore")
    registry = Registry()
    sns.register(registry, Boto3Service(sns_client))
    dynamodb.register(registry, Boto3Service(ddb_client))

    arn = sns_client.create_topic(Name="etl")["TopicArn"]
    out = _call(registry, "arn:aws:states:::sns:publish", {"TopicArn": arn, "Message": {"a": 1}})
    assert out["MessageId"]
    with pytest.raises(StatesError) as e:
        _call(registry, "arn:aws:states:::sns:publish", {"TopicArn": arn + "x", "Message": "m"})
    assert e.value.error == "SNS.NotFoundException"

    ddb_client.create_table(
        TableName="JobAudit",
        KeySchema=[{"AttributeName": "JobID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "JobID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {"JobID": {"S": "1"}, "Blob": {"B": "AAE="}}
    _call(registry, "arn:aws:states:::dynamodb:putItem", {"TableName": "JobAudit", "Item": item})
    got = _call(
        registry,
        "arn:aws:states:::dynamodb:getItem",
        {"TableName": "JobAudit", "Key": {"JobID": {"S": "1"}}},
    )
    assert got["Item"] == item
    with pytest.raises(StatesError) as e:
        _call(
            registry,
            "arn:aws:states:::dynamodb:putItem",
            {
                "TableName": "JobAudit",
                "Item": item,
                "ConditionExpression": "attribute_not_exists(JobID)",
            },
        )
    assert e.value.error == "DynamoDB.ConditionalCheckFailedException"
    assert e.value.cause.startswith("The conditional request failed (Service: AmazonDynamoDBv2;")
