"""The query protocol (SNS, and CloudFormation when it lands): form-encoded requests,
XML responses, both driven by botocore's shapes.

Requests flatten structures into dotted keys: ``Name=x``, lists as ``Tags.member.1.Key``,
maps as ``Attributes.entry.1.key`` / ``.value`` (or the names the model gives the key and
value, e.g. SNS's ``MessageAttributes.entry.1.Name`` / ``.Value.DataType``). Responses are
``<OpResponse><OpResult>...</OpResult><ResponseMetadata>`` with lists as ``<member>`` and maps
as ``<entry><key/><value/></entry>``, which is what botocore's query parser reads.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.model import OperationModel, Shape

from eltflow.endpoint.contract import epoch_seconds
from eltflow.endpoint.wire import xml_text
from eltflow.errors import AwsApiError


def parse(shape: Shape | None, form: Mapping[str, str]) -> dict[str, Any]:
    """The request members of ``form`` for the input ``shape`` (unknown keys are ignored,
    as AWS does)."""
    if shape is None:
        return {}
    out = _structure(shape, form, "")
    return out if isinstance(out, dict) else {}


def _name(shape: Shape, default: str) -> str:
    return str(shape.serialization.get("name", default))


def _value(shape: Shape, form: Mapping[str, str], prefix: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, form, prefix)
    if kind == "list":
        return _list(shape, form, prefix)
    if kind == "map":
        return _map(shape, form, prefix)
    raw = form.get(prefix)
    if raw is None:
        return None
    return _scalar(shape, raw, prefix)


def _structure(shape: Shape, form: Mapping[str, str], prefix: str) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for name, member in shape.members.items():  # type: ignore[attr-defined]
        key = _name(member, name)
        value = _value(member, form, f"{prefix}.{key}" if prefix else key)
        if value is not None:
            out[name] = value
    return out if out or not prefix else None


def _list(shape: Shape, form: Mapping[str, str], prefix: str) -> list[Any] | None:
    member = shape.member  # type: ignore[attr-defined]
    flat = bool(shape.serialization.get("flattened"))
    base = prefix if flat else f"{prefix}.{_name(member, 'member')}"
    if not flat and form.get(prefix) == "":
        return []  # AWS's way of sending an empty list: "Name="
    items: list[Any] = []
    i = 1
    while True:
        item = _value(member, form, f"{base}.{i}")
        if item is None:
            return items or None
        items.append(item)
        i += 1


def _map(shape: Shape, form: Mapping[str, str], prefix: str) -> dict[str, Any] | None:
    key_shape, value_shape = shape.key, shape.value  # type: ignore[attr-defined]
    flat = bool(shape.serialization.get("flattened"))
    base = prefix if flat else f"{prefix}.entry"
    key_name, value_name = _name(key_shape, "key"), _name(value_shape, "value")
    out: dict[str, Any] = {}
    i = 1
    while True:
        key = form.get(f"{base}.{i}.{key_name}")
        if key is None:
            return out or None
        value = _value(value_shape, form, f"{base}.{i}.{value_name}")
        if value is not None:
            out[key] = value
        i += 1


def _scalar(shape: Shape, raw: str, where: str) -> Any:
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(raw)
        if kind in ("float", "double"):
            return float(raw)
        if kind == "boolean":
            if raw.lower() not in ("true", "false"):
                raise ValueError(raw)
            return raw.lower() == "true"
        if kind == "blob":
            base64.b64decode(raw, validate=True)  # kept as base64 text, as the services take it
    except ValueError as e:
        raise AwsApiError(
            "InvalidParameterValue", f"Value {raw!r} for parameter {where} is not a {kind}"
        ) from e
    return raw


# -- responses --------------------------------------------------------------------------------


def response(op: OperationModel, namespace: str, result: Mapping[str, Any], rid: str) -> str:
    """The XML document botocore's query parser expects for ``op``'s ``result``."""
    name = op.name
    shape = op.output_shape
    inner = ""
    if shape is not None:
        wrapper = str(shape.serialization.get("resultWrapper", f"{name}Result"))
        inner = f"<{wrapper}>{_members(shape, result)}</{wrapper}>"
    return (
        f'<{name}Response xmlns="{xml_text(namespace)}">{inner}'
        f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata></{name}Response>"
    )


def _members(shape: Shape, value: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for name, member in shape.members.items():  # type: ignore[attr-defined]
        if value.get(name) is None:
            continue
        tag = _name(member, name)
        parts.append(_element(member, tag, value[name]))
    return "".join(parts)


def _element(shape: Shape, tag: str, value: Any) -> str:
    kind = shape.type_name
    if kind == "structure":
        body = _members(shape, value) if isinstance(value, Mapping) else ""
        return f"<{tag}>{body}</{tag}>"
    if kind == "list":
        member = shape.member  # type: ignore[attr-defined]
        member_tag = _name(member, "member")
        items = "".join(_element(member, member_tag, v) for v in value)
        if shape.serialization.get("flattened"):
            return "".join(_element(member, tag, v) for v in value)
        return f"<{tag}>{items}</{tag}>"
    if kind == "map":
        key_shape, value_shape = shape.key, shape.value  # type: ignore[attr-defined]
        key_tag, value_tag = _name(key_shape, "key"), _name(value_shape, "value")
        entries = "".join(
            f"<entry>{_element(key_shape, key_tag, k)}{_element(value_shape, value_tag, v)}</entry>"
            for k, v in value.items()
        )
        return f"<{tag}>{entries}</{tag}>"
    return f"<{tag}>{xml_text(_text(kind, value))}</{tag}>"


def _text(kind: str, value: Any) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        seconds = epoch_seconds(value)
        if isinstance(seconds, int | float):
            moment = datetime.fromtimestamp(seconds, tz=UTC)
            return moment.isoformat().replace("+00:00", "Z")
        return str(value)
    if kind == "blob" and isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)
