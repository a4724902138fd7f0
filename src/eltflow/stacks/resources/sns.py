"""``AWS::SNS::Topic`` and ``AWS::SNS::Subscription`` through the local SNS API.

Topic: TopicName (or a generated one), Subscription (a list of Endpoint/Protocol) subscribed on
create and update; ``Ref`` is the topic ARN, ``Fn::GetAtt``: TopicArn, TopicName.
Subscription: TopicArn, Protocol, Endpoint; ``Ref`` is the subscription ARN.
"""

from __future__ import annotations

from eltflow.errors import AwsApiError
from eltflow.stacks.resources.base import Outcome, Request, Services, physical_name, text
from eltflow.types import JSONObject


def _subscribe(services: Services, topic_arn: str, props: JSONObject) -> None:
    subscriptions = props.get("Subscription") or []
    if not isinstance(subscriptions, list):
        raise AwsApiError("ValidationError", "Properties.Subscription must be a list")
    for item in subscriptions:
        if not isinstance(item, dict):
            raise AwsApiError("ValidationError", "Properties.Subscription items are objects")
        services.sns.call(
            "Subscribe",
            {
                "TopicArn": topic_arn,
                "Protocol": item.get("Protocol"),
                "Endpoint": item.get("Endpoint"),
            },
        )


class TopicProvider:
    replace_on = frozenset({"TopicName", "FifoTopic"})
    name_property = "TopicName"

    def _outcome(self, topic_arn: str) -> Outcome:
        attributes: JSONObject = {"TopicArn": topic_arn, "TopicName": topic_arn.rsplit(":", 1)[-1]}
        return Outcome(physical_id=topic_arn, attributes=attributes)

    def create(self, services: Services, request: Request) -> Outcome:
        name = text(request.properties, "TopicName") or physical_name(request, 256)
        arn = str(services.sns.call("CreateTopic", {"Name": name})["TopicArn"])
        _subscribe(services, arn, request.properties)
        return self._outcome(arn)

    def update(self, services: Services, request: Request) -> Outcome:
        # Subscribe is idempotent: new subscriptions are added, existing ones kept.
        _subscribe(services, request.physical_id, request.properties)
        return self._outcome(request.physical_id)

    def delete(self, services: Services, request: Request) -> None:
        services.sns.call("DeleteTopic", {"TopicArn": request.physical_id})


class SubscriptionProvider:
    replace_on = frozenset({"TopicArn", "Protocol", "Endpoint"})
    name_property = ""

    def create(self, services: Services, request: Request) -> Outcome:
        props = request.properties
        out = services.sns.call(
            "Subscribe",
            {
                "TopicArn": text(props, "TopicArn"),
                "Protocol": text(props, "Protocol"),
                "Endpoint": text(props, "Endpoint"),
            },
        )
        return Outcome(physical_id=str(out["SubscriptionArn"]))

    def update(self, services: Services, request: Request) -> Outcome:
        return Outcome(physical_id=request.physical_id)

    def delete(self, services: Services, request: Request) -> None:
        services.sns.call("Unsubscribe", {"SubscriptionArn": request.physical_id})
