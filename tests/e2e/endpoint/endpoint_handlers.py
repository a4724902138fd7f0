"""Lambda handlers the endpoint tests invoke through Lambda's REST API."""

from __future__ import annotations

import contextlib
import time
from typing import Any


def echo(event: Any, context: Any) -> Any:
    return {"got": event, "function": context.function_name}


def fail(event: Any, context: Any) -> Any:
    raise ValueError(f"bad event: {event}")


def use_aws(event: Any, context: Any) -> Any:
    """Unmodified boto3, as a handler written for AWS has it: no endpoint, no credentials."""
    import boto3

    ddb = boto3.client("dynamodb")
    ddb.put_item(TableName="from_handler", Item={"k": {"S": event["k"]}})
    item = ddb.get_item(TableName="from_handler", Key={"k": {"S": event["k"]}})["Item"]
    machines = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
    topic = boto3.client("sns").create_topic(Name="from-handler")["TopicArn"]
    rd = boto3.client("redshift-data")
    sid = rd.execute_statement(ClusterIdentifier="dw", Database="dev", Sql="select 6 * 7 as n")[
        "Id"
    ]
    # Handler code as written for AWS: the Data API offers no completion event, so a handler
    # polls DescribeStatement (AWS's documented pattern), with a deadline.
    deadline = time.monotonic() + 30
    while rd.describe_statement(Id=sid)["Status"] not in ("FINISHED", "FAILED", "ABORTED"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"statement {sid} did not finish in 30 s")
        time.sleep(0.01)
    answer = rd.get_statement_result(Id=sid)["Records"][0][0]["longValue"]
    s3 = boto3.client("s3")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket="from-handler")
    s3.put_object(Bucket="from-handler", Key=f"keys/{event['k']}.txt", Body=event["k"].encode())
    stored = s3.get_object(Bucket="from-handler", Key=f"keys/{event['k']}.txt")["Body"].read()
    return {
        "item": item,
        "s3": stored.decode(),
        "machines": sorted(m["name"] for m in machines),
        "topic": topic,
        "answer": answer,
    }
