"""History event detail builders, shaped like ``GetExecutionHistory`` (API_HistoryEvent).

Each builder returns ``(type, details)``; the stepper numbers and timestamps it. Payloads inside
details are JSON *strings* as AWS returns them, compact (``{"a":1}``), with the
``*Details.truncated`` flag.
"""

from __future__ import annotations

from functools import lru_cache

from eltflow import json_text
from eltflow.types import JSON, JSONObject

Event = tuple[str, JSONObject]

_NOT_TRUNCATED: JSONObject = {"truncated": False}


encode_key = json_text.encode_key
"""A JSON object key (a ``str``) as :func:`dumps` writes it, quotes included."""

# JSON as AWS writes it into history (compact, UTF-8 kept: the json module's text, byte for
# byte); shared with the state store, which writes the same texts (eltflow/json_text.py).
dumps = json_text.dumps


# --- which events a Task's resource produces -------------------------------------------------


@lru_cache(maxsize=1024)  # a pure function of the text; three calls per Task state entry
def resource_kind(resource: str) -> tuple[str, str, str, str]:
    """``(prefix, resourceType, resource, region)`` for a Task's Resource ARN.

    ``prefix`` is ``"Task"`` for service integrations (``arn:aws:states:::dynamodb:getItem`` →
    type ``dynamodb``, resource ``getItem``), ``"LambdaFunction"`` for a legacy function ARN
    and ``"Activity"`` for an activity ARN, matching the event families AWS emits.
    """
    parts = resource.split(":")
    region = parts[3] if len(parts) > 3 and parts[3] else "us-east-1"
    if len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function":
        return "LambdaFunction", "lambda", resource, region
    if len(parts) >= 7 and parts[2] == "states" and parts[5] == "activity":
        return "Activity", "activity", resource, region
    if len(parts) >= 7 and parts[2] == "states":
        # arn:aws:states:::aws-sdk:redshiftdata:executeStatement -> "aws-sdk:redshiftdata"
        rest = parts[5:]
        if len(rest) > 2 and rest[-1].isdigit() and rest[-2].endswith(".sync"):
            # ``startExecution.sync:2``: the ``:2`` is the integration pattern's version, part
            # of the resource name (resourceType ``states``), not another segment of the type.
            # Unverified: no recorded AWS history of a .sync:2 task was at hand; this follows
            # the ARN grammar (service:api[.pattern[:version]]).
            rest = [*rest[:-2], f"{rest[-2]}:{rest[-1]}"]
        return "Task", ":".join(rest[:-1]), rest[-1], region
    return "Task", "", resource, region


# --- execution --------------------------------------------------------------------------------


def execution_started(input_text: str, role_arn: str) -> Event:
    return "ExecutionStarted", {
        "executionStartedEventDetails": {
            "input": input_text,
            "inputDetails": _NOT_TRUNCATED,
            "roleArn": role_arn,
        }
    }


def execution_succeeded(output_text: str) -> Event:
    return "ExecutionSucceeded", {
        "executionSucceededEventDetails": {"output": output_text, "outputDetails": _NOT_TRUNCATED}
    }


def _error_details(error: str | None, cause: str | None) -> JSONObject:
    out: JSONObject = {}
    if error is not None:
        out["error"] = error
    if cause is not None:
        out["cause"] = cause
    return out


def execution_failed(error: str | None, cause: str | None) -> Event:
    return "ExecutionFailed", {"executionFailedEventDetails": _error_details(error, cause)}


def execution_timed_out(error: str | None, cause: str | None) -> Event:
    return "ExecutionTimedOut", {"executionTimedOutEventDetails": _error_details(error, cause)}


def execution_aborted(error: str | None, cause: str | None) -> Event:
    return "ExecutionAborted", {"executionAbortedEventDetails": _error_details(error, cause)}


def execution_redriven(redrive_count: int) -> Event:
    return "ExecutionRedriven", {"executionRedrivenEventDetails": {"redriveCount": redrive_count}}


# --- states -----------------------------------------------------------------------------------


_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
ENTERED = {t: f"{t}StateEntered" for t in _TYPES}  # state type -> event type
EXITED = {t: f"{t}StateExited" for t in _TYPES}
_ITERATION = {
    k: (f"MapIteration{k}", f"mapIteration{k}EventDetails")
    for k in ("Started", "Succeeded", "Failed", "Aborted")
}


def state_entered(state_type: str, name: str, input_text: str) -> Event:
    return ENTERED[state_type], {
        "stateEnteredEventDetails": {
            "name": name,
            "input": input_text,
            "inputDetails": _NOT_TRUNCATED,
        }
    }


def state_exited(
    state_type: str, name: str, output_text: str, assigned: dict[str, JSON] | None = None
) -> Event:
    details: JSONObject = {"name": name, "output": output_text, "outputDetails": _NOT_TRUNCATED}
    if assigned:
        details["assignedVariables"] = {k: dumps(v) for k, v in assigned.items()}
        details["assignedVariablesDetails"] = _NOT_TRUNCATED
    return EXITED[state_type], {"stateExitedEventDetails": details}


def evaluation_failed(state: str, error: str, cause: str, location: str | None) -> Event:
    details: JSONObject = {"error": error, "cause": cause, "state": state}
    if location:
        details["location"] = location
    return "EvaluationFailed", {"evaluationFailedEventDetails": details}


def plain(event_type: str) -> Event:
    """Events without details: ParallelStateStarted, MapStateSucceeded, ..."""
    return event_type, {}


def map_state_started(length: int) -> Event:
    return "MapStateStarted", {"mapStateStartedEventDetails": {"length": length}}


def map_iteration(kind: str, name: str, index: int) -> Event:
    """MapIterationStarted / Succeeded / Failed / Aborted."""
    event_type, key = _ITERATION[kind]
    return event_type, {key: {"name": name, "index": index}}


# --- tasks ------------------------------------------------------------------------------------


def task_scheduled(
    resource: str,
    parameters_text: str,
    timeout: float | None,
    heartbeat: float | None,
) -> Event:
    prefix, rtype, rname, region = resource_kind(resource)
    if prefix == "LambdaFunction":
        lam: JSONObject = {
            "resource": resource,
            "input": parameters_text,
            "inputDetails": _NOT_TRUNCATED,
        }
        if timeout is not None:
            lam["timeoutInSeconds"] = int(timeout)
        return "LambdaFunctionScheduled", {"lambdaFunctionScheduledEventDetails": lam}
    if prefix == "Activity":
        act: JSONObject = {
            "resource": resource,
            "input": parameters_text,
            "inputDetails": _NOT_TRUNCATED,
        }
        if timeout is not None:
            act["timeoutInSeconds"] = int(timeout)
        if heartbeat is not None:
            act["heartbeatInSeconds"] = int(heartbeat)
        return "ActivityScheduled", {"activityScheduledEventDetails": act}
    details: JSONObject = {
        "resourceType": rtype,
        "resource": rname,
        "region": region,
        "parameters": parameters_text,
    }
    if timeout is not None:
        details["timeoutInSeconds"] = int(timeout)
    if heartbeat is not None:
        details["heartbeatInSeconds"] = int(heartbeat)
    return "TaskScheduled", {"taskScheduledEventDetails": details}


def task_started(resource: str) -> Event:
    prefix, rtype, rname, _ = resource_kind(resource)
    if prefix == "LambdaFunction":
        return "LambdaFunctionStarted", {}
    if prefix == "Activity":
        return "ActivityStarted", {"activityStartedEventDetails": {}}
    return "TaskStarted", {"taskStartedEventDetails": {"resourceType": rtype, "resource": rname}}


def task_submitted(resource: str, output_text: str) -> Event:
    """``TaskSubmitted`` (service integrations only: an activity or a Lambda function ARN has
    no such event): the service's response to the ``.sync`` / ``.waitForTaskToken`` request,
    recorded once the request was accepted, before the task's outcome (API_HistoryEvent,
    TaskSubmittedEventDetails: resourceType, resource, output, outputDetails)."""
    _, rtype, rname, _ = resource_kind(resource)
    return "TaskSubmitted", {
        "taskSubmittedEventDetails": {
            "resourceType": rtype,
            "resource": rname,
            "output": output_text,
            "outputDetails": _NOT_TRUNCATED,
        }
    }


def task_succeeded(resource: str, output_text: str) -> Event:
    prefix, rtype, rname, _ = resource_kind(resource)
    body: JSONObject = {"output": output_text, "outputDetails": _NOT_TRUNCATED}
    if prefix == "Task":
        return "TaskSucceeded", {
            "taskSucceededEventDetails": {"resourceType": rtype, "resource": rname, **body}
        }
    key = "lambdaFunction" if prefix == "LambdaFunction" else "activity"
    return f"{prefix}Succeeded", {f"{key}SucceededEventDetails": body}


def _task_error(kind: str, resource: str, error: str, cause: str | None) -> Event:
    prefix, rtype, rname, _ = resource_kind(resource)
    body = _error_details(error, cause)
    if prefix == "Task":
        return f"Task{kind}", {
            f"task{kind}EventDetails": {"resourceType": rtype, "resource": rname, **body}
        }
    key = "lambdaFunction" if prefix == "LambdaFunction" else "activity"
    return f"{prefix}{kind}", {f"{key}{kind}EventDetails": body}


def task_failed(resource: str, error: str, cause: str) -> Event:
    return _task_error("Failed", resource, error, cause)


def task_timed_out(resource: str, error: str, cause: str | None) -> Event:
    return _task_error("TimedOut", resource, error, cause)
