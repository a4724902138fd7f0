"""Nested workflows: ``arn:aws:states:::states:startExecution`` (Step Functions starting one of
its own state machines), in AWS's integration patterns.

- request-response: start the child, StartExecution's response at once (``ExecutionArn``,
  ``StartDate`` and the SDK's HTTP metadata, as AWS's recorded histories show);
- ``.sync``: report that response as submitted (``TaskSubmitted`` in history), wait for the
  child and return its description with ``Output`` as a JSON **string**;
- ``.sync:2``: the same with ``Output`` as JSON;
- ``.waitForTaskToken``: start the child; the response is recorded as ``TaskSubmitted`` and
  the task waits for SendTaskSuccess/Failure (the task runner does the waiting:
  :mod:`eltflow.runtime.tasks`).

Parameters are the StartExecution request's: ``StateMachineArn`` (required), ``Input`` (a JSON
value or JSON text) and ``Name``. AWS's nested-workflow docs pass
``"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"`` in the Input, which links
the child to its parent (:func:`parent_of` reads it back).

A ``.sync`` task does not wait on a thread: once the child is started (its ARN checkpointed,
so a task resumed after a crash waits for the same child instead of starting another) and
reported as submitted, ``TaskRequest.await_execution`` links the child to the task and the
runtime completes the task from the child's end, as AWS does (:mod:`eltflow.runtime.sync_waits`:
it also stops the child when the parent stops or the task's TimeoutSeconds runs out, as AWS
stops the work a cancelled ``.sync`` task started). A child that ended already is answered at
once (:func:`sync_result`). The dates are epoch milliseconds and a failed child fails the task
with ``States.TaskFailed`` and the child's description (Error, Cause...) as the cause: AWS's
shapes as its documentation examples show them (the failure cause is unverified). A caller
that cannot wait for the end (no ``await_execution``) polls the child, watching the parent.

An EXPRESS child (:mod:`eltflow.runtime.express`) has no record to poll: request-response
answers from StartExecution's own response, and ``.sync``/``.sync:2`` run the child with
StartSyncExecution and answer from its outcome, in the same shape (unverified on AWS, whose
documentation shows Standard children). Its ARN is not checkpointed (it is known only once
the child has run), so a task resumed after a crash runs the child again.

``eltflow.execute`` (in memory, no Step Functions service) has no ``states:startExecution``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from eltflow.errors import AwsApiError, StatesError
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.integrations.sdk_metadata import http_metadata, request_id
from eltflow.types import JSON, JSONObject

START_EXECUTION = "arn:aws:states:::states:startExecution"
PARENT_KEY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
POLL_SECONDS = 0.05


class StatesApi(Protocol):
    """What this integration needs of the Step Functions service (runtime.service)."""

    def start_execution(
        self, *, state_machine_arn: str, input: str | None = None, name: str | None = None
    ) -> JSONObject: ...

    def describe_execution(self, *, execution_arn: str) -> JSONObject: ...

    def stop_execution(
        self, *, execution_arn: str, error: str | None = None, cause: str | None = None
    ) -> JSONObject: ...

    def describe_state_machine(self, *, state_machine_arn: str) -> JSONObject: ...

    def start_sync_execution(
        self, *, state_machine_arn: str, input: str | None = None, name: str | None = None
    ) -> JSONObject: ...


def _millis(iso: JSON) -> int | None:
    if not isinstance(iso, str):
        return None
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def _started(child: str, start_date: JSON, request: TaskRequest) -> JSONObject:
    """StartExecution's response as the task sees it (the request-response result, and what
    AWS records in ``TaskSubmitted`` for ``.sync`` and ``.waitForTaskToken``): ``ExecutionArn``,
    the SDK's HTTP metadata and ``StartDate`` (epoch milliseconds), keys in AWS's order."""
    millis = _millis(start_date)
    body = json.dumps(
        {"executionArn": child, "startDate": None if millis is None else millis / 1000},
        separators=(",", ":"),
    )
    return {
        "ExecutionArn": child,
        **http_metadata(
            request_id(),
            request.clock.now(),
            {"Content-Length": str(len(body.encode("utf-8"))), "connection": "keep-alive"},
        ),
        "StartDate": millis,
    }


def _error_name(code: str) -> str:
    return f"StepFunctions.{code if code.endswith('Exception') else code + 'Exception'}"


class StartExecutionIntegration:
    def __init__(
        self,
        service: StatesApi,
        *,
        poll_seconds: float = POLL_SECONDS,
        pause: Callable[[float], Any] | None = None,
    ) -> None:
        self.service = service
        self.poll_seconds = poll_seconds
        # A real pause between polls, whatever the app's clock: the child runs on the same
        # worker, and a virtual clock must not race ahead of it.
        self.pause = pause or threading.Event().wait

    def __call__(self, request: TaskRequest) -> JSON:
        pattern = request.resource[len(START_EXECUTION) :]
        if pattern not in ("", ".sync", ".sync:2", ".waitForTaskToken"):
            raise StatesError("States.Runtime", f"Unsupported resource {request.resource!r}")
        params = request.parameters if isinstance(request.parameters, dict) else {}
        child = request.recorded if isinstance(request.recorded, str) else None
        if child is None:
            if self._express(params):
                return self._express_child(params, pattern, request)
            child = self._start(params)
            if request.checkpoint is not None:
                request.checkpoint(child)
        described = self.service.describe_execution(execution_arn=child)
        started = _started(child, described.get("startDate"), request)
        if not pattern.startswith(".sync"):
            return started
        if request.submitted is not None:
            # Also when re-attaching after a crash: recorded once (the interpreter ignores a
            # second report), and recorded at all if the crash came before the first was.
            request.submitted(started)
        if request.await_execution is not None:
            if request.await_execution(child):
                return started  # the runtime completes the task from the child's end
            described = self.service.describe_execution(execution_arn=child)  # it has ended
        while described.get("status") == "RUNNING":
            # A caller that cannot wait for the child's end (no await_execution) polls it.
            self._watch_parent(request, child)
            self.pause(self.poll_seconds)
            described = self.service.describe_execution(execution_arn=child)
        return sync_result(described, as_json=pattern == ".sync:2")

    def _request(self, params: dict[str, JSON]) -> tuple[str, str, str | None]:
        """StartExecution's ``(stateMachineArn, input, name)`` from the task's parameters."""
        arn = params.get("StateMachineArn")
        if not isinstance(arn, str):
            raise StatesError(
                "StepFunctions.InvalidArnException",
                "startExecution needs Parameters with a StateMachineArn string",
            )
        raw = params.get("Input")
        text = raw if isinstance(raw, str) else json.dumps(raw if raw is not None else {})
        name = params.get("Name")
        return arn, text, name if isinstance(name, str) else None

    def _start(self, params: dict[str, JSON]) -> str:
        arn, text, name = self._request(params)
        try:
            started = self.service.start_execution(state_machine_arn=arn, input=text, name=name)
        except AwsApiError as e:
            raise StatesError(_error_name(e.code), e.message) from e
        return str(started["executionArn"])

    def _express(self, params: dict[str, JSON]) -> bool:
        arn = self._request(params)[0]
        try:
            machine = self.service.describe_state_machine(state_machine_arn=arn)
        except AwsApiError:
            return False  # StartExecution reports it (StateMachineDoesNotExist, InvalidArn)
        return machine.get("type") == "EXPRESS"

    def _express_child(self, params: dict[str, JSON], pattern: str, request: TaskRequest) -> JSON:
        arn, text, name = self._request(params)
        try:
            if not pattern.startswith(".sync"):
                started = self.service.start_execution(state_machine_arn=arn, input=text, name=name)
                return _started(str(started["executionArn"]), started.get("startDate"), request)
            ended = self.service.start_sync_execution(state_machine_arn=arn, input=text, name=name)
        except AwsApiError as e:
            raise StatesError(_error_name(e.code), e.message) from e
        if request.submitted is not None:
            # Unverified: the child ran to its end within the call, so its submission is
            # reported with its outcome (TaskSubmitted, then TaskSucceeded/Failed).
            request.submitted(_started(str(ended["executionArn"]), ended.get("startDate"), request))
        return sync_result(ended, as_json=pattern == ".sync:2")

    def _watch_parent(self, request: TaskRequest, child: str) -> None:
        """Stop the child when its parent was stopped or the task's TimeoutSeconds passed."""
        timed_out = request.deadline is not None and request.clock.now() >= request.deadline
        parent_open = True
        if request.execution_arn:
            try:
                parent = self.service.describe_execution(execution_arn=request.execution_arn)
                parent_open = parent.get("status") == "RUNNING"
            except AwsApiError:
                parent_open = False
        if parent_open and not timed_out:
            return
        self.service.stop_execution(
            execution_arn=child,
            error="States.Aborted" if not timed_out else "States.Timeout",
            cause=f"Stopped because its parent {request.execution_arn} "
            + ("timed out" if timed_out else "stopped"),
        )
        if timed_out:
            raise StatesError("States.Timeout", "")


def sync_result(described: JSONObject, *, as_json: bool) -> JSON:
    """A ``.sync`` (``as_json``: ``.sync:2``) task's result from its ended child's
    description (DescribeExecution's fields); a child that did not succeed fails the task
    with ``States.TaskFailed`` and the description as the cause."""
    out: JSONObject = {
        "ExecutionArn": described["executionArn"],
        "Input": described.get("input"),
        "InputDetails": {"Included": True},
        "Name": described.get("name"),
        "StartDate": _millis(described.get("startDate")),
        "StateMachineArn": described.get("stateMachineArn"),
        "Status": described.get("status"),
        "StopDate": _millis(described.get("stopDate")),
    }
    if described.get("status") == "SUCCEEDED":
        output = described.get("output")
        if as_json and isinstance(output, str):
            out["Output"] = json.loads(output)
        else:
            out["Output"] = output
        out["OutputDetails"] = {"Included": True}
        return out
    if "error" in described:
        out["Error"] = described["error"]
    if "cause" in described:
        out["Cause"] = described["cause"]
    raise StatesError("States.TaskFailed", json.dumps(out, separators=(",", ":")))


def parent_of(child_input: str | None) -> str | None:
    """The parent execution ARN a child's input names (``AWS_STEP_FUNCTIONS_STARTED_BY_...``)."""
    try:
        value = json.loads(child_input or "")
    except ValueError:
        return None
    parent = value.get(PARENT_KEY) if isinstance(value, dict) else None
    return parent if isinstance(parent, str) else None


def register(registry: Registry, service: StatesApi) -> None:
    """Serve ``states:startExecution`` (all patterns) unless the registry already does."""
    if registry.resolve(START_EXECUTION) is None:
        registry.add_prefix(START_EXECUTION, StartExecutionIntegration(service))
