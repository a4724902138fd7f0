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
cause). A Map that declares no tolerance is not checked: AWS recorded ``SUCCEEDED`` for
``mapIterationFailureCount`` 2 there.

Known differences (no recording says otherwise, or it does and eltflow cannot follow):
without a role, AWS's ``Execution.RoleArn`` is null, eltflow's is its local role; a cause the
interpreter words with ``An error occurred while executing the state '<name>' (entered at the
event id #2).`` keeps that prefix (one AWS TestState recording, a Map's ItemsPath over the
context, has none); JSON text fields are compact JSON (AWS echoes a mock's text as given);
TRACE has no ``request``/``response`` (no HTTP Task here). With a ``context``, ``$$`` is that
object as given (recorded on AWS, even ``{}``), its ``Task.Token`` included.

The request checks are :mod:`~eltflow.runtime.teststate_request`'s, the machine the state runs
in :mod:`~eltflow.runtime.teststate_machine`'s, ``inspectionData``
:mod:`~eltflow.runtime.teststate_inspect`'s and the mock's field validation
:mod:`~eltflow.runtime.mock_shapes`'s.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from eltflow.asl import errors as asl_errors
from eltflow.asl.model import AnyState, MapState, StateMachine
from eltflow.clock import Clock, SystemClock
from eltflow.errors import StatesError
from eltflow.integrations.base import TaskRequest
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
from eltflow.runtime import teststate_machine as wrap
from eltflow.runtime import teststate_request as req
from eltflow.runtime.mock_shapes import MODES, FieldValidationMode
from eltflow.runtime.tasks import NO_INTEGRATION
from eltflow.runtime.teststate_model import (
    LEVELS,
    InspectionLevel,
    Integrations,
    Mock,
    MockError,
    MockResult,
    StateConfiguration,
    Status,
    TestStateRequest,
    TestStateResult,
)
from eltflow.types import JSON, JSONObject

LONE_STATE_NAME = req.LONE_STATE_NAME
_TOLERANCE_CAUSE = "The specified tolerated failure threshold was exceeded"


def run_test_state(
    request: TestStateRequest, *, registry: Integrations | None = None, clock: Clock | None = None
) -> TestStateResult:
    """Test one state as AWS's TestState does; a request AWS refuses raises
    :class:`~eltflow.errors.AwsApiError` (or :class:`~eltflow.errors.DefinitionError` for an
    invalid definition, AWS's ``InvalidDefinition``)."""
    if request.inspection_level not in LEVELS:
        raise req.invalid(f"inspectionLevel must be one of {', '.join(LEVELS)}")
    if request.field_validation_mode not in MODES:
        raise req.invalid(f"fieldValidationMode must be one of {', '.join(MODES)}")
    raw, query_language = req.the_state(request.definition, request.state_name)
    state_type = raw.get("Type")
    name = req.tested_name(request)
    req.check_request(request, raw, state_type)
    # The state as the interpreter will see it, parsed (and validated) on its own.
    tested = wrap.parse_state(raw, name, query_language)
    if request.context is not None:
        req.check_context(request.context, tested)
    mock = request.mock
    if isinstance(mock, MockResult):
        req.check_mock_result(tested, mock.value, request.field_validation_mode)
    clock = clock or SystemClock()
    now = req.entered_time(request.context) or clock.now()
    ctx = req.execution_context(request, now)
    execution_input = req.execution_input(request)
    invoke = _Invoker(tested, mock, request, registry, ctx, clock)

    def run(with_catch: bool) -> _Run:
        machine, stubs = wrap.machine(raw, name, query_language, catch=with_catch)
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
            return False, None, asl_errors.RUNTIME, f"{NO_INTEGRATION} '{effect.resource}'"
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
                execution_input=req.execution_input(request),
                entered=req.entered_time(request.context) or run.state.context.start_time,
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
        raise req.invalid(
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


__all__ = [
    "LONE_STATE_NAME",
    "InspectionLevel",
    "Integrations",
    "MockError",
    "MockResult",
    "StateConfiguration",
    "TestStateRequest",
    "TestStateResult",
    "run_test_state",
    "test_state",
]
