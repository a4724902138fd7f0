"""EventBridge event patterns: does an event match a rule's ``EventPattern``?

As the EventBridge User Guide ("Event patterns", "Content filtering") describes them: a pattern
is a JSON object whose keys are event fields; an object value matches the event's object field
by the same rules, an array value lists matchers of which one must match (a field whose value is
an array matches when one of its elements does). All keys must match; ``$or`` takes a list of
patterns, one of which must match. Matchers: literal strings, numbers, booleans and ``null``
(exact), ``{"prefix": ...}`` and ``{"suffix": ...}`` (each also with ``equals-ignore-case``),
``{"equals-ignore-case": ...}``, ``{"anything-but": value | [values] | {"prefix"|"suffix"|
"equals-ignore-case": ...}}``, ``{"numeric": [op, n, op, n]}``, ``{"exists": bool}``,
``{"wildcard": "a*b"}`` (no escaped star). ``cidr`` is refused (no IP fields in the events
eltflow emits).
A missing field matches only ``{"exists": false}``. Unverified: how EventBridge orders the
checks of a malformed pattern (the first problem found is named here).
"""

from __future__ import annotations

import re
from typing import Any

from eltflow.errors import AwsApiError

_NUMERIC_OPS = {"<", "<=", "=", ">", ">="}
_MISSING = object()


def check_pattern(pattern: Any) -> None:
    """Raise AWS's ``InvalidEventPatternException`` for a pattern EventBridge would refuse."""
    if not isinstance(pattern, dict) or not pattern:
        raise _invalid("Event pattern must be a non-empty JSON object")
    for key, value in pattern.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise _invalid("$or must be an array of at least two patterns")
            for alternative in value:
                check_pattern(alternative)
        elif isinstance(value, dict):
            check_pattern(value)
        elif isinstance(value, list):
            if not value:
                raise _invalid(f"Empty arrays are not allowed (field {key!r})")
            for matcher in value:
                _check_matcher(key, matcher)
        else:
            raise _invalid(f"Match value must be String, number, true, false, or null ({key!r})")


def _check_matcher(key: str, matcher: Any) -> None:
    if not isinstance(matcher, dict):
        return  # a literal
    if len(matcher) != 1:
        raise _invalid(f"{key!r}: a matcher object has exactly one key")
    ((kind, arg),) = matcher.items()
    if kind in ("prefix", "suffix"):
        if isinstance(arg, dict) and set(arg) == {"equals-ignore-case"}:
            arg = arg["equals-ignore-case"]
        if not isinstance(arg, str):
            raise _invalid(f"{key!r}: {kind} match pattern must be a string")
    elif kind in ("equals-ignore-case", "wildcard"):
        if not isinstance(arg, str):
            raise _invalid(f"{key!r}: {kind} match pattern must be a string")
    elif kind == "exists":
        if not isinstance(arg, bool):
            raise _invalid(f"{key!r}: exists match pattern must be either true or false")
    elif kind == "numeric":
        _numeric_ranges(key, arg)
    elif kind == "anything-but":
        if isinstance(arg, dict):
            _check_matcher(key, arg)
        elif isinstance(arg, list) and not all(isinstance(v, str | int | float) for v in arg):
            raise _invalid(f"{key!r}: anything-but values must be strings or numbers")
    else:
        raise _invalid(f"Unrecognized match type {kind}")


def _numeric_ranges(key: str, arg: Any) -> list[tuple[str, float]]:
    if not isinstance(arg, list) or not arg or len(arg) % 2:
        raise _invalid(f"{key!r}: numeric takes pairs of an operator and a number")
    out = []
    for op, value in zip(arg[::2], arg[1::2], strict=True):
        if op not in _NUMERIC_OPS or isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid(f"{key!r}: numeric {op!r} {value!r} is not an operator and a number")
        out.append((str(op), float(value)))
    return out


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """True when ``event`` (a JSON object) matches ``pattern`` (checked by check_pattern)."""
    if not isinstance(event, dict):
        return False
    for key, expected in pattern.items():
        if key == "$or":
            if not any(matches(alternative, event) for alternative in expected):
                return False
            continue
        value = event.get(key, _MISSING)
        if isinstance(expected, dict):
            if not isinstance(value, dict) or not matches(expected, value):
                return False
        elif not _field_matches(expected, value):
            return False
    return True


def _field_matches(matchers: list[Any], value: Any) -> bool:
    if value is _MISSING:
        return any(isinstance(m, dict) and m.get("exists") is False for m in matchers)
    values = value if isinstance(value, list) else [value]
    return any(_one(m, v) for m in matchers for v in values)


def _one(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, dict):
        if isinstance(matcher, bool) or isinstance(value, bool):
            return matcher is value
        if isinstance(matcher, int | float) and isinstance(value, int | float):
            return float(matcher) == float(value)
        return bool(matcher == value)
    ((kind, arg),) = matcher.items()
    if kind == "exists":
        return bool(arg)  # the field is present
    if kind == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return all(_compare(float(value), op, n) for op, n in _numeric_ranges("numeric", arg))
    if kind == "anything-but":
        if isinstance(arg, dict):
            return isinstance(value, str) and not _one(arg, value)
        excluded = arg if isinstance(arg, list) else [arg]
        return not any(_one(x, value) for x in excluded)
    if not isinstance(value, str):
        return False
    if kind in ("prefix", "suffix"):
        fold = isinstance(arg, dict)
        text = str(arg["equals-ignore-case"] if fold else arg)
        subject, text = (value.casefold(), text.casefold()) if fold else (value, text)
        return subject.startswith(text) if kind == "prefix" else subject.endswith(text)
    if kind == "equals-ignore-case":
        return value.casefold() == str(arg).casefold()
    if kind == "wildcard":
        regex = ".*".join(re.escape(part) for part in str(arg).split("*"))
        return re.fullmatch(regex, value, flags=re.S) is not None
    return False


def _compare(value: float, op: str, n: float) -> bool:
    return {
        "<": value < n,
        "<=": value <= n,
        "=": value == n,
        ">": value > n,
        ">=": value >= n,
    }[op]


def _invalid(message: str) -> AwsApiError:
    return AwsApiError("InvalidEventPatternException", f"Event pattern is not valid. {message}")
