"""SNS (query protocol, XML) and Lambda (REST Invoke) through the AWS endpoint, with boto3 and
the AWS CLI against a real server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from eltflow.serve import Server

ClientFactory = Callable[[str], Any]


@pytest.fixture(scope="module")
def sns(client: ClientFactory) -> Any:
    return client("sns")


@pytest.fixture(scope="module")
def lam(client: ClientFactory) -> Any:
    return client("lambda")


def test_topics_subscriptions_and_publish(sns: Any, project: Path) -> None:
    arn = sns.create_topic(Name="etl-events")["TopicArn"]
    assert arn.endswith(":etl-events")
    assert sns.create_topic(Name="etl-events")["TopicArn"] == arn  # idempotent, as in SNS
    sub = sns.subscribe(TopicArn=arn, Protocol="file", Endpoint="sns-out.jsonl")
    assert sub["SubscriptionArn"].startswith(arn + ":")
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in listed] == [("file", "sns-out.jsonl")]
    assert arn in [t["TopicArn"] for t in sns.list_topics()["Topics"]]

    message_id = sns.publish(
        TopicArn=arn,
        Message="load finished",
        Subject="ETL",
        MessageAttributes={"job": {"DataType": "String", "StringValue": "101"}},
    )["MessageId"]
    delivered = json.loads((project / "sns-out.jsonl").read_text("utf-8").splitlines()[-1])
    assert delivered["MessageId"] == message_id
    assert (delivered["Message"], delivered["Subject"]) == ("load finished", "ETL")
    assert delivered["MessageAttributes"] == {"job": {"Type": "String", "Value": "101"}}


def test_sns_errors_are_xml_with_aws_codes(sns: Any, server: Server) -> None:
    with pytest.raises(sns.exceptions.NotFoundException) as e:
        sns.publish(TopicArn="arn:aws:sns:us-east-1:123456789012:missing", Message="x")
    assert e.value.response["Error"]["Code"] == "NotFound"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as bad:
        sns.create_topic(Name="has spaces")
    assert bad.value.response["Error"]["Code"] == "InvalidParameter"
    r = httpx.post(
        server.url + "/",
        content=b"Action=DeleteEverything&Version=2010-03-31",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 400 and "<Code>InvalidAction</Code>" in r.text
    assert "Traceback" not in r.text


def test_the_aws_cli_publishes(sns: Any, aws_cli: Callable[..., Any], project: Path) -> None:
    arn = sns.create_topic(Name="cli-topic")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="file", Endpoint="cli-out.jsonl")
    out = aws_cli("sns", "publish", "--topic-arn", arn, "--message", "from the cli")
    delivered = json.loads((project / "cli-out.jsonl").read_text("utf-8"))
    assert delivered["MessageId"] == out["MessageId"]
    assert delivered["Message"] == "from the cli"


def test_lambda_invoke_types(lam: Any) -> None:
    ok = lam.invoke(FunctionName="Echo", Payload=json.dumps({"a": 1}))
    assert ok["StatusCode"] == 200 and "FunctionError" not in ok
    assert ok["ExecutedVersion"] == "$LATEST"
    assert json.loads(ok["Payload"].read()) == {"got": {"a": 1}, "function": "Echo"}

    failed = lam.invoke(FunctionName="Fail", Payload=b'{"x": 2}')
    assert (failed["StatusCode"], failed["FunctionError"]) == (200, "Unhandled")
    error = json.loads(failed["Payload"].read())
    assert error["errorType"] == "ValueError" and "bad event" in error["errorMessage"]

    assert (
        lam.invoke(FunctionName="Echo", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    )
    assert lam.invoke(FunctionName="Echo", InvocationType="DryRun")["StatusCode"] == 204

    with pytest.raises(lam.exceptions.ResourceNotFoundException) as e:
        lam.invoke(FunctionName="Nope", Payload=b"{}")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName="Echo", Payload=b"{not json")


def test_the_aws_cli_invokes(aws_cli: Callable[..., Any], tmp_path: Path) -> None:
    out_file = tmp_path / "out.json"
    meta = aws_cli(
        "lambda", "invoke", "--function-name", "Echo", "--payload", '{"cli": true}', str(out_file)
    )
    assert meta["StatusCode"] == 200
    assert json.loads(out_file.read_text("utf-8"))["got"] == {"cli": True}


def test_get_and_list_functions(lam: Any) -> None:
    got = lam.get_function(FunctionName="Echo")["Configuration"]
    assert got["FunctionName"] == "Echo"
    assert got["FunctionArn"].endswith(":function:Echo")
    assert got["Handler"] == "endpoint_handlers.echo"
    assert got["Runtime"].startswith("python3.")
    names = [
        f["FunctionName"]
        for p in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1})
        for f in p["Functions"]
    ]
    assert names == ["Echo", "Fail"]
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName="Nope")


def test_publish_batch(sns: Any, project: Path) -> None:
    arn = sns.create_topic(Name="batched")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="file", Endpoint="batch-out.jsonl")
    out = sns.publish_batch(
        TopicArn=arn,
        PublishBatchRequestEntries=[
            {"Id": "one", "Message": "first"},
            {"Id": "two", "Message": "second", "Subject": "x" * 101},  # Subject too long
        ],
    )
    assert [s["Id"] for s in out["Successful"]] == ["one"]
    assert [(f["Id"], f["Code"]) for f in out["Failed"]] == [("two", "InvalidParameter")]
    lines = (project / "batch-out.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line)["Message"] for line in lines] == ["first"]
    with pytest.raises(sns.exceptions.BatchEntryIdsNotDistinctException):
        sns.publish_batch(
            TopicArn=arn,
            PublishBatchRequestEntries=[{"Id": "a", "Message": "1"}, {"Id": "a", "Message": "2"}],
        )
    with pytest.raises(sns.exceptions.TooManyEntriesInBatchRequestException):
        sns.publish_batch(
            TopicArn=arn,
            PublishBatchRequestEntries=[{"Id": f"e{i}", "Message": "m"} for i in range(11)],
        )


def test_unsubscribe_and_delete_topic(sns: Any) -> None:
    arn = sns.create_topic(Name="short-lived")["TopicArn"]
    sub = sns.subscribe(TopicArn=arn, Protocol="log", Endpoint="x")["SubscriptionArn"]
    sns.unsubscribe(SubscriptionArn=sub)
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    sns.delete_topic(TopicArn=arn)
    assert arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]


def test_s3_is_answered_in_its_own_error_shape(client: Callable[[str], Any]) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="acl-less")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_acl(Bucket="acl-less")  # a sub-resource the local S3 does not serve
    assert e.value.response["Error"]["Code"] == "NotImplemented"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_sts_get_caller_identity(client: Callable[[str], Any], aws_cli: Callable[..., Any]) -> None:
    me = client("sts").get_caller_identity()
    assert me["Account"] == "123456789012" and me["Arn"].startswith("arn:aws:iam::123456789012:")
    assert aws_cli("sts", "get-caller-identity")["Account"] == "123456789012"
