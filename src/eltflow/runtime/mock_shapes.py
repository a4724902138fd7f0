"""TestState's ``mock.fieldValidationMode``: a mocked Task result checked against the response
shape of the API the Task calls, from botocore's service model.

AWS (API_MockInput): ``STRICT`` — every required field present and every present field
conforms to the API's schema; ``PRESENT`` — present fields conform; ``NONE`` — no check.
Field names are PascalCase, as Step Functions writes every API response (``ExecutionArn``,
not botocore's ``executionArn``). Fields the API does not define are ignored in every mode
(recorded on AWS: ``{"random": "json"}`` mocked for ``events:putEvents`` passes STRICT).

The messages are AWS's, as recorded on AWS by LocalStack's TestState suite
(``test_field_validation_mode*.snapshot.json``, Nov 2025), all as ``ValidationException``
``Mock result schema validation error: <detail>`` with the details ``Field 'X' must be an
array`` / ``a string`` / ``a number``, ``Field 'X' is not an expected value`` (enum),
``Required field 'X' is missing``, ``Field 'X' is smaller than the minimum length``,
``Field 'X' is less than the minimum value``, ``Field 'X' exceeds the maximum value``. A
timestamp or a blob is a string. Unverified (no recording found): ``must be an object``
(structure, map), ``must be a boolean``, ``is larger than the maximum length``, and the
wording when the mocked result itself is not an object.

Which API a resource calls: ``arn:aws:states:::aws-sdk:<service>:<action>`` names it (the
SDK service name is botocore's without dashes — ``redshiftdata`` is ``redshift-data`` —
except ``sfn`` and ``eventbridge``); an optimized integration (``lambda:invoke``,
``dynamodb:putItem``...) calls the API action of the same name. A result of a ``.sync`` or
``.waitForTaskToken`` pattern, of an activity or of a Lambda function ARN has no API
response shape here and is not checked (unverified against AWS).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from eltflow.errors import AwsApiError
from eltflow.types import JSON

FieldValidationMode = Literal["STRICT", "PRESENT", "NONE"]
MODES: tuple[FieldValidationMode, ...] = ("STRICT", "PRESENT", "NONE")

_PREFIX = "Mock result schema validation error: "
_SDK = "arn:aws:states:::aws-sdk:"
_OPTIMIZED = "arn:aws:states:::"
# Step Functions' SDK service names that are not botocore's name without its dashes.
_SDK_NAMES = {"sfn": "stepfunctions", "eventbridge": "events"}
# Optimized integrations: Step Functions' service name -> botocore's.
_OPTIMIZED_NAMES = {
    "lambda": "lambda",
    "dynamodb": "dynamodb",
    "sns": "sns",
    "sqs": "sqs",
    "events": "events",
    "states": "stepfunctions",
    "glue": "glue",
    "ecs": "ecs",
    "batch": "batch",
    "athena": "athena",
    "codebuild": "codebuild",
}


def validate_mock_result(resource: str, result: JSON, mode: FieldValidationMode) -> None:
    """Raise ``ValidationException`` when ``result`` does not fit the API's response shape."""
    if mode == "NONE":
        return
    shape = output_shape(resource)
    if shape is None:
        return
    _check(shape, result, None, strict=mode == "STRICT")


def output_shape(resource: str) -> Any | None:
    """botocore's output shape of the API action ``resource`` calls, or None."""
    target = _operation(resource)
    if target is None:
        return None
    service, operation = target
    model = _service_model(service)
    if model is None or operation not in model.operation_names:
        return None
    return model.operation_model(operation).output_shape


def _operation(resource: str) -> tuple[str, str] | None:
    if resource.endswith(".waitForTaskToken") or ".sync" in resource:
        return None
    if resource.startswith(_SDK):
        parts = resource[len(_SDK) :].split(":")
        if len(parts) != 2 or not parts[1]:
            return None
        service = _SDK_NAMES.get(parts[0]) or _botocore_names().get(parts[0])
        action = parts[1]
    elif resource.startswith(_OPTIMIZED):
        parts = resource[len(_OPTIMIZED) :].split(":")
        if len(parts) != 2 or not parts[1]:
            return None
        service = _OPTIMIZED_NAMES.get(parts[0])
        action = parts[1]
    else:
        return None
    if service is None:
        return None
    return service, action[:1].upper() + action[1:]


@lru_cache(maxsize=1)
def _botocore_names() -> dict[str, str]:
    """SDK service name (botocore's without dashes) -> botocore's name."""
    from botocore.loaders import Loader

    names = Loader().list_available_services("service-2")
    return {name.replace("-", ""): name for name in names}


@lru_cache(maxsize=32)
def _service_model(service: str) -> Any | None:
    from botocore.exceptions import UnknownServiceError
    from botocore.loaders import Loader
    from botocore.model import ServiceModel

    try:
        return ServiceModel(Loader().load_service_model(service, "service-2"), service)
    except UnknownServiceError:
        return None


def _fail(detail: str) -> AwsApiError:
    return AwsApiError("ValidationException", _PREFIX + detail)


def _check(shape: Any, value: JSON, name: str | None, *, strict: bool) -> None:
    kind = shape.type_name
    field = f"Field '{name}'"
    if kind == "structure":
        if not isinstance(value, dict):
            if name is None:
                raise _fail("Mock result must be a JSON object")
            raise _fail(f"{field} must be an object")
        if strict:
            for required in shape.required_members:
                if _pascal(required) not in value:
                    raise _fail(f"Required field '{_pascal(required)}' is missing")
        members = {_pascal(k): m for k, m in shape.members.items()}
        for key, item in value.items():
            member = members.get(key)
            if member is not None:
                _check(member, item, key, strict=strict)
    elif kind == "list":
        if not isinstance(value, list):
            raise _fail(f"{field} must be an array")
        _lengths(shape, len(value), field)
        for item in value:
            _check(shape.member, item, name, strict=strict)
    elif kind == "map":
        if not isinstance(value, dict):
            raise _fail(f"{field} must be an object")
        for item in value.values():
            _check(shape.value, item, name, strict=strict)
    elif kind in ("string", "timestamp", "blob"):
        if not isinstance(value, str):
            raise _fail(f"{field} must be a string")
        if kind == "string" and shape.enum and value not in shape.enum:
            raise _fail(f"{field} is not an expected value")
        if kind != "timestamp":
            _lengths(shape, len(value), field)
    elif kind in ("integer", "long", "float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(f"{field} must be a number")
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            raise _fail(f"{field} is less than the minimum value")
        if high is not None and value > high:
            raise _fail(f"{field} exceeds the maximum value")
    elif kind == "boolean" and not isinstance(value, bool):
        raise _fail(f"{field} must be a boolean")


def _pascal(name: str) -> str:
    """Step Functions writes every API response field in PascalCase (``ExecutionArn`` where
    botocore's Step Functions model says ``executionArn``); AWS's messages name them so."""
    return name[:1].upper() + name[1:]


def _lengths(shape: Any, length: int, field: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and length < low:
        raise _fail(f"{field} is smaller than the minimum length")
    if high is not None and length > high:
        raise _fail(f"{field} is larger than the maximum length")
