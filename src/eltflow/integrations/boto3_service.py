"""Real AWS behind the integrations: a boto3 client adapted to ``call(operation, request)``.

With ``[aws] mode = "aws"`` the composition root registers the DynamoDB / SNS integrations over
``Boto3Service(eltflow.aws.boto3_client(name, settings))`` instead of the local services: the
same Task parameters go to AWS, and AWS's error codes come back as
:class:`~eltflow.errors.AwsApiError`, which the integrations name exactly as for local calls.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from typing import Any

from eltflow.errors import AwsApiError


def _snake(operation: str) -> str:
    name = operation[:1].upper() + operation[1:]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _to_boto(value: Any, key: str | None = None) -> Any:
    """Step Functions JSON → boto3 arguments (DynamoDB binaries are bytes in boto3)."""
    if isinstance(value, dict):
        return {k: _to_boto(v, k) for k, v in value.items()}
    if isinstance(value, list):
        if key == "BS":
            return [base64.b64decode(v) for v in value]
        return [_to_boto(v) for v in value]
    if key == "B" and isinstance(value, str):
        return base64.b64decode(value)
    return value


def _to_json(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple | set):
        return [_to_json(v) for v in value]
    return value


class Boto3Service:
    def __init__(self, client: Any) -> None:
        self.client = client

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        method = getattr(self.client, _snake(operation), None)
        if method is None:
            raise AwsApiError("ValidationException", f"Unknown operation {operation}")
        try:
            out = method(**_to_boto(request))
        except ClientError as e:
            error = e.response.get("Error", {})
            raise AwsApiError(
                str(error.get("Code", "Unknown")), str(error.get("Message", ""))
            ) from e
        result: dict[str, Any] = _to_json(out)
        return result
