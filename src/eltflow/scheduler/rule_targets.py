"""What an EventBridge rule target receives: its ``Input`` (constant JSON text), ``InputPath``
(a JSONPath into the event), ``InputTransformer`` (``InputPathsMap`` + ``InputTemplate``), or
else the whole event, as the EventBridge User Guide ("Transforming target input") describes.

In an ``InputTemplate``, ``<name>`` is replaced by the value ``InputPathsMap`` selects: a text
is inserted as its characters (JSON-escaped, so ``"<name>"`` stays valid JSON; unverified: AWS's
escaping of quotes inside values), anything else as JSON, a path that selects nothing as
``null``. The reserved ``<aws.events.rule-name>``, ``<aws.events.rule-arn>``,
``<aws.events.event>``, ``<aws.events.event.json>`` and ``<aws.events.event.ingestion-time>`` are
filled in too.
"""

from __future__ import annotations

import json
import re
from typing import Any

from eltflow.asl.jsonpath import PathNotFound, evaluate
from eltflow.errors import AwsApiError
from eltflow.types import JSON

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def check_target(target: Any, where: str) -> None:
    """AWS's ValidationException for a target EventBridge would refuse."""
    if not isinstance(target, dict) or not isinstance(target.get("Arn"), str):
        raise AwsApiError("ValidationException", f"{where}: a target needs an Arn")
    given = [k for k in ("Input", "InputPath", "InputTransformer") if k in target]
    if len(given) > 1:
        raise AwsApiError(
            "ValidationException",
            f"{where}: Only one of Input, InputPath, or InputTransformer must be provided",
        )
    transformer = target.get("InputTransformer")
    if transformer is not None and (
        not isinstance(transformer, dict) or not isinstance(transformer.get("InputTemplate"), str)
    ):
        raise AwsApiError("ValidationException", f"{where}: InputTransformer needs InputTemplate")
    if "Input" in target:
        try:
            json.loads(str(target["Input"]))
        except ValueError:
            raise AwsApiError("ValidationException", f"{where}: Input must be JSON text") from None


def target_input(
    target: dict[str, Any], event: dict[str, Any], rule_name: str, rule_arn: str
) -> str:
    """The JSON text the target gets for ``event``."""
    if "Input" in target:
        return str(target["Input"])
    if "InputPath" in target:
        return json.dumps(_select(str(target["InputPath"]), event))
    transformer = target.get("InputTransformer")
    if isinstance(transformer, dict):
        paths = transformer.get("InputPathsMap") or {}
        values: dict[str, JSON] = {
            str(name): _select(str(path), event) for name, path in dict(paths).items()
        }
        values["aws.events.rule-name"] = rule_name
        values["aws.events.rule-arn"] = rule_arn
        values["aws.events.event.ingestion-time"] = event.get("time")
        values["aws.events.event"] = event
        values["aws.events.event.json"] = event

        def fill(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in values:
                return m.group(0)
            value = values[name]
            if isinstance(value, str):
                return json.dumps(value)[1:-1]
            return json.dumps(value)

        return _PLACEHOLDER.sub(fill, str(transformer["InputTemplate"]))
    return json.dumps(event)


def _select(path: str, event: dict[str, Any]) -> JSON:
    if path == "$":
        return event
    if not path.startswith("$"):
        raise AwsApiError("ValidationException", f"InputPath {path!r} must start with $")
    try:
        return evaluate(path, event)
    except PathNotFound:
        return None
    except ValueError as e:
        raise AwsApiError("ValidationException", f"InputPath {path!r}: {e}") from None
