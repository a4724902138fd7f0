"""``eltflow tables …``, ``eltflow items …`` and ``eltflow topics …``: thin commands over the
local DynamoDB and SNS services in the state store. Output is JSON; failures print DynamoDB's /
SNS's error code and message and exit 1.

Keys, items and ``--values`` accept DynamoDB's typed JSON (``{"JobID": {"S": "101"}}``) or plain
JSON (``{"JobID": "101"}``), which is typed the way boto3's serializer would.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eltflow.errors import ConfigError

if TYPE_CHECKING:
    from eltflow.app import App
    from eltflow.notify.topics import Topics

_TYPES = {"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}


def register(subparsers: Any) -> None:
    tables = subparsers.add_parser("tables", help="DynamoDB-compatible item tables")
    tsub = tables.add_subparsers(dest="tables_command", metavar="ACTION", required=True)
    p = tsub.add_parser("create", help="create a table")
    p.add_argument("name")
    p.add_argument("--partition-key", required=True, metavar="ATTR")
    p.add_argument("--partition-key-type", default="S", choices=["S", "N", "B"])
    p.add_argument("--sort-key", default=None, metavar="ATTR")
    p.add_argument("--sort-key-type", default="S", choices=["S", "N", "B"])
    p.set_defaults(handler=cmd_tables_create)
    p = tsub.add_parser("list", help="list tables")
    p.set_defaults(handler=lambda a: _ddb(a, "ListTables", {}))
    for action, op in (("describe", "DescribeTable"), ("delete", "DeleteTable")):
        p = tsub.add_parser(action, help=f"{action} a table")
        p.add_argument("name")
        p.set_defaults(handler=lambda a, op=op: _ddb(a, op, {"TableName": a.name}))

    items = subparsers.add_parser("items", help="read and write items of a table")
    isub = items.add_subparsers(dest="items_command", metavar="ACTION", required=True)
    p = isub.add_parser("get", help="GetItem")
    p.add_argument("table")
    p.add_argument("--key", required=True, metavar="JSON")
    p.add_argument("--projection", default=None, metavar="EXPR")
    _names(p)
    p.set_defaults(handler=cmd_items_get)
    p = isub.add_parser("put", help="PutItem")
    p.add_argument("table")
    p.add_argument("--item", required=True, metavar="JSON")
    p.add_argument("--condition", default=None, metavar="EXPR")
    _names(p, values=True)
    p.set_defaults(handler=cmd_items_put)
    p = isub.add_parser("update", help="UpdateItem")
    p.add_argument("table")
    p.add_argument("--key", required=True, metavar="JSON")
    p.add_argument("--update", required=True, metavar="EXPR", help="UpdateExpression")
    p.add_argument("--condition", default=None, metavar="EXPR")
    p.add_argument(
        "--return-values",
        default="ALL_NEW",
        choices=["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"],
    )
    _names(p, values=True)
    p.set_defaults(handler=cmd_items_update)
    p = isub.add_parser("scan", help="Scan (optionally filtered)")
    p.add_argument("table")
    p.add_argument("--filter", default=None, metavar="EXPR")
    p.add_argument("--limit", type=int, default=None)
    _names(p, values=True)
    p.set_defaults(handler=cmd_items_scan)

    topics = subparsers.add_parser("topics", help="local SNS topics")
    osub = topics.add_subparsers(dest="topics_command", metavar="ACTION", required=True)
    p = osub.add_parser("create", help="create a topic (idempotent)")
    p.add_argument("name")
    p.set_defaults(handler=lambda a: _sns(a, "CreateTopic", {"Name": a.name}))
    p = osub.add_parser("subscribe", help="subscribe an endpoint to a topic")
    p.add_argument("name")
    p.add_argument(
        "--protocol", required=True, choices=["file", "log", "http", "https", "email", "email-json"]
    )
    p.add_argument("--endpoint", required=True)
    p.set_defaults(handler=cmd_topics_subscribe)
    p = osub.add_parser("list", help="list topics with their subscriptions")
    p.set_defaults(handler=cmd_topics_list)
    p = osub.add_parser("deliveries", help="the delivery log (what reached each subscriber)")
    p.add_argument("--message-id", default=None)
    p.add_argument("--status", default=None, choices=["pending", "delivered", "failed"])
    p.set_defaults(handler=cmd_topics_deliveries)
    p = osub.add_parser("publish", help="publish a message")
    p.add_argument("name")
    p.add_argument("--message", required=True)
    p.add_argument("--subject", default=None)
    p.set_defaults(handler=cmd_topics_publish)


def _names(p: argparse.ArgumentParser, values: bool = False) -> None:
    p.add_argument("--names", default=None, metavar="JSON", help="ExpressionAttributeNames")
    if values:
        p.add_argument("--values", default=None, metavar="JSON", help="ExpressionAttributeValues")


# -- plumbing ------------------------------------------------------------------------------------
@contextmanager
def _opened(args: argparse.Namespace) -> Iterator[App]:
    from eltflow.app import build_app
    from eltflow.config import load_settings

    app = build_app(load_settings(args.project_dir))
    try:
        yield app
    finally:
        app.close()


@contextmanager
def _topics(args: argparse.Namespace) -> Iterator[Topics]:
    """The project's local SNS topics (the commands below read the local delivery log)."""
    from eltflow.notify.topics import Topics

    with _opened(args) as app:
        if not isinstance(app.topics, Topics):
            raise ConfigError('eltflow topics works on local topics; [aws] mode is "aws"')
        yield app.topics


def _print(value: Any) -> int:
    print(json.dumps(value, indent=2, default=str))
    return 0


def _ddb(args: argparse.Namespace, operation: str, request: dict[str, Any]) -> int:
    with _opened(args) as app:
        assert app.items is not None  # a project always has its item tables
        return _print(app.items.call(operation, request))


def _sns(args: argparse.Namespace, operation: str, request: dict[str, Any]) -> int:
    with _opened(args) as app:
        assert app.topics is not None  # a project always has its topics
        return _print(app.topics.call(operation, request))


def _json(text: str | None, what: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError as e:
        raise ConfigError(f"{what} is not valid JSON: {e}") from e


def typed(value: Any) -> dict[str, Any]:
    """Plain JSON → a typed attribute value (boto3's serializer rules)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, int | float | Decimal):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [typed(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {k: typed(v) for k, v in value.items()}}
    raise ConfigError(f"cannot store {value!r} as a DynamoDB value")


def _is_typed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _TYPES


def _typed_map(text: str | None, what: str) -> dict[str, Any] | None:
    raw = _json(text, what)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError(f"{what} must be a JSON object")
    return {k: v if _is_typed(v) else typed(v) for k, v in raw.items()}


def _expression_args(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    names = _json(getattr(args, "names", None), "--names")
    if names is not None:
        out["ExpressionAttributeNames"] = names
    values = _typed_map(getattr(args, "values", None), "--values")
    if values is not None:
        out["ExpressionAttributeValues"] = values
    return out


# -- commands ------------------------------------------------------------------------------------
def cmd_tables_create(args: argparse.Namespace) -> int:
    schema = [{"AttributeName": args.partition_key, "KeyType": "HASH"}]
    defs = [{"AttributeName": args.partition_key, "AttributeType": args.partition_key_type}]
    if args.sort_key:
        schema.append({"AttributeName": args.sort_key, "KeyType": "RANGE"})
        defs.append({"AttributeName": args.sort_key, "AttributeType": args.sort_key_type})
    request = {"TableName": args.name, "KeySchema": schema, "AttributeDefinitions": defs}
    return _ddb(args, "CreateTable", request)


def cmd_items_get(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"TableName": args.table, "Key": _typed_map(args.key, "--key")}
    if args.projection:
        request["ProjectionExpression"] = args.projection
    return _ddb(args, "GetItem", request | _expression_args(args))


def cmd_items_put(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"TableName": args.table, "Item": _typed_map(args.item, "--item")}
    if args.condition:
        request["ConditionExpression"] = args.condition
    return _ddb(args, "PutItem", request | _expression_args(args))


def cmd_items_update(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {
        "TableName": args.table,
        "Key": _typed_map(args.key, "--key"),
        "UpdateExpression": args.update,
        "ReturnValues": args.return_values,
    }
    if args.condition:
        request["ConditionExpression"] = args.condition
    return _ddb(args, "UpdateItem", request | _expression_args(args))


def cmd_items_scan(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"TableName": args.table}
    if args.filter:
        request["FilterExpression"] = args.filter
    if args.limit is not None:
        request["Limit"] = args.limit
    return _ddb(args, "Scan", request | _expression_args(args))


def cmd_topics_subscribe(args: argparse.Namespace) -> int:
    with _topics(args) as topics:
        request = {
            "TopicArn": topics.arn(args.name),
            "Protocol": args.protocol,
            "Endpoint": args.endpoint,
        }
        return _print(topics.subscribe(request))


def cmd_topics_list(args: argparse.Namespace) -> int:
    from eltflow.notify.listing import topics_with_subscriptions

    with _topics(args) as topics:
        return _print({"Topics": topics_with_subscriptions(topics)})


def cmd_topics_publish(args: argparse.Namespace) -> int:
    with _topics(args) as topics:
        request: dict[str, Any] = {"TopicArn": topics.arn(args.name), "Message": args.message}
        if args.subject:
            request["Subject"] = args.subject
        out = topics.publish(request)
        return _print(out | {"Deliveries": topics.deliveries(out["MessageId"])})


def cmd_topics_deliveries(args: argparse.Namespace) -> int:
    with _topics(args) as topics:
        rows = topics.deliveries(args.message_id, status=args.status or None)
        return _print({"Deliveries": rows})
