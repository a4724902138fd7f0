"""Parsing a JSON payload from outside (execution input) into values the runtime can keep.

``json.loads`` takes more than AWS does and more than the rest of the runtime can handle:
``NaN``/``Infinity`` (not JSON; AWS refuses them), ``\\ud800`` escapes that decode to lone
surrogates (not Unicode, so not storable as UTF-8), and nesting deep enough to overflow the
recursive code that later walks the value. Each becomes a :class:`ValueError` saying which.
"""

from __future__ import annotations

import json
import re
from typing import Final

import orjson

from eltflow.asl.limits import MAX_PAYLOAD_BYTES
from eltflow.errors import AwsApiError
from eltflow.types import JSON

MAX_DEPTH: Final = 1000
"""Deepest nesting taken. AWS documents none; Jackson, which AWS's Java services parse with,
stops at 1000 by default (unverified for Step Functions)."""


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


_orjson_loads = orjson.loads
_orjson_error = orjson.JSONDecodeError
_LONG_DIGITS = re.compile(r"[0-9]{19}").search


def parse_payload(text: str) -> JSON:
    """``text`` as a JSON value, or :class:`ValueError` naming what is wrong with it."""
    # orjson first (issue 16: the json module's decode, a walk for the depth and an encode for
    # lone surrogates were a StartExecution's largest cost before its transaction). Where it
    # parses the text it gives the json module's value, except that it makes a float of an
    # integer beyond 64 bits: a text with 19 digits in a row takes the json module's path.
    # Whatever it refuses (NaN and Infinity, lone surrogates, a number beyond a float's
    # range, which json reads as inf, nesting past its limit of 1024) also takes that path,
    # which accepts or explains it as before. Nesting is bounded by the number of "[" and
    # "{": only a text with more than MAX_DEPTH of them is walked for its depth.
    if _LONG_DIGITS(text) is None:
        try:
            fast: JSON = _orjson_loads(text)
        except _orjson_error:
            pass
        else:
            if text.count("[") + text.count("{") <= MAX_DEPTH or _depth(fast) <= MAX_DEPTH:
                return fast
    try:
        value: JSON = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError(f"it is nested more than {MAX_DEPTH} levels deep") from None
    depth = _depth(value)
    if depth > MAX_DEPTH:
        raise ValueError(f"it is nested {depth} levels deep; the limit is {MAX_DEPTH}")
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"it has a lone surrogate ({e.reason}), which is not Unicode") from None
    return value


def _depth(value: JSON) -> int:
    """How deeply arrays and objects nest in ``value`` (without recursing)."""
    deepest = 0
    stack: list[tuple[JSON, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: list[JSON] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def execution_input(text: str | None) -> tuple[str, JSON]:
    """StartExecution's (and StartSyncExecution's) ``input``: its text (``{}`` when absent)
    and value, or ``InvalidExecutionInput`` when it is over AWS's size limit or not JSON."""
    text = "{}" if text is None else text
    size = len(text.encode("utf-8"))
    if size > MAX_PAYLOAD_BYTES:
        raise AwsApiError(
            "InvalidExecutionInput", f"Input is {size} bytes; the limit is {MAX_PAYLOAD_BYTES}"
        )
    try:
        return text, parse_payload(text)
    except ValueError as e:  # JSONDecodeError, NaN, lone surrogates, nesting
        raise AwsApiError("InvalidExecutionInput", f"Invalid execution input: {e}") from e
