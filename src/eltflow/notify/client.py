"""A boto3-shaped SNS client over local topics (``eltflow.aws.client("sns")``)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import ClientError

from eltflow.errors import AwsApiError
from eltflow.notify.topics import Topics
from eltflow.store.db import Database

_OPERATIONS = {
    "create_topic": "CreateTopic",
    "subscribe": "Subscribe",
    "list_topics": "ListTopics",
    "list_subscriptions_by_topic": "ListSubscriptionsByTopic",
    "publish": "Publish",
    "publish_batch": "PublishBatch",
}
# error code → the exception class name boto3 gives it
_CLASSES = {
    "NotFound": "NotFoundException",
    "InvalidParameter": "InvalidParameterException",
}


class LocalSnsClient:
    def __init__(self, topics: Topics, db: Database | None = None) -> None:
        self.topics = topics
        self._db = db
        self.exceptions = SimpleNamespace(
            ClientError=ClientError,
            **{name: type(name, (ClientError,), {}) for name in _CLASSES.values()},
        )

    def __getattr__(self, name: str) -> Any:
        operation = _OPERATIONS.get(name)
        if operation is None:
            raise AttributeError(f"'sns' client has no local operation {name!r}")

        def call(**kwargs: Any) -> dict[str, Any]:
            rid = str(uuid.uuid4())
            try:
                out = self.topics.call(operation, kwargs)
            except AwsApiError as e:
                cls = getattr(self.exceptions, _CLASSES.get(e.code, ""), ClientError)
                response: dict[str, Any] = {
                    "Error": {"Code": e.code, "Message": e.message, "Type": "Sender"},
                    "ResponseMetadata": {"RequestId": rid, "HTTPStatusCode": 400},
                }
                raise cls(response, operation) from None  # type: ignore[arg-type]
            return out | {"ResponseMetadata": {"RequestId": rid, "HTTPStatusCode": 200}}

        return call

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
