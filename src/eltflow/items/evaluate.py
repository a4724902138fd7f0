"""Evaluate parsed expressions against an item: conditions, updates and projections.

Pure functions over the wire form of items. DynamoDB's rules, as documented and as moto checks:
an operand that names a missing attribute makes ``=``/``<``/BETWEEN/IN false and ``<>`` true;
``<``-style comparisons hold only between two numbers, two strings or two binaries; all SET
operands are evaluated against the item *before* the update; list-index REMOVEs apply from the
highest index down so indexes refer to the original list.
"""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eltflow.items import errors
from eltflow.items import values as av
from eltflow.items.syntax import (
    Action,
    And,
    Arith,
    Between,
    Call,
    Compare,
    Condition,
    In,
    Not,
    Operand,
    Or,
    Path,
    Update,
    Value,
)
from eltflow.items.values import AttributeValue, Item

Resolved = tuple[str | int, ...]


@dataclass(frozen=True)
class Env:
    """ExpressionAttributeNames/Values of one request (already validated)."""

    names: dict[str, str]
    values: dict[str, AttributeValue]

    def resolve(self, path: Path) -> Resolved:
        return tuple(
            self.names[e] if isinstance(e, str) and e.startswith("#") else e for e in path.elements
        )


def get_path(item: Item | None, path: Resolved) -> AttributeValue | None:
    if item is None:
        return None
    first = path[0]
    assert isinstance(first, str)
    cur: AttributeValue | None = item.get(first)
    for e in path[1:]:
        if cur is None:
            return None
        if isinstance(e, int):
            lst = cur.get("L")
            cur = lst[e] if isinstance(lst, list) and e < len(lst) else None
        else:
            m = cur.get("M")
            cur = m.get(e) if isinstance(m, dict) else None
    return cur


# -- conditions ----------------------------------------------------------------------------------
def operand_value(op: Operand, item: Item | None, env: Env) -> AttributeValue | None:
    if isinstance(op, Value):
        return env.values[op.name]
    if isinstance(op, Path):
        return get_path(item, env.resolve(op))
    if isinstance(op, Call) and op.name == "size":
        target = operand_value(op.args[0], item, env)
        n = None if target is None else av.size(target)
        return None if n is None else {"N": str(n)}
    raise errors.validation(f"Unsupported operand in condition: {op}")


def _order(a: AttributeValue | None, b: AttributeValue | None) -> tuple[Any, Any] | None:
    if a is None or b is None or av.type_of(a) != av.type_of(b):
        return None
    ka, kb = av.order_key(a), av.order_key(b)
    if ka is None or kb is None:
        return None
    return ka, kb


def compare(op: str, a: AttributeValue | None, b: AttributeValue | None) -> bool:
    if op == "=":
        return a is not None and b is not None and av.equal(a, b)
    if op == "<>":
        return a is None or b is None or not av.equal(a, b)
    pair = _order(a, b)
    if pair is None:
        return False
    x, y = pair
    if op == "<":
        return bool(x < y)
    if op == "<=":
        return bool(x <= y)
    if op == ">":
        return bool(x > y)
    return bool(x >= y)


def evaluate(cond: Condition, item: Item | None, env: Env) -> bool:
    if isinstance(cond, And):
        return evaluate(cond.left, item, env) and evaluate(cond.right, item, env)
    if isinstance(cond, Or):
        return evaluate(cond.left, item, env) or evaluate(cond.right, item, env)
    if isinstance(cond, Not):
        return not evaluate(cond.operand, item, env)
    if isinstance(cond, Compare):
        return compare(
            cond.op, operand_value(cond.left, item, env), operand_value(cond.right, item, env)
        )
    if isinstance(cond, Between):
        v = operand_value(cond.operand, item, env)
        lo = operand_value(cond.low, item, env)
        hi = operand_value(cond.high, item, env)
        return compare(">=", v, lo) and compare("<=", v, hi)
    if isinstance(cond, In):
        v = operand_value(cond.operand, item, env)
        return any(compare("=", v, operand_value(o, item, env)) for o in cond.options)
    return _function(cond, item, env)


def _function(call: Call, item: Item | None, env: Env) -> bool:
    name = call.name
    if name in ("attribute_exists", "attribute_not_exists"):
        found = operand_value(call.args[0], item, env) is not None
        return found if name == "attribute_exists" else not found
    first = operand_value(call.args[0], item, env)
    second = operand_value(call.args[1], item, env)
    if name == "attribute_type":
        assert second is not None
        return first is not None and av.type_of(first) == second.get("S")
    if first is None or second is None:
        return False
    t1, t2 = av.type_of(first), av.type_of(second)
    if name == "begins_with":
        if t1 == t2 == "S":
            return bool(first["S"].startswith(second["S"]))
        if t1 == t2 == "B":
            return base64.b64decode(first["B"]).startswith(base64.b64decode(second["B"]))
        return False
    # contains
    if t1 == t2 == "S":
        return second["S"] in first["S"]
    if t1 in av.SET_TYPES:
        if av.SET_TYPES[t1] != t2:
            return False
        wanted = av.set_key(t1, second[t2])
        return any(av.set_key(t1, x) == wanted for x in first[t1])
    if t1 == "L":
        return any(av.equal(x, second) for x in first["L"])
    return False


def check_condition_types(cond: Condition, env: Env, kind: str) -> None:
    """Static checks DynamoDB makes on literal operands before touching the item."""
    if isinstance(cond, And | Or):
        check_condition_types(cond.left, env, kind)
        check_condition_types(cond.right, env, kind)
    elif isinstance(cond, Not):
        check_condition_types(cond.operand, env, kind)
    elif isinstance(cond, Call) and cond.name == "attribute_type":
        arg = cond.args[1]
        t = env.values[arg.name] if isinstance(arg, Value) else None
        if t is not None and (av.type_of(t) != "S" or t["S"] not in av.TYPES):
            shown = t.get("S", av.type_of(t))
            raise errors.invalid_expression(
                kind,
                f"Invalid attribute type name found; type: {shown}, valid types: "
                "{ B,BOOL,BS,L,M,N,NS,NULL,S,SS }",
            )
        if t is not None and av.type_of(t) != "S":
            raise errors.invalid_expression(
                kind,
                "Incorrect operand type for operator or function; operator or function: "
                f"attribute_type, operand type: {av.type_of(t)}",
            )
    elif isinstance(cond, Call) and cond.name == "begins_with":
        for arg in cond.args:
            if isinstance(arg, Value):
                vt = av.type_of(env.values[arg.name])
                if vt not in ("S", "B"):
                    raise errors.invalid_expression(
                        kind,
                        "Incorrect operand type for operator or function; operator or "
                        f"function: begins_with, operand type: {vt}",
                    )


# -- projection ----------------------------------------------------------------------------------
def project(item: Item, paths: list[Resolved]) -> Item:
    """Copy only the given document paths (list elements keep their relative order)."""
    out: Item = {}
    for path in sorted(paths, key=_path_sort_key):
        value = get_path(item, path)
        if value is not None:
            _put_projected(out, path, copy.deepcopy(value))
    return out


def _path_sort_key(path: Resolved) -> tuple[tuple[int, Any], ...]:
    return tuple((1, e) if isinstance(e, int) else (0, e) for e in path)


def _put_projected(out: Item, path: Resolved, value: AttributeValue) -> None:
    first = path[0]
    assert isinstance(first, str)
    if len(path) == 1:
        out[first] = value
        return
    container: AttributeValue = out.setdefault(
        first, {"L": []} if isinstance(path[1], int) else {"M": {}}
    )
    for i, e in enumerate(path[1:], start=1):
        last = i == len(path) - 1
        nxt = None if last else path[i + 1]
        fresh: AttributeValue = {"L": []} if isinstance(nxt, int) else {"M": {}}
        if isinstance(e, int):
            lst = container["L"]
            if last:
                lst.append(value)
                return
            lst.append(fresh)
            container = lst[-1]
        else:
            m = container["M"]
            if last:
                m[e] = value
                return
            container = m.setdefault(e, fresh)


# -- updates -------------------------------------------------------------------------------------
def _arith(op: str, a: AttributeValue, b: AttributeValue) -> AttributeValue:
    if av.type_of(a) != "N" or av.type_of(b) != "N":
        raise errors.incorrect_data_type()
    x, y = Decimal(a["N"]), Decimal(b["N"])
    result = x + y if op == "+" else x - y
    return {"N": av.number_text(av.parse_number(str(result)))}


class _Missing:
    """A path operand that names no attribute (kept until DynamoDB's "missing" check)."""


MISSING = _Missing()
_Resolved = Any  # AttributeValue | _Missing | tuple[str, _Resolved, _Resolved]


def _resolve_operand(op: Operand, item: Item | None, env: Env) -> _Resolved:
    """Phase 1 of a SET value: placeholders, paths and functions (if_not_exists,
    list_append) are resolved; arithmetic waits for phase 3."""
    if isinstance(op, Value):
        return env.values[op.name]
    if isinstance(op, Path):
        v = get_path(item, env.resolve(op))
        return MISSING if v is None else v
    if isinstance(op, Arith):
        return (op.op, _resolve_operand(op.left, item, env), _resolve_operand(op.right, item, env))
    if isinstance(op, Call) and op.name == "if_not_exists":
        current = _resolve_operand(op.args[0], item, env)
        return _resolve_operand(op.args[1], item, env) if current is MISSING else current
    if isinstance(op, Call) and op.name == "list_append":
        a = _resolve_operand(op.args[0], item, env)
        b = _resolve_operand(op.args[1], item, env)
        if a is MISSING or b is MISSING:
            raise errors.missing_attribute()
        for side in (a, b):
            t = av.type_of(side) if isinstance(side, dict) else "N"
            if t != "L":
                raise errors.invalid_expression(
                    "UpdateExpression",
                    "Incorrect operand type for operator or function; operator or function: "
                    f"list_append, operand type: {t}",
                )
        return {"L": [*a["L"], *b["L"]]}
    raise errors.validation(f"Unsupported operand in update: {op}")


def _has_missing(r: _Resolved) -> bool:
    if r is MISSING:
        return True
    return isinstance(r, tuple) and (_has_missing(r[1]) or _has_missing(r[2]))


def _compute(r: _Resolved) -> AttributeValue:
    """Phase 3: arithmetic, with DynamoDB's operand-type message (named after the left side)."""
    if not isinstance(r, tuple):
        assert isinstance(r, dict)
        return r
    op, left, right = r[0], _compute(r[1]), _compute(r[2])
    if av.type_of(left) != "N" or av.type_of(right) != "N":
        raise errors.invalid_expression(
            "UpdateExpression",
            "Incorrect operand type for operator or function; operator or function: "
            f"{op}, operand type: {av.type_of(left)}",
        )
    return _arith(op, left, right)


def set_values(actions: list[Action], item: Item | None, env: Env) -> list[AttributeValue]:
    """The right sides of all SET actions, evaluated on the old item in DynamoDB's phases:
    functions first, then missing attributes, then arithmetic."""
    resolved = [_resolve_operand(a.value, item, env) for a in actions if a.value is not None]
    if any(_has_missing(r) for r in resolved):
        raise errors.missing_attribute()
    return [_compute(r) for r in resolved]


def check_update_types(update: Update, env: Env) -> None:
    """DynamoDB rejects literal operands of the wrong type before reading the item."""
    for action in update.actions:
        if action.kind in ("ADD", "DELETE"):
            assert isinstance(action.value, Value)
            t = av.type_of(env.values[action.value.name])
            allowed = ("N", "SS", "NS", "BS") if action.kind == "ADD" else ("SS", "NS", "BS")
            if t not in allowed:
                raise errors.invalid_expression(
                    "UpdateExpression",
                    "Incorrect operand type for operator or function; operator: "
                    f"{action.kind}, operand type: {av.LONG_NAMES[t]}, typeSet: "
                    f"ALLOWED_FOR_{action.kind}_OPERAND",
                )
        elif action.value is not None:
            _check_operand_types(action.value, env)


def _check_operand_types(op: Operand, env: Env) -> None:
    if isinstance(op, Arith):
        for side in (op.left, op.right):
            if isinstance(side, Value) and av.type_of(env.values[side.name]) != "N":
                raise errors.invalid_expression(
                    "UpdateExpression",
                    "Incorrect operand type for operator or function; operator or function: "
                    f"{op.op}, operand type: {av.type_of(env.values[side.name])}",
                )
            _check_operand_types(side, env)
    elif isinstance(op, Call):
        for i, arg in enumerate(op.args):
            if (
                op.name == "list_append"
                and isinstance(arg, Value)
                and av.type_of(env.values[arg.name]) != "L"
            ):
                raise errors.invalid_expression(
                    "UpdateExpression",
                    "Incorrect operand type for operator or function; operator or function: "
                    f"list_append, operand type: {av.type_of(env.values[arg.name])}",
                )
            if i > 0 or op.name == "list_append":
                _check_operand_types(arg, env)


def _fmt(path: Resolved) -> str:
    return "[" + ", ".join(f"[{e}]" if isinstance(e, int) else e for e in path) + "]"


def check_overlaps(paths: list[Resolved]) -> None:
    for i, p in enumerate(paths):
        for q in paths[:i]:
            n = min(len(p), len(q))
            if p[:n] == q[:n]:
                raise errors.validation(
                    "1 validation error detected: Invalid UpdateExpression: "
                    "Two document paths overlap with each other; must remove or rewrite one of "
                    f"these paths; path one: {_fmt(q)}, path two: {_fmt(p)}",
                )


def apply_update(update: Update, item: Item, env: Env) -> tuple[Item, list[Resolved]]:
    """Return the new item and the paths the update wrote (for UPDATED_OLD/UPDATED_NEW)."""
    old = item
    new = copy.deepcopy(item)
    touched: list[Resolved] = []
    # Evaluate every SET right side on the old item first, as DynamoDB does.
    sets = [a for a in update.actions if a.kind == "SET"]
    computed = dict(zip([id(a) for a in sets], set_values(sets, old, env), strict=True))
    planned = [(a, env.resolve(a.path), computed.get(id(a))) for a in update.actions]
    removes = []
    for action, path, value in planned:
        touched.append(path)
        if action.kind == "SET":
            assert value is not None
            _assign(new, path, copy.deepcopy(value))
        elif action.kind == "REMOVE":
            removes.append(path)
        else:
            assert isinstance(action.value, Value)
            operand = env.values[action.value.name]
            current = get_path(new, path)
            _assign(new, path, _add_or_delete(action.kind, current, operand))
    for path in sorted(removes, key=_path_sort_key, reverse=True):
        _remove(new, path)
    return new, touched


def _add_or_delete(
    kind: str, current: AttributeValue | None, operand: AttributeValue
) -> AttributeValue | None:
    t = av.type_of(operand)
    if current is None:
        if kind == "DELETE":
            return None
        return {"N": operand["N"]} if t == "N" else copy.deepcopy(operand)
    if av.type_of(current) != t:
        raise errors.incorrect_data_type()
    if t == "N":
        return _arith("+", current, operand)
    keys = {av.set_key(t, x) for x in operand[t]}
    if kind == "ADD":
        have = {av.set_key(t, x) for x in current[t]}
        merged = list(current[t]) + [x for x in operand[t] if av.set_key(t, x) not in have]
        return {t: merged}
    left = [x for x in current[t] if av.set_key(t, x) not in keys]
    return {t: left} if left else None  # an emptied set disappears


def _assign(item: Item, path: Resolved, value: AttributeValue | None) -> None:
    last = path[-1]
    if len(path) == 1:
        assert isinstance(last, str)
        if value is None:
            item.pop(last, None)
        else:
            item[last] = value
        return
    parent = get_path(item, path[:-1])
    if parent is None:
        raise errors.invalid_document_path()
    if isinstance(last, int):
        lst = parent.get("L")
        if not isinstance(lst, list):
            raise errors.invalid_document_path()
        if value is None:
            if last < len(lst):
                del lst[last]
        elif last < len(lst):
            lst[last] = value
        else:
            lst.append(value)  # beyond the end appends, as DynamoDB does
    else:
        m = parent.get("M")
        if not isinstance(m, dict):
            raise errors.invalid_document_path()
        if value is None:
            m.pop(last, None)
        else:
            m[last] = value


def _remove(item: Item, path: Resolved) -> None:
    if len(path) > 1:
        parent = get_path(item, path[:-1])
        if parent is None:
            return
        last = path[-1]
        if isinstance(last, int) and not isinstance(parent.get("L"), list):
            raise errors.invalid_document_path()
        if isinstance(last, str) and not isinstance(parent.get("M"), dict):
            raise errors.invalid_document_path()
    _assign(item, path, None)
