"""TransactWriteItems (all or nothing, with DynamoDB's cancellation reasons, checked against
moto), TransactGetItems and the batch calls, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from eltflow.errors import AwsApiError
from eltflow.items.errors import TransactionCanceled
from eltflow.items.service import DynamoDB
from eltflow.items.storage import ItemStore
from eltflow.store.db import Database
from eltflow.store.migrate import migrate

TABLE: dict[str, Any] = {
    "TableName": "JobAudit",
    "KeySchema": [{"AttributeName": "JobID", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "JobID", "AttributeType": "S"}],
}


def key(job: str) -> dict[str, Any]:
    return {"JobID": {"S": job}}


LOCK_AND_RECORD: list[dict[str, Any]] = [
    {
        "Update": {
            "TableName": "JobAudit",
            "Key": key("101"),
            "UpdateExpression": "SET JobState = :running",
            "ConditionExpression": "JobState = :ready",
            "ExpressionAttributeValues": {":running": {"S": "Running"}, ":ready": {"S": "Ready"}},
        }
    },
    {"Put": {"TableName": "JobAudit", "Item": {"JobID": {"S": "run-1"}, "Job": {"S": "101"}}}},
    {
        "ConditionCheck": {
            "TableName": "JobAudit",
            "Key": key("paused"),
            "ConditionExpression": "attribute_not_exists(JobID)",
        }
    },
]


@pytest.fixture
def ddb(store_url: str) -> Iterator[DynamoDB]:
    db = Database(store_url)
    migrate(db)
    service = DynamoDB(ItemStore(db))
    service.create_table(TABLE)
    yield service
    db.close()


def test_transaction_commits_all_or_nothing(ddb: DynamoDB) -> None:
    ddb.put_item({"TableName": "JobAudit", "Item": key("101") | {"JobState": {"S": "Ready"}}})
    ddb.put_item({"TableName": "JobAudit", "Item": key("paused")})
    with pytest.raises(TransactionCanceled) as e:
        ddb.transact_write_items({"TransactItems": LOCK_AND_RECORD})
    assert e.value.code == "TransactionCanceledException"
    assert e.value.message == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, None, ConditionalCheckFailed]"
    )
    # nothing was written
    assert ddb.get_item({"TableName": "JobAudit", "Key": key("101")})["Item"]["JobState"] == {
        "S": "Ready"
    }
    assert ddb.get_item({"TableName": "JobAudit", "Key": key("run-1")}) == {}
    ddb.delete_item({"TableName": "JobAudit", "Key": key("paused")})
    assert ddb.transact_write_items({"TransactItems": LOCK_AND_RECORD}) == {}
    got = ddb.transact_get_items(
        {
            "TransactItems": [
                {"Get": {"TableName": "JobAudit", "Key": key(k)}} for k in ("101", "run-1", "x")
            ]
        }
    )
    assert [r.get("Item", {}).get("JobState") for r in got["Responses"]] == [
        {"S": "Running"},
        None,
        None,
    ]
    assert got["Responses"][2] == {}


def test_same_item_twice_is_rejected(ddb: DynamoDB) -> None:
    with pytest.raises(AwsApiError) as e:
        ddb.transact_write_items(
            {
                "TransactItems": [
                    {"Put": {"TableName": "JobAudit", "Item": key("1")}},
                    {"Delete": {"TableName": "JobAudit", "Key": key("1")}},
                ]
            }
        )
    assert e.value.message == "Transaction request cannot include multiple operations on one item"


def test_racing_transactions_lock_once(ddb: DynamoDB) -> None:
    ddb.put_item({"TableName": "JobAudit", "Item": key("101") | {"JobState": {"S": "Ready"}}})
    wins: list[int] = []
    barrier = threading.Barrier(40)

    def attempt(i: int) -> None:
        items = [dict(LOCK_AND_RECORD[0])]
        items.append({"Put": {"TableName": "JobAudit", "Item": {"JobID": {"S": f"run-{i}"}}}})
        barrier.wait()
        try:
            ddb.transact_write_items({"TransactItems": items})
            wins.append(i)
        except TransactionCanceled:
            pass

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    runs = ddb.scan({"TableName": "JobAudit", "FilterExpression": "begins_with(JobID, :r)",
                     "ExpressionAttributeValues": {":r": {"S": "run-"}}})  # fmt: skip
    assert [i["JobID"]["S"] for i in runs["Items"]] == [f"run-{wins[0]}"]


def test_batches(ddb: DynamoDB) -> None:
    ddb.batch_write_item(
        {
            "RequestItems": {
                "JobAudit": [{"PutRequest": {"Item": key(str(n))}} for n in range(5)]
                + [{"DeleteRequest": {"Key": key("3")}}]
            }
        }
    )
    out = ddb.batch_get_item(
        {"RequestItems": {"JobAudit": {"Keys": [key(str(n)) for n in range(5)]}}}
    )
    assert sorted(i["JobID"]["S"] for i in out["Responses"]["JobAudit"]) == ["0", "1", "2", "4"]


def test_cancellation_matches_moto(ddb: DynamoDB) -> None:
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    setup = [key("101") | {"JobState": {"S": "Ready"}}, key("paused")]
    for item in setup:
        ddb.put_item({"TableName": "JobAudit", "Item": item})
    with pytest.raises(TransactionCanceled) as ours:
        ddb.transact_write_items({"TransactItems": LOCK_AND_RECORD})
    with mock_aws():
        client: Any = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(BillingMode="PAY_PER_REQUEST", **TABLE)
        for item in setup:
            client.put_item(TableName="JobAudit", Item=item)
        with pytest.raises(ClientError) as theirs:
            client.transact_write_items(TransactItems=LOCK_AND_RECORD)
    error = theirs.value.response["Error"]
    assert (ours.value.code, ours.value.message) == (error["Code"], error["Message"])
    reasons = theirs.value.response.get("CancellationReasons")
    assert ours.value.reasons == reasons
