"""How AWS's Java runtime writes values, in one place: ``Double.toString``, Jackson's compact
JSON (in causes), ``String.valueOf`` and ``toString`` (in ``States.Format``), and the Java class
names Jayway puts in its messages. Used by JSONPath evaluation, intrinsic functions and Map's
limits, which all quote values the way AWS does.
"""

from __future__ import annotations

import math
from decimal import Decimal

from eltflow.types import JSON


def java_class(value: JSON) -> str:
    """The Java class Jackson's provider hands Jayway for a value (named in its messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        if -(2**31) <= value < 2**31:
            return "java.lang.Integer"
        return "java.lang.Long" if -(2**63) <= value < 2**63 else "java.math.BigInteger"
    if isinstance(value, float):
        return "java.lang.Double"
    if isinstance(value, str):
        return "java.lang.String"
    if isinstance(value, list):
        return "com.fasterxml.jackson.databind.node.ArrayNode"
    return "com.fasterxml.jackson.databind.node.ObjectNode"


def java_str(value: JSON) -> str:
    """``String.valueOf`` of an unwrapped value: raw strings, JSON for containers."""
    if isinstance(value, str):
        return value
    return compact_json(value)


def java_double(d: float) -> str:
    """``Double.toString``: plain between 1e-3 and 1e7, else ``1.0E10`` style."""
    if math.isnan(d):
        return "NaN"
    if math.isinf(d):
        return "Infinity" if d > 0 else "-Infinity"
    if d == 0:
        return "-0.0" if math.copysign(1.0, d) < 0 else "0.0"
    a = abs(d)
    if 1e-3 <= a < 1e7:
        return repr(d)  # Python's repr is positional with a ".0" in this range, like Java
    # shortest round-trip digits (both languages), re-expressed in Java's scientific form
    t = Decimal(repr(a)).normalize().as_tuple()
    digits = "".join(str(x) for x in t.digits)
    assert isinstance(t.exponent, int)
    exponent = len(digits) - 1 + t.exponent
    sign = "-" if d < 0 else ""
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def _escape(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch < " ":
            short = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
            out.append(short.get(ch) or f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def compact_json(value: JSON) -> str:
    """Serialise like Jackson does in AWS's causes: compact, UTF-8 kept, Java doubles."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, list):
        return "[" + ",".join(compact_json(v) for v in value) + "]"
    return "{" + ",".join(f"{_escape(k)}:{compact_json(v)}" for k, v in value.items()) + "}"


def java_to_string(value: JSON) -> str:
    """``toString`` of a value as AWS's Java runtime writes it into a ``States.Format``
    string: raw strings, ``[a, b]`` lists, ``{k=v}`` maps, Java doubles."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, list):
        return "[" + ", ".join(java_to_string(item) for item in value) + "]"
    return "{" + ", ".join(f"{key}={java_to_string(item)}" for key, item in value.items()) + "}"
