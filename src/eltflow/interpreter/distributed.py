"""Distributed Map (``ItemProcessor.ProcessorConfig.Mode: DISTRIBUTED``): the interpreter's half.

AWS runs each item (or batch) of a Distributed Map as a child workflow execution with its own
history, grouped in a *Map Run*; the parent's history records the Map Run, not the iterations::

    MapStateEntered, MapStateStarted, MapRunStarted {mapRunArn},
    MapRunSucceeded | MapRunFailed {error, cause} | MapRunAborted,
    MapStateSucceeded | MapStateFailed, MapStateExited

Here the Map state resolves everything that reads the state's input (items or the ItemReader's
parameters, ItemBatcher, ResultWriter, MaxConcurrency, tolerated failures) and hands the Map
Run to the driver as one task (:data:`MAP_RUN_RESOURCE`); the runtime
(:mod:`eltflow.runtime.map_runs`) reads the items, starts the child executions, and reports
the Map Run's result (the children's outputs, or the ResultWriter's ``MapRunArn`` and
``ResultWriterDetails``) or its error back as the task's outcome. :func:`item_input` and
:func:`batch_input` are the pure rules the driver applies per item.

The Map Run ARN is ``arn:aws:states:REGION:ACCOUNT:mapRun:MACHINE/LABEL:UUID`` with the UUID
drawn from the execution's seeded generator (a replay mints the same ARN). ``LABEL`` is the
state's ``Label``, else its name (AWS generates a label then: unverified which). The
``length`` of ``MapStateStarted`` is the number of inline items, 0 with an ItemReader (AWS's
value there is unverified).
"""

from __future__ import annotations

import random
import uuid
from typing import TYPE_CHECKING, Any, cast

from eltflow.asl import errors as asl_errors
from eltflow.asl.model import JSONATA, MapState, Template
from eltflow.errors import StatesError
from eltflow.interpreter import events as ev
from eltflow.interpreter import flow
from eltflow.interpreter.protocol import RunTask
from eltflow.interpreter.state import FAILED, TASK, Frame
from eltflow.interpreter.states_simple import jsonata_states, path_value
from eltflow.interpreter.states_task import finish, settle
from eltflow.types import JSON, JSONObject

if TYPE_CHECKING:
    from eltflow.interpreter.step import Stepper

MAP_RUN_RESOURCE = "eltflow:mapRun"
"""The resource of the task that is a Map Run. Not an ARN, so no integration (and no Task
state: the validator requires Resource ARNs) can answer it: only the runtime's driver does."""

MAX_CONCURRENCY = 10_000
"""A Distributed Map's MaxConcurrency of 0 means up to 10,000 children at once (AWS)."""

EXCEEDED_CAUSE = "The specified tolerated failure threshold was exceeded"


# While its Map Run is under way, the frame's scratch holds the Map Run's ARN and the state's
# effective input (a Retry starts a new Map Run from that input; a redrive continues the ARN).
_RUN_KEY = "eltflow:mapRun"


def effective_input(frame: Frame) -> JSON:
    scratch = frame.scratch
    if isinstance(scratch, dict) and _RUN_KEY in scratch:
        return scratch.get("input")
    return scratch


def map_run_arn(state_machine_arn: str, label: str, rng: random.Random) -> str:
    prefix, _, machine = state_machine_arn.partition(":stateMachine:")
    run_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    return f"{prefix}:mapRun:{machine}/{label}:{run_id}"


def start(
    stepper: Stepper,
    frame: Frame,
    state: MapState,
    items: list[JSON] | None,
    concurrency: int,
    count: int | None,
    pct: float | None,
) -> None:
    """Begin a Map Run: record it and hand it to the driver as a task."""
    attempt = frame.attempt
    frame.attempt = attempt + 1  # first: a failure below has used the attempt up
    effective = effective_input(frame)
    label = state.label or state.name
    arn = map_run_arn(stepper.st.context.state_machine_arn, label, stepper.rng())
    params: JSONObject = {
        "MapRunArn": arn,
        "StatePath": [*frame.path, state.name],
        "ExecutionType": state.execution_type or "STANDARD",
        "Items": items,
        "ItemReader": _resolve(stepper, frame, state, state.item_reader, effective),
        "ItemBatcher": _resolve(stepper, frame, state, state.item_batcher, effective),
        "ResultWriter": _resolve(stepper, frame, state, state.result_writer, effective),
        "MaxConcurrency": concurrency or MAX_CONCURRENCY,
        "ToleratedFailureCount": count,
        "ToleratedFailurePercentage": pct,
        "Input": effective,
        "Context": stepper.context(frame),
        "Variables": cast(JSON, stepper.variables(frame)),
    }
    stepper.emit(frame, ev.map_state_started(len(items) if items is not None else 0))
    stepper.emit(frame, ("MapRunStarted", {"mapRunStartedEventDetails": {"mapRunArn": arn}}))
    frame.scratch = {_RUN_KEY: arn, "input": effective}
    frame.task_started = False
    _hand_over(stepper, frame, state, attempt, params)


def redrive(stepper: Stepper, frame: Frame, state: MapState) -> bool:
    """Redrive the Map Run that failed: only its failed or aborted children run again."""
    scratch = frame.scratch
    arn = scratch.get(_RUN_KEY) if isinstance(scratch, dict) else None
    if not isinstance(arn, str):
        return False  # failed before its Map Run started: the state is entered again
    attempt = frame.attempt
    frame.attempt = attempt + 1
    count = stepper.st.context.redrive_count
    stepper.emit(
        frame,
        (
            "MapRunRedriven",
            {"mapRunRedrivenEventDetails": {"mapRunArn": arn, "redriveCount": count}},
        ),
    )
    frame.error = frame.cause = None
    _hand_over(stepper, frame, state, attempt, {"MapRunArn": arn, "Redrive": True})
    return True


def _hand_over(
    stepper: Stepper, frame: Frame, state: MapState, attempt: int, parameters: JSONObject
) -> None:
    """Hand the Map Run to the driver as task ``attempt`` of the frame, and wait for it."""
    task_id = f"{frame.task_key}/task/{attempt}"
    frame.status = TASK
    frame.pending_task = task_id
    stepper.wait(frame, task_id)
    stepper.effects.append(
        RunTask(
            task_id=task_id, state_name=state.name, resource=MAP_RUN_RESOURCE, parameters=parameters
        )
    )


def succeeded(stepper: Stepper, frame: Frame, state: MapState, output: JSON) -> None:
    settle(stepper, frame)
    stepper.emit(frame, ev.plain("MapRunSucceeded"))
    stepper.emit(frame, ev.plain("MapStateSucceeded"))
    finish(stepper, frame, state, output)


def failed(stepper: Stepper, frame: Frame, state: MapState, error: str, cause: str) -> None:
    settle(stepper, frame)
    stepper.emit(
        frame, ("MapRunFailed", {"mapRunFailedEventDetails": {"error": error, "cause": cause}})
    )
    frame.status = FAILED  # until Retry/Catch decide (kept for a redrive)
    stepper.state_error(frame, state, error, cause, failed_event="MapStateFailed")


# --- what the driver applies per item ---------------------------------------------------------


def item_input(
    state: MapState,
    input: JSON,
    context: JSONObject,
    variables: dict[str, JSON],
    rng: random.Random,
    index: int,
    value: JSON,
) -> JSON:
    """The child's input for item ``index``: the ItemSelector applied, else the item."""
    if state.item_selector is None:
        return value
    ctx: JSONObject = {**context, "Map": {"Item": {"Index": index, "Value": value}}}
    if state.query_language == JSONATA:
        states: JSONObject = {"input": input, "context": ctx}
        return flow.jsonata(state.item_selector, states, variables, rng, "ItemSelector")
    return flow.template(state.item_selector, input, ctx, variables, rng, "ItemSelector")


def batch_input(batch_input: JSON, items: list[JSON]) -> JSONObject:
    """A batch's input: ``{"Items": [...]}`` plus the (resolved) ``BatchInput``'s fields."""
    out: JSONObject = {}
    if isinstance(batch_input, dict):
        out.update(batch_input)
    out["Items"] = items
    return out


def exceeded(failures: int, total: int, count: int | None, pct: float | None) -> bool:
    """Whether ``failures`` of ``total`` items (failed or timed out, AWS's measure: a failed
    batch fails all its items) exceed the tolerated failures. A Distributed Map tolerates
    none by default: its first failure fails the Map Run."""
    if count is None and pct is None:
        return failures > 0
    if count is not None and failures > count:
        return True
    return pct is not None and total > 0 and failures * 100.0 / total > pct


# --- resolving the ItemReader / ItemBatcher / ResultWriter objects -----------------------------


def _resolve(
    stepper: Stepper, frame: Frame, state: MapState, tpl: Template | None, effective: JSON
) -> JSON:
    """The object with its input-dependent fields evaluated: ``Parameters`` / ``BatchInput``
    (payload templates), ``Arguments`` and ``{% %}`` strings (JSONata), ``...Path`` fields
    (their value, under the name without ``Path``)."""
    if tpl is None:
        return None
    try:
        return _resolve_object(stepper, frame, state, cast(JSONObject, tpl.value), effective)
    except StatesError:
        raise
    except (TypeError, ValueError) as e:  # a malformed object the validator let through
        raise StatesError(asl_errors.RUNTIME, str(e)) from e


def _resolve_object(
    stepper: Stepper, frame: Frame, state: MapState, obj: JSONObject, effective: JSON
) -> JSONObject:
    jsonata = state.query_language == JSONATA
    out: JSONObject = {}
    for key, value in obj.items():
        resolved: Any = value
        if key in ("Parameters", "BatchInput") and not jsonata:
            resolved = flow.template(
                Template(value),
                effective,
                stepper.context(frame),
                stepper.variables(frame),
                stepper.rng(),
                key,
            )
        elif jsonata and (key in ("Arguments", "BatchInput") or _is_expression(value)):
            resolved = flow.jsonata(
                value, jsonata_states(stepper, frame), stepper.variables(frame), stepper.rng(), key
            )
            key = "Parameters" if key == "Arguments" else key
        elif key.endswith("Path") and isinstance(value, str) and not jsonata:
            resolved = path_value(stepper, frame, value, effective, key)
            key = key[: -len("Path")]
        elif isinstance(value, dict):
            resolved = _resolve_object(stepper, frame, state, value, effective)
        out[key] = resolved
    return out


def _is_expression(value: JSON) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")
