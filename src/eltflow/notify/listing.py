"""Topics with their subscriptions: ListTopics, then ListSubscriptionsByTopic per topic —
what ``eltflow topics list`` prints and the console's topics page shows.

Through the SNS API's wire shapes (:class:`~eltflow.types.AwsApi`), so local topics and real
SNS (``[aws] mode = "aws"``) answer alike.
"""

from __future__ import annotations

from typing import Any, TypedDict

from eltflow.types import AwsApi


class TopicListing(TypedDict):
    TopicArn: str
    Subscriptions: list[dict[str, Any]]


def _objects(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def topics_with_subscriptions(sns: AwsApi) -> list[TopicListing]:
    """Each topic (ListTopics' order) with its subscriptions as ListSubscriptionsByTopic
    gives them."""
    out: list[TopicListing] = []
    for topic in _objects(sns.call("ListTopics", {}).get("Topics")):
        arn = str(topic.get("TopicArn"))
        listed = sns.call("ListSubscriptionsByTopic", {"TopicArn": arn})
        out.append({"TopicArn": arn, "Subscriptions": _objects(listed.get("Subscriptions"))})
    return out
