"""Parallel and inline Map: outputs in order, failure semantics, MaxConcurrency, tolerance."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from eltflow import execute
from eltflow.asl.parser import parse
from eltflow.errors import StatesError
from eltflow.interpreter import ExecutionState, advance, start
from eltflow.interpreter.protocol import (
    CancelTask,
    ExecutionContext,
    RunTask,
    TaskFailed,
    TaskSucceeded,
)
from eltflow.types import JSON

FN = "arn:aws:states:::lambda:invoke"
T0 = datetime(2026, 5, 1, tzinfo=UTC)


def _ctx() -> ExecutionContext:
    return ExecutionContext(
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:e",
        execution_name="e",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
        state_machine_name="m",
        start_time=T0,
    )


def _task_map(**fields: JSON) -> dict[str, JSON]:
    return {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "End": True,
                **fields,
                "ItemProcessor": {
                    "StartAt": "T",
                    "States": {"T": {"Type": "Task", "Resource": FN, "End": True}},
                },
            }
        },
    }


def _double(params: JSON) -> JSON:
    assert isinstance(params, int)
    if params < 0:
        raise StatesError("Negative", f"item {params}")
    return params * 2


def test_parallel_output_is_branch_outputs_in_branch_order() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {
                        "StartAt": "Slow",
                        "States": {
                            "Slow": {"Type": "Wait", "Seconds": 10, "Next": "A"},
                            "A": {"Type": "Pass", "Result": "a", "End": True},
                        },
                    },
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "b", "End": True}}},
                ],
            }
        },
    }
    result = execute(definition, {}, virtual_time=True)
    assert result.output == ["a", "b"]


def test_parallel_fails_with_the_branch_error_and_stops_the_other_branches() -> None:
    machine = parse(
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "End": True,
                    "Branches": [
                        {
                            "StartAt": "T1",
                            "States": {"T1": {"Type": "Task", "Resource": FN, "End": True}},
                        },
                        {
                            "StartAt": "T2",
                            "States": {"T2": {"Type": "Task", "Resource": FN, "End": True}},
                        },
                    ],
                }
            },
        }
    )
    state, _, effects = start(machine, {}, _ctx(), T0)
    runs = [e for e in effects if isinstance(e, RunTask)]
    assert len(runs) == 2  # both branches start at once
    failed = TaskFailed(task_id=runs[0].task_id, error="Job.Failed", cause="disk full")
    state, events, effects = advance(machine, state, failed, T0)
    assert CancelTask(task_id=runs[1].task_id) in effects
    assert [e.type for e in events][-3:] == ["TaskFailed", "ParallelStateFailed", "ExecutionFailed"]
    assert (state.status, state.error, state.cause) == ("FAILED", "Job.Failed", "disk full")
    # The other branch's late result is ignored.
    late = TaskSucceeded(task_id=runs[1].task_id, output=1)
    state, events, effects = advance(machine, state, late, T0)
    assert (events, effects, state.status) == ([], [], "FAILED")


def test_parallel_catch_handles_a_branch_failure() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Next": "Done",
                "Branches": [
                    {
                        "StartAt": "F",
                        "States": {"F": {"Type": "Fail", "Error": "E1", "Cause": "c1"}},
                    }
                ],
                "Catch": [{"ErrorEquals": ["E1"], "ResultPath": "$.err", "Next": "Done"}],
            },
            "Done": {"Type": "Succeed"},
        },
    }
    result = execute(definition, {"k": 1})
    assert result.output == {"k": 1, "err": {"Error": "E1", "Cause": "c1"}}
    assert "ParallelStateFailed" in result.event_types()
    assert "ParallelStateExited" in result.event_types()


def test_map_results_in_item_order_with_items_path_and_item_selector() -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.xs",
                "ItemSelector": {
                    "v.$": "$$.Map.Item.Value",
                    "i.$": "$$.Map.Item.Index",
                    "tag.$": "$.tag",
                },
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                "ResultPath": "$.out",
                "End": True,
            }
        },
    }
    result = execute(definition, {"xs": ["a", "b", "c"], "tag": "t"})
    assert result.output == {
        "xs": ["a", "b", "c"],
        "tag": "t",
        "out": [
            {"v": "a", "i": 0, "tag": "t"},
            {"v": "b", "i": 1, "tag": "t"},
            {"v": "c", "i": 2, "tag": "t"},
        ],
    }


def test_legacy_iterator_and_parameters_fields() -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "Parameters": {"x.$": "$$.Map.Item.Value"},
                "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                "End": True,
            }
        },
    }
    assert execute(definition, [1, 2]).output == [{"x": 1}, {"x": 2}]


def test_map_over_an_empty_array() -> None:
    result = execute(_task_map(), [])
    assert result.output == []
    assert result.event_types() == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]


def test_map_max_concurrency_limits_active_iterations() -> None:
    machine = parse(_task_map(MaxConcurrency=2))
    state, _, effects = start(machine, [1, 2, 3, 4, 5], _ctx(), T0)
    active = [e for e in effects if isinstance(e, RunTask)]
    assert [r.parameters for r in active] == [1, 2]
    done: list[JSON] = []
    while active:
        run = active.pop(0)
        state, _, effects = advance(
            machine, state, TaskSucceeded(task_id=run.task_id, output=run.parameters), T0
        )
        done.append(run.parameters)
        active += [e for e in effects if isinstance(e, RunTask)]
        assert len(active) <= 2
    assert state.output == [1, 2, 3, 4, 5]


def test_a_map_keeps_only_the_running_iterations_frames_and_their_results_in_order() -> None:
    """Iterations finishing out of order: each one's frame is dropped as it succeeds (a
    snapshot holds the running ones, not all so far), the output is still in item order."""
    machine = parse(_task_map(MaxConcurrency=2))
    state, _, effects = start(machine, [1, 2, 3, 4, 5], _ctx(), T0)
    active = [e for e in effects if isinstance(e, RunTask)]
    while active:
        run = active.pop()  # the newest first: iteration 1 finishes before iteration 0
        state, _, effects = advance(
            machine, state, TaskSucceeded(task_id=run.task_id, output=run.parameters), T0
        )
        active += [e for e in effects if isinstance(e, RunTask)]
        running = [f for f in state.frames.values() if f.parent is not None]
        assert len(running) == len(active)
        assert all(f.status == "TASK" for f in running)
        state = ExecutionState.from_json(json.loads(json.dumps(state.to_json())))
    assert state.status == "SUCCEEDED"
    assert state.output == [1, 2, 3, 4, 5]


def test_max_concurrency_path() -> None:
    machine = parse(_task_map(MaxConcurrencyPath="$.n", ItemsPath="$.items"))
    _, _, effects = start(machine, {"n": 3, "items": list(range(10))}, _ctx(), T0)
    assert len([e for e in effects if isinstance(e, RunTask)]) == 3


def test_map_fails_with_the_iteration_error_and_aborts_running_iterations() -> None:
    machine = parse(_task_map())
    state, _, effects = start(machine, [1, 2, 3], _ctx(), T0)
    runs = [e for e in effects if isinstance(e, RunTask)]
    state, events, effects = advance(
        machine, state, TaskFailed(task_id=runs[1].task_id, error="Boom", cause="why"), T0
    )
    types = [e.type for e in events]
    assert types[-5:] == [
        "MapIterationFailed",
        "MapIterationAborted",
        "MapIterationAborted",
        "MapStateFailed",
        "ExecutionFailed",
    ]
    assert {e for e in effects if isinstance(e, CancelTask)} == {
        CancelTask(task_id=runs[0].task_id),
        CancelTask(task_id=runs[2].task_id),
    }
    assert (state.error, state.cause) == ("Boom", "why")


def test_tolerated_failure_count() -> None:
    tasks = {FN: _double}
    ok = execute(_task_map(ToleratedFailureCount=1), [1, -1, 3], tasks=tasks)
    assert ok.status == "SUCCEEDED"
    assert ok.output == [2, 6]
    assert len(ok.events("MapIterationFailed")) == 1
    bad = execute(_task_map(ToleratedFailureCount=1), [-1, -2, 3], tasks=tasks)
    assert (bad.status, bad.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")


def test_tolerated_failure_percentage() -> None:
    tasks = {FN: _double}
    ok = execute(_task_map(ToleratedFailurePercentage=50), [1, -1, 3, -4], tasks=tasks)
    assert ok.status == "SUCCEEDED"
    bad = execute(_task_map(ToleratedFailurePercentage=50), [1, -1, -3, -4], tasks=tasks)
    assert bad.error == "States.ExceedToleratedFailureThreshold"


def test_map_items_must_be_an_array() -> None:
    result = execute(_task_map(ItemsPath="$.x"), {"x": {"not": "array"}})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")


def test_nested_map_in_parallel() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {
                        "StartAt": "M",
                        "States": {
                            "M": {
                                "Type": "Map",
                                "End": True,
                                "ItemProcessor": {
                                    "StartAt": "T",
                                    "States": {"T": {"Type": "Task", "Resource": FN, "End": True}},
                                },
                            }
                        },
                    },
                    {"StartAt": "N", "States": {"N": {"Type": "Pass", "Result": "n", "End": True}}},
                ],
            }
        },
    }
    result = execute(definition, [1, 2, 3], tasks={FN: _double})
    assert result.output == [[2, 4, 6], "n"]


def test_items_path_may_read_a_variable() -> None:
    definition = {
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Assign": {"todo.$": "$.xs"}, "Next": "M"},
            "M": {
                "Type": "Map",
                "ItemsPath": "$todo",
                "End": True,
                "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            },
        },
    }
    assert execute(definition, {"xs": [4, 5]}).output == [4, 5]
