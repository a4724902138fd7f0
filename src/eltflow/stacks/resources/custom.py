"""Custom resources (``Custom::*``, ``AWS::CloudFormation::CustomResource``) backed by a Lambda
function: invoked with CloudFormation's event (RequestType Create / Update / Delete,
ResponseURL, StackId, RequestId, LogicalResourceId, ResourceType, ResourceProperties and, for
Update/Delete, PhysicalResourceId and OldResourceProperties), answered through ``cfnresponse``
to a ResponseURL served locally. ``Ref`` is the PhysicalResourceId the function returned;
``Fn::GetAtt`` reads its ``Data``. A FAILED answer (or none, or the function raising) fails the
resource, which rolls the stack back.

Unlike AWS, which waits up to an hour for a response, the answer must arrive by the time the
function returns (plus a short grace): functions that answer from a thread they leave running
are not supported. SNS service tokens are not supported.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import replace

from eltflow.errors import AwsApiError
from eltflow.stacks.resources.base import Outcome, Request, Services, text
from eltflow.stacks.responses import serve_responses
from eltflow.types import JSONObject

_GRACE_SECONDS = 5.0


class _Failed(AwsApiError):
    """A FAILED answer (with the physical id it named, for the Delete a failed create gets)."""

    def __init__(self, message: str, physical_id: str) -> None:
        super().__init__("CustomResourceFailed", message)
        self.physical_id = physical_id


def _function_name(token: str) -> str:
    if ":sns:" in token:
        raise AwsApiError(
            "ValidationError", "ServiceToken: SNS-backed custom resources are not supported locally"
        )
    if ":function:" in token:
        return token.split(":function:", 1)[1].split(":", 1)[0]
    return token


class CustomProvider:
    replace_on: frozenset[str] = frozenset()
    name_property = ""

    def _call(
        self,
        services: Services,
        request: Request,
        request_type: str,
        properties: JSONObject,
    ) -> JSONObject:
        runner = services.lambda_runner
        if runner is None:
            raise AwsApiError("ValidationError", "no local Lambda service in this project")
        token = text(properties, "ServiceToken")
        if not token:
            raise AwsApiError("ValidationError", "Properties.ServiceToken is required")
        with serve_responses() as responses:
            response_token, url = responses.new_url()
            event: JSONObject = {
                "RequestType": request_type,
                "ServiceToken": token,
                "ResponseURL": url,
                "StackId": request.stack_id,
                "RequestId": str(uuid.uuid4()),
                "LogicalResourceId": request.logical_id,
                "ResourceType": request.type,
                "ResourceProperties": properties,
            }
            if request_type != "Create":
                event["PhysicalResourceId"] = request.physical_id
            if request_type == "Update":
                event["OldResourceProperties"] = request.old_properties
            invocation = runner.invoke(_function_name(token), event)
            if invocation.error is not None:
                error = invocation.error
                raise AwsApiError(
                    "CustomResourceFailed",
                    f"Custom resource function failed: {error.get('errorType')}: "
                    f"{error.get('errorMessage')}",
                )
            answer = responses.wait(response_token, _GRACE_SECONDS)
        if not isinstance(answer, dict):
            raise AwsApiError(
                "CustomResourceFailed",
                "CloudFormation did not receive a response from your Custom Resource (the "
                "function returned without calling cfnresponse.send)",
            )
        if answer.get("Status") != "SUCCESS":
            physical = answer.get("PhysicalResourceId")
            raise _Failed(
                f"Received response status [{answer.get('Status')}] from custom resource. "
                f"Message returned: {answer.get('Reason', '')} (RequestId: {event['RequestId']})",
                physical if isinstance(physical, str) and request_type == "Create" else "",
            )
        return answer

    def _outcome(self, answer: JSONObject) -> Outcome:
        physical = answer.get("PhysicalResourceId")
        if not isinstance(physical, str) or not physical:
            raise AwsApiError("CustomResourceFailed", "Invalid PhysicalResourceId")
        data = answer.get("Data")
        attributes: JSONObject = dict(data) if isinstance(data, dict) else {}
        return Outcome(physical_id=physical, attributes=attributes)

    def create(self, services: Services, request: Request) -> Outcome:
        try:
            return self._outcome(self._call(services, request, "Create", request.properties))
        except _Failed as e:
            # The rollback sends a Delete for the resource that failed to create, with the
            # physical id its FAILED answer gave (providers must handle it), as AWS does.
            if e.physical_id:
                failed = replace(request, physical_id=e.physical_id)
                with contextlib.suppress(AwsApiError):
                    self._call(services, failed, "Delete", request.properties)
            raise

    def update(self, services: Services, request: Request) -> Outcome:
        # A different PhysicalResourceId makes this a replacement: the deploy deletes the old
        # one after the update succeeds (or the new one if it rolls back), as AWS does.
        return self._outcome(self._call(services, request, "Update", request.properties))

    def delete(self, services: Services, request: Request) -> None:
        self._call(services, request, "Delete", request.properties)


def is_custom(resource_type: str) -> bool:
    return resource_type.startswith("Custom::") or (
        resource_type == "AWS::CloudFormation::CustomResource"
    )
