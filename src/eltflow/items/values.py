"""DynamoDB's typed attribute values, kept in their wire form (``{"S": "x"}``, ``{"N": "1.5"}``).

The wire form is what Step Functions passes, what we store as JSON and what botocore sends, so
keeping it end to end means there is no second representation to drift. Binary values are
base64 text here (as on the wire); the boto3-shaped client converts bytes at its boundary.

Numbers are exact decimals (38 significant digits, magnitude 1E-130..9.99E+125, as DynamoDB) and
are stored in canonical form — DynamoDB trims leading and trailing zeros, so ``"1.50"`` is
returned as ``"1.5"`` and ``"1"`` and ``"1.0"`` are the same key.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from eltflow.items import errors

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

TYPES = ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS")
SET_TYPES = {"SS": "S", "NS": "N", "BS": "B"}
_SET_WORD = {"SS": "string", "NS": "number", "BS": "binary"}
# Long type names DynamoDB uses in "typeSet" messages (ADD/DELETE operand checks).
LONG_NAMES = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "BOOL": "BOOLEAN",
    "NULL": "NULL",
    "M": "MAP",
    "L": "LIST",
    "SS": "STRING_SET",
    "NS": "NUMBER_SET",
    "BS": "BINARY_SET",
}
_CTX = Context(prec=60)
_MAX = Decimal("9.9999999999999999999999999999999999999E+125")
_MIN = Decimal("1E-130")


def type_of(value: AttributeValue) -> str:
    """The single type descriptor of an (already validated) attribute value."""
    return next(iter(value))


def parse_number(text: object) -> Decimal:
    """DynamoDB's number rules; the error wording is DynamoDB's."""
    bad = errors.validation(f"The parameter cannot be converted to a numeric value: {text}")
    if not isinstance(text, str) or text != text.strip() or not text:
        raise bad
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise bad from None
    if not d.is_finite():
        raise bad
    if d != 0:
        if abs(d) > _MAX:
            raise errors.validation(
                "Number overflow. Attempting to store a number with magnitude larger than "
                "supported range"
            )
        if abs(d) < _MIN:
            raise errors.validation(
                "Number underflow. Attempting to store a number with magnitude smaller than "
                "supported range"
            )
        if len(d.normalize(_CTX).as_tuple().digits) > 38:
            raise errors.validation(
                "Attempting to store more than 38 significant digits in a Number"
            )
    return d


def number_text(d: Decimal) -> str:
    """Canonical text of a number: no exponent, no trailing zeros, no ``-0``."""
    if d == 0:
        return "0"
    text = format(d.normalize(_CTX), "f")
    return text


def validate(value: object) -> AttributeValue:
    """Check one attribute value and return it in canonical form (numbers normalised)."""
    if not isinstance(value, dict) or not value:
        raise errors.validation(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    if len(value) > 1:
        raise errors.validation(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
            "of the supported datatypes"
        )
    ((t, v),) = value.items()
    if t == "S":
        if not isinstance(v, str):
            raise errors.validation("Invalid attribute value type: S must be a string")
        return {"S": v}
    if t == "N":
        return {"N": number_text(parse_number(v))}
    if t == "B":
        return {"B": _b64(v)}
    if t == "BOOL":
        if not isinstance(v, bool):
            raise errors.validation("Invalid attribute value type: BOOL must be a boolean")
        return {"BOOL": v}
    if t == "NULL":
        if v is not True:
            raise errors.validation(
                "One or more parameter values were invalid: "
                "Null attribute value types must have the value of true"
            )
        return {"NULL": True}
    if t == "M":
        if not isinstance(v, dict):
            raise errors.validation("Invalid attribute value type: M must be a map")
        return {"M": {str(k): validate(x) for k, x in v.items()}}
    if t == "L":
        if not isinstance(v, list):
            raise errors.validation("Invalid attribute value type: L must be a list")
        return {"L": [validate(x) for x in v]}
    if t in SET_TYPES:
        return {t: _validate_set(t, v)}
    raise errors.validation(
        f"Supplied AttributeValue has an unknown datatype: {t}; must be one of " + ", ".join(TYPES)
    )


def _b64(v: object) -> str:
    if not isinstance(v, str):
        raise errors.validation("Invalid attribute value type: B must be base64 text")
    try:
        base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        raise errors.validation(f"Invalid base64 binary value: {v[:40]}") from None
    return v


def _validate_set(t: str, v: object) -> list[str]:
    if not isinstance(v, list):
        raise errors.validation(f"Invalid attribute value type: {t} must be a list")
    if not v:
        raise errors.validation(
            "1 validation error detected: One or more parameter values were invalid: "
            f"An {_SET_WORD[t]} set  may not be empty"
        )
    if t == "NS":
        out = [number_text(parse_number(x)) for x in v]
    elif t == "BS":
        out = [_b64(x) for x in v]
    else:
        if not all(isinstance(x, str) for x in v):
            raise errors.validation("Invalid attribute value type: SS must hold strings")
        out = [str(x) for x in v]
    keys = [set_key(t, x) for x in out]
    if len(set(keys)) != len(keys):
        shown = ", ".join(str(x) for x in v)
        raise errors.validation(
            f"One or more parameter values were invalid: Input collection [{shown}] contains "
            "duplicates."
        )
    return out


def set_key(t: str, element: str) -> object:
    """A hashable identity for a set element (numbers by value, binaries by bytes)."""
    if t == "NS":
        return Decimal(element)
    if t == "BS":
        return base64.b64decode(element)
    return element


def validate_item(item: object) -> Item:
    if not isinstance(item, dict):
        raise errors.validation("Item must be a map of attribute names to attribute values")
    return {str(k): validate(v) for k, v in item.items()}


def equal(a: AttributeValue, b: AttributeValue) -> bool:
    """DynamoDB equality: same type and same value (numbers by value, sets unordered)."""
    ta, tb = type_of(a), type_of(b)
    if ta != tb:
        return False
    va, vb = a[ta], b[tb]
    if ta == "N":
        return Decimal(va) == Decimal(vb)
    if ta == "B":
        return bool(base64.b64decode(va) == base64.b64decode(vb))
    if ta in SET_TYPES:
        return {set_key(ta, x) for x in va} == {set_key(ta, x) for x in vb}
    if ta == "M":
        return va.keys() == vb.keys() and all(equal(va[k], vb[k]) for k in va)
    if ta == "L":
        return len(va) == len(vb) and all(equal(x, y) for x, y in zip(va, vb, strict=True))
    return bool(va == vb)


def order_key(value: AttributeValue) -> object | None:
    """A Python value ordering like DynamoDB's ``<``: numbers by value, strings and binaries by
    their UTF-8 / raw bytes. None for types that have no order."""
    t = type_of(value)
    if t == "N":
        return Decimal(value["N"])
    if t == "S":
        return str(value["S"]).encode("utf-8")
    if t == "B":
        return base64.b64decode(value["B"])
    return None


def size(value: AttributeValue) -> int | None:
    """``size()``: characters of a string, bytes of a binary, elements of a collection."""
    t = type_of(value)
    v = value[t]
    if t == "S":
        return len(v)
    if t == "B":
        return len(base64.b64decode(v))
    if t in SET_TYPES or t in ("L", "M"):
        return len(v)
    return None


def key_text(value: AttributeValue) -> str:
    """How a key attribute is stored in its SQL column (canonical, so equal keys collide)."""
    t = type_of(value)
    return str(value[t])
