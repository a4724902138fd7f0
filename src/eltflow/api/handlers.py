"""Request handlers: ``(app, call) -> JSON``, synchronous, thin over the services.

Each takes the :class:`eltflow.app.App` and a :class:`Call` (path params, query, JSON body) so
they are testable without HTTP; the Starlette layer only moves bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from eltflow.errors import EltflowError
from eltflow.notify.listing import topics_with_subscriptions
from eltflow.notify.topics import Topics
from eltflow.runtime import arns, execution_search
from eltflow.runtime.execution_search import ExecutionSearch
from eltflow.types import JSON, JSONObject

if TYPE_CHECKING:
    from eltflow.app import App
    from eltflow.pipelines.jobs import JobsService
    from eltflow.runtime.nested import ExecutionLinks
    from eltflow.runtime.state_runs import ExecutionStates
    from eltflow.runtime.waiting import WaitingTask


class InvalidRequest(EltflowError):
    """A required field is missing or has the wrong type."""


@dataclass(frozen=True)
class Call:
    path: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, Any] = field(default_factory=dict)


def int_param(call: Call, key: str, default: int, *, lo: int = 1, hi: int = 1000) -> int:
    """An integer query parameter within ``[lo, hi]`` (a clear 400 otherwise)."""
    raw = call.query.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as e:
        raise InvalidRequest(f"query parameter {key!r} must be an integer, got {raw!r}") from e
    if not lo <= value <= hi:
        raise InvalidRequest(f"query parameter {key!r} must be between {lo} and {hi}")
    return value


def _str(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"body field {key!r} must be a string")
    return value


def _required_str(body: Mapping[str, Any], key: str) -> str:
    value = _str(body, key)
    if value is None:
        raise InvalidRequest(f"body field {key!r} is required")
    return value


def _objects(value: JSON) -> list[JSONObject]:
    """The objects of a JSON list from a service response (empty when absent)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


# -- state machines -------------------------------------------------------------------------


def list_machines(app: App, call: Call) -> JSON:
    out: JSONObject = app.service.list_state_machines(
        max_results=int_param(call, "maxResults", 100), next_token=call.query.get("nextToken")
    )
    return out


def create_machine(app: App, call: Call) -> JSON:
    name = _required_str(call.body, "name")
    definition = call.body.get("definition")
    if not isinstance(definition, str | dict):
        raise InvalidRequest("body field 'definition' must be a JSON string or object")
    out: JSONObject = app.service.create_state_machine(name=name, definition=definition)
    return out


def describe_machine(app: App, call: Call) -> JSON:
    arn = arns.machine_arn(call.path["name"])
    out: JSONObject = dict(app.service.describe_state_machine(state_machine_arn=arn))
    listed = app.service.list_state_machine_versions(state_machine_arn=arn)
    versions: list[JSON] = []
    for v in _objects(listed.get("stateMachineVersions")):
        # The console shows the version number.
        versions.append({**v, "version": arns.version_number(str(v["stateMachineVersionArn"]))})
    out["versions"] = versions
    return out


def delete_machine(app: App, call: Call) -> JSON:
    arn = arns.machine_arn(call.path["name"])
    out: JSONObject = app.service.delete_state_machine(state_machine_arn=arn)
    return out


# -- executions -----------------------------------------------------------------------------


def start_execution(app: App, call: Call) -> JSON:
    raw_input = call.body.get("input", "{}")
    if not isinstance(raw_input, str):
        raw_input = json.dumps(raw_input)
    out: JSONObject = app.service.start_execution(
        state_machine_arn=arns.machine_arn(call.path["name"]),
        input=raw_input,
        name=_str(call.body, "name"),
    )
    return out


def _instant(call: Call, key: str) -> datetime | None:
    """An ISO-8601 time query parameter (``Z`` or an offset; a time without one is UTC)."""
    raw = (call.query.get(key) or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as e:
        raise InvalidRequest(
            f"query parameter {key!r} must be an ISO-8601 time such as "
            f"2026-01-31T08:00:00Z, got {raw!r}"
        ) from e
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def list_executions(app: App, call: Call) -> JSON:
    """ListExecutions, plus the console's filters AWS's API does not have: ``name`` and
    ``startedAfter`` / ``startedBefore`` (ISO-8601), searched as
    :mod:`eltflow.runtime.execution_search` does."""
    machine = call.query.get("stateMachine") or None
    after, before = _instant(call, "startedAfter"), _instant(call, "startedBefore")
    if after is not None and before is not None and after > before:
        raise InvalidRequest("startedAfter must not be later than startedBefore")
    wanted = ExecutionSearch(
        name=(call.query.get("name") or "").strip(), started_after=after, started_before=before
    )

    def page(max_results: int, token: str | None) -> JSONObject:
        out: JSONObject = app.service.list_executions(
            state_machine_arn=arns.machine_arn(machine) if machine else None,
            status_filter=call.query.get("statusFilter") or None,
            max_results=max_results,
            next_token=token,
        )
        return out

    return execution_search.search(
        page,
        wanted,
        max_results=int_param(call, "maxResults", 100),
        next_token=call.query.get("nextToken"),
    )


def describe_execution(app: App, call: Call) -> JSON:
    out: JSONObject = app.service.describe_execution(execution_arn=call.path["arn"])
    return out


def execution_history(app: App, call: Call) -> JSON:
    out: JSONObject = app.service.get_execution_history(
        execution_arn=call.path["arn"],
        max_results=int_param(call, "maxResults", 1000, hi=25000),
        next_token=call.query.get("nextToken"),
        reverse_order=call.query.get("reverseOrder", "false").lower() == "true",
    )
    return out


def execution_logs(app: App, call: Call) -> JSON:
    """Function logs of the execution's Task invocations (``?state=`` for one state)."""
    app.service.describe_execution(execution_arn=call.path["arn"])  # ExecutionDoesNotExist
    records = app.execution_logs.records(call.path["arn"], call.query.get("state") or None)
    return {"logs": [*records]}


def execution_states(app: App, call: Call) -> ExecutionStates:
    """Per-state runs and statuses (the console colours its graph with these)."""
    return app.state_runs.of(call.path["arn"])


def execution_definition(app: App, call: Call) -> JSON:
    described: JSONObject = app.service.describe_state_machine_for_execution(
        execution_arn=call.path["arn"]
    )
    out = dict(described)
    text = described.get("definition")
    out["definition"] = json.loads(text) if isinstance(text, str) else text
    return out


def stop_execution(app: App, call: Call) -> JSON:
    out: JSONObject = app.service.stop_execution(
        execution_arn=call.path["arn"],
        error=_str(call.body, "error"),
        cause=_str(call.body, "cause"),
    )
    return out


def redrive_execution(app: App, call: Call) -> JSON:
    out: JSONObject = app.service.redrive_execution(
        execution_arn=call.path["arn"], client_token=_str(call.body, "clientToken")
    )
    return out


# -- nested executions and task tokens ---------------------------------------------------------


def execution_links(app: App, call: Call) -> ExecutionLinks:
    """The execution's parent (``AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID`` in its input) and
    the children its ``states:startExecution`` tasks started."""
    return app.nested.of(call.path["arn"])


class TaskList(TypedDict):
    tasks: list[WaitingTask]


def execution_tasks(app: App, call: Call) -> TaskList:
    """Tasks of the execution waiting for their token, with heartbeat and timeout deadlines."""
    return {"tasks": app.waiting_tasks.of(call.path["arn"])}


def send_task_success(app: App, call: Call) -> JSON:
    """SendTaskSuccess, as ``eltflow tasks success``: ``output`` is JSON text (or a JSON value,
    sent as its text)."""
    output = call.body.get("output", "{}")
    if not isinstance(output, str):
        output = json.dumps(output)
    out: JSONObject = app.service.send_task_success(
        task_token=_required_str(call.body, "taskToken"), output=output
    )
    return out


def send_task_failure(app: App, call: Call) -> JSON:
    out: JSONObject = app.service.send_task_failure(
        task_token=_required_str(call.body, "taskToken"),
        error=_str(call.body, "error"),
        cause=_str(call.body, "cause"),
    )
    return out


def send_task_heartbeat(app: App, call: Call) -> JSON:
    out: JSONObject = app.service.send_task_heartbeat(
        task_token=_required_str(call.body, "taskToken")
    )
    return out


# -- jobs, item tables, statements, topics, schedules ------------------------------------------


_S = TypeVar("_S")


def _service(service: _S | None, name: str) -> _S:
    """The configured service, or a typed error naming the AWS service that is not."""
    if service is None:
        raise InvalidRequest(f"the {name} service is not configured in this eltflow app")
    return service


def _jobs(app: App) -> JobsService:
    return _service(app.jobs, "dynamodb")


class JobsPage(TypedDict):
    """The console's Jobs page: audit items (one per job) and the newest pipeline runs."""

    jobs: list[JSONObject]
    runs: list[JSONObject]


def list_jobs(app: App, call: Call) -> JobsPage:
    jobs = _jobs(app)
    return {"jobs": jobs.jobs(), "runs": jobs.runs()}


def reset_job(app: App, call: Call) -> JSON:
    out: JSONObject = _jobs(app).reset(call.path["table"], call.path["job_id"])
    return out


def list_tables(app: App, call: Call) -> JSON:
    out: JSONObject = _service(app.items, "dynamodb").call("ListTables", {})
    return out


def scan_table(app: App, call: Call) -> JSON:
    limit = int_param(call, "limit", 100)
    request: dict[str, Any] = {"TableName": call.path["table"], "Limit": limit}
    out: JSONObject = _service(app.items, "dynamodb").call("Scan", request)
    return out


def list_statements(app: App, call: Call) -> JSON:
    """The statements page (and an execution's SQL tab, ``?execution=ARN``): newest first, each
    as DescribeStatement shows it (SQL, status, duration, rows, error) with the execution and
    state that submitted it (``ExecutionArn``, ``StateName``)."""
    out: JSONObject = _service(app.dataapi, "redshift-data").list_statement_details(
        status=call.query.get("status") or None,
        execution_arn=call.query.get("execution") or None,
        max_results=int_param(call, "maxResults", 100, hi=100),
        next_token=call.query.get("nextToken") or None,
    )
    return out


def list_topics(app: App, call: Call) -> JSON:
    """The topics page: each topic with its subscriptions (ListTopics and
    ListSubscriptionsByTopic, so real SNS answers too with ``[aws] mode = "aws"``) and, for
    local topics, the newest notifications with their deliveries."""
    topics = _service(app.topics, "sns")
    shown: list[JSON] = [
        # The console shows the name; SNS only gives it as the ARN's last part.
        {
            "TopicArn": t["TopicArn"],
            "Name": t["TopicArn"].rsplit(":", 1)[-1],
            "Subscriptions": [*t["Subscriptions"]],
        }
        for t in topics_with_subscriptions(topics)
    ]
    recent: list[JSON] = []
    if isinstance(topics, Topics):
        recent += topics.recent_notifications(int_param(call, "notifications", 50, hi=500))
    return {"Topics": shown, "Notifications": recent}
