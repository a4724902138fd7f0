"""The abstract syntax of DynamoDB's expression languages, as frozen dataclasses.

Placeholders (``#n``, ``:v``) are kept as written; they are resolved against
ExpressionAttributeNames/Values when evaluated, so one parse tree serves any request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True)
class Path:
    """A document path: names (``a``, ``#n``) and list indexes, e.g. ``a.#b[2]``."""

    elements: tuple[str | int, ...]


@dataclass(frozen=True)
class Value:
    """An ExpressionAttributeValues placeholder such as ``:ready``."""

    name: str


@dataclass(frozen=True)
class Call:
    """A function: size, if_not_exists, list_append (operands) or attribute_exists,
    attribute_not_exists, attribute_type, begins_with, contains (conditions)."""

    name: str
    args: tuple[Operand, ...]


@dataclass(frozen=True)
class Arith:
    """``a + b`` / ``a - b`` on the right of a SET action."""

    op: str
    left: Operand
    right: Operand


Operand: TypeAlias = "Path | Value | Call | Arith"


@dataclass(frozen=True)
class Compare:
    op: str  # = <> < <= > >=
    left: Operand
    right: Operand


@dataclass(frozen=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True)
class In:
    operand: Operand
    options: tuple[Operand, ...]


@dataclass(frozen=True)
class And:
    left: Condition
    right: Condition


@dataclass(frozen=True)
class Or:
    left: Condition
    right: Condition


@dataclass(frozen=True)
class Not:
    operand: Condition


Condition: TypeAlias = "Compare | Between | In | And | Or | Not | Call"


@dataclass(frozen=True)
class Action:
    """One clause of an UpdateExpression: SET path = value, REMOVE path, ADD path :v,
    DELETE path :v."""

    kind: str  # SET | REMOVE | ADD | DELETE
    path: Path
    value: Operand | None = None


@dataclass(frozen=True)
class Update:
    actions: tuple[Action, ...]


CONDITION_FUNCTIONS = frozenset(
    {"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"}
)
OPERAND_FUNCTIONS = frozenset({"size"})
UPDATE_FUNCTIONS = frozenset({"if_not_exists", "list_append"})
ARITY = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
    "if_not_exists": 2,
    "list_append": 2,
}
