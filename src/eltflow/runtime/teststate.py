"""Step Functions' ``TestState`` (the enhanced API of Nov 2025): run one state on an input and
report what it did, with AWS's request and response shapes.

How it runs: the state becomes the only real state of a small machine whose every transition
target is a stub ``Succeed`` state, and the pure interpreter runs that machine here (no store,
no worker): the first stub entered is the ``nextState`` and its input is the state's output.
A Task calls the caller's integrations registry, or returns the ``mock`` instead. Timers (a
Wait, a task timeout) fire at once: TestState reports a state's outcome, it does not wait
(unverified against AWS for Wait).

Retry: the state runs without its ``Retry``; the error it raised is matched against the
retriers as the interpreter does (:func:`~eltflow.interpreter.retry.decide_retry`, the first
retrier whose ``ErrorEquals`` matches), with ``stateConfiguration.retrierRetryCount`` retries
already used. Retries left: ``RETRIABLE`` (``errorDetails.retryIndex`` and
``retryBackoffIntervalSeconds``, the backoff before jitter). None left: the state runs again
with its ``Catch`` (replaying the same task outcome: a real task is called once) and is
``CAUGHT_ERROR`` with the catcher's ``nextState`` and output, or ``FAILED``.

Map and Parallel are testable only with a mock (AWS: ``InvalidDefinition``), which stands for
the state's whole result: the items' processing does not run. ``mapIterationFailureCount``
over the Map's tolerated failures raises ``States.ExceedToleratedFailureThreshold`` (AWS's
cause); without ToleratedFailure fields a Map tolerates none... and AWS recorded
``SUCCEEDED`` there, so only a Map that declares a tolerance is checked.

The request checks and their wording are AWS's where LocalStack's TestState suite recorded
them on AWS (``test_state_mock_validation``, ``test_state_context_object``,
``test_test_state_scenarios`` snapshots): ``State type 'Pass' is not supported when a mock is
specified``; ``A test mock should have only one of the following fields: [result,
errorOutput].``; ``TestState does not support RevealSecrets when a mock is specified.``;
``Mocked result must be an array.`` / ``a JSON object.`` / ``must contain the same number of
items as number of Parallel branches.``; ``RoleArn must be specified when testing a Task
state``; ``TestState API does not support Map or Parallel states. ...`` (InvalidDefinition);
``Invalid Context object provided: ...``. Unverified (said so where raised): a context without
a mock, an activity or a callback/.sync task without a mock, an unknown ``errorCausedByState``.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from eltflow.asl import errors as asl_errors
from eltflow.asl.model import AnyState, MapState, ParallelState, StateMachine, TaskState
from eltflow.asl.parser import parse
from eltflow.clock import Clock, SystemClock
from eltflow.errors import AwsApiError, StatesError
from eltflow.integrations.base import Integration, TaskRequest
from eltflow.interpreter import events as ev
from eltflow.interpreter.protocol import (
    CancelTimer,
    ExecutionContext,
    Inbound,
    RunTask,
    StartTimer,
    TaskFailed,
    TaskSucceeded,
    TimerFired,
)
from eltflow.interpreter.retry import backoff_delay, find_catcher
from eltflow.interpreter.state import ExecutionState
from eltflow.interpreter.step import advance, start
from eltflow.runtime import arns
from eltflow.runtime import teststate_inspect as inspect
from eltflow.runtime.mock_shapes import MODES, FieldValidationMode, validate_mock_result
from eltflow.types import JSON, JSONObject

InspectionLevel = Literal["INFO", "DEBUG", "TRACE"]
LEVELS: tuple[InspectionLevel, ...] = ("INFO", "DEBUG", "TRACE")
Status = Literal["SUCCEEDED", "FAILED", "RETRIABLE", "CAUGHT_ERROR"]

LONE_STATE_NAME = "StateName"
"""The name a lone state (no ``stateName``) runs under: AWS shows it as ``$$.State.Name``
(recorded: ``"State": {"Name": "StateName", ...}``)."""

_ONE_MOCK = "A test mock should have only one of the following fields: [result, errorOutput]."
_SUPPORTED = "[Task, Wait, Pass, Succeed, Fail, Choice]"
_MOCKABLE = frozenset({"Task", "Map", "Parallel"})
_TOLERANCE_CAUSE = "The specified tolerated failure threshold was exceeded"
_CONTEXT_FIELDS = {
    "Execution": {"Id", "Input", "Name", "RoleArn", "StartTime", "RedriveCount"},
    "State": {"EnteredTime", "Name", "RetryCount"},
    "StateMachine": {"Id", "Name"},
    "Task": {"Token"},
}


class Integrations(Protocol):
    """What resolves a Task's resource (an integrations ``Registry``, or anything that looks
    one up lazily)."""

    def resolve(self, resource: str) -> Integration | None: ...


@dataclass(frozen=True, kw_only=True)
class MockResult:
    """``mock.result``: what the state's invocation returns (a JSON value)."""

    value: JSON


@dataclass(frozen=True, kw_only=True)
class MockError:
    """``mock.errorOutput``: the error the state's invocation raises."""

    error: str
    cause: str = ""


Mock = MockResult | MockError


@dataclass(frozen=True, kw_only=True)
class StateConfiguration:
    """``stateConfiguration`` of the request (API_TestStateConfiguration)."""

    retrier_retry_count: int = 0
    error_caused_by_state: str | None = None
    map_iteration_failure_count: int | None = None
    map_item_reader_data: JSON = None


@dataclass(frozen=True, kw_only=True)
class TestStateRequest:
    """A TestState request with its JSON text fields already decoded."""

    __test__ = False  # not a pytest test class, whatever its name

    definition: str | Mapping[str, Any]
    input: JSON = field(default_factory=dict)
    state_name: str | None = None
    inspection_level: InspectionLevel = "INFO"
    role_arn: str | None = None
    reveal_secrets: bool = False
    variables: Mapping[str, JSON] | None = None
    mock: Mock | None = None
    field_validation_mode: FieldValidationMode = "STRICT"
    context: JSONObject | None = None
    configuration: StateConfiguration = field(default_factory=StateConfiguration)


@dataclass(frozen=True, kw_only=True)
class TestStateResult:
    """The TestState response (API_TestState): JSON fields as JSON text, as AWS returns them."""

    __test__ = False

    status: Status
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    next_state: str | None = None
    inspection_data: JSONObject | None = None

    @property
    def output_value(self) -> JSON:
        """``output`` decoded (None when there is no output)."""
        return None if self.output is None else json.loads(self.output)

    def to_aws(self) -> JSONObject:
        """The response members AWS sends (absent ones left out)."""
        out: JSONObject = {"status": self.status}
        for key, value in (
            ("output", self.output),
            ("error", self.error),
            ("cause", self.cause),
            ("nextState", self.next_state),
            ("inspectionData", self.inspection_data),
        ):
            if value is not None:
                out[key] = value
        return out


def run_test_state(
    request: TestStateRequest, *, registry: Integrations | None = None, clock: Clock | None = None
) -> TestStateResult:
    """Test one state as AWS's TestState does; a request AWS refuses raises
    :class:`~eltflow.errors.AwsApiError` (or :class:`~eltflow.errors.DefinitionError` for an
    invalid definition, AWS's ``InvalidDefinition``)."""
    if request.inspection_level not in LEVELS:
        raise _invalid(f"inspectionLevel must be one of {', '.join(LEVELS)}")
    if request.field_validation_mode not in MODES:
        raise _invalid(f"fieldValidationMode must be one of {', '.join(MODES)}")
    raw, query_language = _the_state(request.definition, request.state_name)
    state_type = raw.get("Type")
    name = _tested_name(request)
    _check_request(request, raw, state_type)
    # The state as the interpreter will see it, parsed (and validated) on its own.
    tested = _parse_state(raw, name, query_language)
    if request.context is not None:
        _check_context(request.context, tested)
    mock = request.mock
    if isinstance(mock, MockResult):
        _check_mock_result(tested, mock.value, request.field_validation_mode)
    clock = clock or SystemClock()
    now = _entered_time(request.context) or clock.now()
    ctx = _execution_context(request, now)
    execution_input = _execution_input(request)
    invoke = _Invoker(tested, mock, request, registry, ctx, clock)

    def run(with_catch: bool) -> _Run:
        machine, stubs = _machine(raw, name, query_language, catch=with_catch)
        return _drive(machine, stubs, name, request, ctx, execution_input, now, invoke)

    first = run(with_catch=False)
    retriers = getattr(tested, "retry", ())
    catchers = getattr(tested, "catch", ())
    details: JSONObject = {}
    status: Status
    if first.error is None:
        status, final = "SUCCEEDED", first
    else:
        error = first.error
        retry_index = next(
            (i for i, r in enumerate(retriers) if asl_errors.matches(r.error_equals, error)), None
        )
        used = request.configuration.retrier_retry_count
        if retry_index is not None:
            details["retryIndex"] = retry_index
            retrier = retriers[retry_index]
            if used < retrier.max_attempts:
                # The backoff before jitter: a FULL-jitter draw is random (unverified on AWS).
                delay = backoff_delay(replace(retrier, jitter_strategy="NONE"), used)
                details["retryBackoffIntervalSeconds"] = int(delay)
                return _result(request, tested, first, "RETRIABLE", error, first.cause, details)
        catcher = find_catcher(catchers, error) if catchers else None
        if catcher is None:
            status, final = "FAILED", first
        else:
            details["catchIndex"] = catchers.index(catcher)
            final = run(with_catch=True)
            if final.stub is None:  # the Catch itself failed (its ResultPath, say)
                return _result(request, tested, final, "FAILED", final.error, final.cause, details)
            status = "CAUGHT_ERROR"
    return _result(request, tested, final, status, first.error, first.cause, details)


# --- the request ------------------------------------------------------------------------------


def _invalid(message: str) -> AwsApiError:
    return AwsApiError("ValidationException", message)


def _the_state(
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
            raise _invalid("The definition is a state machine: name the state to test (stateName)")
        return copy.deepcopy(dict(parsed)), None
    parse(dict(parsed))  # a whole machine is validated whole (DefinitionError otherwise)
    states = parsed.get("States")
    if not isinstance(states, Mapping) or not isinstance(states.get(state_name), Mapping):
        raise _invalid(f"State '{state_name}' is not in the definition's top-level States")
    language = parsed.get("QueryLanguage")
    return copy.deepcopy(dict(states[state_name])), language if isinstance(language, str) else None


def _tested_name(request: TestStateRequest) -> str:
    if request.context is not None:
        state = request.context.get("State")
        if isinstance(state, dict) and isinstance(state.get("Name"), str) and state["Name"]:
            return str(state["Name"])
    return request.state_name or LONE_STATE_NAME


def _check_request(request: TestStateRequest, raw: Mapping[str, Any], state_type: Any) -> None:
    mock = request.mock
    if mock is not None:
        if request.reveal_secrets:
            raise _invalid("TestState does not support RevealSecrets when a mock is specified.")
        if state_type not in _MOCKABLE:
            raise _invalid(f"State type '{state_type}' is not supported when a mock is specified")
    elif state_type in ("Map", "Parallel"):
        raise AwsApiError(
            "InvalidDefinition",
            f"TestState API does not support Map or Parallel states. Supported state types "
            f"include: {_SUPPORTED}",
        )
    elif request.context is not None:
        # AWS: "This field may only be specified if a mock is specified" (wording unverified).
        raise _invalid("TestState supports a Context object only when a mock is specified.")
    if state_type == "Task" and mock is None:
        if not request.role_arn:
            raise _invalid("RoleArn must be specified when testing a Task state")
        resource = str(raw.get("Resource", ""))
        if (
            ":activity:" in resource
            or resource.endswith(".waitForTaskToken")
            or (".sync" in resource)
        ):
            # AWS lists activities, .sync and .waitForTaskToken as testable only with a mock
            # (API_TestState); the wording is unverified.
            raise _invalid(
                f"TestState supports the resource '{resource}' only when a mock is specified"
            )
    config = request.configuration
    if config.retrier_retry_count < 0 or (
        config.map_iteration_failure_count is not None and config.map_iteration_failure_count < 0
    ):
        raise _invalid("stateConfiguration counts must be 0 or more")
    if config.error_caused_by_state is not None and not _names_state(
        raw, config.error_caused_by_state, _tested_name(request)
    ):
        # Wording unverified: AWS documents the field as the state an error mocked for a Map
        # or Parallel comes from.
        raise _invalid(
            f"errorCausedByState '{config.error_caused_by_state}' is not the tested state "
            f"or a state inside it"
        )


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


def _check_context(context: JSONObject, state: AnyState) -> None:
    def bad(detail: str) -> AwsApiError:
        return _invalid(f"Invalid Context object provided: {detail}")

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


def _check_mock_result(state: AnyState, value: JSON, mode: FieldValidationMode) -> None:
    if isinstance(state, MapState):
        if state.result_writer is not None:
            if not isinstance(value, dict):
                raise _invalid("Mocked result must be a JSON object.")
        elif not isinstance(value, list):
            raise _invalid("Mocked result must be an array.")
    elif isinstance(state, ParallelState):
        if not isinstance(value, list):
            raise _invalid("Mocked result must be an array.")
        if len(value) != len(state.branches):
            raise _invalid(
                "Mocked result must contain the same number of items as number of Parallel "
                "branches."
            )
    elif isinstance(state, TaskState):
        validate_mock_result(state.resource, value, mode)


def _entered_time(context: JSONObject | None) -> datetime | None:
    state = (context or {}).get("State")
    text = state.get("EnteredTime") if isinstance(state, dict) else None
    return _timestamp(text, "State.EnteredTime") if isinstance(text, str) else None


def _timestamp(text: str, what: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(f"Invalid Context object provided: {what} must be a timestamp") from None


def _execution_context(request: TestStateRequest, now: datetime) -> ExecutionContext:
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
        execution_arn=str(execution.get("Id") or arns.execution_arn(machine_name, name)),
        execution_name=name,
        state_machine_arn=str(machine.get("Id") or arns.machine_arn(machine_name)),
        state_machine_name=machine_name,
        start_time=_timestamp(start, "Execution.StartTime") if isinstance(start, str) else now,
        role_arn=str(execution.get("RoleArn") or request.role_arn or arns.DEFAULT_ROLE_ARN),
        redrive_count=_count(execution.get("RedriveCount")),
        seed=str(uuid.uuid4()),
    )


def _count(value: JSON) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _execution_input(request: TestStateRequest) -> JSON:
    execution = (request.context or {}).get("Execution")
    if isinstance(execution, dict) and "Input" in execution:
        return execution["Input"]
    return request.input


# --- the machine the state runs in ------------------------------------------------------------


_MOCK_RESOURCE = "arn:aws:states:::eltflow:testState.mock"
# A mocked Map or Parallel runs as a Task with the fields that process its result: the mock
# stands for the whole result, so the fields that make the items or branches are dropped.
_KEEP_FOR_MOCKED_BRANCHES = (
    "Comment",
    "QueryLanguage",
    "InputPath",
    "ResultSelector",
    "ResultPath",
    "OutputPath",
    "Output",
    "Assign",
    "Catch",
    "Next",
    "End",
)


def _stub_name(target: str, tested: str, used: set[str]) -> str:
    # Stub names differ from the tested state's (a state may transition to itself).
    name, n = f"{target} (next)", 1
    while name == tested or name in used:
        n += 1
        name = f"{target} (next {n})"
    return name


def _machine(
    raw: Mapping[str, Any],
    name: str,
    query_language: str | None,
    *,
    catch: bool,
    as_written: bool = False,
) -> tuple[StateMachine, dict[str, str]]:
    """The machine the state runs in, and its stubs (stub name -> the target it stands for).
    ``as_written``: the state unchanged (for its model), not made runnable."""
    state = copy.deepcopy(dict(raw)) if as_written else _runnable(raw, catch=catch)
    stubs: dict[str, str] = {}

    def stub(target: Any) -> Any:
        if not isinstance(target, str):
            return target  # the validator reports it
        for stub_name, stub_target in stubs.items():
            if stub_target == target:
                return stub_name
        stub_name = _stub_name(target, name, set(stubs))
        stubs[stub_name] = target
        return stub_name

    if "Next" in state:
        state["Next"] = stub(state["Next"])
    if "Default" in state:
        state["Default"] = stub(state["Default"])
    for rule in state.get("Choices") or []:
        if isinstance(rule, dict) and "Next" in rule:
            rule["Next"] = stub(rule["Next"])
    for rule in state.get("Catch") or []:
        if isinstance(rule, dict) and "Next" in rule:
            rule["Next"] = stub(rule["Next"])
    states: dict[str, Any] = {n: {"Type": "Succeed"} for n in stubs}
    states[name] = state
    definition: dict[str, Any] = {"StartAt": name, "States": states}
    if query_language is not None:
        definition["QueryLanguage"] = query_language
    return parse(definition), stubs


def _runnable(raw: Mapping[str, Any], *, catch: bool) -> dict[str, Any]:
    state = copy.deepcopy(dict(raw))
    if state.get("Type") in ("Map", "Parallel"):
        state = {k: v for k, v in state.items() if k in _KEEP_FOR_MOCKED_BRANCHES}
        state["Type"] = "Task"
        state["Resource"] = _MOCK_RESOURCE
    state.pop("Retry", None)  # TestState reports RETRIABLE instead of retrying
    if not catch:
        state.pop("Catch", None)
    return state


def _parse_state(raw: Mapping[str, Any], name: str, query_language: str | None) -> AnyState:
    """The tested state as written (Retry, Catch, a Map's fields and all), parsed."""
    machine, _ = _machine(raw, name, query_language, catch=True, as_written=True)
    return machine.states[name]


# --- running it ---------------------------------------------------------------------------------


@dataclass(kw_only=True)
class _Run:
    """One run of the machine: where it ended and what the task saw."""

    state: ExecutionState
    stub: str | None = None  # the target of the stub entered (nextState)
    stub_input: str | None = None
    error: str | None = None
    cause: str | None = None
    parameters: JSON = None  # the task's effective parameters (afterParameters/Arguments)
    scheduled: bool = False
    result: JSON = None  # the task's result
    has_result: bool = False
    assigned: dict[str, JSON] = field(default_factory=dict)


class _Invoker:
    """The task outcome: the mock, or one call of the integration (remembered, so the run
    with the Catch sees the same outcome without calling the service again)."""

    def __init__(
        self,
        state: AnyState,
        mock: Mock | None,
        request: TestStateRequest,
        registry: Integrations | None,
        ctx: ExecutionContext,
        clock: Clock,
    ) -> None:
        self.state = state
        self.mock = mock
        self.request = request
        self.registry = registry
        self.ctx = ctx
        self.clock = clock
        self.outcome: tuple[bool, JSON, str, str] | None = None

    def __call__(self, effect: RunTask) -> tuple[bool, JSON, str, str]:
        if self.outcome is None:
            self.outcome = self._outcome(effect)
        return self.outcome

    def _outcome(self, effect: RunTask) -> tuple[bool, JSON, str, str]:
        mock = self.mock
        if isinstance(mock, MockError):
            return False, None, mock.error, mock.cause
        if isinstance(mock, MockResult):
            tolerance = _tolerance_error(self.state, self.request, mock.value)
            if tolerance is not None:
                return False, None, asl_errors.EXCEED_TOLERATED_FAILURE_THRESHOLD, tolerance
            return True, mock.value, "", ""
        integration = self.registry.resolve(effect.resource) if self.registry else None
        if integration is None:
            return False, None, asl_errors.RUNTIME, f"No integration for '{effect.resource}'"
        request = TaskRequest(
            resource=effect.resource,
            parameters=effect.parameters,
            execution_arn=self.ctx.execution_arn,
            state_name=effect.state_name,
            task_token=effect.task_token,
            clock=self.clock,
        )
        try:
            output = integration(request)
            json.dumps(output)
        except StatesError as e:
            return False, None, e.error, e.cause
        except (TypeError, ValueError) as e:
            return False, None, asl_errors.RUNTIME, f"The task result is not JSON: {e}"
        except Exception as e:  # a handler's own exception, named like Lambda's errorType
            return False, None, type(e).__name__, str(e)
        return True, output, "", ""


def _tolerance_error(state: AnyState, request: TestStateRequest, result: JSON) -> str | None:
    """AWS's cause when ``mapIterationFailureCount`` exceeds the Map's tolerated failures."""
    failures = request.configuration.map_iteration_failure_count
    if not isinstance(state, MapState) or not failures:
        return None
    tolerance = inspect.map_tolerance(state, request.input)
    count, percentage = (
        tolerance.get("toleratedFailureCount"),
        tolerance.get("toleratedFailurePercentage"),
    )
    if count is None and percentage is None:
        return None
    items = request.configuration.map_item_reader_data
    total = (
        len(items) if isinstance(items, list) else len(result) if isinstance(result, list) else 0
    )
    if isinstance(count, int | float) and failures > count:
        return _TOLERANCE_CAUSE
    if isinstance(percentage, int | float) and total and failures * 100 / total > percentage:
        return _TOLERANCE_CAUSE
    return None


def _drive(
    machine: StateMachine,
    stubs: Mapping[str, str],
    name: str,
    request: TestStateRequest,
    ctx: ExecutionContext,
    execution_input: JSON,
    now: datetime,
    invoke: Callable[[RunTask], tuple[bool, JSON, str, str]],
) -> _Run:
    """Run ``machine`` to its end with the pure interpreter (the test's variables in the root
    scope, ``$$.Execution.Input`` from the context when it says): tasks through ``invoke``,
    timers at once."""
    st, events, pending = start(
        machine,
        request.input,
        ctx,
        now,
        variables=request.variables,
        execution_input=execution_input,
    )
    run = _Run(state=st)
    events = list(events)
    cancelled: set[str] = set()
    while st.status == "RUNNING" and pending:
        tasks = [e for e in pending if isinstance(e, RunTask)]
        cancelled |= {e.timer_id for e in pending if isinstance(e, CancelTimer)}
        timers = [e for e in pending if isinstance(e, StartTimer) and e.timer_id not in cancelled]
        pending = []
        inbounds: list[Inbound] = []
        for task in tasks:
            run.scheduled, run.parameters = True, task.parameters
            ok, output, error, cause = invoke(task)
            if ok:
                run.result, run.has_result = output, True
                inbounds.append(TaskSucceeded(task_id=task.task_id, output=output))
            else:
                inbounds.append(TaskFailed(task_id=task.task_id, error=error, cause=cause))
        if not inbounds:
            inbounds = [TimerFired(timer_id=t.timer_id) for t in timers[:1]]
            pending = list(timers[1:])
        for inbound in inbounds:
            _, new_events, effects = advance(machine, st, inbound, now)
            events += new_events
            pending += effects
    for event in events:
        details = next(iter(event.details.values()), None) if event.details else None
        if not isinstance(details, dict):
            continue
        if event.type.endswith("StateEntered") and details.get("name") in stubs:
            run.stub = stubs[str(details["name"])]
            run.stub_input = str(details.get("input"))
        elif event.type.endswith("StateExited") and details.get("name") == name:
            assigned = details.get("assignedVariables")
            if isinstance(assigned, dict):
                for key, text in assigned.items():
                    run.assigned[str(key)] = json.loads(str(text))
    if st.status == "FAILED":
        run.error, run.cause = st.error or "", st.cause or ""
    elif st.status == "RUNNING":  # nothing left to feed it: a bug, reported not hidden
        run.error, run.cause = asl_errors.RUNTIME, "TestState could not finish the state"
    return run


def _result(
    request: TestStateRequest,
    state: AnyState,
    run: _Run,
    status: Status,
    error: str | None,
    cause: str | None,
    error_details: JSONObject,
) -> TestStateResult:
    output: str | None = None
    next_state: str | None = None
    if status in ("SUCCEEDED", "CAUGHT_ERROR"):
        if run.stub is not None:
            next_state, output = run.stub, run.stub_input
        elif run.state.status == "SUCCEEDED":
            output = ev.dumps(run.state.output)
    if status == "SUCCEEDED":
        error = cause = None
    data: JSONObject | None = None
    if request.inspection_level != "INFO":
        data = inspect.inspection_data(
            state,
            request=inspect.Seen(
                input=request.input,
                variables=dict(request.variables or {}),
                context=run.state.context,
                execution_input=_execution_input(request),
                entered=_entered_time(request.context) or run.state.context.start_time,
                parameters=run.parameters,
                scheduled=run.scheduled,
                result=run.result,
                has_result=run.has_result and status == "SUCCEEDED",
                assigned=run.assigned,
                succeeded=status == "SUCCEEDED",
                map_item_reader_data=request.configuration.map_item_reader_data,
            ),
        )
        if error_details:
            data["errorDetails"] = error_details
    return TestStateResult(
        status=status,
        output=output,
        error=error,
        cause=cause,
        next_state=next_state,
        inspection_data=data,
    )


_UNSET: Any = object()


def test_state(
    definition: str | Mapping[str, Any],
    input: JSON = None,
    *,
    state_name: str | None = None,
    inspection_level: InspectionLevel = "INFO",
    mock_result: JSON = _UNSET,
    mock_error: tuple[str, str] | str | None = None,
    field_validation_mode: FieldValidationMode = "STRICT",
    variables: Mapping[str, JSON] | None = None,
    context: JSONObject | None = None,
    role_arn: str | None = arns.DEFAULT_ROLE_ARN,
    reveal_secrets: bool = False,
    retrier_retry_count: int = 0,
    error_caused_by_state: str | None = None,
    map_iteration_failure_count: int | None = None,
    map_item_reader_data: JSON = None,
    registry: Integrations | None = None,
    clock: Clock | None = None,
) -> TestStateResult:
    """``eltflow.test_state``: test one state (or ``state_name`` of a whole definition).

    ``mock_result`` is the state's mocked result (any JSON value); ``mock_error`` its mocked
    error, ``"Name"`` or ``("Name", "cause")``. Unmocked Tasks call ``registry`` (e.g.
    ``build_app(settings).registry``). ``role_arn`` defaults to eltflow's local role: AWS
    requires one to test a Task without a mock, a local test has no use for it.
    """
    mock: Mock | None = None
    if mock_result is not _UNSET and mock_error is not None:
        raise _invalid(
            "A test mock should have only one of the following fields: [result, errorOutput]."
        )
    if mock_result is not _UNSET:
        mock = MockResult(value=mock_result)
    elif mock_error is not None:
        error, cause = (mock_error, "") if isinstance(mock_error, str) else mock_error
        mock = MockError(error=error, cause=cause)
    request = TestStateRequest(
        definition=definition,
        input={} if input is None else input,
        state_name=state_name,
        inspection_level=inspection_level,
        role_arn=role_arn,
        reveal_secrets=reveal_secrets,
        variables=variables,
        mock=mock,
        field_validation_mode=field_validation_mode,
        context=context,
        configuration=StateConfiguration(
            retrier_retry_count=retrier_retry_count,
            error_caused_by_state=error_caused_by_state,
            map_iteration_failure_count=map_iteration_failure_count,
            map_item_reader_data=map_item_reader_data,
        ),
    )
    return run_test_state(request, registry=registry, clock=clock)


test_state.__test__ = False  # type: ignore[attr-defined]  # pytest must not collect it
