"""``ExecutionState.to_stored``: the snapshot text built from the payload texts of the previous
snapshot, read back with the parts it names, must hold what ``to_json`` holds, at every step;
large payloads and finished children's outputs are parts, each written once."""

from __future__ import annotations

import json
import math
from typing import Any

from tests.support.interp import T0, context

from eltflow.asl.parser import parse
from eltflow.interpreter import ExecutionState, advance, start
from eltflow.interpreter.protocol import (
    RunTask,
    TaskFailed,
    TaskSucceeded,
)
from eltflow.json_text import dumps
from eltflow.types import JSON

FN = "arn:aws:states:::lambda:invoke"


def _decoded(text: str) -> str:
    """A decoded snapshot, written canonically (NaN written as NaN, so it compares equal)."""
    return json.dumps(json.loads(text), sort_keys=True)


def _assert_text_matches(state: ExecutionState, parts: dict[str, str] | None = None) -> str:
    """The snapshot ``state`` writes now, its new parts kept in ``parts`` (as a store keeps
    them, across the snapshots of one execution); read back it must be ``state``."""
    parts = {} if parts is None else parts
    text, new = state.to_stored()
    for name, body in new:
        assert parts.setdefault(name, body) == body  # a part never changes once written
    again = ExecutionState.from_json(json.loads(text), lambda: parts)
    assert _decoded(dumps(again.to_json())) == _decoded(dumps(state.to_json()))
    return text


def _map(name: str, following: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "Map",
        "MaxConcurrency": 2,
        "ToleratedFailureCount": 1,
        "ItemProcessor": {
            "StartAt": f"{name}_task",
            "States": {f"{name}_task": {"Type": "Task", "Resource": FN, "End": True}},
        },
        "ResultPath": f"$.{name}",
        "Assign": {f"{name}_done.$": "$"},
        **following,
    }


MACHINE = {
    "StartAt": "M1",
    "States": {
        # Two Maps in the same frame: the second starts from fresh results.
        "M1": _map("first", {"ItemsPath": "$.items", "Next": "M2"}),
        "M2": _map("second", {"ItemsPath": "$.items", "End": True}),
    },
}


def test_to_text_decodes_as_to_json_at_every_step_of_two_maps() -> None:
    """Iterations finish newest first, one fails (tolerated), outputs hold NaN, a small
    exponent and a large int; the state goes through its text at times (a fresh text cache),
    as a worker that decoded the snapshot would."""
    machine = parse(MACHINE)
    items: list[JSON] = [1, 2, 3, 4, 5]
    state, _, effects = start(machine, {"items": items}, context(), T0)
    parts: dict[str, str] = {}
    _assert_text_matches(state, parts)
    active = [e for e in effects if isinstance(e, RunTask)]
    outputs: list[JSON] = [math.nan, 1e-7, 2**60, {"k": [1.5, None]}, "x"]
    step = 0
    while active:
        run = active.pop()
        step += 1
        inbound: TaskSucceeded | TaskFailed
        if step == 3:
            inbound = TaskFailed(task_id=run.task_id, error="E", cause="tolerated")
        else:
            inbound = TaskSucceeded(task_id=run.task_id, output=outputs[step % len(outputs)])
        state, _, effects = advance(machine, state, inbound, T0)
        active += [e for e in effects if isinstance(e, RunTask)]
        if step % 3 == 1:  # so that two or three results were added since the last text
            _assert_text_matches(state, parts)
            assert state.to_stored()[1] == []  # again: no new part, every text from the cache
            _assert_text_matches(state, parts)
        if step == 4:
            text = _assert_text_matches(state, parts)
            state = ExecutionState.from_json(json.loads(text), lambda: parts)
            _assert_text_matches(state, parts)
    assert state.status == "SUCCEEDED"
    assert "NaN" in _assert_text_matches(state, parts)
    assert any(name.startswith("r:") for name in parts)  # results were written as parts


def test_a_string_orjson_refuses_or_a_non_finite_number_of_its_own_is_written_as_json_does() -> (
    None
):
    machine = parse(MACHINE)
    state, _, _ = start(machine, {"items": [1, 2]}, context(), T0)
    state.to_stored()  # fills the cache: the next text must still carry the changes
    frame = next(f for f in state.frames.values() if f.parent is not None)
    frame.cause = "lone \ud800 surrogate"
    _assert_text_matches(state)
    assert state.to_stored() == (dumps(state.to_json()), [])  # the json module's text
    frame.cause = None
    frame.heartbeat_seconds = math.inf
    _assert_text_matches(state)
    assert state.to_stored() == (dumps(state.to_json()), [])
    assert "Infinity" in state.to_stored()[0]


def test_items_that_are_the_input_are_written_once_and_read_back_as_the_input() -> None:
    machine = parse(
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "MaxConcurrency": 1,
                    "ItemProcessor": {
                        "StartAt": "T",
                        "States": {"T": {"Type": "Task", "Resource": FN, "End": True}},
                    },
                    "End": True,
                }
            },
        }
    )
    items: list[JSON] = [{"item": i} for i in range(3)]
    state, _, _ = start(machine, items, context(), T0)
    for text in (state.to_stored()[0], dumps(state.to_json())):
        assert text.count('{"item":2}') == 2  # the execution's input and the Map's
        assert '"items":"input"' in text
        again = ExecutionState.from_json(json.loads(text))
        assert again.root.items == items and again.root.items is again.root.input
        _assert_text_matches(again)
