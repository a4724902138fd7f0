"""Type aliases shared across layers."""

from __future__ import annotations

from typing import Any, Protocol, TypeAlias

JSON: TypeAlias = "dict[str, JSON] | list[JSON] | str | int | float | bool | None"
"""Any value that ``json.loads`` can return."""

JSONObject: TypeAlias = "dict[str, JSON]"


class AwsApi(Protocol):
    """A service that speaks an AWS API's JSON wire shapes: ``call("GetItem", {...})`` returns
    the response object. The local DynamoDB and SNS services and, with ``[aws] mode = "aws"``,
    a boto3 client adapted by :class:`~eltflow.integrations.boto3_service.Boto3Service`."""

    def call(self, operation: str, request: dict[str, Any], /) -> dict[str, Any]: ...
