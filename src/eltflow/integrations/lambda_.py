"""Lambda as Task states: ``arn:aws:states:::lambda:invoke`` (the result sits under ``Payload``
with ``StatusCode``, ``ExecutedVersion`` and the SDK metadata) and the legacy bare function ARN
``arn:aws:lambda:REGION:ACCOUNT:function:NAME`` (the result is the payload itself).

A handler that raises fails the task with Error = the exception's class name and Cause = AWS's
JSON error payload; an unknown function fails with ``Lambda.ResourceNotFoundException``; a Task
whose TimeoutSeconds passes fails with ``States.Timeout``.
"""

from __future__ import annotations

import json
from typing import Any

from eltflow.errors import AwsApiError, StatesError
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.integrations.sdk_metadata import http_metadata, request_id, sdk_v1_cause
from eltflow.lambdas.runner import Invocation, InvocationTimeout, LambdaRunner
from eltflow.types import JSON

INVOKE = "arn:aws:states:::lambda:invoke"
LEGACY = "arn:aws:lambda:"


class LambdaIntegration:
    def __init__(self, runner: LambdaRunner) -> None:
        self.runner = runner

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
        legacy = request.resource.startswith(LEGACY)
        if legacy:
            function_name, payload = request.resource, request.parameters
        else:
            params = request.parameters
            if not isinstance(params, dict) or not isinstance(params.get("FunctionName"), str):
                raise StatesError(
                    "Lambda.InvalidParameterValueException",
                    "lambda:invoke needs Parameters with a FunctionName string",
                )
            function_name = str(params["FunctionName"])
            qualifier = params.get("Qualifier")
            if isinstance(qualifier, str) and ":" not in function_name.removeprefix("arn:"):
                function_name = f"{function_name}:{qualifier}"
            payload = params.get("Payload")
        params_map = request.parameters if isinstance(request.parameters, dict) else {}
        invocation_type = None if legacy else params_map.get("InvocationType")
        if invocation_type in ("Event", "DryRun"):
            return self._no_wait(function_name, payload, str(invocation_type), request)
        remaining = None
        if request.deadline is not None:
            remaining = max(0.0, (request.deadline - request.clock.now()).total_seconds())
        try:
            result = self.runner.invoke(function_name, payload, remaining)
            self._keep_log(request, function_name, result)
        except InvocationTimeout as e:
            raise StatesError("States.Timeout", str(e)) from e
        except AwsApiError as e:
            status = 404 if e.code == "ResourceNotFoundException" else 400
            raise StatesError(
                f"Lambda.{e.code}",
                sdk_v1_cause(e.message, "AWSLambda", status, e.code, request_id()),
            ) from e
        if result.error is not None:
            raise StatesError(
                str(result.error.get("errorType", "Lambda.Unknown")),
                json.dumps(result.error, separators=(",", ":")),
            )
        if legacy:
            return result.payload
        body = json.dumps(result.payload)
        out: dict[str, Any] = {
            "ExecutedVersion": "$LATEST",
            "Payload": result.payload,
            "StatusCode": 200,
        }
        out.update(
            http_metadata(
                result.request_id,
                request.clock.now(),
                {
                    "Content-Type": "application/json",
                    "Content-Length": str(len(body.encode("utf-8"))),
                    "X-Amz-Executed-Version": "$LATEST",
                    "x-amzn-Remapped-Content-Length": "0",
                    "Connection": "keep-alive",
                },
            )
        )
        return out

    def _keep_log(self, request: TaskRequest, function_name: str, result: Invocation) -> None:
        """The invocation's output, kept with the execution and state that ran it."""
        logs = self.runner.logs
        if logs is None or not request.execution_arn:
            return
        logs.append(
            request.execution_arn,
            {
                "timestamp": request.clock.now().isoformat(),
                "state": request.state_name,
                "function": function_name.rsplit(":", 1)[-1]
                if function_name.startswith("arn:")
                else function_name,
                "requestId": result.request_id,
                "error": (result.error or {}).get("errorType"),
                "text": result.log,
            },
        )

    def _no_wait(
        self, function_name: str, payload: JSON, invocation_type: str, request: TaskRequest
    ) -> JSON:
        """Event: queued, 202 and an empty payload; DryRun: only checked, 204."""
        try:
            if invocation_type == "Event":
                rid = self.runner.submit(function_name, payload)
            else:
                self.runner.function(function_name)
                rid = request_id()
        except AwsApiError as e:
            raise StatesError(
                f"Lambda.{e.code}",
                sdk_v1_cause(e.message, "AWSLambda", 404, e.code, request_id()),
            ) from e
        status = 202 if invocation_type == "Event" else 204
        out: dict[str, Any] = {"Payload": "", "StatusCode": status}
        out.update(http_metadata(rid, request.clock.now(), status=status))
        return out


def register(registry: Registry, runner: LambdaRunner) -> None:
    """Serve ``lambda:invoke`` and legacy function-ARN resources with ``runner``."""
    integration = LambdaIntegration(runner)
    registry.add_prefix(INVOKE, integration)
    registry.add_prefix(LEGACY, integration)
