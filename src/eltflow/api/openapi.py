"""The OpenAPI 3 description of the HTTP API (served at /api/openapi.json).

Kept as data next to the routes; a test checks every route is described and schemathesis
checks the live server against it.
"""

from __future__ import annotations

from typing import Any

_ERROR = {
    "description": "error",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        }
    },
}
_OBJECT = {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}


def _param(name: str, where: str = "path", schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema or {"type": "string"},
    }


def _op(
    summary: str,
    params: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    not_found: bool = True,
    conflict: bool = False,
) -> dict[str, Any]:
    # 401 when the server demands a token; 503 when the state store is unreachable or busy.
    responses: dict[str, Any] = {"200": _OBJECT, "400": _ERROR, "401": _ERROR, "503": _ERROR}
    if not_found:
        responses["404"] = _ERROR
    if conflict:
        responses["409"] = _ERROR
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": body}},
        }
    return op


_NAME = _param("name")
_ARN = _param("arn")
_PAGE = [
    _param("maxResults", "query", {"type": "integer", "minimum": 1, "maximum": 1000}),
    _param("nextToken", "query"),
]

_FIRE_COUNTS = [
    _param("next", "query", {"type": "integer", "minimum": 0, "maximum": 50}),
    _param("fires", "query", {"type": "integer", "minimum": 0, "maximum": 100}),
]
_SCHEDULE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "Name": {"type": "string"},
        "ScheduleExpression": {"type": "string", "example": "rate(5 minutes)"},
        "ScheduleExpressionTimezone": {"type": "string", "example": "UTC"},
        "State": {"type": "string", "enum": ["ENABLED", "DISABLED"]},
        "Description": {"type": "string"},
        "StartDate": {"type": "string", "format": "date-time"},
        "EndDate": {"type": "string", "format": "date-time"},
        "CatchUp": {"type": "string", "enum": ["skip", "last", "all"]},
        "MaxCatchUp": {"type": "integer", "minimum": 0},
        "Overlap": {"type": "string", "enum": ["allow", "skip", "buffer_one"]},
        "FlexibleTimeWindow": {
            "type": "object",
            "properties": {
                "Mode": {"type": "string", "enum": ["OFF", "FLEXIBLE"]},
                "MaximumWindowInMinutes": {"type": "integer", "minimum": 1, "maximum": 1440},
            },
        },
        "Target": {
            "type": "object",
            "required": ["StateMachine"],
            "properties": {
                "StateMachine": {"type": "string"},
                "Input": {"type": "string"},
            },
        },
    },
}


def _writes_refusable(spec: dict[str, Any]) -> dict[str, Any]:
    """Every state-changing operation may be refused as a cross-site request or for a missing
    or wrong CSRF token (403)."""
    for path in spec["paths"].values():
        for method, operation in path.items():
            if method in ("post", "put", "patch", "delete"):
                operation["responses"] = {**operation["responses"], "403": _ERROR}
    return spec


OPENAPI: dict[str, Any] = _writes_refusable(
    {
        "openapi": "3.0.3",
        "info": {
            "title": "eltflow API",
            "version": "0.1.0",
            "description": (
                "Step Functions-shaped JSON over HTTP. When the server has a token (required off "
                "loopback), send it as `Authorization: Bearer <token>` or `?token=<token>`. A "
                "state-changing request from a browser (it has Origin, Referer, Cookie or "
                "Sec-Fetch-* headers) must also send its session's CSRF token (GET /api/csrf) as "
                "`X-Eltflow-CSRF`, else 403 CsrfTokenInvalid; programs need none."
            ),
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "tokenQuery": {"type": "apiKey", "in": "query", "name": "token"},
            }
        },
        # Either scheme, or none on a loopback server started without a token.
        "security": [{}, {"bearer": []}, {"tokenQuery": []}],
        "paths": {
            "/api/state-machines": {
                "get": _op("ListStateMachines", _PAGE, not_found=False),
                "post": _op(
                    "CreateStateMachine",
                    body={
                        "type": "object",
                        "required": ["name", "definition"],
                        "properties": {
                            "name": {"type": "string"},
                            "definition": {"oneOf": [{"type": "string"}, {"type": "object"}]},
                        },
                    },
                    not_found=False,
                ),
            },
            "/api/state-machines/{name}": {
                "get": _op("DescribeStateMachine (with versions)", [_NAME]),
                "delete": _op("DeleteStateMachine", [_NAME]),
            },
            "/api/state-machines/{name}/executions": {
                "post": _op(
                    "StartExecution",
                    [_NAME],
                    body={
                        "type": "object",
                        "properties": {"input": {"type": "string"}, "name": {"type": "string"}},
                    },
                )
            },
            "/api/executions": {
                "get": _op(
                    "ListExecutions",
                    [
                        _param("stateMachine", "query"),
                        _param("name", "query"),
                        _param("startedAfter", "query", {"type": "string", "format": "date-time"}),
                        _param("startedBefore", "query", {"type": "string", "format": "date-time"}),
                        _param(
                            "statusFilter",
                            "query",
                            {
                                "type": "string",
                                "enum": [
                                    "RUNNING",
                                    "SUCCEEDED",
                                    "FAILED",
                                    "TIMED_OUT",
                                    "ABORTED",
                                    "PENDING_REDRIVE",
                                ],
                            },
                        ),
                        *_PAGE,
                    ],
                )
            },
            "/api/executions/{arn}": {"get": _op("DescribeExecution", [_ARN])},
            "/api/executions/{arn}/history": {
                "get": _op(
                    "GetExecutionHistory",
                    [_ARN, *_PAGE, _param("reverseOrder", "query", {"type": "boolean"})],
                )
            },
            "/api/executions/{arn}/definition": {
                "get": _op("DescribeStateMachineForExecution", [_ARN])
            },
            "/api/executions/{arn}/states": {
                "get": _op(
                    "Per-state runs (each with its Map iteration path), Map iterations and "
                    "statuses, folded from the history",
                    [_ARN],
                )
            },
            "/api/executions/{arn}/logs": {
                "get": _op(
                    "What the execution's Lambda handlers printed and logged, per invocation",
                    [_ARN, _param("state", "query")],
                )
            },
            "/api/executions/{arn}/links": {
                "get": _op(
                    "Nested workflows: the parent (AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID "
                    "in the input) and the children its states:startExecution tasks started",
                    [_ARN],
                )
            },
            "/api/executions/{arn}/tasks": {
                "get": _op(
                    "Tasks waiting for their task token (.waitForTaskToken, activities): state, "
                    "token, heartbeat and timeout deadlines",
                    [_ARN],
                )
            },
            "/api/executions/{arn}/stop": {
                "post": _op(
                    "StopExecution",
                    [_ARN],
                    body={
                        "type": "object",
                        "properties": {"error": {"type": "string"}, "cause": {"type": "string"}},
                    },
                )
            },
            "/api/executions/{arn}/redrive": {
                "post": _op(
                    "RedriveExecution",
                    [_ARN],
                    body={"type": "object", "properties": {"clientToken": {"type": "string"}}},
                )
            },
            "/api/tasks/success": {
                "post": _op(
                    "SendTaskSuccess (output: JSON text, or a JSON value sent as its text)",
                    body={
                        "type": "object",
                        "required": ["taskToken"],
                        "properties": {"taskToken": {"type": "string"}, "output": {}},
                    },
                    not_found=False,
                )
            },
            "/api/tasks/failure": {
                "post": _op(
                    "SendTaskFailure",
                    body={
                        "type": "object",
                        "required": ["taskToken"],
                        "properties": {
                            "taskToken": {"type": "string"},
                            "error": {"type": "string"},
                            "cause": {"type": "string"},
                        },
                    },
                    not_found=False,
                )
            },
            "/api/tasks/heartbeat": {
                "post": _op(
                    "SendTaskHeartbeat",
                    body={
                        "type": "object",
                        "required": ["taskToken"],
                        "properties": {"taskToken": {"type": "string"}},
                    },
                    not_found=False,
                )
            },
            "/api/jobs": {"get": _op("Audit items and run history", not_found=False)},
            "/api/jobs/{table}/{job_id}/reset": {
                "post": _op("Reset a job to Ready", [_param("table"), _param("job_id")])
            },
            "/api/tables": {"get": _op("ListTables", not_found=False)},
            "/api/tables/{table}/items": {
                "get": _op(
                    "Scan",
                    [_param("table"), _param("limit", "query", {"type": "integer", "minimum": 1})],
                )
            },
            "/api/schedules": {
                "get": _op("Schedules with next and last fires", _FIRE_COUNTS, not_found=False),
                "post": _op(
                    "CreateSchedule",
                    body={**_SCHEDULE, "required": ["Name", "ScheduleExpression", "Target"]},
                    not_found=False,
                    conflict=True,
                ),
            },
            "/api/schedules/{name}": {
                "get": _op("GetSchedule (with next and last fires)", [_NAME, *_FIRE_COUNTS]),
                "patch": _op("UpdateSchedule (only the fields given)", [_NAME], body=_SCHEDULE),
                "delete": _op("DeleteSchedule and its fire records", [_NAME]),
            },
            "/api/schedules/{name}/pause": {"post": _op("Pause a schedule", [_NAME])},
            "/api/schedules/{name}/resume": {"post": _op("Resume a schedule", [_NAME])},
            "/api/topics": {
                "get": _op(
                    "Topics with their subscriptions, and recent notifications with their "
                    "deliveries (local topics)",
                    [_param("notifications", "query", {"type": "integer", "minimum": 1})],
                    not_found=False,
                )
            },
            "/api/health": {
                "get": _op("Health (503 while the state store fails)", not_found=False)
            },
            "/api/csrf": {
                "get": _op(
                    "The console session's CSRF token (sets the session cookie): browsers send it "
                    "as X-Eltflow-CSRF on state-changing requests",
                    not_found=False,
                )
            },
            "/api/statements": {
                "get": _op(
                    "ListStatements, each statement as DescribeStatement shows it, plus "
                    "ExecutionArn and StateName (whose task submitted it); execution=ARN "
                    "lists only that execution's",
                    [
                        _param("maxResults", "query", {"type": "integer", "minimum": 1}),
                        _param("status", "query"),
                        _param("execution", "query"),
                        _param("nextToken", "query"),
                    ],
                    not_found=False,
                )
            },
        },
    }
)
