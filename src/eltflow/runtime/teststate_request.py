"""TestState's request checks (AWS's words where recorded) and the setting the state runs in:
the tested state's JSON, its name, the execution context and ``$$.Execution.Input``.

Recorded on AWS by LocalStack's TestState suite (Nov-Dec 2025): the mock checks, ``RoleArn must
be specified when testing a Task state``, Map/Parallel without a mock (``InvalidDefinition``),
``Invalid Context object provided: ...``. Unverified, and said so where raised: a context
without a mock, an activity or a ``.sync``/``.waitForTaskToken`` task without a mock, an
``errorCausedByState`` that names no state.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from eltflow.asl.model import AnyState, MapState, ParallelState, TaskState
from eltflow.asl.parser import parse
from eltflow.errors import AwsApiError
from eltflow.interpreter.protocol import ExecutionContext
from eltflow.runtime import arns
from eltflow.runtime.mock_shapes import FieldValidationMode, validate_mock_result
from eltflow.runtime.teststate_model import MockResult, TestStateRequest
from eltflow.types import JSON, JSONObject

LONE_STATE_NAME = "StateName"
"""The name a lone state (no ``stateName``) runs under: AWS shows it as ``$$.State.Name``
(recorded: ``"State": {"Name": "StateName", ...}``)."""

ONE_MOCK = "A test mock should have only one of the following fields: [result, errorOutput]."
_SUPPORTED = "[Task, Wait, Pass, Succeed, Fail, Choice]"
_MOCKABLE = frozenset({"Task", "Map", "Parallel"})
_CONTEXT_FIELDS = {
    "Execution": {"Id", "Input", "Name", "RoleArn", "StartTime", "RedriveCount"},
    "State": {"EnteredTime", "Name", "RetryCount"},
    "StateMachine": {"Id", "Name"},
    "Task": {"Token"},
}


def invalid(message: str) -> AwsApiError:
    return AwsApiError("ValidationException", message)


def the_state(
    definition: str | Mapping[str, Any], state_name: str | None
) -> tuple[dict[str, Any], str | None]:
    """The tested state's JSON and the query language it inherits from its machine."""
    try:
        parsed = json.loads(definition) if isinstance(definition, str) else definition
    except ValueError as e:
        raise AwsApiError("InvalidDefinition", f"Invalid State Machine Definition: {e}") from None
    if not isinstance(parsed, Mapping):
        raise AwsApiError("InvalidDefinition", "The definition must be a JSON object")
    if state_name is None:
        if "States" in parsed:
            raise invalid("The definition is a state machine: name the state to test (stateName)")
        return copy.deepcopy(dict(parsed)), None
    parse(dict(parsed))  # a whole machine is validated whole (DefinitionError otherwise)
    states = parsed.get("States")
    if not isinstance(states, Mapping) or not isinstance(states.get(state_name), Mapping):
        raise invalid("State not found in definition")  # AWS's words (recorded)
    language = parsed.get("QueryLanguage")
    return copy.deepcopy(dict(states[state_name])), language if isinstance(language, str) else None


def tested_name(request: TestStateRequest) -> str:
    """The name the state runs under (in causes; ``$$.State.Name`` without a context)."""
    return request.state_name or LONE_STATE_NAME


def check_request(request: TestStateRequest, raw: Mapping[str, Any], state_type: Any) -> None:
    mock = request.mock
    _json_value(request.input, "InvalidExecutionInput", "Invalid input: not a JSON value")
    _json_value(dict(request.variables or {}), "ValidationException", "Invalid variables")
    if isinstance(mock, MockResult):
        # AWS's words for a mock that is not JSON (recorded), Python values included.
        _json_value(mock.value, "ValidationException", "Mocked result must be valid JSON")
    if mock is not None:
        if request.reveal_secrets:
            raise invalid("TestState does not support RevealSecrets when a mock is specified.")
        if state_type not in _MOCKABLE:
            raise invalid(f"State type '{state_type}' is not supported when a mock is specified")
    elif state_type in ("Map", "Parallel"):
        raise AwsApiError(
            "InvalidDefinition",
            f"TestState API does not support Map or Parallel states. Supported state types "
            f"include: {_SUPPORTED}",
        )
    elif request.context is not None:
        # AWS: "This field may only be specified if a mock is specified" (wording unverified).
        raise invalid("TestState supports a Context object only when a mock is specified.")
    if state_type == "Task" and mock is None:
        if not request.role_arn:
            raise invalid("RoleArn must be specified when testing a Task state")
        resource = str(raw.get("Resource", ""))
        if (
            ":activity:" in resource
            or resource.endswith(".waitForTaskToken")
            or (".sync" in resource)
        ):
            # AWS lists activities, .sync and .waitForTaskToken as testable only with a mock
            # (API_TestState); the wording is unverified.
            raise invalid(
                f"TestState supports the resource '{resource}' only when a mock is specified"
            )
    config = request.configuration
    if config.retrier_retry_count < 0 or (
        config.map_iteration_failure_count is not None and config.map_iteration_failure_count < 0
    ):
        raise invalid("stateConfiguration counts must be 0 or more")
    if config.error_caused_by_state is not None and not _names_state(
        raw, config.error_caused_by_state, tested_name(request)
    ):
        # Wording unverified: AWS documents the field as the state an error mocked for a Map
        # or Parallel comes from.
        raise invalid(
            f"errorCausedByState '{config.error_caused_by_state}' is not the tested state "
            f"or a state inside it"
        )


def _json_value(value: JSON, code: str, message: str) -> None:
    """A value the Python API was given must be JSON (the wire's always is)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise AwsApiError(code, message) from None


def _names_state(raw: Mapping[str, Any], name: str, tested: str) -> bool:
    if name == tested:
        return True
    machines: list[Any] = list(raw.get("Branches") or [])
    machines += [raw.get("ItemProcessor"), raw.get("Iterator")]
    for machine in machines:
        states = machine.get("States") if isinstance(machine, dict) else None
        if isinstance(states, dict):
            for child_name, child in states.items():
                if child_name == name or (
                    isinstance(child, dict) and _names_state(child, name, tested)
                ):
                    return True
    return False


def check_context(context: JSONObject, state: AnyState) -> None:
    def bad(detail: str) -> AwsApiError:
        return invalid(f"Invalid Context object provided: {detail}")

    for key, value in context.items():
        if key == "Map":
            raise bad("'Map' field is not supported when mocking a Context object")
        allowed = _CONTEXT_FIELDS.get(key)
        if allowed is None:
            raise bad(f"Field '{key}' is not allowed")
        if not isinstance(value, dict):
            raise bad(f"{key} must be an object")
        for sub, item in value.items():
            if sub not in allowed:
                raise bad(f"Field '{sub}' is not allowed")
            if sub in ("Input",):
                continue
            want_int = sub in ("RetryCount", "RedriveCount")
            ok = (
                isinstance(item, int) and not isinstance(item, bool)
                if want_int
                else (isinstance(item, str))
            )
            if not ok:
                raise bad(f"{key}.{sub} must be {'an integer' if want_int else 'a string'}")
    if "Task" in context:
        resource = getattr(state, "resource", "")
        if not (resource.endswith(".waitForTaskToken") or ".sync" in resource):
            raise bad(
                "Context object contains 'Task' when state is not a Task state with a '.sync' "
                "or '.waitForTaskToken' service integration pattern"
            )


def check_mock_result(state: AnyState, value: JSON, mode: FieldValidationMode) -> None:
    if isinstance(state, MapState):
        if state.result_writer is not None:
            if not isinstance(value, dict):
                raise invalid("Mocked result must be a JSON object.")
        elif not isinstance(value, list):
            raise invalid("Mocked result must be an array.")
    elif isinstance(state, ParallelState):
        if not isinstance(value, list):
            raise invalid("Mocked result must be an array.")
        if len(value) != len(state.branches):
            raise invalid(
                "Mocked result must contain the same number of items as number of Parallel "
                "branches."
            )
    elif isinstance(state, TaskState):
        validate_mock_result(state.resource, value, mode)


def entered_time(context: JSONObject | None) -> datetime | None:
    state = (context or {}).get("State")
    text = state.get("EnteredTime") if isinstance(state, dict) else None
    return _timestamp(text, "State.EnteredTime") if isinstance(text, str) else None


def _timestamp(text: str, what: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"Invalid Context object provided: {what} must be a timestamp") from None


def execution_context(request: TestStateRequest, now: datetime) -> ExecutionContext:
    """The execution TestState runs the state in: the request's ``context`` where it says,
    else a fresh one (as AWS, a new execution id per request)."""
    given = request.context or {}
    execution = given.get("Execution") if isinstance(given.get("Execution"), dict) else {}
    machine = given.get("StateMachine") if isinstance(given.get("StateMachine"), dict) else {}
    assert isinstance(execution, dict) and isinstance(machine, dict)
    machine_name = str(machine.get("Name") or "TestStateMachine")
    name = str(execution.get("Name") or uuid.uuid4())
    start = execution.get("StartTime")
    return ExecutionContext(
        # AWS runs the state as an Express execution (recorded: "...:express:<machine>:<name>").
        execution_arn=str(execution.get("Id") or f"{arns.PREFIX}:express:{machine_name}:{name}"),
        execution_name=name,
        state_machine_arn=str(machine.get("Id") or arns.machine_arn(machine_name)),
        state_machine_name=machine_name,
        start_time=_timestamp(start, "Execution.StartTime") if isinstance(start, str) else now,
        role_arn=str(execution.get("RoleArn") or request.role_arn or arns.DEFAULT_ROLE_ARN),
        redrive_count=_count(execution.get("RedriveCount")),
        seed=str(uuid.uuid4()),
        given_context=request.context,
    )


def _count(value: JSON) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def execution_input(request: TestStateRequest) -> JSON:
    execution = (request.context or {}).get("Execution")
    if isinstance(execution, dict) and "Input" in execution:
        return execution["Input"]
    return request.input
