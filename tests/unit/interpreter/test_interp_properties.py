"""Property tests of the pure interpreter: snapshots are lossless, runs are reproducible."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import cast

from hypothesis import given, settings
from hypothesis import strategies as st

from eltflow.asl.parser import parse
from eltflow.interpreter import ExecutionState, advance, start
from eltflow.interpreter.protocol import ExecutionContext, RunTask, TaskSucceeded
from eltflow.types import JSON, JSONObject

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FN = "arn:aws:states:::lambda:invoke"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)

MACHINE = parse(
    {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "ResultPath": "$", "Next": "P"},
            "P": {
                "Type": "Parallel",
                "Next": "M",
                "Branches": [
                    {
                        "StartAt": "T",
                        "States": {"T": {"Type": "Task", "Resource": FN, "End": True}},
                    },
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
                ],
            },
            "M": {
                "Type": "Map",
                "ItemsPath": "$",
                "MaxConcurrency": 1,
                "ItemProcessor": {
                    "StartAt": "I",
                    "States": {"I": {"Type": "Task", "Resource": FN, "End": True}},
                },
                "End": True,
            },
        },
    }
)


def _ctx(seed: str) -> ExecutionContext:
    return ExecutionContext(
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:e",
        execution_name="e",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
        state_machine_name="m",
        start_time=T0,
        seed=seed,
    )


def _run(value: JSON, *, snapshots: bool) -> tuple[list[tuple[int, str]], JSON]:
    state, events, effects = start(MACHINE, value, _ctx("s"), T0)
    log = [(e.id, e.type) for e in events]
    queue = list(effects)
    while queue:
        effect = queue.pop(0)
        if not isinstance(effect, RunTask):
            continue
        if snapshots:
            data = json.loads(json.dumps(state.to_json()))
            state = ExecutionState.from_json(cast(JSONObject, data))
        inbound = TaskSucceeded(task_id=effect.task_id, output=effect.parameters)
        state, events, more = advance(MACHINE, state, inbound, T0)
        log += [(e.id, e.type) for e in events]
        queue += more
    assert state.status == "SUCCEEDED"
    return log, state.output


@settings(max_examples=40, deadline=None)
@given(json_values)
def test_snapshots_at_every_step_change_nothing(value: JSON) -> None:
    assert _run(value, snapshots=False) == _run(value, snapshots=True)


@settings(max_examples=40, deadline=None)
@given(json_values)
def test_output_is_the_parallel_result_of_identity_tasks(value: JSON) -> None:
    _, output = _run(value, snapshots=False)
    assert output == [value, value]


@settings(max_examples=25, deadline=None)
@given(json_values)
def test_state_json_round_trip_is_exact(value: JSON) -> None:
    state, _, _ = start(MACHINE, value, _ctx("x"), T0)
    data = state.to_json()
    again = ExecutionState.from_json(cast(JSONObject, json.loads(json.dumps(data))))
    assert again.to_json() == json.loads(json.dumps(data))
