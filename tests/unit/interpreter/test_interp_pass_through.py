"""Rows of passthrough Pass states run in one loop (``Stepper._pass_row``) and must leave
exactly the history, state and output the one-state-at-a-time path leaves: each machine runs
twice, once with the flag as parsed and once with every Pass state's flag forced off."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import pytest

from eltflow.asl import limits
from eltflow.asl.model import PassState, StateMachine
from eltflow.asl.parser import parse
from eltflow.interpreter import start
from eltflow.interpreter.protocol import ExecutionContext, new_context
from eltflow.interpreter.step import start_lazy
from eltflow.runtime.local import ExecutionResult, _result
from eltflow.types import JSON

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CTX = ExecutionContext(
    execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:run-1",
    execution_name="run-1",
    state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
    state_machine_name="m",
    start_time=T0,
    role_arn="arn:aws:iam::123456789012:role/r",
    seed="s",
)


def _general(machine: StateMachine) -> StateMachine:
    """``machine`` with every Pass state (branches and item processors too) on the general path."""
    for state in machine.states.values():
        if isinstance(state, PassState):
            object.__setattr__(state, "passthrough", False)
        for sub in getattr(state, "branches", ()):
            _general(sub)
        processor = getattr(state, "item_processor", None)
        if processor is not None:
            _general(processor)
    return machine


def _both(definition: dict[str, Any], input: JSON) -> None:
    fast = start(parse(definition), input, CTX, T0)
    slow = start(_general(parse(definition)), input, CTX, T0)
    assert fast[1] == slow[1]  # every event: ids, previous ids, types, details
    assert fast[0].to_json() == slow[0].to_json()
    assert fast[2] == slow[2]


def _chain(prefix: str, n: int, last: dict[str, Any] | None = None) -> dict[str, Any]:
    states: dict[str, Any] = {}
    for i in range(n):
        states[f"{prefix}{i}"] = {"Type": "Pass", "Next": f"{prefix}{i + 1}"}
    states[f"{prefix}{n - 1}"] = last or {"Type": "Pass", "End": True}
    return {"StartAt": f"{prefix}0", "States": states}


def test_passthrough_flag_is_set_only_for_a_pass_that_hands_its_input_on() -> None:
    m = parse(
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Next": "B"},
                "B": {"Type": "Pass", "ResultPath": "$.x", "Next": "C"},
                "C": {"Type": "Pass", "Result": 1, "Next": "D"},
                "D": {"Type": "Pass", "QueryLanguage": "JSONata", "Next": "E"},
                "E": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": 1, "End": True},
            },
        }
    )
    flags = {name: s.passthrough for name, s in m.states.items() if isinstance(s, PassState)}
    assert flags == {"A": True, "B": False, "C": False, "D": True, "E": False}


@pytest.mark.parametrize(
    "definition",
    [
        _chain("S", 1),
        _chain("S", 10),
        # A row broken by other Pass states, a Choice and a Succeed in the middle.
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Next": "B"},
                "B": {"Type": "Pass", "Next": "C"},
                "C": {"Type": "Pass", "Result": {"k": 1}, "ResultPath": "$.r", "Next": "D"},
                "D": {"Type": "Pass", "Next": "E"},
                "E": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.r.k", "NumericEquals": 1, "Next": "F"}],
                    "Default": "G",
                },
                "F": {"Type": "Pass", "QueryLanguage": "JSONata", "Next": "G"},
                "G": {"Type": "Pass", "Next": "H"},
                "H": {"Type": "Succeed"},
            },
        },
        # Branches interleave in one step: the queue's order decides the events' order.
        {
            "StartAt": "Fork",
            "States": {
                "Fork": {
                    "Type": "Parallel",
                    "Branches": [_chain("A", 3), _chain("B", 1), _chain("C", 5)],
                    "Next": "After",
                },
                "After": {"Type": "Pass", "End": True},
            },
        },
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ItemProcessor": _chain("I", 4),
                    "End": True,
                }
            },
        },
        # A row ending in a Fail state.
        _chain("S", 3, {"Type": "Fail", "Error": "E", "Cause": "c"}),
        # Rows before and after nested Parallel / Map states whose children run rows too:
        # the order frames are run in (the queue's) decides the events' order.
        {
            "StartAt": "P0",
            "States": {
                "P0": {"Type": "Pass", "Next": "P1"},
                "P1": {"Type": "Pass", "Next": "Outer"},
                "Outer": {
                    "Type": "Parallel",
                    "Branches": [
                        {
                            "StartAt": "X0",
                            "States": {
                                "X0": {"Type": "Pass", "Next": "Inner"},
                                "Inner": {
                                    "Type": "Parallel",
                                    "Branches": [_chain("Y", 2), _chain("Z", 4)],
                                    "Next": "X1",
                                },
                                "X1": {"Type": "Pass", "Next": "X2"},
                                "X2": {"Type": "Pass", "End": True},
                            },
                        },
                        {
                            "StartAt": "M",
                            "States": {
                                "M": {
                                    "Type": "Map",
                                    "ItemsPath": "$.items",
                                    "MaxConcurrency": 1,
                                    "ItemProcessor": _chain("I", 3),
                                    "Next": "W0",
                                },
                                "W0": {"Type": "Pass", "End": True},
                            },
                        },
                        _chain("V", 1),
                    ],
                    "Next": "Q0",
                },
                "Q0": {"Type": "Pass", "Next": "Q1"},
                "Q1": {"Type": "Pass", "End": True},
            },
        },
    ],
)
def test_rows_of_passthrough_states_leave_the_general_paths_history(
    definition: dict[str, Any],
) -> None:
    _both(definition, {"items": [{"a": 1}, [2], 3], "n": None})


@pytest.mark.parametrize("n", [1, 2, 10])
def test_a_rows_lazy_log_counts_and_builds_the_general_paths_events(n: int) -> None:
    # One record stands for the row's events (history.PASS_ROW): the log's length must count
    # each of them before and after they are built.
    slow = start(_general(parse(_chain("S", n))), {"a": 1}, CTX, T0)[1]
    log = start_lazy(parse(_chain("S", n)), {"a": 1}, CTX, T0)[1]
    assert len(log) == len(slow) == 2 * n + 2
    assert log.events() == slow
    assert len(log) == len(slow)


@pytest.mark.parametrize("row", [1, 2, 3, 4])
def test_history_cap_lands_where_the_general_path_puts_it(row: int) -> None:
    # An endless loop of `row` passthrough states and a Choice: the cap falls at a different
    # point of the row for each length, inside the fast loop or at its edges.
    loop = _chain("P", row, {"Type": "Pass", "Next": "Again?"})
    loop["States"]["Again?"] = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.stop", "BooleanEquals": True, "Next": "Done"}],
        "Default": "P0",
    }
    loop["States"]["Done"] = {"Type": "Succeed"}
    fast = start(parse(loop), {"stop": False}, CTX, T0)
    assert fast[0].status == "FAILED"
    assert fast[1][-1].id == limits.MAX_HISTORY_EVENTS
    _both(loop, {"stop": False})


def test_new_context_is_the_dataclass_built_context() -> None:
    fast = new_context(
        execution_arn=CTX.execution_arn,
        execution_name=CTX.execution_name,
        state_machine_arn=CTX.state_machine_arn,
        state_machine_name=CTX.state_machine_name,
        start_time=T0,
        role_arn=CTX.role_arn,
        seed=CTX.seed,
    )
    assert fast == CTX  # every field compared, so a field new_context forgot fails here
    assert {f.name: getattr(fast, f.name) for f in fields(fast)} == {
        f.name: getattr(CTX, f.name) for f in fields(CTX)
    }


def test_in_memory_result_is_the_dataclass_built_result() -> None:
    step = start(parse(_chain("S", 2)), {"a": 1}, CTX, T0)
    from eltflow.interpreter.history import EventLog

    log = EventLog()
    log.extend(step[1])
    fast = _result(step[0], log, log.last_timestamp())
    slow = ExecutionResult(
        status="SUCCEEDED",
        output={"a": 1},
        error=None,
        cause=None,
        history=step[1],
        execution_arn=CTX.execution_arn,
        start_date=T0,
        stop_date=T0,
    )
    assert fast == slow
    assert fast.history == step[1]


@pytest.mark.parametrize("size", [1, 2, 3])
def test_a_cycle_of_passthrough_states_runs_to_the_cap_as_the_general_path(size: int) -> None:
    # No validator accepts this machine (no terminal state); the interpreter must still stop.
    def machine() -> StateMachine:
        names = [f"S{i}" for i in range(size)]
        states: dict[str, Any] = {
            n: PassState(name=n, type="Pass", next=names[(i + 1) % size])
            for i, n in enumerate(names)
        }
        return StateMachine(start_at="S0", states=states)

    fast = start(machine(), {"a": 1}, CTX, T0)
    slow = start(_general(machine()), {"a": 1}, CTX, T0)
    assert fast[0].status == "FAILED"
    assert fast[1][-1].id == limits.MAX_HISTORY_EVENTS
    assert fast[1] == slow[1]
    assert fast[0].to_json() == slow[0].to_json()


def test_a_machine_caches_its_sub_machines_and_a_replaced_copy_its_own() -> None:
    from dataclasses import replace

    definition = {
        "StartAt": "Fork",
        "States": {"Fork": {"Type": "Parallel", "Branches": [_chain("A", 2)], "End": True}},
    }
    machine = parse(definition)
    first = start(machine, {"a": 1}, CTX, T0)
    assert machine.sub_machines[()] is machine
    branch = machine.sub_machines[("Fork", "0")]
    assert branch is machine.states["Fork"].branches[0]  # type: ignore[union-attr]
    copy = replace(machine, timeout_seconds=60)
    assert copy.sub_machines == {}  # not the original's: () must be the copy
    again = start(copy, {"a": 1}, CTX, T0)
    assert copy.sub_machines[()] is copy and copy.sub_machines[("Fork", "0")] is branch
    assert start(machine, {"a": 1}, CTX, T0)[1] == first[1]
    assert again[0].output == [{"a": 1}]
