"""The audit lock: many writers race one conditional UpdateItem; exactly one may win.

Runs on SQLite and on a real PostgreSQL (``store_url``), with 200 threads in one process and
with two processes racing each other.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from eltflow.errors import AwsApiError
from eltflow.items.service import DynamoDB
from eltflow.items.storage import ItemStore
from eltflow.store.db import Database
from eltflow.store.migrate import migrate

LOCK = {
    "TableName": "JobAudit",
    "Key": {"JobID": {"S": "101"}},
    "UpdateExpression": "SET JobState = :running, Winner = :me",
    "ConditionExpression": "JobState = :ready",
    "ExpressionAttributeValues": {
        ":ready": {"S": "Ready"},
        ":running": {"S": "Running"},
        ":me": {"S": "?"},
    },
}


def _service(url: str) -> DynamoDB:
    db = Database(url)
    migrate(db)
    return DynamoDB(ItemStore(db))


def _prepare(url: str) -> DynamoDB:
    ddb = _service(url)
    ddb.create_table(
        {
            "TableName": "JobAudit",
            "KeySchema": [{"AttributeName": "JobID", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "JobID", "AttributeType": "S"}],
        }
    )
    ddb.put_item(
        {"TableName": "JobAudit", "Item": {"JobID": {"S": "101"}, "JobState": {"S": "Ready"}}}
    )
    return ddb


@pytest.fixture
def audit(store_url: str) -> Iterator[DynamoDB]:
    ddb = _prepare(store_url)
    yield ddb
    ddb.store.db.close()


def _race(ddb: DynamoDB, n: int, tag: str) -> list[str]:
    """Run ``n`` threads through a barrier into the same conditional update."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        request: dict[str, Any] = json.loads(json.dumps(LOCK))
        request["ExpressionAttributeValues"][":me"] = {"S": f"{tag}-{i}"}
        barrier.wait()
        try:
            ddb.update_item(request)
            result = f"won:{tag}-{i}"
        except AwsApiError as e:
            result = e.code if e.code != "ConditionalCheckFailedException" else "lost"
            if e.code == "ConditionalCheckFailedException":
                assert e.message == "The conditional request failed"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_two_hundred_threads_exactly_one_wins(audit: DynamoDB) -> None:
    ddb = audit
    outcomes = _race(ddb, 200, "t")
    winners = [o for o in outcomes if o.startswith("won:")]
    assert len(outcomes) == 200
    assert len(winners) == 1
    assert outcomes.count("lost") == 199
    item = ddb.get_item({"TableName": "JobAudit", "Key": {"JobID": {"S": "101"}}})["Item"]
    assert item["JobState"] == {"S": "Running"}
    assert f"won:{item['Winner']['S']}" == winners[0]


_CHILD = """
import json, sys
sys.path[:0] = {paths!r}
from test_items_race import _race, _service
ddb = _service({url!r})
print(json.dumps(_race(ddb, {n}, {tag!r})))
ddb.store.db.close()
"""


def test_two_processes_exactly_one_wins(audit: DynamoDB, store_url: str) -> None:
    ddb = audit
    here = str(__import__("pathlib").Path(__file__).parent)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CHILD.format(paths=[here, *sys.path], url=store_url, n=25, tag=f"p{k}"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(2)
    ]
    outcomes: list[str] = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outcomes += json.loads(out.strip().splitlines()[-1])
    winners = [o for o in outcomes if o.startswith("won:")]
    assert len(outcomes) == 50
    assert len(winners) == 1, outcomes
    assert outcomes.count("lost") == 49
    item = ddb.get_item({"TableName": "JobAudit", "Key": {"JobID": {"S": "101"}}})["Item"]
    assert f"won:{item['Winner']['S']}" == winners[0]


@pytest.mark.parametrize("n", [50])
def test_racing_inserts_of_a_missing_item_create_it_once(audit: DynamoDB, n: int) -> None:
    """attribute_not_exists on a missing item: the PostgreSQL insert race path."""
    ddb = audit
    barrier = threading.Barrier(n)
    wins: list[int] = []

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            ddb.put_item(
                {
                    "TableName": "JobAudit",
                    "Item": {"JobID": {"S": "new"}, "By": {"N": str(i)}},
                    "ConditionExpression": "attribute_not_exists(JobID)",
                }
            )
            wins.append(i)
        except AwsApiError as e:
            assert e.code == "ConditionalCheckFailedException"

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    item = ddb.get_item({"TableName": "JobAudit", "Key": {"JobID": {"S": "new"}}})["Item"]
    assert item["By"] == {"N": str(wins[0])}
