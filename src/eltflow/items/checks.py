"""Request checks and small pure helpers of the DynamoDB API (key columns, ReturnValues,
table names, parallel-scan segments, transaction reasons), with DynamoDB's messages."""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

from eltflow.errors import AwsApiError
from eltflow.items import errors
from eltflow.items import values as av
from eltflow.items.evaluate import project
from eltflow.items.storage import Mutation, TableSpec, Write
from eltflow.items.values import Item

Request = dict[str, Any]
Response = dict[str, Any]

RETURN_VALUES = ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]

_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
LEGACY = (
    "Expected",
    "ConditionalOperator",
    "AttributeUpdates",
    "AttributesToGet",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
)
_MAX_ITEM_BYTES = 400 * 1024


def table_name(request: Request) -> str:
    name = request.get("TableName")
    if not isinstance(name, str) or not name:
        raise errors.validation(
            "1 validation error detected: Value null at 'tableName' failed to satisfy "
            "constraint: Member must not be null"
        )
    if len(name) < 3 or len(name) > 255:
        raise errors.validation(
            f"1 validation error detected: Value '{name}' at 'tableName' failed to satisfy "
            "constraint: Member must have length "
            + ("greater than or equal to 3" if len(name) < 3 else "less than or equal to 255")
        )
    if not _TABLE_NAME.fullmatch(name):
        raise errors.validation(
            f"1 validation error detected: Value '{name}' at 'tableName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    return name


def return_values(request: Request, allowed: tuple[str, ...]) -> str:
    rv = request.get("ReturnValues", "NONE") or "NONE"
    if rv not in RETURN_VALUES:
        raise errors.validation(
            f"1 validation error detected: Value '{rv}' at 'returnValues' failed to satisfy "
            "constraint: Member must satisfy enum value set: "
            "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
        )
    if rv not in allowed:
        raise errors.validation("Return values set to invalid value")
    return str(rv)


def key_columns(spec: TableSpec, key: object) -> tuple[str, str]:
    """The SQL columns of a Key map; any mismatch is DynamoDB's "does not match the schema"."""
    if not isinstance(key, dict) or set(key) != set(spec.key_names):
        raise errors.key_mismatch()
    parts = []
    for name in spec.key_names:
        value = av.validate(key[name])
        if av.type_of(value) != spec.key_type(name):
            raise errors.key_mismatch()
        _reject_empty_key(name, value)
        parts.append(av.key_text(value))
    return parts[0], parts[1] if len(parts) > 1 else ""


def item_key(spec: TableSpec, item: Item) -> tuple[str, str]:
    parts = []
    for name in spec.key_names:
        if name not in item:
            raise errors.validation(
                f"One or more parameter values were invalid: Missing the key {name} in the item"
            )
        value = item[name]
        if av.type_of(value) != spec.key_type(name):
            raise errors.validation(
                "One or more parameter values were invalid: Type mismatch for key "
                f"{name} expected: {spec.key_type(name)} actual: {av.type_of(value)}"
            )
        _reject_empty_key(name, value)
        parts.append(av.key_text(value))
    return parts[0], parts[1] if len(parts) > 1 else ""


def check_count(entries: Any, field: str, maximum: int) -> list[Any]:
    if not isinstance(entries, list) or not entries:
        raise errors.validation(
            f"1 validation error detected: Value null at '{field}' failed to satisfy "
            "constraint: Member must not be null"
        )
    if len(entries) > maximum:
        raise errors.validation(
            f"1 validation error detected: Value '{entries}' at '{field}' failed to satisfy "
            f"constraint: Member must have length less than or equal to {maximum}"
        )
    return entries


def collecting(m: Mutation[Any]) -> Mutation[dict[str, str] | None]:
    """Turn a write's failure into its cancellation reason instead of an exception, so a
    transaction reports every item's reason (DynamoDB's CancellationReasons)."""

    def decide(spec: TableSpec, old: Item | None) -> tuple[Write, dict[str, str] | None]:
        try:
            write, _ = m.decide(spec, old)
        except errors.ConditionalCheckFailed as e:
            return Write(None, changed=False), {
                "Code": "ConditionalCheckFailed",
                "Message": e.message,
            }
        except AwsApiError as e:
            return Write(None, changed=False), {"Code": "ValidationError", "Message": e.message}
        return write, None

    return Mutation(m.table, m.pk, m.sk, decide)


def segment(spec: TableSpec, items: list[Item], segment: Any, total: Any) -> list[Item]:
    """Parallel Scan: segment ``i`` of ``n`` holds the partitions whose key hashes to ``i``, so
    the segments are disjoint and together cover the table."""
    if total is None:
        raise errors.validation(
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present"
        )
    if segment is None:
        raise errors.validation(
            "The Segment parameter is required but was not present in the request when "
            "parameter TotalSegments is present"
        )
    if not isinstance(total, int) or not 1 <= total <= 1_000_000:
        raise errors.validation(
            f"1 validation error detected: Value '{total}' at 'totalSegments' failed to satisfy "
            "constraint: Member must have value less than or equal to 1000000"
        )
    if not isinstance(segment, int) or not 0 <= segment < total:
        raise errors.validation(
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            f"Segment: {segment} is not less than TotalSegments: {total}"
        )
    return [
        i
        for i in items
        if zlib.crc32(av.key_text(i[spec.partition_key]).encode("utf-8")) % total == segment
    ]


def check_size(item: Item, updating: bool = False) -> None:
    """DynamoDB's 400 KB item limit (measured here on the JSON form, a close upper bound)."""
    if len(json.dumps(item, separators=(",", ":"))) > _MAX_ITEM_BYTES:
        raise errors.validation(
            "Item size to update has exceeded the maximum allowed size"
            if updating
            else "Item size has exceeded the maximum allowed size"
        )


def _reject_empty_key(name: str, value: av.AttributeValue) -> None:
    if value.get("S") == "" or value.get("B") == "":
        raise errors.validation(
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            f"cannot contain an empty string value. Key: {name}"
        )


def updated_output(return_values: str, old: Item | None, new: Item, touched: list[Any]) -> Response:
    if return_values == "ALL_OLD":
        return {"Attributes": old} if old else {}
    if return_values == "ALL_NEW":
        return {"Attributes": new}
    if return_values == "UPDATED_OLD":
        attrs = project(old, touched) if old else {}
        return {"Attributes": attrs} if attrs else {}
    if return_values == "UPDATED_NEW":
        attrs = project(new, touched)
        return {"Attributes": attrs} if attrs else {}
    return {}
