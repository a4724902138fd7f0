"""Tables from state ``Type`` to behaviour, and the routing of inbounds to them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eltflow.errors import StatesError
from eltflow.interpreter import distributed
from eltflow.interpreter import states_branch as branch
from eltflow.interpreter import states_simple as simple
from eltflow.interpreter import states_task as task
from eltflow.interpreter.protocol import (
    TaskFailed,
    TaskHeartbeat,
    TaskStarted,
    TaskSubmitted,
    TaskSucceeded,
)
from eltflow.interpreter.state import Frame

if TYPE_CHECKING:
    from eltflow.interpreter.step import Stepper

Handler = Callable[["Stepper", Frame, Any], None]
ChildHandler = Callable[["Stepper", Frame, Any, Frame], None]

ENTER_HANDLERS: dict[str, Handler] = {
    "Pass": simple.enter_pass,
    "Choice": simple.enter_choice,
    "Wait": simple.enter_wait,
    "Succeed": simple.enter_succeed,
    "Fail": simple.enter_fail,
    "Task": task.enter_task,
    "Parallel": branch.enter_parallel,
    "Map": branch.enter_map,
}

# What a retry timer restarts (no new StateEntered event: the state is still the same entry).
RETRY_HANDLERS: dict[str, Handler] = {
    "Task": task.schedule,
    "Parallel": branch.start_parallel,
    "Map": branch.start_map,
}

CHILD_SUCCEEDED: dict[str, ChildHandler] = {
    "Parallel": branch.parallel_child_succeeded,
    "Map": branch.map_child_succeeded,
}

CHILD_FAILED: dict[str, ChildHandler] = {
    "Parallel": branch.parallel_child_failed,
    "Map": branch.map_child_failed,
}

REDRIVE_HANDLERS: dict[str, Callable[[Stepper, Frame, Any], bool]] = {
    "Parallel": branch.redrive_parallel,
    "Map": branch.redrive_map,
}


def on_timer(stepper: Stepper, frame: Frame, state: Any, timer_id: str) -> None:
    stepper.st.waiting.pop(timer_id, None)
    try:
        if timer_id == frame.timeout_timer:
            task.timed_out(stepper, frame, state)
        elif timer_id == frame.heartbeat_timer:
            task.heartbeat_timed_out(stepper, frame, state)
        elif timer_id == frame.pending_timer:
            frame.pending_timer = None
            if "/retry/" in timer_id:
                RETRY_HANDLERS[state.type](stepper, frame, state)
            else:
                simple.wait_done(stepper, frame, state)
    except StatesError as e:
        stepper.raised(frame, state, e)


def on_task_event(
    stepper: Stepper,
    frame: Frame,
    state: Any,
    inbound: TaskStarted | TaskSubmitted | TaskSucceeded | TaskFailed | TaskHeartbeat,
) -> None:
    if inbound.task_id != frame.pending_task:
        return
    if state.type == "Map":  # a Distributed Map waits for its Map Run
        try:
            if isinstance(inbound, TaskSucceeded):
                distributed.succeeded(stepper, frame, state, inbound.output)
            elif isinstance(inbound, TaskFailed):
                distributed.failed(stepper, frame, state, inbound.error, inbound.cause)
        except StatesError as e:
            stepper.raised(frame, state, e)
        return
    try:
        if isinstance(inbound, TaskHeartbeat):
            task.heartbeat(stepper, frame)
        elif isinstance(inbound, TaskStarted):
            task.started(stepper, frame, state)
        elif isinstance(inbound, TaskSubmitted):
            task.submitted(stepper, frame, state, inbound.output)
        elif isinstance(inbound, TaskSucceeded):
            task.succeeded(stepper, frame, state, inbound.output)
        else:
            task.failed(stepper, frame, state, inbound.error, inbound.cause)
    except StatesError as e:
        stepper.raised(frame, state, e)
