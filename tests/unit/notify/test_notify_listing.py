"""Topics with their subscriptions (notify/listing.py) over the SNS API's shapes: what
``eltflow topics list`` and the console's topics page read."""

from __future__ import annotations

from typing import Any

from eltflow.notify.listing import topics_with_subscriptions

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
