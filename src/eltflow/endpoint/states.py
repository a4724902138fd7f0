"""Step Functions (``AWSStepFunctions.*``, awsJson1_0) over :class:`StatesService`.

Each operation takes the request members as AWS names them (``stateMachineArn``) and returns
the response members; :mod:`eltflow.endpoint.contract` checks the input against botocore's
model before and shapes the output after. What the local runtime does not have is answered
as AWS answers the nearest case:

- EXPRESS machines (:mod:`eltflow.runtime.express`): ``StartSyncExecution`` runs one to its
  end and answers its outcome (``StateMachineTypeNotSupported`` for a STANDARD machine, as on
  AWS); ``StartExecution`` runs one asynchronously in the server's process, unrecorded; the
  execution APIs answer an Express ARN ``InvalidArn``, ListExecutions on an EXPRESS machine
  ``StateMachineTypeNotSupported``. boto3 sends StartSyncExecution to the host
  ``sync-`` + the endpoint's host (botocore's ``hostPrefix``): ``sync-127.0.0.1`` resolves
  nowhere, so a client of a local endpoint turns the prefix off —
  ``botocore.config.Config(inject_host_prefix=False)`` or ``AWS_DISABLE_HOST_PREFIX_INJECTION=true``
  (what eltflow's Lambda handlers get) — or names the endpoint ``http://NAME.localhost:PORT``
  where ``*.localhost`` resolves (``sync-NAME.localhost`` is answered like any loopback name);
- ``TestState`` runs the state in memory (:mod:`eltflow.endpoint.teststate`);
- task tokens and activities: SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat,
  Create/Describe/List/DeleteActivity and GetActivityTask (a 60 s long poll) over the service;
- Distributed Map runs: DescribeMapRun, ListMapRuns, UpdateMapRun and ListExecutions with
  ``mapRunArn``;
- aliases and tags are not implemented:
  ``UnknownOperationException`` (the runtime has no public API for them yet).

Other known differences: ARNs always carry the runtime's region and account
(``us-east-1``, ``123456789012``) whatever region the client signs for; a version ARN given to
DescribeStateMachine describes the machine's current version; ListExecutions' ``redriveFilter``
filters each page (a page may hold fewer than ``maxResults``); CreateStateMachine's
``tags``, ``loggingConfiguration`` and ``tracingConfiguration`` are not kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from eltflow.asl.express import express_diagnostics
from eltflow.asl.validator import diagnose, report
from eltflow.endpoint import teststate
from eltflow.errors import AwsApiError

if TYPE_CHECKING:
    from eltflow.app import App

Handler = Callable[["App", dict[str, Any]], Mapping[str, Any]]


def _max_results(params: Mapping[str, Any], default: int) -> int:
    # AWS: 0 (or absent) means the default page size.
    value = params.get("maxResults") or 0
    return int(value) if value > 0 else default


def create_state_machine(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.create_state_machine(
        name=p["name"],
        definition=p["definition"],
        role_arn=p["roleArn"],
        type=p.get("type") or "STANDARD",
    )
    return out


def describe_state_machine(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.describe_state_machine(state_machine_arn=p["stateMachineArn"])
    return out


def list_state_machines(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.list_state_machines(
        max_results=_max_results(p, 100), next_token=p.get("nextToken")
    )
    return out


def update_state_machine(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    if p.get("definition") is None and p.get("roleArn") is None:
        raise AwsApiError(
            "MissingRequiredParameter",
            "Either the definition or the roleArn must be specified",
        )
    out: dict[str, Any] = app.service.update_state_machine(
        state_machine_arn=p["stateMachineArn"],
        definition=p.get("definition"),
        role_arn=p.get("roleArn"),
    )
    return out


def delete_state_machine(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.delete_state_machine(state_machine_arn=p["stateMachineArn"])
    return out


def list_state_machine_versions(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.list_state_machine_versions(
        state_machine_arn=p["stateMachineArn"],
        max_results=_max_results(p, 100),
        next_token=p.get("nextToken"),
    )
    return out


def start_execution(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.start_execution(
        state_machine_arn=p["stateMachineArn"], input=p.get("input"), name=p.get("name")
    )
    return out


def start_sync_execution(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.start_sync_execution(
        state_machine_arn=p["stateMachineArn"],
        input=p.get("input"),
        name=p.get("name"),
        trace_header=p.get("traceHeader"),
    )
    return out


def describe_execution(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.describe_execution(execution_arn=p["executionArn"])
    return out


def list_executions(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    machine = p.get("stateMachineArn")
    map_run = p.get("mapRunArn")
    if machine is None and map_run is None:
        raise AwsApiError("ValidationException", "Must provide a StateMachine ARN or MapRun ARN")
    out: dict[str, Any] = app.service.list_executions(
        state_machine_arn=machine,
        map_run_arn=map_run,
        status_filter=p.get("statusFilter"),
        max_results=_max_results(p, 100),
        next_token=p.get("nextToken"),
        redrive_filter=p.get("redriveFilter"),
    )
    return out


def describe_map_run(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.describe_map_run(map_run_arn=p["mapRunArn"])
    return out


def update_map_run(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.update_map_run(
        map_run_arn=p["mapRunArn"],
        max_concurrency=p.get("maxConcurrency"),
        tolerated_failure_percentage=p.get("toleratedFailurePercentage"),
        tolerated_failure_count=p.get("toleratedFailureCount"),
    )
    return out


def list_map_runs(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.list_map_runs(
        execution_arn=p["executionArn"],
        max_results=_max_results(p, 100),
        next_token=p.get("nextToken"),
    )
    return out


def get_execution_history(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    include = p.get("includeExecutionData")
    out: dict[str, Any] = app.service.get_execution_history(
        execution_arn=p["executionArn"],
        max_results=_max_results(p, 100),
        next_token=p.get("nextToken"),
        reverse_order=bool(p.get("reverseOrder", False)),
        include_execution_data=True if include is None else bool(include),
    )
    return out


def stop_execution(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.stop_execution(
        execution_arn=p["executionArn"], error=p.get("error"), cause=p.get("cause")
    )
    return out


def redrive_execution(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.redrive_execution(
        execution_arn=p["executionArn"], client_token=p.get("clientToken")
    )
    return out


def describe_state_machine_for_execution(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.describe_state_machine_for_execution(
        execution_arn=p["executionArn"]
    )
    return out


def validate_state_machine_definition(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    """AWS's ValidateStateMachineDefinition: diagnostics, never an exception for a bad
    definition; ``severity`` WARNING adds warnings (NO_DOLLAR), ``maxResults`` caps them.
    ``type`` EXPRESS adds Express's rules (no .sync, callbacks or activities)."""
    definition = p["definition"]
    text = definition if isinstance(definition, str) else json.dumps(definition)
    found = diagnose(text)
    if p.get("type") == "EXPRESS" and not any(d.severity == "ERROR" for d in found):
        found = express_diagnostics(json.loads(text)) + found
    return report(
        found, severity=p.get("severity") or "ERROR", max_results=int(p.get("maxResults") or 0)
    ).to_json()


def send_task_success(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.send_task_success(
        task_token=p["taskToken"], output=p["output"]
    )
    return out


def send_task_failure(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.send_task_failure(
        task_token=p["taskToken"], error=p.get("error"), cause=p.get("cause")
    )
    return out


def send_task_heartbeat(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = app.service.send_task_heartbeat(task_token=p["taskToken"])
    return out


def create_activity(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    return app.service.activities.create_activity(name=p["name"])


def describe_activity(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    return app.service.activities.describe_activity(activity_arn=p["activityArn"])


def list_activities(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    return app.service.activities.list_activities(
        max_results=_max_results(p, 100), next_token=p.get("nextToken")
    )


def delete_activity(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    return app.service.activities.delete_activity(activity_arn=p["activityArn"])


def get_activity_task(app: App, p: dict[str, Any]) -> Mapping[str, Any]:
    """AWS's long poll: held open up to 60 s while no task waits."""
    return app.service.activities.get_activity_task(
        activity_arn=p["activityArn"], worker_name=p.get("workerName")
    )


OPERATIONS: dict[str, Handler] = {
    "CreateStateMachine": create_state_machine,
    "DescribeStateMachine": describe_state_machine,
    "ListStateMachines": list_state_machines,
    "UpdateStateMachine": update_state_machine,
    "DeleteStateMachine": delete_state_machine,
    "ListStateMachineVersions": list_state_machine_versions,
    "StartExecution": start_execution,
    "StartSyncExecution": start_sync_execution,
    "DescribeExecution": describe_execution,
    "ListExecutions": list_executions,
    "DescribeMapRun": describe_map_run,
    "ListMapRuns": list_map_runs,
    "UpdateMapRun": update_map_run,
    "GetExecutionHistory": get_execution_history,
    "StopExecution": stop_execution,
    "RedriveExecution": redrive_execution,
    "DescribeStateMachineForExecution": describe_state_machine_for_execution,
    "ValidateStateMachineDefinition": validate_state_machine_definition,
    "SendTaskSuccess": send_task_success,
    "SendTaskFailure": send_task_failure,
    "SendTaskHeartbeat": send_task_heartbeat,
    "CreateActivity": create_activity,
    "DescribeActivity": describe_activity,
    "ListActivities": list_activities,
    "DeleteActivity": delete_activity,
    "GetActivityTask": get_activity_task,
    "TestState": teststate.test_state,
}
