"""The HTTP API and console: a Starlette app built from an :class:`~eltflow.app.App`.

Handlers are thin: they parse the request, call the same services the CLI uses, and return
AWS-shaped JSON. Errors map to HTTP statuses in one place (:func:`_error_response`).
Sync endpoints run in Starlette's thread pool, which suits our synchronous drivers.
With a token (``eltflow serve`` off loopback), every ``/api/`` request must carry it; the
console's static shell loads without it and asks for it. A browser's state-changing requests
also carry the session's CSRF token (:mod:`eltflow.api.csrf`).
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from eltflow.api import handlers, schedules
from eltflow.api.csrf import COOKIE, CsrfGuard, CsrfTokens, session_of
from eltflow.api.guard import LOOPBACK_NAMES, CrossSiteGuard, is_json_content
from eltflow.api.openapi import OPENAPI
from eltflow.errors import (
    AwsApiError,
    ConflictError,
    DefinitionError,
    EltflowError,
    NotFoundError,
    StoreError,
)

if TYPE_CHECKING:
    from eltflow.app import App

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]


class BadRequest(EltflowError):
    """The HTTP request itself is malformed (bad JSON body, missing field...)."""


_NOT_FOUND_CODES = {
    "ExecutionDoesNotExist",
    "StateMachineDoesNotExist",
    "ResourceNotFoundException",
    "NotFoundException",
}


def _error_response(exc: Exception) -> JSONResponse:
    if isinstance(exc, DefinitionError):
        return JSONResponse(
            {
                "code": "InvalidDefinition",
                "message": str(exc),
                "diagnostics": [
                    {
                        "path": d.path,
                        "code": d.code,
                        "message": d.message,
                        **({"hint": d.hint} if d.hint else {}),
                    }
                    for d in exc.diagnostics
                ],
            },
            status_code=400,
        )
    if isinstance(exc, AwsApiError):
        status = 404 if exc.code in _NOT_FOUND_CODES else 400
        return JSONResponse({"code": exc.code, "message": exc.message}, status_code=status)
    if isinstance(exc, NotFoundError):
        return JSONResponse({"code": "NotFound", "message": str(exc)}, status_code=404)
    if isinstance(exc, ConflictError):
        return JSONResponse({"code": "Conflict", "message": str(exc)}, status_code=409)
    if isinstance(exc, StoreError):
        # The store itself failed (busy, unreachable): the request may succeed if retried.
        log.warning("store error while serving a request: %s", exc)
        return JSONResponse({"code": "StoreUnavailable", "message": str(exc)}, status_code=503)
    if isinstance(exc, EltflowError):
        # Every other error of ours is about the request: bad schedule, bad config, bad field.
        return JSONResponse({"code": "BadRequest", "message": str(exc)}, status_code=400)
    return JSONResponse({"code": type(exc).__name__, "message": str(exc)}, status_code=500)


def endpoint(fn: Callable[..., Any]) -> Endpoint:
    """Wrap a sync handler ``fn(app, request_info) -> JSON`` as a Starlette endpoint."""
    from starlette.concurrency import run_in_threadpool

    async def run(request: Request) -> Response:
        body: Any = None
        if request.method in {"POST", "PUT", "PATCH"}:
            raw = await request.body()
            if raw.strip() and not is_json_content(request.headers.get("content-type", "")):
                # text/plain and forms are what a page can POST cross-site without a preflight.
                return JSONResponse(
                    {
                        "code": "UnsupportedMediaType",
                        "message": "the request body must be sent as Content-Type: "
                        "application/json",
                    },
                    status_code=415,
                )
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError as e:  # JSONDecodeError, or UnicodeDecodeError for non-UTF-8
                    return _error_response(BadRequest(f"request body is not valid JSON: {e}"))
            if body is not None and not isinstance(body, dict):
                return _error_response(BadRequest("request body must be a JSON object"))
        call = handlers.Call(
            path=dict(request.path_params),
            query=dict(request.query_params),
            body=body or {},
        )
        try:
            result = await run_in_threadpool(fn, request.app.state.eltflow, call)
        except EltflowError as e:
            return _error_response(e)
        return AwsJSONResponse(result)

    return run


def _json_default(value: Any) -> Any:
    """What boto3-shaped services return beyond JSON: dates, DynamoDB numbers, blobs."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class AwsJSONResponse(JSONResponse):
    """JSON with dates as ISO-8601 strings, like the AWS CLI prints them."""

    def render(self, content: Any) -> bytes:
        return json.dumps(
            content, ensure_ascii=False, separators=(",", ":"), default=_json_default
        ).encode("utf-8")


class TokenAuth(BaseHTTPMiddleware):
    """When a token is set (required off loopback), every API request must carry it, as
    ``Authorization: Bearer T`` or ``?token=T``.

    The console's shell (``/`` and ``/static/``) holds no data and is served without it, so a
    browser can load the page, which then asks for the token and sends it on every API call.
    """

    def __init__(self, app: Any, token: str) -> None:
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next: Any) -> Response:
        path = request.url.path
        if path == "/" or path.startswith("/static/"):
            shell: Response = await call_next(request)
            return shell
        supplied = request.query_params.get("token", "")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            supplied = auth[7:]
        if not hmac.compare_digest(supplied.encode(), self.token.encode()):
            return JSONResponse(
                {"code": "Unauthorized", "message": "missing or wrong token"}, status_code=401
            )
        response: Response = await call_next(request)
        return response


def _static_dir() -> Path:
    return Path(str(resources.files("eltflow.web").joinpath("static")))


async def _index(request: Request) -> Response:
    return FileResponse(_static_dir() / "index.html")


async def _health(request: Request) -> Response:
    """200 while the worker's store operations succeed; 503 with the error while they fail
    (the worker keeps retrying: see :class:`eltflow.runtime.worker.Health`)."""
    provider: Callable[[], dict[str, Any]] | None = request.app.state.health
    report = provider() if provider is not None else {"status": "ok"}
    return AwsJSONResponse(report, status_code=200 if report["status"] == "ok" else 503)


async def _csrf(request: Request) -> Response:
    """The console's CSRF token (see :mod:`eltflow.api.csrf`): this browser session's, made
    (with its cookie) on first call."""
    tokens: CsrfTokens = request.app.state.csrf
    session = session_of(request.headers.get("cookie"))
    fresh = session is None
    if session is None:
        session = tokens.new_session()
    response = JSONResponse({"token": tokens.token_for(session), "header": "X-Eltflow-CSRF"})
    response.headers["cache-control"] = "no-store"
    if fresh:
        response.set_cookie(COOKIE, session, httponly=True, samesite="strict", path="/")
    return response


async def _openapi(request: Request) -> Response:
    return JSONResponse(OPENAPI)


def create_app(
    eltflow_app: App,
    *,
    token: str | None = None,
    hosts: frozenset[str] | None = LOOPBACK_NAMES,
    health: Callable[[], dict[str, Any]] | None = None,
) -> Starlette:
    """The HTTP app over ``eltflow_app`` (an :class:`eltflow.app.App`).

    ``hosts`` are the ``Host`` names it answers (``None``: any; see :mod:`eltflow.api.guard`);
    ``health()`` reports the server's parts for ``GET /api/health``.
    """
    r, s = handlers, schedules
    routes = [
        Route("/", _index),
        Route("/api/openapi.json", _openapi),
        Route("/api/health", _health),
        Route("/api/csrf", _csrf),
        Route("/api/state-machines", endpoint(r.list_machines)),
        Route("/api/state-machines", endpoint(r.create_machine), methods=["POST"]),
        Route("/api/state-machines/{name}", endpoint(r.describe_machine)),
        Route("/api/state-machines/{name}", endpoint(r.delete_machine), methods=["DELETE"]),
        Route(
            "/api/state-machines/{name}/executions",
            endpoint(r.start_execution),
            methods=["POST"],
        ),
        Route("/api/executions", endpoint(r.list_executions)),
        Route("/api/executions/{arn}/history", endpoint(r.execution_history)),
        Route("/api/executions/{arn}/definition", endpoint(r.execution_definition)),
        Route("/api/executions/{arn}/states", endpoint(r.execution_states)),
        Route("/api/executions/{arn}/logs", endpoint(r.execution_logs)),
        Route("/api/executions/{arn}/links", endpoint(r.execution_links)),
        Route("/api/executions/{arn}/tasks", endpoint(r.execution_tasks)),
        Route("/api/executions/{arn}/stop", endpoint(r.stop_execution), methods=["POST"]),
        Route("/api/executions/{arn}/redrive", endpoint(r.redrive_execution), methods=["POST"]),
        Route("/api/executions/{arn}", endpoint(r.describe_execution)),
        Route("/api/tasks/success", endpoint(r.send_task_success), methods=["POST"]),
        Route("/api/tasks/failure", endpoint(r.send_task_failure), methods=["POST"]),
        Route("/api/tasks/heartbeat", endpoint(r.send_task_heartbeat), methods=["POST"]),
        Route("/api/jobs", endpoint(r.list_jobs)),
        Route("/api/jobs/{table}/{job_id}/reset", endpoint(r.reset_job), methods=["POST"]),
        Route("/api/tables", endpoint(r.list_tables)),
        Route("/api/tables/{table}/items", endpoint(r.scan_table)),
        Route("/api/schedules", endpoint(s.list_schedules)),
        Route("/api/schedules", endpoint(s.create_schedule), methods=["POST"]),
        Route("/api/schedules/{name}", endpoint(s.describe_schedule)),
        Route("/api/schedules/{name}", endpoint(s.update_schedule), methods=["PATCH"]),
        Route("/api/schedules/{name}", endpoint(s.delete_schedule), methods=["DELETE"]),
        Route("/api/schedules/{name}/pause", endpoint(s.pause_schedule), methods=["POST"]),
        Route("/api/schedules/{name}/resume", endpoint(s.resume_schedule), methods=["POST"]),
        Route("/api/topics", endpoint(r.list_topics)),
        Route("/api/statements", endpoint(r.list_statements)),
        Mount("/static", app=StaticFiles(directory=str(_static_dir())), name="static"),
    ]
    tokens = CsrfTokens()
    middleware = [Middleware(CrossSiteGuard, hosts=hosts)]
    if token:
        middleware.append(Middleware(TokenAuth, token=token))
    middleware.append(Middleware(CsrfGuard, tokens=tokens))
    app = Starlette(routes=routes, middleware=middleware)
    app.state.csrf = tokens
    app.state.eltflow = eltflow_app
    app.state.health = health
    return app
