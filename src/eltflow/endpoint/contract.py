"""botocore's service models as the contract of the endpoint.

botocore ships a JSON model of every AWS API (operations, input/output shapes, error shapes,
constraints). The endpoint takes its operation names, required members, constraints and error
statuses from there instead of restating them, so what boto3 sends is what we accept and what
we answer is what boto3 parses:

- :func:`check_input` rejects a request the way AWS's front end does: ``ValidationException``
  ("1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint:
  Member must not be null"), and ``SerializationException`` when a member has the wrong JSON
  type. Patterns are not checked (the models' regexes are Java's; the services check names).
- :func:`to_json` shapes a service's response for the JSON protocols: only the members the
  output shape defines, timestamps as epoch seconds, blobs as base64.
"""

from __future__ import annotations

import base64
import functools
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from eltflow.errors import AwsApiError


@functools.cache
def _loader() -> Loader:
    return Loader()


@functools.cache
def service_model(name: str) -> ServiceModel:
    """The botocore model of ``name`` (``stepfunctions``, ``dynamodb``...), loaded once."""
    return ServiceModel(_loader().load_service_model(name, "service-2"), service_name=name)


def operation(model: ServiceModel, name: str) -> OperationModel | None:
    try:
        return model.operation_model(name)
    except Exception:  # botocore raises OperationNotFoundError; any failure means "unknown"
        return None


def error_status(model: ServiceModel, code: str) -> int:
    """The HTTP status AWS answers ``code`` with: the model's ``httpStatusCode``, else 500 for
    server faults (``Internal*``) and 400 for everything else (the JSON protocols' default)."""
    for shape in model.error_shapes:
        meta = shape.metadata.get("error", {})
        if shape.name == code or meta.get("code") == code:
            status = meta.get("httpStatusCode")
            if isinstance(status, int):
                return status
            return 500 if meta.get("fault") or code.startswith("Internal") else 400
    return 500 if code.startswith("Internal") else 400


# -- input ------------------------------------------------------------------------------------

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "blob": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float, str),
    "list": (list,),
    "map": (dict,),
    "structure": (dict,),
}


def check_input(op: OperationModel, params: Any) -> dict[str, Any]:
    """``params`` (a decoded JSON body) checked against the operation's input shape.

    Raises:
        AwsApiError: ``SerializationException`` for a wrong JSON type, ``ValidationException``
            listing every constraint violation, as AWS words them.
    """
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise AwsApiError("SerializationException", "The request body must be a JSON object")
    shape = op.input_shape
    if shape is None:
        return params
    problems: list[str] = []
    _check(shape, params, "", problems)
    if problems:
        n = len(problems)
        noun = "error" if n == 1 else "errors"
        raise AwsApiError(
            "ValidationException", f"{n} validation {noun} detected: " + "; ".join(problems)
        )
    return params


def _member_path(parent: str, name: str) -> str:
    # AWS names members in these messages in lower camel case ('tableName', 'stateMachineArn').
    name = name[:1].lower() + name[1:]
    return f"{parent}.{name}" if parent else name


def _check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    if shape.type_name == "structure" and shape.metadata.get("document"):
        return  # a document member holds any JSON
    allowed = _JSON_TYPES.get(shape.type_name)
    if allowed is not None and (
        not isinstance(value, allowed)
        or (isinstance(value, bool) and shape.type_name not in ("boolean",))
    ):
        where = path or "the request"
        raise AwsApiError(
            "SerializationException",
            f"Expected {shape.type_name} at '{where}', got {type(value).__name__}",
        )
    if isinstance(shape, StructureShape):
        for name in shape.required_members:
            if value.get(name) is None:
                problems.append(
                    f"Value null at '{_member_path(path, name)}' failed to satisfy constraint: "
                    "Member must not be null"
                )
        for name, member in shape.members.items():
            if value.get(name) is not None:
                _check(member, value[name], _member_path(path, name), problems)
        return
    _constraints(shape, value, path, problems)
    if shape.type_name == "list":
        member = shape.member  # type: ignore[attr-defined]
        for i, item in enumerate(value, start=1):
            if item is None:
                problems.append(
                    f"Value null at '{path}.{i}.member' failed to satisfy constraint: "
                    "Member must not be null"
                )
            else:
                _check(member, item, f"{path}.{i}.member", problems)
    elif shape.type_name == "map":
        key_shape, value_shape = shape.key, shape.value  # type: ignore[attr-defined]
        for key, item in value.items():
            key_problems: list[str] = []
            _constraints(key_shape, key, path, key_problems)
            if key_problems:
                reasons = ", ".join(p.split("constraint: ", 1)[-1] for p in key_problems)
                problems.append(
                    f"Value {_shown(key)} at '{path}' failed to satisfy constraint: "
                    f"Map keys must satisfy constraint: [{reasons}]"
                )
            if item is None:
                problems.append(
                    f"Value null at '{path}.{key}' failed to satisfy constraint: "
                    "Member must not be null"
                )
            else:
                _check(value_shape, item, f"{path}.{key}", problems)


def _constraints(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    meta = shape.metadata
    # AWS leaves sensitive values (execution input, secrets) out of its messages.
    shown = "" if meta.get("sensitive") else " " + _shown(value)
    if shape.type_name in ("string", "blob", "list", "map"):
        size = len(value)
        if "min" in meta and size < meta["min"]:
            problems.append(
                f"Value{shown} at '{path}' failed to satisfy constraint: "
                f"Member must have length greater than or equal to {meta['min']}"
            )
        if "max" in meta and size > meta["max"]:
            problems.append(
                f"Value{shown} at '{path}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {meta['max']}"
            )
    elif shape.type_name in ("integer", "long", "float", "double"):
        if "min" in meta and value < meta["min"]:
            problems.append(
                f"Value{shown} at '{path}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {meta['min']}"
            )
        if "max" in meta and value > meta["max"]:
            problems.append(
                f"Value{shown} at '{path}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {meta['max']}"
            )
    enum: list[str] = getattr(shape, "enum", None) or []
    if enum and value not in enum:
        problems.append(
            f"Value{shown} at '{path}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(enum)}]"
        )


def _shown(value: Any) -> str:
    if isinstance(value, str):
        text = value if len(value) <= 64 else value[:64] + "..."
        return f"'{text}'"
    if isinstance(value, list | dict):
        return f"{type(value).__name__} of {len(value)}"
    return repr(value)


# -- output -----------------------------------------------------------------------------------


def to_json(shape: Shape | None, value: Any) -> Any:
    """``value`` as the JSON protocols put it on the wire for ``shape``."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        if shape.metadata.get("document") or not isinstance(value, dict):
            return _plain(value)
        members = shape.members  # type: ignore[attr-defined]
        return {
            name: to_json(member, value[name])
            for name, member in members.items()
            if value.get(name) is not None
        }
    if kind == "list" and isinstance(value, list | tuple | set | frozenset):
        member = shape.member  # type: ignore[attr-defined]
        return [to_json(member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        value_shape = shape.value  # type: ignore[attr-defined]
        return {k: to_json(value_shape, v) for k, v in value.items()}
    if kind == "timestamp":
        return epoch_seconds(value)
    if kind == "blob" and isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    return _plain(value)


def epoch_seconds(value: Any) -> Any:
    """A timestamp as epoch seconds (AWS's JSON protocols' format); ISO strings are parsed."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return round(value.timestamp(), 3)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime | date):
        return epoch_seconds(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value
