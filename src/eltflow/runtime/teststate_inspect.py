"""TestState's ``inspectionData`` (DEBUG and TRACE): the state's input and output processing.

Which fields appear follows AWS's recordings (LocalStack's TestState suite, recorded on AWS,
Nov 2025), per state type and query language:

- JSONPath Task: ``input``, ``afterInputPath``, ``afterParameters``, then on success
  ``result``, ``afterResultSelector``, ``afterResultPath``;
- JSONPath Pass with ``Result``: ``input``, ``result``, ``afterResultSelector``,
  ``afterResultPath``; without: ``input``, ``afterInputPath``, ``afterParameters``,
  ``afterResultSelector``, ``afterResultPath`` (AWS reports no ``result`` then);
- JSONPath Choice, Wait, Succeed, Fail: ``input``, ``afterInputPath``;
- JSONPath Map (mocked): ``input``, ``afterInputPath``, ``afterItemsPath``, with an
  ItemSelector ``afterItemSelector`` (each iteration's input, as API_InspectionData describes
  it; no recording seen), ``maxConcurrency`` (0 without a limit), the tolerated failures
  when set, and on success ``afterResultSelector`` and ``afterResultPath``; Parallel
  (mocked, unverified): as a Task without ``afterParameters``;
- JSONata: ``input``; a Task's ``afterArguments`` and, on success, ``result``; a Map's
  ``maxConcurrency`` and tolerated failures;
- ``variables`` (every level but INFO) when the state sees or assigns any: the test's
  variables with the state's Assign applied; ``errorDetails`` when the state raised an error.

Values are JSON text, as AWS sends them. The steps are re-evaluated here with the data flow
functions the interpreter uses (:mod:`eltflow.interpreter.flow`) on the values the run saw
(the task's parameters and result come from the run itself), so they cannot disagree with it.
TRACE adds ``request``/``response`` for HTTP Tasks only; eltflow has no HTTP Task
(``arn:aws:states:::http:invoke``), so TRACE reports what DEBUG does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eltflow.asl.model import JSONATA, AnyState, MapState, ParallelState, PassState, TaskState
from eltflow.errors import StatesError
from eltflow.interpreter import events as ev
from eltflow.interpreter import flow, map_limits
from eltflow.interpreter.context import RETRYING_TYPES, context_object
from eltflow.interpreter.protocol import ExecutionContext
from eltflow.types import JSON, JSONObject


@dataclass(frozen=True, kw_only=True)
class Seen:
    """What one TestState run saw of the state."""

    input: JSON
    variables: dict[str, JSON]
    context: ExecutionContext
    execution_input: JSON
    entered: datetime
    parameters: JSON = None
    scheduled: bool = False
    result: JSON = None
    has_result: bool = False
    succeeded: bool = False
    assigned: dict[str, JSON] = field(default_factory=dict)
    map_item_reader_data: JSON = None


def inspection_data(state: AnyState, *, request: Seen) -> JSONObject:
    seen = request
    data: JSONObject = {"input": ev.dumps(seen.input)}
    if state.query_language == JSONATA:
        if isinstance(state, TaskState) and seen.scheduled:
            data["afterArguments"] = ev.dumps(seen.parameters)
        if isinstance(state, TaskState) and seen.has_result:
            data["result"] = ev.dumps(seen.result)
        if isinstance(state, MapState):
            data.update(map_tolerance(state, seen.input, seen))
    else:
        _jsonpath(state, seen, data)
    variables = {**seen.variables, **seen.assigned}
    if variables:
        data["variables"] = ev.dumps(variables)
    return data


def _jsonpath(state: AnyState, seen: Seen, data: JSONObject) -> None:
    context = _context(state, seen)
    variables = seen.variables
    rng = random.Random(seen.context.seed)
    try:
        if isinstance(state, PassState) and state.result is not None:
            result: JSON = state.result.value
            data["result"] = ev.dumps(result)
            data["afterResultSelector"] = ev.dumps(result)
            data["afterResultPath"] = ev.dumps(
                flow.place_result(state.result_path, seen.input, result)
            )
            return
        effective = flow.select(state.input_path, seen.input, "InputPath", context, variables)
        data["afterInputPath"] = ev.dumps(effective)
        if isinstance(state, PassState):
            result = effective
            if state.parameters is not None:
                result = flow.template(
                    state.parameters, effective, context, variables, rng, "Parameters"
                )
            data["afterParameters"] = ev.dumps(result)
            data["afterResultSelector"] = ev.dumps(result)
            data["afterResultPath"] = ev.dumps(
                flow.place_result(state.result_path, seen.input, result)
            )
            return
        if isinstance(state, MapState):
            items = flow.select(state.items_path, effective, "ItemsPath", context, variables)
            data["afterItemsPath"] = ev.dumps(items)
            if state.item_selector is not None and isinstance(items, list):
                data["afterItemSelector"] = ev.dumps(
                    [
                        _selected(state, seen, effective, i, item, rng)
                        for i, item in enumerate(items)
                    ]
                )
            data.update(map_tolerance(state, effective, seen))
        if isinstance(state, TaskState) and seen.scheduled:
            data["afterParameters"] = ev.dumps(seen.parameters)
        if not isinstance(state, TaskState | MapState | ParallelState) or not seen.succeeded:
            return
        result = seen.result
        if isinstance(state, TaskState):
            data["result"] = ev.dumps(result)
        if state.result_selector is not None:
            result = flow.template(
                state.result_selector, result, context, variables, rng, "ResultSelector"
            )
        data["afterResultSelector"] = ev.dumps(result)
        data["afterResultPath"] = ev.dumps(flow.place_result(state.result_path, seen.input, result))
    except StatesError:
        return  # the run reported this step's error; the later steps never happened


def _selected(
    state: MapState, seen: Seen, effective: JSON, index: int, item: JSON, rng: random.Random
) -> JSON:
    """One iteration's input: the ItemSelector over the state's input, ``$$.Map.Item`` set."""
    assert state.item_selector is not None
    context = context_object(
        seen.context,
        seen.execution_input,
        state_name=state.name,
        entered_time=seen.entered,
        retry_count=0,
        map_item=(index, item),
    )
    return flow.template(
        state.item_selector, effective, context, seen.variables, rng, "ItemSelector"
    )


def _context(state: AnyState, seen: Seen) -> JSONObject:
    return context_object(
        seen.context,
        seen.execution_input,
        state_name=state.name,
        entered_time=seen.entered,
        retry_count=0 if state.type in RETRYING_TYPES else None,
    )


def map_tolerance(state: MapState, effective: JSON, seen: Seen | None = None) -> JSONObject:
    """``maxConcurrency`` and the tolerated failures of a Map, as its fields give them (a
    literal, a ``...Path`` into the state's input, or a JSONata expression)."""
    out: JSONObject = {}
    for key, value, path, label in (
        ("maxConcurrency", state.max_concurrency, state.max_concurrency_path, "MaxConcurrency"),
        (
            "toleratedFailureCount",
            state.tolerated_failure_count,
            state.tolerated_failure_count_path,
            "ToleratedFailureCount",
        ),
        (
            "toleratedFailurePercentage",
            state.tolerated_failure_percentage,
            state.tolerated_failure_percentage_path,
            "ToleratedFailurePercentage",
        ),
    ):
        resolved = _limit(state, value, path, label, effective, seen)
        if resolved is not None:
            out[key] = resolved
    out.setdefault("maxConcurrency", 0)
    return out


def _limit(
    state: MapState,
    value: Any,
    path: str | None,
    label: str,
    effective: JSON,
    seen: Seen | None,
) -> JSON:
    try:
        if path is not None:
            return map_limits.FROM_PATH[label](path, flow.select(path, effective, f"{label}Path"))
        if isinstance(value, str):
            context = _context(state, seen) if seen is not None else {}
            states: JSONObject = {"input": effective, "context": context}
            variables = dict(seen.variables) if seen is not None else {}
            rng = random.Random(0)
            resolved = flow.jsonata(value, states, variables, rng, label)
            return resolved if isinstance(resolved, int | float) else None
    except StatesError:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value
