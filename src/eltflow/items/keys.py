"""KeyConditionExpression: the restricted condition a Query selects a partition with.

``pk = :v`` optionally ``AND`` one sort-key condition (``= < <= > >=``, ``BETWEEN``,
``begins_with``); anything else is rejected with DynamoDB's wording.
"""

from __future__ import annotations

from dataclasses import dataclass

from eltflow.items import errors
from eltflow.items import values as av
from eltflow.items.evaluate import Env, evaluate
from eltflow.items.storage import TableSpec
from eltflow.items.syntax import And, Between, Call, Compare, Condition, Not, Or, Path, Value
from eltflow.items.values import Item


@dataclass(frozen=True)
class KeyCondition:
    partition_text: str
    sort: Condition | None
    env: Env

    def matches(self, item: Item) -> bool:
        return self.sort is None or evaluate(self.sort, item, self.env)


def _conjuncts(cond: Condition) -> list[Condition]:
    if isinstance(cond, And):
        return _conjuncts(cond.left) + _conjuncts(cond.right)
    if isinstance(cond, Or | Not):
        op = "OR" if isinstance(cond, Or) else "NOT"
        raise errors.validation(f"Invalid operator used in KeyConditionExpression: {op}")
    return [cond]


def _key_attr(cond: Condition, env: Env) -> str:
    if isinstance(cond, Compare):
        paths = [o for o in (cond.left, cond.right) if isinstance(o, Path)]
        if len(paths) != 1:
            raise errors.validation(
                "Invalid condition in KeyConditionExpression: Multiple attribute names used in "
                "one condition"
                if len(paths) > 1
                else "Invalid condition in KeyConditionExpression: No key attribute specified"
            )
        path = paths[0]
    elif isinstance(cond, Between) and isinstance(cond.operand, Path):
        path = cond.operand
    elif isinstance(cond, Call) and cond.name == "begins_with" and isinstance(cond.args[0], Path):
        path = cond.args[0]
    else:
        name = cond.name if isinstance(cond, Call) else type(cond).__name__.upper()
        raise errors.validation(f"Invalid operator used in KeyConditionExpression: {name}")
    resolved = env.resolve(path)
    if len(resolved) != 1:
        raise errors.validation("Query key condition not supported")
    return str(resolved[0])


def key_condition(spec: TableSpec, cond: Condition, env: Env) -> KeyCondition:
    parts = _conjuncts(cond)
    if len(parts) > 2:
        raise errors.validation("Conditions can be of length 1 or 2 only")
    by_attr: dict[str, Condition] = {}
    for part in parts:
        attr = _key_attr(part, env)
        if attr not in spec.key_names:
            raise errors.validation(
                f"Query condition missed key schema element: {spec.partition_key}"
                if spec.partition_key not in [_key_attr(p, env) for p in parts]
                else "Query key condition not supported"
            )
        by_attr[attr] = part
    pk_cond = by_attr.get(spec.partition_key)
    if pk_cond is None:
        raise errors.validation(f"Query condition missed key schema element: {spec.partition_key}")
    if not (isinstance(pk_cond, Compare) and pk_cond.op == "="):
        raise errors.validation("Query key condition not supported")
    value_op = pk_cond.right if isinstance(pk_cond.right, Value) else pk_cond.left
    if not isinstance(value_op, Value):
        raise errors.validation("Query key condition not supported")
    value = env.values[value_op.name]
    if av.type_of(value) != spec.partition_type:
        raise errors.validation(
            "One or more parameter values were invalid: Condition parameter type does not match "
            "schema type"
        )
    sort = by_attr.get(spec.sort_key) if spec.sort_key else None
    if sort is not None and isinstance(sort, Compare) and sort.op == "<>":
        raise errors.validation("Unsupported operator on KeyConditionExpression: operator: <>")
    return KeyCondition(av.key_text(value), sort, env)
