"""Local SNS topics: the API (CreateTopic, DeleteTopic, Subscribe, Unsubscribe, ListTopics,
ListSubscriptionsByTopic, Publish) over the state store, with every delivery recorded.

A publish records one ``sns_deliveries`` row per subscription as ``pending`` *before* trying to
deliver, then marks it ``delivered`` or ``failed`` (with attempts and the error): a crash or an
unreachable endpoint leaves a visible row, never a silently lost notification. Deliveries run
synchronously, in order, inside Publish (bounded by the HTTP retry policy). The SQL is the
store's named queries ``sql/notify.sql``.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eltflow.clock import Clock, SystemClock
from eltflow.errors import AwsApiError
from eltflow.notify import delivery
from eltflow.notify.config import NotifySettings, check_subscription
from eltflow.store.db import Database
from eltflow.store.queries import service_queries
from eltflow.types import JSONObject

_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")


@dataclass(frozen=True)
class Subscription:
    arn: str
    topic_name: str
    protocol: str
    endpoint: str


class Topics:
    def __init__(
        self,
        db: Database,
        settings: NotifySettings | None = None,
        clock: Clock | None = None,
        base_dir: Path | None = None,
    ) -> None:
        self.db = db
        self.q = service_queries("notify", db.dialect)
        self.settings = settings or NotifySettings()
        self.clock = clock or SystemClock()
        self.base_dir = base_dir or Path.cwd()

    # -- names -------------------------------------------------------------------------------
    def arn(self, name: str) -> str:
        return f"arn:aws:sns:{self.settings.region}:{self.settings.account}:{name}"

    def _topic_name(self, request: dict[str, Any], key: str = "TopicArn") -> str:
        arn = request.get(key) or request.get("TargetArn")
        if not isinstance(arn, str) or not arn:
            raise AwsApiError("InvalidParameter", f"Invalid parameter: {key}")
        name = arn.rsplit(":", 1)[-1]
        rows = self.db.execute(self.q["topic_exists"], {"n": name})
        if not rows:
            raise AwsApiError("NotFound", "Topic does not exist")
        return name

    # -- API ---------------------------------------------------------------------------------
    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        name = operation[:1].upper() + operation[1:]
        handler = {
            "CreateTopic": self.create_topic,
            "Subscribe": self.subscribe,
            "ListTopics": self.list_topics,
            "ListSubscriptionsByTopic": self.list_subscriptions_by_topic,
            "Publish": self.publish,
            "PublishBatch": self.publish_batch,
            "DeleteTopic": self.delete_topic,
            "Unsubscribe": self.unsubscribe,
        }.get(name)
        if handler is None:
            raise AwsApiError("InvalidAction", f"Unsupported SNS operation: {operation}")
        return handler(dict(request or {}))

    def create_topic(self, request: dict[str, Any]) -> dict[str, Any]:
        """Idempotent, as in SNS: creating an existing topic returns its ARN."""
        name = request.get("Name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise AwsApiError(
                "InvalidParameter",
                "Invalid parameter: Topic Name",
            )
        with self.db.transaction() as conn:
            if not conn.execute(self.q["topic_exists"], {"n": name}):
                conn.execute(
                    self.q["insert_topic"],
                    {"n": name, "a": self.arn(name), "t": self.clock.now().isoformat()},
                )
        return {"TopicArn": self.arn(name)}

    def delete_topic(self, request: dict[str, Any]) -> dict[str, Any]:
        """Idempotent, as in SNS: deleting a missing topic succeeds. Its subscriptions go with
        it; the delivery log stays (it is history)."""
        arn = request.get("TopicArn")
        if not isinstance(arn, str) or not arn:
            raise AwsApiError("InvalidParameter", "Invalid parameter: TopicArn")
        name = arn.rsplit(":", 1)[-1]
        with self.db.transaction() as conn:
            conn.execute(self.q["delete_topic_subscriptions"], {"n": name})
            conn.execute(self.q["delete_topic"], {"n": name})
        return {}

    def unsubscribe(self, request: dict[str, Any]) -> dict[str, Any]:
        arn = request.get("SubscriptionArn")
        if not isinstance(arn, str) or not arn:
            raise AwsApiError("InvalidParameter", "Invalid parameter: SubscriptionArn")
        self.db.execute(self.q["delete_subscription"], {"a": arn})
        return {}

    def subscribe(self, request: dict[str, Any]) -> dict[str, Any]:
        name = self._topic_name(request)
        protocol = str(request.get("Protocol") or "")
        endpoint = str(request.get("Endpoint") or "")
        try:
            check_subscription(protocol, endpoint, "Subscribe")
        except Exception as e:
            raise AwsApiError("InvalidParameter", f"Invalid parameter: {e}") from None
        with self.db.transaction() as conn:
            rows = conn.execute(
                self.q["find_subscription"], {"n": name, "p": protocol, "e": endpoint}
            )
            if rows:  # the same subscription again returns the existing one, as SNS does
                return {"SubscriptionArn": rows[0]["arn"]}
            arn = f"{self.arn(name)}:{uuid.uuid4()}"
            conn.execute(
                self.q["insert_subscription"],
                {
                    "a": arn,
                    "n": name,
                    "p": protocol,
                    "e": endpoint,
                    "t": self.clock.now().isoformat(),
                },
            )
        return {"SubscriptionArn": arn}

    def list_topics(self, request: dict[str, Any]) -> dict[str, Any]:
        rows = self.db.execute(self.q["list_topics"])
        return {"Topics": [{"TopicArn": r["arn"]} for r in rows]}

    def list_subscriptions_by_topic(self, request: dict[str, Any]) -> dict[str, Any]:
        name = self._topic_name(request)
        return {
            "Subscriptions": [
                {
                    "SubscriptionArn": s.arn,
                    "Owner": self.settings.account,
                    "Protocol": s.protocol,
                    "Endpoint": s.endpoint,
                    "TopicArn": self.arn(name),
                }
                for s in self.subscriptions(name)
            ]
        }

    def subscriptions(self, name: str) -> list[Subscription]:
        rows = self.db.execute(self.q["topic_subscriptions"], {"n": name})
        return [Subscription(r["arn"], r["topic_name"], r["protocol"], r["endpoint"]) for r in rows]

    def publish(self, request: dict[str, Any]) -> dict[str, Any]:
        name = self._topic_name(request)
        message = request.get("Message")
        if not isinstance(message, str):
            raise AwsApiError(
                "ValidationError",
                "1 validation error detected: Value null at 'message' failed to satisfy "
                "constraint: Member must not be null",
            )
        subject = request.get("Subject")
        if subject is not None and (not isinstance(subject, str) or not 0 < len(subject) <= 100):
            raise AwsApiError("InvalidParameter", "Invalid parameter: Subject")
        attributes = request.get("MessageAttributes") or {}
        message_id = str(uuid.uuid4())
        now = self.clock.now()
        notification: JSONObject = {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": self.arn(name),
            "Message": message,
            "Timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "SignatureVersion": "1",
        }
        if subject is not None:
            notification["Subject"] = subject
        if attributes:
            notification["MessageAttributes"] = {
                k: {"Type": v.get("DataType", "String"), "Value": v.get("StringValue", "")}
                for k, v in attributes.items()
                if isinstance(v, dict)
            }
        for sub in self.subscriptions(name):
            self._deliver(sub, notification, subject, message)
        return {"MessageId": message_id}

    def publish_batch(self, request: dict[str, Any]) -> dict[str, Any]:
        """SNS's PublishBatch: up to 10 entries with distinct ids, each published as by
        Publish; an entry that fails is listed in ``Failed`` and the others still go out."""
        entries = request.get("PublishBatchRequestEntries") or []
        if not isinstance(entries, list) or not entries:
            raise AwsApiError("EmptyBatchRequest", "The batch request doesn't contain any entries")
        if len(entries) > 10:
            raise AwsApiError(
                "TooManyEntriesInBatchRequest",
                "The batch request contains more entries than permissible (10)",
            )
        ids = [e.get("Id") if isinstance(e, dict) else None for e in entries]
        for entry_id in ids:
            if not isinstance(entry_id, str) or not _BATCH_ID.fullmatch(entry_id):
                raise AwsApiError(
                    "InvalidBatchEntryId",
                    "The Id of a batch entry in a batch request doesn't abide by the "
                    "specification (1-80 letters, digits, hyphens and underscores)",
                )
        if len(set(ids)) != len(ids):
            raise AwsApiError(
                "BatchEntryIdsNotDistinct",
                "Two or more batch entries in the request have the same Id",
            )
        self._topic_name(request)  # NotFound before any entry is published
        successful: list[JSONObject] = []
        failed: list[JSONObject] = []
        for entry in entries:
            one = {k: entry[k] for k in ("Message", "Subject", "MessageAttributes") if k in entry}
            try:
                out = self.publish({"TopicArn": request["TopicArn"], **one})
            except AwsApiError as e:
                failed.append(
                    {"Id": entry["Id"], "Code": e.code, "Message": e.message, "SenderFault": True}
                )
                continue
            successful.append({"Id": entry["Id"], "MessageId": out["MessageId"]})
        return {"Successful": successful, "Failed": failed}

    def _deliver(
        self, sub: Subscription, notification: JSONObject, subject: str | None, message: str
    ) -> None:
        key = {"m": notification["MessageId"], "s": sub.arn}
        body = json.dumps(notification, ensure_ascii=False)
        self.db.execute(
            self.q["insert_delivery"],
            {
                **key,
                "n": sub.topic_name,
                "p": sub.protocol,
                "e": sub.endpoint,
                "b": body,
                "t": self.clock.now().isoformat(),
            },
        )
        try:
            attempts = self._send(sub, notification, subject, message)
        except delivery.DeliveryFailed as e:
            self.db.execute(self.q["delivery_failed"], {**key, "a": e.attempts, "err": str(e)})
            delivery.log.warning("sns delivery failed: %s", e)
            return
        self.db.execute(self.q["delivery_delivered"], {**key, "a": attempts})

    def _send(
        self, sub: Subscription, notification: JSONObject, subject: str | None, message: str
    ) -> int:
        if sub.protocol == "file":
            return delivery.to_file(sub.endpoint, notification, self.base_dir)
        if sub.protocol == "log":
            return delivery.to_log(sub.endpoint, notification)
        if sub.protocol in ("http", "https"):
            headers = {
                "Content-Type": "text/plain; charset=UTF-8",  # what SNS sends (body is JSON)
                "x-amz-sns-message-type": "Notification",
                "x-amz-sns-message-id": str(notification["MessageId"]),
                "x-amz-sns-topic-arn": str(notification["TopicArn"]),
                "x-amz-sns-subscription-arn": sub.arn,
                "User-Agent": "Amazon Simple Notification Service Agent",
            }
            return delivery.to_http(
                sub.endpoint, notification, headers, self.settings.http, self.clock
            )
        text = json.dumps(notification, indent=2) if sub.protocol == "email-json" else message
        return delivery.to_email(sub.endpoint, subject, text, self.settings.smtp)

    def deliveries(
        self, message_id: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """The delivery log (of one message), oldest first; ``status``: only the ``pending``,
        ``delivered`` or ``failed`` ones."""
        if message_id is None:
            rows = self.db.execute(self.q["all_deliveries"])
        else:
            rows = self.db.execute(self.q["message_deliveries"], {"m": message_id})
        return rows if status is None else [r for r in rows if r["status"] == status]

    def recent_notifications(self, limit: int = 50) -> list[JSONObject]:
        """The newest ``limit`` published messages that had subscribers, newest first, each
        with its deliveries (subscription, status, attempts, error): what the console's topics
        page shows. A message published to a topic with no subscription is delivered nowhere
        and leaves no row, as SNS keeps no message log either."""
        ids = self.db.execute(self.q["recent_messages"], {"n": limit})
        out: list[JSONObject] = []
        for row in ids:
            deliveries = self.deliveries(str(row["message_id"]))
            if not deliveries:
                continue
            body = json.loads(deliveries[0]["body"])
            notification: JSONObject = {
                "MessageId": row["message_id"],
                "TopicArn": body.get("TopicArn"),
                "Timestamp": body.get("Timestamp"),
                "Message": body.get("Message"),
                "Deliveries": [
                    {
                        "SubscriptionArn": d["subscription_arn"],
                        "Protocol": d["protocol"],
                        "Endpoint": d["endpoint"],
                        "Status": d["status"],
                        "Attempts": d["attempts"],
                        "Error": d["error"],
                    }
                    for d in deliveries
                ],
            }
            if "Subject" in body:
                notification["Subject"] = body["Subject"]
            out.append(notification)
        return out


def build_topics(settings: Any, db: Database, clock: Clock | None = None) -> Topics:
    """Local topics from ``[topics.*]`` / ``[notify.*]`` (created and subscribed if missing).
    Needs the store migrated first."""
    from eltflow.notify.config import notify_settings

    ns = notify_settings(settings)
    topics = Topics(db, ns, clock, base_dir=settings.project_dir)
    for spec in ns.topics:
        arn = topics.create_topic({"Name": spec.name})["TopicArn"]
        for protocol, endpoint in spec.subscriptions:
            topics.subscribe({"TopicArn": arn, "Protocol": protocol, "Endpoint": endpoint})
    return topics
