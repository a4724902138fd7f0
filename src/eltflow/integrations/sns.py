"""SNS as Task states: ``arn:aws:states:::sns:publish`` (optimized; result ``MessageId`` plus
SDK metadata; errors ``SNS.<Name>Exception`` such as ``SNS.NotFoundException``) and
``arn:aws:states:::aws-sdk:sns:<action>`` (bare response; errors ``Sns.<Name>Exception``).

``Message`` may be a string or any JSON value; a non-string is serialised to JSON text, as
Step Functions does before calling SNS.
"""

from __future__ import annotations

import json
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

PUBLISH = "arn:aws:states:::sns:publish"
SDK = "arn:aws:states:::aws-sdk:sns:"
_STATUS = {"NotFound": 404, "AuthorizationError": 403}


# SNS error codes the AWS SDKs for Java model (code → exception class). Any other code surfaces
# as the SDK's base class, AmazonSNSException (SDK v1) / SnsException (SDK v2).
MODELED = {
    "NotFound": "NotFoundException",
    "InvalidParameter": "InvalidParameterException",
    "ParameterValueInvalid": "InvalidParameterValueException",
    "AuthorizationError": "AuthorizationErrorException",
    "InternalError": "InternalErrorException",
    "Throttled": "ThrottledException",
    "TopicLimitExceeded": "TopicLimitExceededException",
    "SubscriptionLimitExceeded": "SubscriptionLimitExceededException",
    "KMSDisabled": "KMSDisabledException",
    "ValidationException": "ValidationException",
}


def _exception(code: str, base: str) -> str:
    return MODELED.get(code, base)


class SnsIntegration:
    def __init__(self, service: Any) -> None:
        self.service = service  # anything with call(operation, request) -> dict

    def __call__(self, request: TaskRequest) -> JSON:
        # .waitForTaskToken: the call is made as request-response; the task runner then waits
        # for SendTaskSuccess/Failure with $$.Task.Token (runtime/tasks.py).
        if request.resource.endswith(".sync"):
            # Running it synchronously would silently change the pattern's meaning.
            raise StatesError(
                "States.Runtime",
                f"Resource {request.resource!r}: this integration pattern is not supported "
                "locally; use the request-response resource",
            )
        params = request.parameters if isinstance(request.parameters, dict) else {}
        rid = request_id()
        if request.resource.startswith(SDK):
            action = request.resource[len(SDK) :]
            try:
                return dict(self.service.call(action, dict(params)))
            except AwsApiError as e:
                status = _STATUS.get(e.code, 400)
                raise StatesError(
                    f"Sns.{_exception(e.code, 'SnsException')}",
                    sdk_v2_cause(e.message, "Sns", status, rid),
                ) from e
        body = dict(params)
        if "Message" in body and not isinstance(body["Message"], str):
            body["Message"] = json.dumps(body["Message"], separators=(",", ":"))
        try:
            out = self.service.call("Publish", body)
        except AwsApiError as e:
            status = _STATUS.get(e.code, 400)
            raise StatesError(
                f"SNS.{_exception(e.code, 'AmazonSNSException')}",
                sdk_v1_cause(e.message, "AmazonSNS", status, e.code, rid),
            ) from e
        result: dict[str, JSON] = {"MessageId": out["MessageId"]}
        result.update(http_metadata(rid, request.clock.now(), {"Content-Type": "text/xml"}))
        return result


def register(registry: Registry, service: Any) -> None:
    """Serve ``sns:publish`` and ``aws-sdk:sns:*`` with ``service`` (a
    :class:`eltflow.notify.topics.Topics`)."""
    integration = SnsIntegration(service)
    registry.add_prefix(PUBLISH, integration)
    registry.add_prefix(SDK, integration)
