"""Lambda's REST API (rest-json) over the local handler runner: ``Invoke``, ``GetFunction``,
``ListFunctions``.

``POST /2015-03-31/functions/{FunctionName}/invocations`` with the payload as the body and the
invocation type in ``X-Amz-Invocation-Type``:

- ``RequestResponse`` (default): 200 with the handler's result as the body; a handler that
  raised still answers 200, with ``X-Amz-Function-Error: Unhandled`` and AWS's error payload
  (``errorMessage``, ``errorType``...) as the body, as AWS does;
- ``Event``: 202, the handler runs in the background;
- ``DryRun``: 204 once the function is known.

An unknown function is ``ResourceNotFoundException`` (404); a payload that is not JSON is
``InvalidRequestContentException`` (400).

``GetFunction`` / ``ListFunctions`` describe the functions of ``[lambda.functions]``
(:mod:`eltflow.lambdas.catalog`).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from eltflow.endpoint import contract
from eltflow.endpoint.wire import WireError, json_error
from eltflow.errors import AwsApiError
from eltflow.lambdas import catalog

if TYPE_CHECKING:
    from eltflow.app import App

PREFIX = "/2015-03-31/functions"
_INVOKE = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$")
_FUNCTION = re.compile(r"^/2015-03-31/functions/([^/]+)/?$")
_FUNCTIONS = re.compile(r"^/2015-03-31/functions/?$")
CONTENT_TYPE = "application/json"


async def handle(app: App, request: Request, body: bytes, rid: str) -> Response:
    path = request.url.path
    if request.method == "GET" and (_FUNCTION.match(path) or _FUNCTIONS.match(path)):
        try:
            out = await run_in_threadpool(_read, app, request)
        except AwsApiError as e:
            model = contract.service_model("lambda")
            status = contract.error_status(model, e.code)
            return json_error(WireError(e.code, e.message, status), CONTENT_TYPE, rid)
        return Response(
            json.dumps(out, separators=(",", ":")),
            media_type=CONTENT_TYPE,
            headers={"x-amzn-RequestId": rid},
        )
    match = _INVOKE.match(path)
    if match is None or request.method != "POST":
        error = WireError(
            "UnknownOperationException",
            f"Lambda operation {request.method} {request.url.path} is not implemented by eltflow",
            400,
        )
        return json_error(error, CONTENT_TYPE, rid)
    name = unquote(match.group(1))
    qualifier = request.query_params.get("Qualifier")
    if qualifier and ":" not in name.removeprefix("arn:"):
        name = f"{name}:{qualifier}"
    try:
        return await run_in_threadpool(_invoke, app, request, name, body, rid)
    except AwsApiError as e:
        model = contract.service_model("lambda")
        status = contract.error_status(model, e.code)
        return json_error(WireError(e.code, e.message, status), CONTENT_TYPE, rid)


def _invoke(app: App, request: Request, name: str, body: bytes, rid: str) -> Response:
    runner = _runner(app, name)
    kind = request.headers.get("x-amz-invocation-type") or "RequestResponse"
    if kind not in ("RequestResponse", "Event", "DryRun"):
        raise AwsApiError(
            "InvalidParameterValueException",
            f"Invalid InvocationType {kind!r}: one of RequestResponse, Event, DryRun",
        )
    try:
        payload = json.loads(body) if body.strip() else {}
    except ValueError as e:
        raise AwsApiError(
            "InvalidRequestContentException",
            f"Could not parse request body into json: {e}",
        ) from None
    if kind == "DryRun":
        runner.function(name)  # ResourceNotFoundException for an unknown function
        return Response(status_code=204, headers={"x-amzn-RequestId": rid})
    if kind == "Event":
        event_id = runner.submit(name, payload)
        return Response(status_code=202, headers={"x-amzn-RequestId": event_id})
    result = runner.invoke(name, payload)
    headers = {"x-amzn-RequestId": result.request_id, "X-Amz-Executed-Version": "$LATEST"}
    if result.error is not None:
        headers["X-Amz-Function-Error"] = "Unhandled"
        out: Any = result.error
    else:
        out = result.payload
    return Response(
        json.dumps(out, separators=(",", ":"), default=str),
        media_type=CONTENT_TYPE,
        headers=headers,
    )


def _runner(app: App, name: str = "") -> Any:
    runner = app.lambdas
    if runner is None:
        raise AwsApiError(
            "ResourceNotFoundException",
            f"Function not found: {name} (no Lambda functions are configured)",
        )
    return runner


def _read(app: App, request: Request) -> dict[str, Any]:
    match = _FUNCTION.match(request.url.path)
    if match is not None:
        name = unquote(match.group(1))
        return catalog.get_function(_runner(app, name), name)
    try:
        size = int(request.query_params.get("MaxItems") or catalog.MAX_ITEMS)
    except ValueError:
        raise AwsApiError("InvalidParameterValueException", "MaxItems must be a number") from None
    return catalog.list_functions(app.lambdas, request.query_params.get("Marker") or "", size)
