"""Every response a test client parses is checked against botocore's output shape: required
members present, each value of the type the model declares (after botocore's parsing)."""

from __future__ import annotations

import datetime
from typing import Any

from botocore.model import OperationModel, Shape, StructureShape
from botocore.response import StreamingBody

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (datetime.datetime,),
    "blob": (bytes, bytearray, StreamingBody),
    "list": (list,),
    "map": (dict,),
    "structure": (dict,),
}


def problems(shape: Shape | None, value: Any, path: str = "") -> list[str]:
    if shape is None:
        return []
    if shape.type_name == "structure" and shape.metadata.get("document"):
        return []
    found: list[str] = []
    allowed = _TYPES.get(shape.type_name)
    if allowed is not None and not isinstance(value, allowed):
        return [f"{path or '/'}: {type(value).__name__} where the model has {shape.type_name}"]
    if isinstance(shape, StructureShape):
        for name in shape.required_members:
            if name not in value:
                found.append(f"{path}/{name}: required by the model, missing")
        for name, member in shape.members.items():
            if name in value and member.serialization.get("location") is None:
                found += problems(member, value[name], f"{path}/{name}")
    elif shape.type_name == "list":
        for i, item in enumerate(value):
            found += problems(shape.member, item, f"{path}/{i}")  # type: ignore[attr-defined]
    elif shape.type_name == "map":
        for key, item in value.items():
            found += problems(shape.value, item, f"{path}/{key}")  # type: ignore[attr-defined]
    return found


def check_response(parsed: Any, model: OperationModel, **_: Any) -> None:
    """A botocore ``after-call`` handler: fail the call if the response breaks the model."""
    if "Error" in parsed:
        return
    body = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
    found = problems(model.output_shape, body)
    assert found == [], f"{model.name} response breaks botocore's model: {found}"
