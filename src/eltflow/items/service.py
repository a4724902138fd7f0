"""The DynamoDB API over local item tables: request dicts in, response dicts out.

Requests and responses use DynamoDB's wire shape (PascalCase keys, typed attribute values with
binaries as base64 text) — the shape Step Functions passes to ``dynamodb:*`` tasks and the one
botocore sends — so the optimized integration, the ``aws-sdk:dynamodb:*`` integration, the
boto3-shaped client and the CLI all call the same methods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eltflow.clock import Clock, SystemClock
from eltflow.items import checks, errors
from eltflow.items import values as av
from eltflow.items.evaluate import (
    Env,
    apply_update,
    check_condition_types,
    check_overlaps,
    check_update_types,
    evaluate,
    project,
)
from eltflow.items.keys import key_condition
from eltflow.items.parser import (
    Parsed,
    check_placeholders,
    parse_condition,
    parse_projection,
    parse_update,
)
from eltflow.items.storage import ItemStore, Mutation, TableSpec, Write
from eltflow.items.syntax import Condition, Path, Update
from eltflow.items.values import Item

Request = dict[str, Any]
Response = dict[str, Any]

REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass(frozen=True)
class _Expressions:
    """The parsed expressions of one request, with placeholders checked."""

    env: Env
    condition: Condition | None = None
    update: Update | None = None
    projection: tuple[Path, ...] | None = None
    filter: Condition | None = None
    key: Condition | None = None


class DynamoDB:
    """Local DynamoDB: tables and items in the state store."""

    def __init__(self, store: ItemStore, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or SystemClock()

    # -- dispatch ------------------------------------------------------------------------------
    def call(self, operation: str, request: Request) -> Response:
        """Run an operation by its API name (``PutItem``) or SDK name (``putItem``)."""
        name = operation[:1].upper() + operation[1:]
        handler = self.OPERATIONS.get(name)
        if handler is None:
            raise errors.validation(f"Unsupported DynamoDB operation: {operation}")
        return handler(self, dict(request or {}))

    # -- tables --------------------------------------------------------------------------------
    def create_table(self, request: Request) -> Response:
        name = checks.table_name(request)
        schema = request.get("KeySchema") or []
        defs = {
            d["AttributeName"]: d["AttributeType"]
            for d in request.get("AttributeDefinitions") or []
        }
        hashes = [k["AttributeName"] for k in schema if k.get("KeyType") == "HASH"]
        ranges = [k["AttributeName"] for k in schema if k.get("KeyType") == "RANGE"]
        if len(hashes) != 1 or len(ranges) > 1 or len(schema) != len(hashes) + len(ranges):
            raise errors.validation("Invalid KeySchema: one HASH key and at most one RANGE key")
        for attr in hashes + ranges:
            if attr not in defs:
                raise errors.validation(
                    "One or more parameter values were invalid: Some index key attributes are "
                    f"not defined in AttributeDefinitions. Keys: [{attr}], AttributeDefinitions: "
                    f"[{', '.join(defs)}]"
                )
            if defs[attr] not in ("S", "N", "B"):
                raise errors.validation(
                    f"1 validation error detected: Value '{defs[attr]}' at "
                    "'attributeDefinitions.1.member.attributeType' failed to satisfy "
                    "constraint: Member must satisfy enum value set: [B, N, S]"
                )
        if len(defs) != len(hashes) + len(ranges):
            raise errors.validation(
                "One or more parameter values were invalid: Number of attributes in KeySchema "
                "does not exactly match number of attributes defined in AttributeDefinitions"
            )
        spec = TableSpec(
            name=name,
            partition_key=hashes[0],
            partition_type=defs[hashes[0]],
            sort_key=ranges[0] if ranges else None,
            sort_type=defs[ranges[0]] if ranges else None,
        )
        created = self.store.create_table(spec, self.clock.now())
        return {"TableDescription": self._describe(created, status="ACTIVE")}

    def describe_table(self, request: Request) -> Response:
        name = checks.table_name(request)
        spec = self.store.get_table(name)
        if spec is None:
            raise errors.table_not_found(name)
        return {"Table": self._describe(spec)}

    def list_tables(self, request: Request) -> Response:
        names = [t.name for t in self.store.list_tables()]
        start = request.get("ExclusiveStartTableName")
        if start:
            names = [n for n in names if n > start]
        limit = int(request.get("Limit") or 100)
        out: Response = {"TableNames": names[:limit]}
        if len(names) > limit:
            out["LastEvaluatedTableName"] = names[limit - 1]
        return out

    def delete_table(self, request: Request) -> Response:
        name = checks.table_name(request)
        spec = self.store.get_table(name)
        if spec is None:
            raise errors.table_not_found(name)
        description = self._describe(spec, status="DELETING")
        self.store.delete_table(name)
        return {"TableDescription": description}

    def _describe(self, spec: TableSpec, status: str = "ACTIVE") -> dict[str, Any]:
        count, size = self.store.count(spec.name)
        key_schema = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
        defs = [{"AttributeName": spec.partition_key, "AttributeType": spec.partition_type}]
        if spec.sort_key:
            key_schema.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
            defs.append({"AttributeName": spec.sort_key, "AttributeType": spec.sort_type or "S"})
        created = spec.created_at or self.clock.now()
        return {
            "TableName": spec.name,
            "TableArn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{spec.name}",
            "TableId": spec.name,
            "KeySchema": key_schema,
            "AttributeDefinitions": defs,
            "TableStatus": status,
            "CreationDateTime": created.timestamp(),
            "ItemCount": count,
            "TableSizeBytes": size,
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
            "ProvisionedThroughput": {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": 0,
                "WriteCapacityUnits": 0,
            },
        }

    # -- single items --------------------------------------------------------------------------
    def get_item(self, request: Request) -> Response:
        spec = self._table(request)
        exprs = self._expressions(request, projection="ProjectionExpression")
        pk, sk = checks.key_columns(spec, request.get("Key"))
        item = self.store.get(spec.name, pk, sk)
        if item is None:
            return {}
        if exprs.projection is not None:
            item = project(item, [exprs.env.resolve(p) for p in exprs.projection])
        return {"Item": item}

    def put_item(self, request: Request) -> Response:
        return self.store.transact([self._put(request)])[0]

    def delete_item(self, request: Request) -> Response:
        return self.store.transact([self._delete(request)])[0]

    def update_item(self, request: Request) -> Response:
        return self.store.transact([self._update(request)])[0]

    # Each write is validated up front, then becomes a Mutation whose ``decide`` runs inside the
    # storage transaction (alone, or with others for TransactWriteItems).
    def _put(self, request: Request) -> Mutation[Response]:
        spec = self._table(request)
        return_values = checks.return_values(request, allowed=("NONE", "ALL_OLD"))
        exprs = self._expressions(request, condition="ConditionExpression")
        item = av.validate_item(request.get("Item"))
        pk, sk = checks.item_key(spec, item)
        checks.check_size(item)

        def decide(_: TableSpec, old: Item | None) -> tuple[Write, Response]:
            self._check(exprs, old, request)
            out: Response = {}
            if return_values == "ALL_OLD" and old is not None:
                out["Attributes"] = old
            return Write(item), out

        return Mutation(spec.name, pk, sk, decide)

    def _delete(self, request: Request) -> Mutation[Response]:
        spec = self._table(request)
        return_values = checks.return_values(request, allowed=("NONE", "ALL_OLD"))
        exprs = self._expressions(request, condition="ConditionExpression")
        pk, sk = checks.key_columns(spec, request.get("Key"))

        def decide(_: TableSpec, old: Item | None) -> tuple[Write, Response]:
            self._check(exprs, old, request)
            out: Response = {}
            if return_values == "ALL_OLD" and old is not None:
                out["Attributes"] = old
            return Write(None, changed=old is not None), out

        return Mutation(spec.name, pk, sk, decide)

    def _condition_check(self, request: Request) -> Mutation[Response]:
        spec = self._table(request)
        if not request.get("ConditionExpression"):
            raise errors.validation(
                "1 validation error detected: Value null at "
                "'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy "
                "constraint: Member must not be null"
            )
        exprs = self._expressions(request, condition="ConditionExpression")
        pk, sk = checks.key_columns(spec, request.get("Key"))

        def decide(_: TableSpec, old: Item | None) -> tuple[Write, Response]:
            self._check(exprs, old, request)
            return Write(None, changed=False), {}

        return Mutation(spec.name, pk, sk, decide)

    def _update(self, request: Request) -> Mutation[Response]:
        spec = self._table(request)
        return_values = checks.return_values(request, allowed=tuple(checks.RETURN_VALUES))
        exprs = self._expressions(
            request, update="UpdateExpression", condition="ConditionExpression"
        )
        key = request.get("Key")
        pk, sk = checks.key_columns(spec, key)
        assert isinstance(key, dict)
        key_item = av.validate_item(key)
        update = exprs.update
        if update is not None:
            paths = [exprs.env.resolve(a.path) for a in update.actions]
            for path in paths:
                if path[0] in spec.key_names:
                    raise errors.validation(
                        f"One or more parameter values were invalid: Cannot update attribute "
                        f"{path[0]}. This attribute is part of the key"
                    )
            check_overlaps(paths)

        def decide(_: TableSpec, old: Item | None) -> tuple[Write, Response]:
            self._check(exprs, old, request)
            base = old if old is not None else dict(key_item)
            if update is None:
                return Write(base, changed=old is None), checks.updated_output(
                    return_values, old, base, []
                )
            new, touched = apply_update(update, base, exprs.env)
            checks.check_size(new, updating=True)
            return Write(new), checks.updated_output(return_values, old, new, touched)

        return Mutation(spec.name, pk, sk, decide)

    # -- transactions and batches --------------------------------------------------------------
    def transact_write_items(self, request: Request) -> Response:
        """All-or-nothing writes; a failed condition cancels all with per-item reasons."""
        entries = checks.check_count(request.get("TransactItems"), "transactItems", 100)
        builders = {
            "Put": self._put,
            "Update": self._update,
            "Delete": self._delete,
            "ConditionCheck": self._condition_check,
        }
        mutations: list[Mutation[Any]] = []
        seen: set[tuple[str, str, str]] = set()
        for entry in entries:
            if not isinstance(entry, dict) or len(entry) != 1 or next(iter(entry)) not in builders:
                raise errors.validation(
                    "TransactItems can only contain one of Check, Put, Update or Delete"
                )
            ((kind, body),) = entry.items()
            m = builders[kind](dict(body))
            if m.key_tuple in seen:
                raise errors.validation(
                    "Transaction request cannot include multiple operations on one item"
                )
            seen.add(m.key_tuple)
            mutations.append(checks.collecting(m))

        def verify(reasons: list[dict[str, str] | None]) -> None:
            if any(r is not None for r in reasons):
                raise errors.TransactionCanceled(
                    [r if r is not None else {"Code": "None"} for r in reasons]
                )

        self.store.transact(mutations, verify)
        return {}

    def transact_get_items(self, request: Request) -> Response:
        entries = checks.check_count(request.get("TransactItems"), "transactItems", 100)
        out = []
        for entry in entries:
            get = entry.get("Get") if isinstance(entry, dict) else None
            if not isinstance(get, dict):
                raise errors.validation("TransactItems can only contain Get")
            out.append(self.get_item(dict(get)))
        return {"Responses": out}

    def batch_get_item(self, request: Request) -> Response:
        tables = request.get("RequestItems") or {}
        if sum(len(t.get("Keys") or []) for t in tables.values()) > 100:
            raise errors.validation("Too many items requested for the BatchGetItem call")
        responses: dict[str, list[Item]] = {}
        for table, body in tables.items():
            items = responses.setdefault(table, [])
            for key in body.get("Keys") or []:
                get = {k: v for k, v in body.items() if k != "Keys"}
                found = self.get_item({**get, "TableName": table, "Key": key})
                if "Item" in found:
                    items.append(found["Item"])
        return {"Responses": responses, "UnprocessedKeys": {}}

    def batch_write_item(self, request: Request) -> Response:
        tables = request.get("RequestItems") or {}
        if sum(len(v) for v in tables.values()) > 25:
            raise errors.validation(
                "1 validation error detected: Value at 'requestItems' failed to satisfy "
                "constraint: Map value must satisfy constraint: [Member must have length less "
                "than or equal to 25, Member must have length greater than or equal to 1]"
            )
        mutations: list[Mutation[Any]] = []
        for table, writes in tables.items():
            for w in writes:
                if "PutRequest" in w:
                    mutations.append(self._put({"TableName": table, **w["PutRequest"]}))
                elif "DeleteRequest" in w:
                    mutations.append(self._delete({"TableName": table, **w["DeleteRequest"]}))
                else:
                    raise errors.validation("WriteRequest must hold PutRequest or DeleteRequest")
        for m in mutations:  # each write is atomic on its own, as in DynamoDB
            self.store.transact([m])
        return {"UnprocessedItems": {}}

    def _check(self, exprs: _Expressions, old: Item | None, request: Request) -> None:
        if exprs.condition is not None and not evaluate(exprs.condition, old, exprs.env):
            failed = errors.ConditionalCheckFailed(old)
            if request.get("ReturnValuesOnConditionCheckFailure") != "ALL_OLD":
                failed.item = None
            raise failed

    # -- many items ----------------------------------------------------------------------------
    def query(self, request: Request) -> Response:
        spec = self._table(request)
        exprs = self._expressions(
            request,
            key="KeyConditionExpression",
            filter="FilterExpression",
            projection="ProjectionExpression",
        )
        if exprs.key is None:
            raise errors.validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified "
                "in the request."
            )
        kc = key_condition(spec, exprs.key, exprs.env)
        items = [i for i in self.store.partition(spec.name, kc.partition_text) if kc.matches(i)]
        sort = spec.sort_key
        if sort is not None:
            items.sort(key=lambda i: av.order_key(i[sort]))  # type: ignore[arg-type,return-value]
        if request.get("ScanIndexForward", True) is False:
            items.reverse()
        return self._page(spec, items, request, exprs)

    def scan(self, request: Request) -> Response:
        spec = self._table(request)
        exprs = self._expressions(
            request, filter="FilterExpression", projection="ProjectionExpression"
        )
        items = self.store.scan(spec.name)
        segment, total = request.get("Segment"), request.get("TotalSegments")
        if segment is not None or total is not None:
            items = checks.segment(spec, items, segment, total)
        return self._page(spec, items, request, exprs)

    def _page(
        self, spec: TableSpec, items: list[Item], request: Request, exprs: _Expressions
    ) -> Response:
        start = request.get("ExclusiveStartKey")
        if start:
            want = checks.key_columns(spec, start)
            for i, item in enumerate(items):
                if checks.item_key(spec, item) == want:
                    items = items[i + 1 :]
                    break
        limit = request.get("Limit")
        last_key: Item | None = None
        if limit is not None:
            if not isinstance(limit, int) or limit < 1:
                raise errors.validation(
                    f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                    "constraint: Member must have value greater than or equal to 1"
                )
            # DynamoDB returns LastEvaluatedKey whenever Limit stops the read, even when no
            # items are left (the next page is then empty).
            if len(items) >= limit:
                items = items[:limit]
                last = items[-1]
                last_key = {k: last[k] for k in spec.key_names}
        scanned = len(items)
        if exprs.filter is not None:
            items = [i for i in items if evaluate(exprs.filter, i, exprs.env)]
        out: Response = {"Count": len(items), "ScannedCount": scanned}
        if request.get("Select") != "COUNT":
            if exprs.projection is not None:
                paths = [exprs.env.resolve(p) for p in exprs.projection]
                items = [project(i, paths) for i in items]
            out["Items"] = items
        if last_key is not None:
            out["LastEvaluatedKey"] = last_key
        return out

    # -- shared --------------------------------------------------------------------------------
    def _table(self, request: Request) -> TableSpec:
        legacy = sorted(k for k in checks.LEGACY if k in request)
        if legacy:
            # Ignoring them would silently drop a condition, so refuse instead.
            raise errors.validation(
                f"eltflow does not support the legacy parameter(s) {', '.join(legacy)}; use "
                "ConditionExpression, UpdateExpression, ProjectionExpression, "
                "KeyConditionExpression or FilterExpression"
            )
        spec = self.store.get_table(checks.table_name(request))
        if spec is None:
            raise errors.table_not_found()
        return spec

    def _expressions(self, request: Request, **fields: str) -> _Expressions:
        """Parse the request's expressions, then check placeholders in DynamoDB's order."""
        parsed: list[tuple[str, Parsed]] = []
        trees: dict[str, Any] = {}
        for role, field_name in fields.items():
            text = request.get(field_name)
            if text is None:
                continue
            if not isinstance(text, str):
                raise errors.validation(f"{field_name} must be a string")
            if role == "update":
                p = parse_update(text)
            elif role == "projection":
                p = parse_projection(text)
            else:
                p = parse_condition(text, field_name)
            parsed.append((field_name, p))
            trees[role] = p.tree
        names = request.get("ExpressionAttributeNames")
        raw_values = request.get("ExpressionAttributeValues")
        if names is not None and not parsed:
            raise errors.validation(
                "ExpressionAttributeNames can only be specified when using expressions"
            )
        if raw_values is not None and not parsed:
            raise errors.validation(
                "ExpressionAttributeValues can only be specified when using expressions"
            )
        write = any(f in ("UpdateExpression", "ConditionExpression") for f, _ in parsed)
        check_placeholders(parsed, names, raw_values, write=write)
        vals = {k: av.validate(v) for k, v in (raw_values or {}).items()}
        env = Env(dict(names or {}), vals)
        exprs = _Expressions(env=env, **trees)
        for role, field_name in fields.items():
            tree = trees.get(role)
            if tree is not None and role in ("condition", "filter"):
                check_condition_types(tree, env, field_name)
        if exprs.update is not None:
            check_update_types(exprs.update, env)
        return exprs

    OPERATIONS: dict[str, Callable[[DynamoDB, Request], Response]] = {}


DynamoDB.OPERATIONS = {
    "CreateTable": DynamoDB.create_table,
    "DescribeTable": DynamoDB.describe_table,
    "ListTables": DynamoDB.list_tables,
    "DeleteTable": DynamoDB.delete_table,
    "GetItem": DynamoDB.get_item,
    "PutItem": DynamoDB.put_item,
    "UpdateItem": DynamoDB.update_item,
    "DeleteItem": DynamoDB.delete_item,
    "Query": DynamoDB.query,
    "Scan": DynamoDB.scan,
    "TransactWriteItems": DynamoDB.transact_write_items,
    "TransactGetItems": DynamoDB.transact_get_items,
    "BatchGetItem": DynamoDB.batch_get_item,
    "BatchWriteItem": DynamoDB.batch_write_item,
}
