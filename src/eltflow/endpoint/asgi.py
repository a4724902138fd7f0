"""The endpoint as an ASGI app, and the dispatcher that puts it on the console's port.

A request is an AWS request when it carries what the SDKs always send and a browser or the
console's API never does (see :func:`is_aws_request`):

- an ``X-Amz-Target`` header: the JSON protocols (Step Functions, Data API, DynamoDB);
- a form-encoded ``POST /``: the query protocol (SNS), ``Action`` in the body;
- a path under ``/2015-03-31/functions``: Lambda's REST API;
- a ``Host`` naming a virtual-hosted bucket (``b.localhost:8642``, ``b.s3.localhost``): S3;
- a SigV4 ``Authorization`` header (``AWS4-HMAC-SHA256 ...``): anything else an AWS SDK sends,
  answered with an AWS error instead of the console's 404.

Everything else goes to the console. So ``aws --endpoint-url http://127.0.0.1:8642`` and
``boto3.client(..., endpoint_url=...)`` talk to the same port as the browser, with no path
prefix (the SDKs post JSON and query requests to ``/``, so a prefix would need every client to
add it to the endpoint URL).

Errors never leak a traceback: AWS codes from the services pass through with the model's HTTP
status; an unexpected exception is logged and answered ``InternalFailure`` (500), as AWS does.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from eltflow.endpoint import contract, lambda_rest, query, s3_rest
from eltflow.endpoint.table import JSON_APIS, QUERY_APIS, Api
from eltflow.endpoint.wire import (
    Credential,
    WireError,
    credential,
    json_error,
    request_id,
    rest_xml_error,
    xml_error,
)
from eltflow.errors import (
    AwsApiError,
    ConflictError,
    DefinitionError,
    EltflowError,
    StoreError,
)
from eltflow.lambdas.runner import INVOCATION_HEADER

if TYPE_CHECKING:
    from eltflow.app import App

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Larger than any AWS request limit we serve (DynamoDB's 16 MB batch), small enough that a
# runaway client cannot exhaust memory.
MAX_BODY_BYTES = 20 * 1024 * 1024
JSON_CONTENT_TYPES = (
    "application/x-amz-json-1.0",
    "application/x-amz-json-1.1",
    "application/json",
)
FORM = "application/x-www-form-urlencoded"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def is_aws_request(scope: Scope) -> bool:
    """True for requests the AWS SDKs and CLI send (see the module docstring)."""
    if scope.get("type") != "http":
        return False
    if _header(scope, b"x-amz-target") is not None:
        return True
    path = str(scope.get("path", ""))
    if path.startswith(lambda_rest.PREFIX) or s3_rest.is_s3_request(scope):
        return True
    content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
    if scope.get("method") == "POST" and path == "/" and content_type == FORM:
        return True
    return (_header(scope, b"authorization") or "").startswith("AWS4-HMAC-SHA256")


def with_endpoint(console: ASGIApp, endpoint: ASGIApp) -> ASGIApp:
    """One ASGI app: AWS requests to ``endpoint``, everything else to ``console``."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        target = endpoint if is_aws_request(scope) else console
        await target(scope, receive, send)

    return app


class Endpoint:
    """The AWS endpoint over an :class:`eltflow.app.App`.

    With ``token`` (``eltflow serve`` off loopback), a request's SigV4 access key id must be the
    token (``AWS_ACCESS_KEY_ID=$ELTFLOW_TOKEN``); the signature itself is not verified.
    """

    def __init__(self, app: App, *, token: str | None = None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "lifespan":
            # Nothing to start or stop (the App is owned by the caller); just say so.
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope.get("type") != "http":
            return
        request = Request(scope, receive)
        try:
            response = await self.handle(request)
        except Exception:
            # A bug of ours: logged with its traceback here, an AWS-shaped 500 to the client.
            log.exception("the AWS endpoint failed on %s %s", request.method, request.url.path)
            error = WireError("InternalFailure", "eltflow's AWS endpoint failed", 500)
            response = json_error(error, "application/x-amz-json-1.0", request_id())
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        rid = request_id()
        target = request.headers.get("x-amz-target")
        if request.url.path.startswith(lambda_rest.PREFIX):
            kind = "rest"
        elif target is None and request.method == "POST" and request.url.path == "/":
            kind = "query"
        else:
            kind = "json"
        content_type = "application/x-amz-json-1.0"
        cred = credential(
            request.headers.get("authorization"), request.query_params.get("X-Amz-Credential")
        )
        if target is None and (
            (cred is not None and cred.service == "s3") or s3_rest.is_s3_request(request.scope)
        ):
            kind = "s3"
        try:
            denied = self._denied(cred, kind)
            if denied is not None:
                raise denied
            if kind == "s3":
                return await s3_rest.handle(self.app, request, rid)
            body = await self._body(request)
            if kind == "rest":
                return await lambda_rest.handle(self.app, request, body, rid)
            if kind == "query":
                return await self._query(request, body, rid)
            if target is None:
                raise WireErrorException(
                    WireError(
                        "UnknownOperationException",
                        f"No AWS operation at {request.method} {request.url.path}: eltflow "
                        "serves JSON protocols (X-Amz-Target), the query protocol and Lambda",
                    )
                )
            return await self._json(request, target, body, rid)
        except WireErrorException as e:
            if kind == "query":
                return xml_error(e.error, _SNS_NAMESPACE, rid)
            if kind == "s3":
                code = "InvalidAccessKeyId" if e.error.status == 403 else e.error.code
                return rest_xml_error(WireError(code, e.error.message, e.error.status), rid)
            return json_error(e.error, content_type, rid)

    def _denied(self, cred: Credential | None, kind: str) -> WireErrorException | None:
        if self.token is None:
            return None
        supplied = cred.access_key if cred is not None else ""
        if hmac.compare_digest(supplied.encode(), self.token.encode()):
            return None
        # The JSON services' code for an unknown access key, and the query services'.
        code = "InvalidClientTokenId" if kind == "query" else "UnrecognizedClientException"
        return WireErrorException(
            WireError(
                code,
                "The security token included in the request is invalid "
                "(use the server's token as the access key id)",
                403,
            )
        )

    async def _body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise _too_large()
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    # -- JSON protocols ----------------------------------------------------------------------
    async def _json(self, request: Request, target: str, body: bytes, rid: str) -> Response:
        prefix, _, name = target.partition(".")
        api = JSON_APIS.get(prefix)
        if api is None or not name:
            raise WireErrorException(
                WireError("UnknownOperationException", f"Unknown target: {target!r}")
            )
        model = contract.service_model(api.model)
        version = model.metadata.get("jsonVersion", "1.0")
        content_type = f"application/x-amz-json-{version}"
        try:
            op = contract.operation(model, name)
            if op is None or name not in api.operations:
                raise WireErrorException(
                    WireError(
                        "UnknownOperationException",
                        f"{model.service_name} operation {name!r} is not "
                        + ("implemented by eltflow" if op is not None else "an AWS operation"),
                    )
                )
            sent = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
            if sent and sent not in JSON_CONTENT_TYPES:
                # Unverified: AWS's front end picks the protocol by content type, and an
                # unknown one finds no operation.
                raise WireErrorException(
                    WireError(
                        "UnknownOperationException",
                        f"Content-Type {sent!r} is not {content_type}",
                    )
                )
            try:
                params = json.loads(body) if body.strip() else {}
            except (ValueError, RecursionError) as e:  # RecursionError: absurdly deep nesting
                raise WireErrorException(
                    WireError("SerializationException", f"The request body is not JSON: {e}")
                ) from None
            invocation = request.headers.get(INVOCATION_HEADER)
            result = await self._call(api, model, op, params, invocation)
            payload = contract.to_json(op.output_shape, result)
            return Response(
                json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
                media_type=content_type,
                headers={"x-amzn-RequestId": rid},
            )
        except WireErrorException as e:
            return json_error(e.error, content_type, rid)

    async def _call(
        self, api: Api, model: Any, op: Any, params: Any, invocation: str | None = None
    ) -> Any:
        """Run the operation in the thread pool; a call from a process-isolated Lambda handler
        (``invocation``: its request id) runs in the context of whoever invoked it, so a Data
        API statement records the execution and state whose task ran the handler."""

        def run() -> Any:
            checked = contract.check_input(op, params)
            return api.call(self.app, op.name, checked)

        lambdas = self.app.lambdas if invocation else None
        origin = lambdas.context_of(invocation) if invocation and lambdas is not None else None
        try:
            if origin is not None:
                return await run_in_threadpool(origin.run, run)
            return await run_in_threadpool(run)
        except Exception as e:
            raise WireErrorException(service_error(model, e)) from None

    # -- query protocol ----------------------------------------------------------------------
    async def _query(self, request: Request, body: bytes, rid: str) -> Response:
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise WireErrorException(
                WireError("MalformedQueryString", "The request body is not UTF-8")
            ) from None
        form.update({k: v for k, v in request.query_params.items() if k not in form})
        action = form.get("Action", "")
        cred = credential(request.headers.get("authorization"))
        api = QUERY_APIS.get(cred.service) if cred is not None else None
        if api is None:
            api = next((a for a in QUERY_APIS.values() if action in a.operations), None)
        if api is None:
            raise WireErrorException(
                WireError("InvalidAction", f"The action {action or '(none)'} is not valid")
            )
        model = contract.service_model(api.model)
        namespace = str(model.metadata.get("xmlNamespace", ""))
        op = contract.operation(model, action)
        if op is None or action not in api.operations:
            error = WireError(
                "InvalidAction",
                f"The action {action or '(none)'} is not valid for this web service",
            )
            return xml_error(error, namespace, rid)
        try:
            params = query.parse(op.input_shape, form)
            invocation = request.headers.get(INVOCATION_HEADER)
            result = await self._call(api, model, op, params, invocation)
        except WireErrorException as e:
            return xml_error(e.error, namespace, rid)
        except AwsApiError as e:
            return xml_error(service_error(model, e), namespace, rid)
        return Response(query.response(op, namespace, result, rid), media_type="text/xml")


_SNS_NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/"


class WireErrorException(Exception):
    """Carries a :class:`WireError` out of the protocol code to the response."""

    def __init__(self, error: WireError) -> None:
        super().__init__(error.message)
        self.error = error


def _too_large() -> WireErrorException:
    return WireErrorException(
        WireError(
            "RequestEntityTooLargeException",
            f"The request body exceeds {MAX_BODY_BYTES} bytes",
            413,
        )
    )


def service_error(model: Any, e: Exception) -> WireError:
    """A service's exception as the wire error AWS would send."""
    if isinstance(e, WireErrorException):
        return e.error
    if isinstance(e, AwsApiError):
        code = e.code
        if model.protocol == "query" and code == "ValidationException":
            code = "ValidationError"  # the query protocol services' name for the same check
        extra: list[tuple[str, Any]] = []
        for attr, member in (("item", "Item"), ("reasons", "CancellationReasons")):
            value = getattr(e, attr, None)
            if value is not None:
                extra.append((member, value))
        return WireError(code, e.message, contract.error_status(model, code), tuple(extra))
    if isinstance(e, DefinitionError):
        return WireError("InvalidDefinition", str(e), 400)
    if isinstance(e, StoreError) and not isinstance(e, ConflictError):
        # The state store is busy or unreachable: a 503, which the SDKs retry.
        log.warning("store error while serving an AWS request: %s", e)
        return WireError("ServiceUnavailable", str(e), 503)
    if isinstance(e, EltflowError):
        # Every other error of ours is about the request (bad name, bad config...).
        return WireError("ValidationException", str(e), 400)
    log.exception("the AWS endpoint failed on a request")
    return WireError("InternalFailure", f"eltflow failed: {type(e).__name__}: {e}", 500)
