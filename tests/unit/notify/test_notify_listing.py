"""Topics with their subscriptions (notify/listing.py) over the SNS API's shapes, and the
delivery log filtered by status (Topics.deliveries): what ``eltflow topics list`` /
``topics deliveries --status`` and the console's topics page read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eltflow.clock import VirtualClock
from eltflow.config import load_settings
from eltflow.notify.listing import topics_with_subscriptions
from eltflow.notify.topics import Topics, build_topics
from eltflow.store.db import Database
from eltflow.store.migrate import migrate

ARN = "arn:aws:sns:us-east-1:123456789012:"


class _Sns:
    """SNS answers as boto3's client would give them (through ``call``)."""

    def __init__(self, topics: dict[str, list[str]]) -> None:
        self.topics = topics
        self.calls: list[str] = []

    def call(self, operation: str, request: dict[str, Any], /) -> dict[str, Any]:
        self.calls.append(operation)
        if operation == "ListTopics":
            return {"Topics": [{"TopicArn": ARN + name} for name in self.topics]}
        assert operation == "ListSubscriptionsByTopic"
        name = str(request["TopicArn"]).removeprefix(ARN)
        return {"Subscriptions": [{"Endpoint": e} for e in self.topics[name]]}


def test_each_topic_comes_with_its_subscriptions() -> None:
    sns = _Sns({"a": ["one", "two"], "b": []})
    assert topics_with_subscriptions(sns) == [
        {"TopicArn": ARN + "a", "Subscriptions": [{"Endpoint": "one"}, {"Endpoint": "two"}]},
        {"TopicArn": ARN + "b", "Subscriptions": []},
    ]
    assert sns.calls == ["ListTopics", "ListSubscriptionsByTopic", "ListSubscriptionsByTopic"]


def test_no_topics() -> None:
    assert topics_with_subscriptions(_Sns({})) == []


@pytest.fixture
def topics(tmp_path: Path, store_url: str) -> Iterator[Topics]:
    (tmp_path / "blocked").mkdir()  # a folder where the file should be: its delivery fails
    (tmp_path / "eltflow.toml").write_text(
        "[topics.events]\nsubscriptions = [\n"
        '  { protocol = "file", endpoint = "ok.jsonl" },\n'
        '  { protocol = "file", endpoint = "blocked" },\n'
        "]\n",
        "utf-8",
    )
    db = Database(store_url)
    migrate(db)
    yield build_topics(load_settings(tmp_path, environ={}), db, VirtualClock())
    db.close()


def test_deliveries_by_status(topics: Topics) -> None:
    out = topics.publish({"TopicArn": topics.arn("events"), "Message": "hi"})
    other = topics.publish({"TopicArn": topics.arn("events"), "Message": "again"})
    statuses = sorted(r["status"] for r in topics.deliveries())
    assert statuses == ["delivered", "delivered", "failed", "failed"]
    failed = topics.deliveries(out["MessageId"], status="failed")
    assert [(r["message_id"], r["endpoint"]) for r in failed] == [(out["MessageId"], "blocked")]
    assert [r["endpoint"] for r in topics.deliveries(status="delivered")] == ["ok.jsonl"] * 2
    assert topics.deliveries(other["MessageId"], status="pending") == []
    # The whole listing: the local service answers through its API as real SNS would.
    [listed] = topics_with_subscriptions(topics)
    assert sorted(s["Endpoint"] for s in listed["Subscriptions"]) == ["blocked", "ok.jsonl"]
