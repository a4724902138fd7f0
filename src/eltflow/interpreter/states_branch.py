"""Parallel and inline Map: states that run child frames.

Parallel starts every branch at once; its result is the array of branch outputs in branch
order. If a branch fails, the other branches are stopped and the Parallel state fails with that
branch's error and cause (then Retry/Catch on the Parallel apply).

Map runs one iteration per item, at most ``MaxConcurrency`` at a time (0 = no limit); results
are in item order. Without a tolerated-failure setting the first failed iteration fails the
state with its own error, aborting the iterations still running; with one, failures are counted
and the state fails with ``States.ExceedToleratedFailureThreshold`` once the count or the
percentage is exceeded.

A child that succeeds leaves ``frames`` at once, its output kept in the parent's ``results``
(:func:`~eltflow.interpreter.state.collapse`), so a step costs what the running children cost,
not every one finished so far. The failed and aborted child frames are kept after a failure
that ends the execution, so a redrive can re-run only those branches / iterations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from eltflow.asl import errors as asl_errors
from eltflow.asl.model import JSONATA, MapState, ParallelState
from eltflow.errors import StatesError
from eltflow.interpreter import distributed, flow, map_limits
from eltflow.interpreter import events as ev
from eltflow.interpreter.state import (
    ABORTED,
    CHILDREN,
    ENTER,
    FAILED,
    FINISHED,
    SUCCEEDED,
    Frame,
    collapse,
    new_frame,
)
from eltflow.interpreter.states_simple import io_path, jsonata_states, path_value
from eltflow.interpreter.states_task import finish
from eltflow.types import JSON, JSONObject

if TYPE_CHECKING:
    from eltflow.interpreter.step import Stepper


def discard_children(stepper: Stepper, frame: Frame) -> None:
    """Drop ``frame``'s child frames (and theirs) once they no longer matter."""
    frames = stepper.st.frames
    for child_id in frame.children:
        child = frames.pop(child_id, None)
        if child is not None:
            if child.status not in FINISHED:
                stepper.abort_frame(child)
            if child.children:
                discard_children(stepper, child)
    frame.children = []
    if frame.results:
        frame.results = {}


def _new_child(
    stepper: Stepper,
    parent: Frame,
    key: str,
    path: tuple[str, ...],
    index: int,
    start: str,
    input: JSON,
) -> Frame:
    child = new_frame(key, parent.id, path, index, start, input, parent.last_event)
    stepper.st.frames[key] = child
    parent.children.append(key)
    stepper.queue.append(key)
    return child


# --- Parallel ---------------------------------------------------------------------------------


def enter_parallel(stepper: Stepper, frame: Frame, state: ParallelState) -> None:
    _forget_results(frame)
    if state.query_language == JSONATA:
        branch_input: JSON = frame.input
        if state.arguments is not None:
            branch_input = flow.jsonata(
                state.arguments,
                jsonata_states(stepper, frame),
                stepper.variables(frame),
                stepper.rng(),
                "Arguments",
            )
    else:
        branch_input = io_path(stepper, frame, state.input_path, frame.input, "InputPath")
        if state.parameters is not None:
            branch_input = flow.template(
                state.parameters,
                branch_input,
                stepper.context(frame),
                stepper.variables(frame),
                stepper.rng(),
                "Parameters",
            )
    frame.scratch = branch_input
    start_parallel(stepper, frame, state)


def start_parallel(stepper: Stepper, frame: Frame, state: ParallelState) -> None:
    discard_children(stepper, frame)
    attempt = frame.attempt
    frame.attempt = attempt + 1
    stepper.emit(frame, ev.plain("ParallelStateStarted"))
    frame.status = CHILDREN
    frame.running = len(state.branches)
    for i, branch in enumerate(state.branches):
        key = f"{frame.task_key}.{attempt}[{i}]"
        _new_child(
            stepper,
            frame,
            key,
            (*frame.path, state.name, str(i)),
            i,
            branch.start_at,
            frame.scratch,
        )


def parallel_child_succeeded(
    stepper: Stepper, frame: Frame, state: ParallelState, child: Frame
) -> None:
    frame.running -= 1
    collapse(frame, child, stepper.st.frames)
    if frame.running > 0 or frame.status != CHILDREN:
        return
    results = frame.results
    outputs = [results[str(i)] for i in range(len(state.branches))]
    stepper.emit(frame, ev.plain("ParallelStateSucceeded"))
    discard_children(stepper, frame)
    finish(stepper, frame, state, outputs)


def parallel_child_failed(
    stepper: Stepper, frame: Frame, state: ParallelState, child: Frame
) -> None:
    frame.running -= 1
    if frame.status != CHILDREN:
        return
    for sibling_id in frame.children:
        sibling = stepper.st.frames[sibling_id]
        if sibling.status not in FINISHED:
            stepper.abort_frame(sibling)
    frame.running = 0
    frame.status = FAILED  # until Retry/Catch decide; keeps the children for a redrive
    stepper.state_error(
        frame, state, child.error or "", child.cause or "", failed_event="ParallelStateFailed"
    )


def redrive_parallel(stepper: Stepper, frame: Frame, state: ParallelState) -> bool:
    frames = stepper.st.frames
    frame.status = CHILDREN
    frame.running = sum(1 for c in frame.children if frames[c].status != SUCCEEDED)
    return True


# --- Map --------------------------------------------------------------------------------------


def _forget_results(frame: Frame) -> None:
    """Entering a Parallel / Map state: drop the ``results`` a failed one before it in this
    frame may have left (kept for a redrive until the frame moved on; ``Stepper.enter`` resets
    ``children`` likewise), before anything here can fail and leave them looking current."""
    if frame.results:
        frame.results = {}


def enter_map(stepper: Stepper, frame: Frame, state: MapState) -> None:
    _forget_results(frame)
    # ``scratch`` keeps the effective input only for who reads it again: a Distributed Map's
    # Map Run, a JSONPath ItemSelector (each iteration's ``$``). Otherwise every snapshot of the
    # Map would write it again, often a copy of all the items.
    distributed_map = state.processor_mode == "DISTRIBUTED"
    # AWS reads MaxConcurrency first, then the items, then the failure tolerances (after the
    # items are known to be an array): that order decides which error a state with several
    # bad fields reports.
    if state.query_language == JSONATA:
        states = jsonata_states(stepper, frame)
        variables = stepper.variables(frame)
        frame.scratch = frame.input if distributed_map else None
        concurrency = _number(stepper, frame, state.max_concurrency, None, "MaxConcurrency", states)
        items: JSON = frame.input
        if state.item_reader is not None:
            items = []  # the Map Run reads them
        elif state.items is not None:
            items = flow.jsonata(state.items, states, variables, stepper.rng(), "Items")
        if not isinstance(items, list):
            raise _not_an_array(state, items)
        count = _number(
            stepper, frame, state.tolerated_failure_count, None, "ToleratedFailureCount", states
        )
        pct = _number(
            stepper,
            frame,
            state.tolerated_failure_percentage,
            None,
            "ToleratedFailurePercentage",
            states,
        )
    else:
        effective = io_path(stepper, frame, state.input_path, frame.input, "InputPath")
        selector = state.item_selector is not None
        frame.scratch = effective if distributed_map or selector else None
        concurrency = _number(
            stepper,
            frame,
            state.max_concurrency,
            state.max_concurrency_path,
            "MaxConcurrency",
            effective,
        )
        # ItemsPath may also name the context object or a variable ("$$...", "$name").
        if state.item_reader is not None:
            items = []  # the Map Run reads them
        elif state.items_path is not None:
            items = path_value(stepper, frame, state.items_path, effective, "ItemsPath")
        else:
            items = effective
        if not isinstance(items, list):
            raise _not_an_array(state, items)
        count = _number(
            stepper,
            frame,
            state.tolerated_failure_count,
            state.tolerated_failure_count_path,
            "ToleratedFailureCount",
            effective,
        )
        pct = _number(
            stepper,
            frame,
            state.tolerated_failure_percentage,
            state.tolerated_failure_percentage_path,
            "ToleratedFailurePercentage",
            effective,
        )
    frame.items = items
    frame.max_concurrency = int(concurrency or 0)
    frame.tolerated_count = None if count is None else int(count)
    frame.tolerated_percentage = None if pct is None else float(pct)
    start_map(stepper, frame, state)


_JSON_TYPES = (
    (bool, "boolean"),
    (int, "number"),
    (float, "number"),
    (str, "string"),
    (dict, "object"),
)


def _not_an_array(state: MapState, items: JSON) -> StatesError:
    if state.query_language == JSONATA and isinstance(state.items, str):
        # AWS's cause names the expression, the type it returned and the value.
        kind = "null" if items is None else next(n for t, n in _JSON_TYPES if isinstance(items, t))
        expr = state.items.strip()
        if expr.startswith("{%") and expr.endswith("%}"):
            expr = expr[2:-2].strip()
        return StatesError(
            asl_errors.QUERY_EVALUATION_ERROR,
            f"The JSONata expression '{expr}' specified for the field 'Items' returned an "
            f"unexpected result type. Expected 'array', but was '{kind}' for value: "
            f"{ev.dumps(items)}",
        )
    # No Items expression: the state input itself is not an array. In a JSONata state that is
    # a query evaluation error too (the Items default is $states.input).
    jsonata = state.query_language == JSONATA
    return StatesError(
        asl_errors.QUERY_EVALUATION_ERROR if jsonata else asl_errors.RUNTIME,
        f"Map state input must be an array but was: {ev.dumps(items)}",
    )


def _number(
    stepper: Stepper,
    frame: Frame,
    value: int | float | str | None,
    path: str | None,
    field: str,
    data: JSON,
) -> float | None:
    resolved: JSON = value
    if isinstance(value, str):
        resolved = flow.jsonata(
            value, cast(JSONObject, data), stepper.variables(frame), stepper.rng(), field
        )
    elif path is not None:
        resolved = path_value(stepper, frame, path, data, f"{field}Path")
        return float(map_limits.FROM_PATH[field](path, resolved))
    if resolved is None:
        return None
    if isinstance(resolved, bool) or not isinstance(resolved, int | float):
        # Unverified wording: what AWS says for a JSONata value that is not a number.
        raise StatesError(
            asl_errors.RUNTIME,
            f"The {field} value must be a non-negative number: {ev.dumps(resolved)}",
        )
    return map_limits.in_range(field, float(resolved))


def start_map(stepper: Stepper, frame: Frame, state: MapState) -> None:
    if state.processor_mode == "DISTRIBUTED":
        distributed.start(
            stepper,
            frame,
            state,
            None if state.item_reader is not None else (frame.items or []),
            frame.max_concurrency,
            frame.tolerated_count,
            frame.tolerated_percentage,
        )
        return
    discard_children(stepper, frame)
    frame.attempt += 1
    items = frame.items or []
    stepper.emit(frame, ev.map_state_started(len(items)))
    frame.status = CHILDREN
    frame.next_item = 0
    frame.running = 0
    frame.failures = 0
    try:
        _launch(stepper, frame, state)
    except StatesError:
        # An ItemSelector raised: stop the iterations started before it (queued, not yet run),
        # or while a Retry waits they would run tasks for a Map that failed. Aborted, a
        # redrive runs them again.
        for child_id in frame.children:
            stepper.abort_frame(stepper.st.frames[child_id])
        raise
    if frame.status == CHILDREN and frame.running == 0:
        _map_done(stepper, frame, state)


def _launch(stepper: Stepper, frame: Frame, state: MapState) -> None:
    """Start iterations while there are items and concurrency to spare."""
    items = frame.items or []
    limit = frame.max_concurrency
    processor = state.item_processor
    assert processor is not None
    if frame.next_item >= len(items) or (limit and frame.running >= limit):
        return
    prefix = f"{frame.task_key}.{frame.attempt}"
    path = (*frame.path, state.name, "*")  # shared by every iteration frame
    while frame.next_item < len(items) and (limit == 0 or frame.running < limit):
        index = frame.next_item
        value = items[index]
        item_input = value
        if state.item_selector is not None:
            if state.query_language == JSONATA:
                states = jsonata_states(stepper, frame)
                ctx = cast(JSONObject, states["context"])
                ctx["Map"] = {"Item": {"Index": index, "Value": value}}
                item_input = flow.jsonata(
                    state.item_selector,
                    states,
                    stepper.variables(frame),
                    stepper.rng(),
                    "ItemSelector",
                )
            else:
                item_input = flow.template(
                    state.item_selector,
                    frame.scratch,
                    stepper.context(frame, map_item=(index, value)),
                    stepper.variables(frame),
                    stepper.rng(),
                    "ItemSelector",
                )
        # Only now is the item taken: an ItemSelector that raised left ``next_item`` on it, so
        # a redrive of the failed Map runs it (AWS re-runs the iterations that did not succeed).
        frame.next_item = index + 1
        key = f"{prefix}[{index}]"
        stepper.emit(frame, ev.map_iteration("Started", state.name, index))
        frame.running += 1
        _new_child(
            stepper,
            frame,
            key,
            path,
            index,
            processor.start_at,
            item_input,
        )


def map_child_succeeded(stepper: Stepper, frame: Frame, state: MapState, child: Frame) -> None:
    frame.running -= 1
    collapse(frame, child, stepper.st.frames)
    if frame.status != CHILDREN:
        return
    stepper.emit(frame, ev.map_iteration("Succeeded", state.name, child.index))
    _continue(stepper, frame, state)


def map_child_failed(stepper: Stepper, frame: Frame, state: MapState, child: Frame) -> None:
    frame.running -= 1
    if frame.status != CHILDREN:
        return
    stepper.emit(frame, ev.map_iteration("Failed", state.name, child.index))
    frame.failures += 1
    count, pct = frame.tolerated_count, frame.tolerated_percentage
    if count is None and pct is None:
        _fail_map(stepper, frame, state, child.error or "", child.cause or "")
        return
    total = len(frame.items or [])
    exceeded = (count is not None and frame.failures > count) or (
        pct is not None and total > 0 and frame.failures * 100.0 / total > pct
    )
    if exceeded:
        _fail_map(
            stepper,
            frame,
            state,
            asl_errors.EXCEED_TOLERATED_FAILURE_THRESHOLD,
            "The specified tolerated failure threshold was exceeded",
        )
        return
    _continue(stepper, frame, state)


def _continue(stepper: Stepper, frame: Frame, state: MapState) -> None:
    try:
        _launch(stepper, frame, state)
    except StatesError as e:
        cause = asl_errors.located_cause(e.error, e.cause, state.name, frame.entered_event)
        _fail_map(stepper, frame, state, e.error, cause)
        return
    if frame.running == 0 and frame.next_item >= len(frame.items or []):
        _map_done(stepper, frame, state)


def _map_done(stepper: Stepper, frame: Frame, state: MapState) -> None:
    # In item order; a failed iteration (tolerated) has no result.
    done = frame.results
    results = [done[k] for k in sorted(done, key=int)]
    stepper.emit(frame, ev.plain("MapStateSucceeded"))
    discard_children(stepper, frame)
    finish(stepper, frame, state, results)


def _fail_map(stepper: Stepper, frame: Frame, state: MapState, error: str, cause: str) -> None:
    frames = stepper.st.frames
    for child_id in frame.children:
        child = frames[child_id]
        if child.status not in FINISHED:
            stepper.abort_frame(child)
            stepper.emit(frame, ev.map_iteration("Aborted", state.name, child.index))
    frame.running = 0
    frame.status = FAILED
    stepper.state_error(frame, state, error, cause, failed_event="MapStateFailed")


def redrive_map(stepper: Stepper, frame: Frame, state: MapState) -> bool:
    frames = stepper.st.frames
    frame.status = CHILDREN
    frame.failures = 0
    frame.running = 0
    for child_id in frame.children:
        child = frames[child_id]
        if child.status in (FAILED, ABORTED, ENTER):
            frame.running += 1
            stepper.emit(frame, ev.map_iteration("Started", state.name, child.index))
    if frame.running == 0:
        _continue(stepper, frame, state)
        return frame.status == CHILDREN
    return True
