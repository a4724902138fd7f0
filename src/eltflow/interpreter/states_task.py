"""The Task state: schedule (RunTask + timeout timer), then process the outcome.

Event families follow the resource: service integrations give ``TaskScheduled/Started/
[Submitted/]Succeeded/Failed/TimedOut`` (``TaskSubmitted`` for ``.sync`` and
``.waitForTaskToken`` once the service accepted the request), a legacy Lambda function ARN
gives ``LambdaFunction*``, an activity ARN ``Activity*``. Parameters (or Arguments) are
evaluated again for each attempt, as AWS does (``$$.State.RetryCount`` changes between
attempts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from eltflow.asl import errors as asl_errors
from eltflow.asl.model import JSONATA, TaskState
from eltflow.errors import StatesError
from eltflow.interpreter import events as ev
from eltflow.interpreter import flow
from eltflow.interpreter.context import task_token
from eltflow.interpreter.protocol import CancelTask, CancelTimer, RunTask, StartTimer
from eltflow.interpreter.state import TASK
from eltflow.interpreter.states_simple import io_path, jsonata_states, path_value
from eltflow.types import JSON

if TYPE_CHECKING:
    from eltflow.interpreter.state import Frame
    from eltflow.interpreter.step import Stepper


def enter_task(stepper: Stepper, frame: Frame, state: TaskState) -> None:
    schedule(stepper, frame, state)


def schedule(stepper: Stepper, frame: Frame, state: TaskState) -> None:
    """Start one attempt of the task."""
    attempt = frame.attempt
    frame.attempt = attempt + 1
    task_id = f"{frame.task_key}/task/{attempt}"
    token = None
    if "waitForTaskToken" in state.resource:
        token = task_token(stepper.st.context, task_id)
    jsonata = state.query_language == JSONATA
    if jsonata:
        states = jsonata_states(stepper, frame)
        if token is not None:
            cast(dict[str, JSON], states["context"])["Task"] = {"Token": token}
        variables = stepper.variables(frame)
        params: JSON = frame.input
        if state.arguments is not None:
            params = flow.jsonata(state.arguments, states, variables, stepper.rng(), "Arguments")
        timeout = _seconds(stepper, frame, state.timeout_seconds, None, "TimeoutSeconds", states)
        heartbeat = _seconds(
            stepper, frame, state.heartbeat_seconds, None, "HeartbeatSeconds", states
        )
    else:
        effective = io_path(stepper, frame, state.input_path, frame.input, "InputPath")
        params = effective
        if state.parameters is not None:
            params = flow.template(
                state.parameters,
                effective,
                stepper.context(frame, task_token=token),
                stepper.variables(frame),
                stepper.rng(),
                "Parameters",
            )
        timeout = _seconds(
            stepper,
            frame,
            state.timeout_seconds,
            state.timeout_seconds_path,
            "TimeoutSeconds",
            effective,
        )
        heartbeat = _seconds(
            stepper,
            frame,
            state.heartbeat_seconds,
            state.heartbeat_seconds_path,
            "HeartbeatSeconds",
            effective,
        )
    text = stepper.payload_text(params, state.name)
    stepper.emit(frame, ev.task_scheduled(state.resource, text, timeout, heartbeat))
    frame.pending_task = task_id
    frame.task_started = False
    frame.task_submitted = False
    frame.status = TASK
    stepper.wait(frame, task_id)
    stepper.effects.append(
        RunTask(
            task_id=task_id,
            state_name=state.name,
            resource=state.resource,
            parameters=params,
            timeout_seconds=timeout,
            heartbeat_seconds=heartbeat,
            # An activity's worker gets its token from GetActivityTask, not from $$.Task.Token.
            task_token=task_token(stepper.st.context, task_id) if beats(state) else None,
        )
    )
    if timeout is not None:
        timer_id = f"{frame.task_key}/timeout/{attempt}"
        frame.timeout_timer = timer_id
        stepper.wait(frame, timer_id)
        stepper.effects.append(StartTimer(timer_id=timer_id, due=stepper.after(timeout)))
    frame.heartbeat_seconds = heartbeat if heartbeat is not None and beats(state) else None
    _arm_heartbeat(stepper, frame)


def beats(state: TaskState) -> bool:
    """Whether the task can send heartbeats, so ``HeartbeatSeconds`` is enforced.

    Only a task holding a task token can call ``SendTaskHeartbeat``: an activity (its worker
    gets the token with the task) or a ``.waitForTaskToken`` integration. A request-response
    or ``.sync`` call has no token to heartbeat with; there the field is only recorded in the
    ``...Scheduled`` event.
    """
    return ":activity:" in state.resource or state.resource.endswith(".waitForTaskToken")


def _arm_heartbeat(stepper: Stepper, frame: Frame) -> None:
    """(Re)start the heartbeat countdown: a fresh timer id each time, the previous timer
    cancelled, so a late firing of an old countdown is ignored as unknown."""
    seconds = frame.heartbeat_seconds
    if seconds is None:
        return
    old = frame.heartbeat_timer
    if old is not None and stepper.st.waiting.pop(old, None) is not None:
        stepper.effects.append(CancelTimer(timer_id=old))
    frame.heartbeats += 1
    timer_id = f"{frame.task_key}/heartbeat/{frame.attempt - 1}.{frame.heartbeats}"
    frame.heartbeat_timer = timer_id
    stepper.wait(frame, timer_id)
    stepper.effects.append(StartTimer(timer_id=timer_id, due=stepper.after(seconds)))


def heartbeat(stepper: Stepper, frame: Frame) -> None:
    """``SendTaskHeartbeat``: the countdown starts again (nothing is written to history)."""
    _arm_heartbeat(stepper, frame)


def _seconds(
    stepper: Stepper,
    frame: Frame,
    value: int | str | None,
    path: str | None,
    field: str,
    data: JSON,
) -> float | None:
    """TimeoutSeconds / HeartbeatSeconds in their literal, ``...Path`` or JSONata forms."""
    resolved: JSON = value
    if isinstance(value, str):  # JSONata expression; ``data`` is then the $states object
        resolved = flow.jsonata(
            value, cast(dict[str, JSON], data), stepper.variables(frame), stepper.rng(), field
        )
    elif path is not None:
        resolved = path_value(stepper, frame, path, data, f"{field}Path")
    if resolved is None:
        return None
    if isinstance(resolved, bool) or not isinstance(resolved, int | float) or resolved <= 0:
        raise StatesError(
            asl_errors.RUNTIME,
            f"The {field} value must be a positive integer: {ev.dumps(resolved)}",
        )
    return float(resolved)


def started(stepper: Stepper, frame: Frame, state: TaskState) -> None:
    if not frame.task_started:
        frame.task_started = True
        stepper.emit(frame, ev.task_started(state.resource))
        # The countdown runs from the task's start (an activity may wait for a worker
        # long after it was scheduled); scheduling armed it already in case no start comes.
        _arm_heartbeat(stepper, frame)


def submitted(stepper: Stepper, frame: Frame, state: TaskState, output: JSON) -> None:
    """The service accepted the request of a ``.sync`` or ``.waitForTaskToken`` task, which
    now waits (for its job, or for its token): ``TaskSubmitted`` with the service's response,
    after ``TaskStarted``, as AWS records it. Once per attempt (a ``.sync`` task resumed after
    a crash reports its submission again). An activity or a Lambda function ARN has no such
    event on AWS, so nothing is recorded for them.

    Unverified: what AWS does with a response over the 256 KiB payload limit; here the task
    is cancelled and the state fails with ``States.DataLimitExceeded`` as for a result."""
    if frame.task_submitted or ev.resource_kind(state.resource)[0] != "Task":
        return
    started(stepper, frame, state)
    try:
        text = stepper.payload_text(output, state.name)
    except StatesError:
        settle(stepper, frame)
        raise
    frame.task_submitted = True
    stepper.emit(frame, ev.task_submitted(state.resource, text))


def settle(stepper: Stepper, frame: Frame) -> None:
    """The task has reported: stop waiting for it and cancel its timeout timer."""
    if frame.pending_task is not None:
        stepper.st.waiting.pop(frame.pending_task, None)
        frame.pending_task = None
    stepper.release(frame)


def succeeded(stepper: Stepper, frame: Frame, state: TaskState, output: JSON) -> None:
    started(stepper, frame, state)
    settle(stepper, frame)
    text = stepper.payload_text(output, state.name)
    stepper.emit(frame, ev.task_succeeded(state.resource, text))
    finish(stepper, frame, state, output)


def failed(stepper: Stepper, frame: Frame, state: TaskState, error: str, cause: str) -> None:
    started(stepper, frame, state)
    settle(stepper, frame)
    stepper.emit(frame, ev.task_failed(state.resource, error, cause))
    stepper.state_error(frame, state, error, cause)


def timed_out(
    stepper: Stepper, frame: Frame, state: TaskState, error: str = asl_errors.TIMEOUT
) -> None:
    """``TimeoutSeconds`` (``States.Timeout``) or ``HeartbeatSeconds``
    (``States.HeartbeatTimeout``) ran out: the task is cancelled and the state fails."""
    if error == asl_errors.TIMEOUT:
        frame.timeout_timer = None  # it has fired: nothing to cancel
    else:
        frame.heartbeat_timer = None
    task_id = frame.pending_task
    if task_id is not None:
        stepper.st.waiting.pop(task_id, None)
        frame.pending_task = None
        stepper.effects.append(CancelTask(task_id=task_id))
    stepper.release(frame)  # the other countdown, if any
    # AWS records no cause for a timeout; the error output still carries "Cause": "".
    stepper.emit(frame, ev.task_timed_out(state.resource, error, None))
    stepper.state_error(frame, state, error, "")


def heartbeat_timed_out(stepper: Stepper, frame: Frame, state: TaskState) -> None:
    timed_out(stepper, frame, state, asl_errors.HEARTBEAT_TIMEOUT)


def finish(stepper: Stepper, frame: Frame, state: TaskState | object, result: JSON) -> None:
    """Shared by Task, Parallel and Map: Assign (on the raw result), ResultSelector →
    ResultPath → OutputPath (JSONPath), or Output and Assign (JSONata); then leave the state."""
    s = cast(TaskState, state)
    try:
        if s.query_language == JSONATA:
            output: JSON = result
            assigned = None
            if s.output is not None or s.assign is not None:
                states = jsonata_states(stepper, frame, result=result)
                variables = stepper.variables(frame)
                if s.output is not None:
                    output = flow.jsonata(s.output, states, variables, stepper.rng(), "Output")
                assigned = flow.assign_jsonata(s.assign, states, variables, stepper.rng())
        else:
            assigned = None
            if s.assign is not None or s.result_selector is not None:
                # Assign sees the raw result, before ResultSelector (as AWS evaluates it).
                context = stepper.context(frame)
                variables = stepper.variables(frame)
                assigned = flow.assign_jsonpath(s.assign, result, context, variables, stepper.rng())
                if s.result_selector is not None:
                    result = flow.template(
                        s.result_selector,
                        result,
                        context,
                        variables,
                        stepper.rng(),
                        "ResultSelector",
                    )
            output = flow.place_result(s.result_path, frame.input, result)
            output = io_path(stepper, frame, s.output_path, output, "OutputPath")
        stepper.exit(frame, s, output, assigned)
    except StatesError as e:
        stepper.raised(frame, s, e)
