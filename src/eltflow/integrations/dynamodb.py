"""DynamoDB as Task states: the optimized ``arn:aws:states:::dynamodb:getItem|putItem|
updateItem|deleteItem`` and the SDK integration ``arn:aws:states:::aws-sdk:dynamodb:<action>``.

Parameters are DynamoDB's request (typed attribute values). Errors, as on AWS, are named
``DynamoDB.<Exception>`` for the optimized integration
(``DynamoDB.ConditionalCheckFailedException``) and ``DynamoDb.<Exception>`` for the SDK
integration — AWS spells the service prefix differently in the two (the SDK integration uses
the Java SDK v2 service name); codes the SDKs do not model (ValidationException) take the
SDK's base exception name (see MODELED).
"""

from __future__ import annotations

from typing import Any

from eltflow.errors import AwsApiError, StatesError
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.integrations.sdk_metadata import (
    http_metadata,
    request_id,
    sdk_v1_cause,
    sdk_v2_cause,
)
from eltflow.types import JSON

OPTIMIZED = "arn:aws:states:::dynamodb:"
SDK = "arn:aws:states:::aws-sdk:dynamodb:"
# Exceptions the AWS SDKs for Java model for DynamoDB. Step Functions names an error after the
# SDK's exception class, so any other code (ValidationException above all) surfaces as the
# SDK's base class: AmazonDynamoDBException (optimized, SDK v1) / DynamoDbException (aws-sdk,
# SDK v2) — e.g. "DynamoDB.AmazonDynamoDBException" for a bad UpdateExpression, as AWS's own
# semaphore sample documents; the Cause still carries "Error Code: ValidationException".
MODELED = frozenset(
    {
        "ConditionalCheckFailedException",
        "ResourceNotFoundException",
        "ResourceInUseException",
        "ProvisionedThroughputExceededException",
        "ItemCollectionSizeLimitExceededException",
        "LimitExceededException",
        "InternalServerErrorException",
        "TransactionCanceledException",
        "TransactionConflictException",
        "TransactionInProgressException",
        "IdempotentParameterMismatchException",
        "RequestLimitExceeded",
    }
)
OPTIMIZED_ACTIONS = {
    "getItem": "GetItem",
    "putItem": "PutItem",
    "updateItem": "UpdateItem",
    "deleteItem": "DeleteItem",
}


def _exception(code: str) -> str:
    return code if code.endswith("Exception") else f"{code}Exception"


def _params(request: TaskRequest, action: str, prefix: str) -> dict[str, Any]:
    params = request.parameters if request.parameters is not None else {}
    if not isinstance(params, dict):
        raise StatesError(
            f"{prefix}.ValidationException",
            f"The parameters of {action} must be a JSON object, got {type(params).__name__}",
        )
    return params


class DynamoDBIntegration:
    """Both DynamoDB resource families over one local (or boto3-backed) service."""

    def __init__(self, service: Any) -> None:
        self.service = service  # anything with call(operation, request) -> dict

    def __call__(self, request: TaskRequest) -> JSON:
        resource = request.resource
        rid = request_id()
        if resource.startswith(OPTIMIZED):
            name = resource[len(OPTIMIZED) :]
            action = OPTIMIZED_ACTIONS.get(name)
            if action is None:
                raise StatesError(
                    "States.Runtime",
                    f"Resource {resource!r}: the optimized DynamoDB integration supports "
                    f"{', '.join(OPTIMIZED_ACTIONS)}; use arn:aws:states:::aws-sdk:dynamodb:"
                    f"{name} for other actions",
                )
            params = _params(request, name, "DynamoDB")
            try:
                out = self.service.call(action, params)
            except AwsApiError as e:
                name = e.code if e.code in MODELED else "AmazonDynamoDBException"
                raise StatesError(
                    f"DynamoDB.{_exception(name)}",
                    sdk_v1_cause(e.message, "AmazonDynamoDBv2", 400, e.code, rid),
                ) from e
            result: dict[str, JSON] = dict(out)
            result.update(http_metadata(rid, request.clock.now()))
            return result
        name = resource[len(SDK) :] if resource.startswith(SDK) else resource
        params = _params(request, name, "DynamoDb")
        try:
            out = self.service.call(name, params)
        except AwsApiError as e:
            name = e.code if e.code in MODELED else "DynamoDbException"
            raise StatesError(
                f"DynamoDb.{_exception(name)}", sdk_v2_cause(e.message, "DynamoDb", 400, rid)
            ) from e
        return dict(out)


def register(registry: Registry, service: Any) -> None:
    """Serve ``dynamodb:*`` and ``aws-sdk:dynamodb:*`` resources with ``service``
    (an :class:`eltflow.items.service.DynamoDB`)."""
    integration = DynamoDBIntegration(service)
    registry.add_prefix(OPTIMIZED, integration)
    registry.add_prefix(SDK, integration)
