"""Differential test: random items, conditions and updates give the same outcome here as in
moto's DynamoDB (which stands in for AWS): same resulting item, same returned attributes, same
error code and message.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from eltflow.errors import AwsApiError
from eltflow.items.service import DynamoDB
from eltflow.items.storage import ItemStore
from eltflow.store.db import Database
from eltflow.store.migrate import migrate

NAMES = ["a", "b", "c"]
TABLE: dict[str, Any] = {
    "TableName": "Diff",
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
}
KEY = {"pk": {"S": "k"}}


# -- strategies -----------------------------------------------------------------------------------
texts = st.sampled_from(["", "x", "xy", "y", "abc", "ab"])
numbers = st.one_of(
    st.integers(-3, 3).map(str), st.sampled_from(["1.5", "-0.25", "10", "2.50", "1e2"])
)
# moto evaluates conditions on Python values, where True == 1 and False == 0, so BOOL never
# meets a condition here (items and condition operands have none; updates still write BOOLs).
non_null = st.one_of(texts.map(lambda s: {"S": s}), numbers.map(lambda n: {"N": n}))
scalars = st.one_of(non_null, st.just({"NULL": True}))
writable = st.one_of(scalars, st.booleans().map(lambda b: {"BOOL": b}))
# moto treats a missing attribute as equal to NULL (AWS does not), so conditions compare
# against non-NULL values only.
operands = st.one_of(
    non_null,
    st.lists(non_null, max_size=2).map(lambda v: {"L": v}),
    st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=2, unique=True).map(
        lambda v: {"SS": v}
    ),
)
sets = st.one_of(
    st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=3, unique=True).map(
        lambda v: {"SS": v}
    ),
    st.lists(st.sampled_from(["1", "2", "3"]), min_size=1, max_size=3, unique=True).map(
        lambda v: {"NS": v}
    ),
)
values = st.one_of(
    scalars,
    sets,
    st.lists(scalars, max_size=3).map(lambda v: {"L": v}),
    st.dictionaries(st.sampled_from(NAMES), scalars, max_size=2).map(lambda v: {"M": v}),
)
items = st.dictionaries(st.sampled_from(NAMES), values, max_size=3)
updated_values = st.one_of(values, writable, st.lists(writable, max_size=2).map(lambda v: {"L": v}))


class Expr:
    """Accumulates placeholder values while an expression is drawn."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {}

    def value(self, v: dict[str, Any]) -> str:
        name = f":v{len(self.values)}"
        self.values[name] = v
        return name


def _path(draw: st.DrawFn) -> str:
    name: str = draw(st.sampled_from(NAMES))
    suffix: str = draw(st.sampled_from(["", "", "", "[0]", ".a"]))
    return name + suffix


@st.composite
def conditions(draw: st.DrawFn, expr: Expr, depth: int = 0) -> str:
    kinds = ["cmp", "between", "in", "exists", "not_exists", "type", "begins", "contains", "size"]
    if depth < 2:
        kinds += ["and", "or", "not", "paren"]
    kind = draw(st.sampled_from(kinds))
    p = _path(draw)
    if kind == "cmp":
        op = draw(st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
        # Ordering a set or list (`a <= :ss`) is where moto and we part ways and AWS's answer is
        # not pinned down by any reference we have, so the differential orders scalars only.
        operand = draw(operands if op in ("=", "<>") else non_null)
        return f"{p} {op} {expr.value(operand)}"
    if kind == "between":
        lo, hi = sorted([draw(st.integers(-3, 3)), draw(st.integers(-3, 3))])
        return f"{p} BETWEEN {expr.value({'N': str(lo)})} AND {expr.value({'N': str(hi)})}"
    if kind == "in":
        opts = [expr.value(draw(non_null)) for _ in range(draw(st.integers(1, 3)))]
        return f"{p} IN ({', '.join(opts)})"
    if kind in ("exists", "not_exists"):
        return f"attribute_{'exists' if kind == 'exists' else 'not_exists'}({p})"
    if kind == "type":
        t = draw(st.sampled_from(["S", "N", "BOOL", "NULL", "L", "M", "SS", "NS"]))
        return f"attribute_type({p}, {expr.value({'S': t})})"
    if kind == "begins":
        return f"begins_with({p}, {expr.value({'S': draw(texts.filter(bool))})})"
    if kind == "contains":
        # not BOOL: moto finds True in a number set (Python's True == 1); AWS does not
        needle = draw(st.one_of(texts.map(lambda s: {"S": s}), numbers.map(lambda n: {"N": n})))
        return f"contains({p}, {expr.value(needle)})"
    if kind == "size":
        return f"size({p}) {draw(st.sampled_from(['=', '>', '<=']))} {expr.value({'N': '1'})}"
    if kind == "not":
        return f"NOT {draw(conditions(expr, depth + 1))}"
    if kind == "paren":
        return f"({draw(conditions(expr, depth + 1))})"
    left = draw(conditions(expr, depth + 1))
    right = draw(conditions(expr, depth + 1))
    return f"{left} {kind.upper()} {right}"


@st.composite
def updates(draw: st.DrawFn, expr: Expr) -> str:
    # Top-level paths only: moto silently ignores updates of nested paths under a parent of
    # the wrong type, where AWS rejects them (our own tests cover nested updates).
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    sections: dict[str, list[str]] = {}
    for name in names:
        kind = draw(st.sampled_from(["set", "arith", "ine", "append", "remove", "add", "delete"]))
        if kind == "set":
            sections.setdefault("SET", []).append(f"{name} = {expr.value(draw(updated_values))}")
        elif kind == "arith":
            op = draw(st.sampled_from(["+", "-"]))
            sections.setdefault("SET", []).append(
                f"{name} = {name} {op} {expr.value({'N': draw(numbers)})}"
            )
        elif kind == "ine":
            sections.setdefault("SET", []).append(
                f"{name} = if_not_exists({name}, {expr.value(draw(scalars))})"
            )
        elif kind == "append":
            lst = expr.value({"L": [draw(scalars)]})
            sections.setdefault("SET", []).append(f"{name} = list_append({name}, {lst})")
        elif kind == "remove":
            sections.setdefault("REMOVE", []).append(name)
        elif kind == "add":
            v = draw(st.one_of(numbers.map(lambda n: {"N": n}), sets))
            sections.setdefault("ADD", []).append(f"{name} {expr.value(v)}")
        else:
            sections.setdefault("DELETE", []).append(f"{name} {expr.value(draw(sets))}")
    return " ".join(f"{k} {', '.join(v)}" for k, v in sections.items())


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    item = {**KEY, **draw(items)}
    expr = Expr()
    request: dict[str, Any] = {"TableName": "Diff", "Key": KEY, "ReturnValues": "ALL_NEW"}
    if draw(st.booleans()):
        request["ConditionExpression"] = draw(conditions(expr))
    request["UpdateExpression"] = draw(updates(expr))
    if expr.values:
        request["ExpressionAttributeValues"] = expr.values
    return item, request


# -- normalisation --------------------------------------------------------------------------------
def norm(v: Any) -> Any:
    """Compare numbers by value and sets unordered (representation may legitimately differ)."""
    if isinstance(v, dict):
        if set(v) == {"N"}:
            return {"N": Decimal(v["N"]).normalize()}
        if set(v) == {"NS"}:
            return {"NS": sorted(Decimal(x).normalize() for x in v["NS"])}
        if set(v) == {"SS"}:
            return {"SS": sorted(v["SS"])}
        return {k: norm(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [norm(x) for x in v]
    return v


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def moto_client() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client(
            "dynamodb",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_table(BillingMode="PAY_PER_REQUEST", **TABLE)
        yield client


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynamoDB]:
    path: Path = tmp_path_factory.mktemp("ddb") / "state.db"
    db = Database(f"sqlite:///{path}")
    migrate(db)
    service = DynamoDB(ItemStore(db))
    service.create_table(TABLE)
    yield service
    db.close()


def _moto(client: Any, op: str, request: dict[str, Any]) -> tuple[str, Any]:
    from botocore.exceptions import ClientError

    try:
        out = getattr(client, op)(**request)
    except ClientError as e:
        return "error", (e.response["Error"]["Code"], e.response["Error"]["Message"])
    except Exception as e:  # moto's own bugs (e.g. size() of a missing attribute): no oracle
        return "moto-crashed", repr(e)
    out.pop("ResponseMetadata", None)
    out.pop("ConsumedCapacity", None)  # moto always adds it; AWS only when asked
    return "ok", out


def _local(service: DynamoDB, op: str, request: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "ok", service.call(op, request)
    except AwsApiError as e:
        return "error", (e.code, e.message)


@settings(
    max_examples=int(os.environ.get("DDB_DIFF_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=cases())
def test_update_with_condition_matches_moto(
    moto_client: Any, local: DynamoDB, case: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    item, request = case
    put = {"TableName": "Diff", "Item": item}
    assert _moto(moto_client, "put_item", put)[0] == "ok"
    assert _local(local, "PutItem", put)[0] == "ok"
    theirs = _moto(moto_client, "update_item", request)
    assume(theirs[0] != "moto-crashed")
    ours = _local(local, "UpdateItem", request)
    assert norm(ours) == norm(theirs), (item, request)
    get = {"TableName": "Diff", "Key": KEY}
    stored = _local(local, "GetItem", get)
    if ours[0] == "ok":
        assert norm(stored) == norm(_moto(moto_client, "get_item", get))
    else:
        # A failed update changes nothing (moto may leave a half-applied item; AWS does not).
        assert norm(stored) == norm(("ok", {"Item": item}))
