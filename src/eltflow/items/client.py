"""A boto3-shaped DynamoDB client over the local item tables.

``client.update_item(TableName=..., Key=..., ...)`` takes and returns what boto3 does: typed
attribute values with binaries as ``bytes``, numbers as strings, ``ResponseMetadata``, and
failures as ``botocore.exceptions.ClientError`` whose subclasses are reachable as
``client.exceptions.ConditionalCheckFailedException`` etc., so code written against boto3 runs
unchanged.
"""

from __future__ import annotations

import base64
import uuid
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import ClientError

from eltflow.errors import AwsApiError
from eltflow.items.service import DynamoDB
from eltflow.store.db import Database

_CODES = (
    "ConditionalCheckFailedException",
    "ResourceNotFoundException",
    "ResourceInUseException",
    "ValidationException",
    "TransactionCanceledException",
)
_OPERATIONS = {
    "create_table": "CreateTable",
    "describe_table": "DescribeTable",
    "list_tables": "ListTables",
    "delete_table": "DeleteTable",
    "get_item": "GetItem",
    "put_item": "PutItem",
    "update_item": "UpdateItem",
    "delete_item": "DeleteItem",
    "query": "Query",
    "scan": "Scan",
    "transact_write_items": "TransactWriteItems",
    "transact_get_items": "TransactGetItems",
    "batch_get_item": "BatchGetItem",
    "batch_write_item": "BatchWriteItem",
}


def _to_wire(value: Any) -> Any:
    """bytes → base64 text, recursively (boto3 accepts bytes for B and BS)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {k: _to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_to_wire(v) for v in value]
    return value


def _from_wire(value: Any, key: str | None = None) -> Any:
    """base64 text of B / BS → bytes, as boto3 returns them."""
    if isinstance(value, dict):
        return {k: _from_wire(v, k) for k, v in value.items()}
    if isinstance(value, list):
        if key == "BS":
            return [base64.b64decode(v) for v in value]
        return [_from_wire(v) for v in value]
    if key == "B" and isinstance(value, str):
        return base64.b64decode(value)
    return value


class LocalDynamoDBClient:
    """boto3's DynamoDB client methods, served by :class:`DynamoDB`."""

    def __init__(self, service: DynamoDB, db: Database | None = None) -> None:
        self.service = service
        self._db = db  # closed by close() when this client owns it
        self.exceptions = SimpleNamespace(
            ClientError=ClientError,
            **{code: type(code, (ClientError,), {}) for code in _CODES},
        )

    def __getattr__(self, name: str) -> Any:
        operation = _OPERATIONS.get(name)
        if operation is None:
            raise AttributeError(f"'dynamodb' client has no local operation {name!r}")

        def call(**kwargs: Any) -> dict[str, Any]:
            return self._call(operation, kwargs)

        return call

    def _call(self, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        rid = str(uuid.uuid4())
        try:
            out = self.service.call(operation, _to_wire(kwargs))
        except AwsApiError as e:
            error_class = getattr(self.exceptions, e.code, ClientError)
            response: dict[str, Any] = {
                "Error": {"Code": e.code, "Message": e.message},
                "ResponseMetadata": {"RequestId": rid, "HTTPStatusCode": 400},
            }
            item = getattr(e, "item", None)
            if item:
                response["Item"] = _from_wire(item)
            reasons = getattr(e, "reasons", None)
            if reasons is not None:
                response["CancellationReasons"] = reasons
            raise error_class(response, operation) from None  # type: ignore[arg-type]
        result: dict[str, Any] = _from_wire(out)
        result["ResponseMetadata"] = {"RequestId": rid, "HTTPStatusCode": 200}
        return result

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
