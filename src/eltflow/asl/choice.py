"""Choice rules in JSONPath mode: one table of comparison operators, AWS's semantics.

- A value of the wrong type makes a comparison false, never an error (``NumericEquals`` on a
  string, ``StringEquals`` on a number; booleans are not numbers).
- A ``Variable`` (or the operand of a ``...Path`` operator) that matches nothing fails the
  execution with ``States.Runtime`` and the cause ``Invalid path '$.x': The choice state's
  condition path references an invalid value.`` - except under ``IsPresent``, whose whole point
  is to test that. A ``Default`` does not catch this.
- Strings order like Java's ``String.compareTo`` (UTF-16 code units).
- Timestamps are RFC 3339 (uppercase ``T``, ``Z`` or a numeric offset, optional fraction) and
  compare as instants, to any fractional precision; a string that is not one makes a
  Timestamp comparison false.
- ``StringMatches``: ``*`` matches any run of characters; ``\\*`` is a literal star and
  ``\\\\`` a literal backslash; nothing else is special.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from functools import lru_cache
from typing import Any

from eltflow.asl.dataflow import resolve_path
from eltflow.asl.jsonpath import PathNotFound, compile_input_path, parse_path
from eltflow.asl.model import ChoiceRule, ChoiceState
from eltflow.errors import StatesError
from eltflow.types import JSON

__all__ = [
    "OPERATORS",
    "PATH_OPERATORS",
    "choose",
    "evaluate_rule",
    "parse_timestamp",
    "string_matches",
]

_MISSING: Any = object()


# A tuple, not ``int | float``: the union is rebuilt on every call (3x slower, per Choice rule).
_NUMBER_TYPES = (int, float)


def _is_number(v: Any) -> bool:
    return isinstance(v, _NUMBER_TYPES) and not isinstance(v, bool)


def _utf16(s: str) -> str | bytes:
    # Python orders by code point, Java by UTF-16 unit; they differ only beyond the BMP.
    return s if s.isascii() else s.encode("utf-16-be", "surrogatepass")


_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})\Z"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=1024)
def parse_timestamp(text: str) -> Fraction | None:
    """Seconds since the epoch of an RFC 3339 timestamp as AWS accepts it, else ``None``."""
    m = _TIMESTAMP.match(text)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, zone = m.group(7), m.group(8)
    try:
        if zone == "Z":
            tz = UTC
        else:
            hours, minutes = int(zone[1:3]), int(zone[4:6])
            if hours > 23 or minutes > 59:
                return None
            offset = timedelta(hours=hours, minutes=minutes)
            tz = timezone(-offset if zone[0] == "-" else offset)
        moment = datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:
        return None
    whole = (moment - _EPOCH) // timedelta(seconds=1)
    return whole + (Fraction(int(fraction), 10 ** len(fraction)) if fraction else Fraction(0))


def _timestamps(a: Any, b: Any) -> tuple[Fraction, Fraction] | None:
    if not (isinstance(a, str) and isinstance(b, str)):
        return None
    ta, tb = parse_timestamp(a), parse_timestamp(b)
    if ta is None or tb is None:
        return None
    return ta, tb


@lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> tuple[str, ...]:
    """The literal runs between ``pattern``'s unescaped ``*`` wildcards (one run: no ``*``)."""
    runs: list[str] = []
    run: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
            run.append(pattern[i + 1])
            i += 2
            continue
        if ch == "*":
            runs.append("".join(run))
            run = []
        else:
            run.append(ch)
        i += 1
    runs.append("".join(run))
    return tuple(runs)


def string_matches(value: Any, pattern: Any) -> bool:
    """``StringMatches``: ``*`` wildcards, ``\\*`` escapes a star, ``\\\\`` a backslash.

    Matched without backtracking (a regex ``.*`` per star backtracks through about n^k splits
    of an n-character value for k stars): the first run must start the value, the last end
    it, and each run between is taken at its leftmost place after the previous one (leftmost
    is never worse, since a later run can only have more room).
    """
    if not (isinstance(value, str) and isinstance(pattern, str)):
        return False
    runs = _wildcard(pattern)
    if len(runs) == 1:
        return value == runs[0]
    first, *middle, last = runs
    end = len(value) - len(last)
    if end < len(first) or not value.startswith(first) or not value.endswith(last):
        return False
    at = len(first)
    for run in middle:
        found = value.find(run, at, end)
        if found < 0:
            return False
        at = found + len(run)
    return True


def _string(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def op(a: Any, b: Any) -> bool:
        return isinstance(a, str) and isinstance(b, str) and test(_utf16(a), _utf16(b))

    return op


def _numeric(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def op(a: Any, b: Any) -> bool:
        # _is_number(a) and _is_number(b), inlined: this runs for every numeric rule.
        return (
            isinstance(a, _NUMBER_TYPES)
            and not isinstance(a, bool)
            and isinstance(b, _NUMBER_TYPES)
            and not isinstance(b, bool)
            and test(a, b)
        )

    return op


def _timestamp(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def op(a: Any, b: Any) -> bool:
        pair = _timestamps(a, b)
        return pair is not None and test(*pair)

    return op


def _eq(a: Any, b: Any) -> bool:
    return bool(a == b)


def _lt(a: Any, b: Any) -> bool:
    return bool(a < b)


def _gt(a: Any, b: Any) -> bool:
    return bool(a > b)


def _le(a: Any, b: Any) -> bool:
    return bool(a <= b)


def _ge(a: Any, b: Any) -> bool:
    return bool(a >= b)


def _is(check: Callable[[Any], bool]) -> Callable[[Any, Any], bool]:
    # Is* operators take a boolean operand: true asks "is it?", false asks "is it not?".
    def op(a: Any, expected: Any) -> bool:
        return a is not _MISSING and check(a) is bool(expected)

    return op


_TESTS = {"Equals": _eq, "LessThan": _lt, "GreaterThan": _gt}
_TESTS |= {"LessThanEquals": _le, "GreaterThanEquals": _ge}

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {}
"""Operator name → ``(value, operand) -> bool``. ``...Path`` names share the base function;
:func:`evaluate_rule` resolves their operand first."""
for _suffix, _test in _TESTS.items():
    OPERATORS[f"String{_suffix}"] = _string(_test)
    OPERATORS[f"Numeric{_suffix}"] = _numeric(_test)
    OPERATORS[f"Timestamp{_suffix}"] = _timestamp(_test)
OPERATORS["BooleanEquals"] = lambda a, b: isinstance(a, bool) and isinstance(b, bool) and a is b
OPERATORS["StringMatches"] = string_matches
OPERATORS["IsNull"] = _is(lambda a: a is None)
OPERATORS["IsNumeric"] = _is(_is_number)
OPERATORS["IsString"] = _is(lambda a: isinstance(a, str))
OPERATORS["IsBoolean"] = _is(lambda a: isinstance(a, bool))
OPERATORS["IsTimestamp"] = _is(lambda a: isinstance(a, str) and parse_timestamp(a) is not None)
OPERATORS["IsPresent"] = lambda a, expected: (a is not _MISSING) is bool(expected)

PATH_OPERATORS: frozenset[str] = frozenset(
    f"{name}Path"
    for name in OPERATORS
    if name.startswith(("String", "Numeric", "Timestamp", "Boolean")) and name != "StringMatches"
)
for _name in PATH_OPERATORS:
    OPERATORS[_name] = OPERATORS[_name[: -len("Path")]]


def _invalid_path(path: str) -> StatesError:
    return StatesError(
        "States.Runtime",
        f"Invalid path '{path}': The choice state's condition path references an invalid value.",
    )


def _lookup(
    path: str, input: JSON, context: JSON, variables: Mapping[str, JSON], tolerate: bool
) -> Any:
    try:
        return resolve_path(parse_path(path), input, context, variables)
    except (PathNotFound, ValueError):
        if tolerate:
            return _MISSING
        raise _invalid_path(path) from None


def evaluate_rule(
    rule: ChoiceRule,
    input: JSON,
    context: JSON,
    variables: Mapping[str, JSON],
    *,
    condition: Callable[[ChoiceRule], bool] | None = None,
) -> bool:
    """Whether ``rule`` (a comparison or an And/Or/Not tree) holds for ``input``."""
    kind = rule.kind
    if kind == "Compare":
        operator = rule.operator or ""
        test = OPERATORS.get(operator)
        if test is None or rule.variable is None:
            raise StatesError("States.Runtime", f"Unknown Choice operator {operator!r}")
        value = _lookup(rule.variable, input, context, variables, operator == "IsPresent")
        operand = rule.operand
        if operator in PATH_OPERATORS:
            if not isinstance(operand, str):
                raise StatesError("States.Runtime", f"{operator} needs a path, not {operand!r}")
            operand = _lookup(operand, input, context, variables, False)
        return test(value, operand)
    if kind == "And":
        return all(
            evaluate_rule(c, input, context, variables, condition=condition) for c in rule.children
        )
    if kind == "Or":
        return any(
            evaluate_rule(c, input, context, variables, condition=condition) for c in rule.children
        )
    if kind == "Not":
        return not evaluate_rule(rule.children[0], input, context, variables, condition=condition)
    if condition is None:
        raise ValueError("a JSONata Condition rule needs the interpreter's condition callback")
    return condition(rule)


def choose(
    state: ChoiceState,
    input: JSON,
    context: JSON,
    variables: Mapping[str, JSON],
    condition: Callable[[ChoiceRule], bool] | None = None,
) -> ChoiceRule | None:
    """The first top-level rule of ``state`` that matches, or ``None`` (Default's turn).

    ``condition`` evaluates JSONata ``Condition`` rules; the interpreter owns JSONata.
    """
    for rule in state.choices:
        if evaluate_rule(rule, input, context, variables, condition=condition):
            return rule
    return None


Chooser = Callable[[JSON], "ChoiceRule | None"]
"""A JSONPath Choice state's rules compiled by :func:`compile_choices`: input → rule."""


def compile_choices(state: ChoiceState) -> Chooser | None:
    """``state``'s rules compiled once into a function of the (effective) input giving what
    :func:`choose` gives, or None unless every comparison reads an input path of names and
    indexes against a literal operand (no ``...Path`` operator, ``$$`` or ``$var``).

    Where :func:`choose` would raise, or a variable is absent (``IsPresent``'s business), the
    function raises instead (any exception, nothing changed): the caller then calls
    :func:`choose`, which words AWS's error. Rules are tried in order, And/Or short-circuit,
    as :func:`evaluate_rule` does."""
    pairs: list[tuple[ChoiceRule, Callable[[JSON], bool]]] = []
    for rule in state.choices:
        test = _compile_rule(rule)
        if test is None:
            return None
        pairs.append((rule, test))

    def chooser(data: JSON) -> ChoiceRule | None:
        for rule, test in pairs:
            if test(data):
                return rule
        return None

    return chooser


def _compile_rule(rule: ChoiceRule) -> Callable[[JSON], bool] | None:
    kind = rule.kind
    if kind == "Compare":
        operator = rule.operator or ""
        test = OPERATORS.get(operator)
        if test is None or rule.variable is None or operator in PATH_OPERATORS:
            return None
        if operator == "IsPresent":
            return None  # its answer for a miss is the rule's business: the general way
        get = compile_input_path(rule.variable)
        if get is None:
            return None
        operand = rule.operand
        return lambda data: test(get(data), operand)
    children = [_compile_rule(c) for c in rule.children]
    if not children or any(c is None for c in children):
        return None
    tests = [c for c in children if c is not None]
    if kind == "And":
        return lambda data: all(t(data) for t in tests)
    if kind == "Or":
        return lambda data: any(t(data) for t in tests)
    if kind == "Not":
        only = tests[0]
        return lambda data: not only(data)
    return None
