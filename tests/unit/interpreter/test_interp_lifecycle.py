"""Execution lifecycle: snapshots, idempotent inbounds, stop, timeouts, redrive, limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest

from eltflow.asl.model import StateMachine
from eltflow.asl.parser import parse
from eltflow.interpreter import ExecutionState, advance, redrive, start
from eltflow.interpreter.protocol import (
    CancelTask,
    Effect,
    ExecutionContext,
    HistoryEvent,
    Inbound,
    RunTask,
    StartTimer,
    StopRequested,
    TaskFailed,
    TaskSucceeded,
    TimerFired,
)
from eltflow.types import JSON, JSONObject

FN = "arn:aws:states:::lambda:invoke"
T0 = datetime(2026, 5, 1, tzinfo=UTC)
Outcome = Callable[[RunTask], Inbound]


def _ctx() -> ExecutionContext:
    return ExecutionContext(
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:e",
        execution_name="e",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
        state_machine_name="m",
        start_time=T0,
        seed="seed",
    )


def _drive(
    machine: StateMachine,
    state: ExecutionState,
    effects: list[Effect],
    outcome: Outcome,
    *,
    snapshot: bool = False,
) -> tuple[ExecutionState, list[HistoryEvent]]:
    """Carry out effects in order (tasks via ``outcome``, timers at their due time)."""
    history: list[HistoryEvent] = []
    queue = list(effects)
    now = T0
    while queue and state.status == "RUNNING":
        effect = queue.pop(0)
        if isinstance(effect, RunTask):
            inbound = outcome(effect)
        elif isinstance(effect, StartTimer):
            inbound, now = TimerFired(timer_id=effect.timer_id), max(now, effect.due)
        else:
            continue
        if snapshot:  # what a durable runtime does between steps
            text = json.dumps(state.to_json())
            state = ExecutionState.from_json(cast(JSONObject, json.loads(text)))
        state, events, more = advance(machine, state, inbound, now)
        history += events
        queue += more
    return state, history


def _ok(run: RunTask) -> Inbound:
    return TaskSucceeded(task_id=run.task_id, output={"done": run.parameters})


MIXED = {
    "StartAt": "A",
    "States": {
        "A": {
            "Type": "Task",
            "Resource": FN,
            "Next": "W",
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2}],
        },
        "W": {"Type": "Wait", "Seconds": 5, "Next": "P"},
        "P": {
            "Type": "Parallel",
            "Next": "M",
            "Branches": [
                {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": FN, "End": True}}},
                {
                    "StartAt": "C",
                    "States": {"C": {"Type": "Pass", "Assign": {"v": 1}, "End": True}},
                },
            ],
        },
        "M": {
            "Type": "Map",
            "MaxConcurrency": 2,
            "ItemsPath": "$[0].done.done.items",
            "ItemProcessor": {
                "StartAt": "I",
                "States": {"I": {"Type": "Task", "Resource": FN, "End": True}},
            },
            "End": True,
        },
    },
}


def _flaky_once() -> Outcome:
    seen: set[str] = set()

    def outcome(run: RunTask) -> Inbound:
        if run.state_name == "A" and "A" not in seen:
            seen.add("A")
            return TaskFailed(task_id=run.task_id, error="Flaky", cause="once")
        return _ok(run)

    return outcome


def test_snapshot_round_trip_mid_execution_gives_the_same_result() -> None:
    machine = parse(MIXED)
    inp: JSON = {"items": [1, 2, 3]}
    s1, e1, f1 = start(machine, inp, _ctx(), T0)
    plain, h1 = _drive(machine, s1, f1, _flaky_once())
    s2, e2, f2 = start(machine, inp, _ctx(), T0)
    snap, h2 = _drive(machine, s2, f2, _flaky_once(), snapshot=True)
    assert plain.status == snap.status == "SUCCEEDED"
    assert plain.output == snap.output
    assert [(e.id, e.type, e.details) for e in e1 + h1] == [
        (e.id, e.type, e.details) for e in e2 + h2
    ]


def test_start_is_deterministic() -> None:
    machine = parse(MIXED)
    a = start(machine, {"items": []}, _ctx(), T0)
    b = start(machine, {"items": []}, _ctx(), T0)
    assert a[1] == b[1] and a[2] == b[2]
    assert a[0].to_json() == b[0].to_json()


def test_duplicate_and_unknown_inbounds_are_ignored() -> None:
    machine = parse(
        {
            "StartAt": "T",
            "States": {
                "T": {"Type": "Task", "Resource": FN, "Next": "U"},
                "U": {"Type": "Task", "Resource": FN, "End": True},
            },
        }
    )
    state, _, effects = start(machine, {}, _ctx(), T0)
    run = effects[0]
    assert isinstance(run, RunTask)
    state, events, effects = advance(machine, state, _ok(run), T0)
    assert events and effects
    before = state.to_json()
    for inbound in (
        _ok(run),  # delivered twice
        TaskFailed(task_id=run.task_id, error="Late"),
        TaskSucceeded(task_id="no/such/task", output=1),
        TimerFired(timer_id="no/such/timer"),
    ):
        state, events, effects = advance(machine, state, inbound, T0)
        assert (events, effects) == ([], [])
    assert state.to_json() == before


def test_stop_aborts_and_cancels_pending_work() -> None:
    machine = parse(
        {
            "StartAt": "T",
            "States": {"T": {"Type": "Task", "Resource": FN, "TimeoutSeconds": 60, "End": True}},
        }
    )
    state, _, effects = start(machine, {}, _ctx(), T0)
    run = effects[0]
    assert isinstance(run, RunTask)
    stop = StopRequested(error="Operator", cause="stopped by hand")
    state, events, effects = advance(machine, state, stop, T0)
    assert state.status == "ABORTED"
    assert events[-1].type == "ExecutionAborted"
    assert events[-1].details == {
        "executionAbortedEventDetails": {"error": "Operator", "cause": "stopped by hand"}
    }
    assert CancelTask(task_id=run.task_id) in effects
    state, events, effects = advance(machine, state, _ok(run), T0)
    assert (events, effects) == ([], [])


def test_machine_timeout_seconds_times_the_execution_out() -> None:
    machine = parse(
        {
            "TimeoutSeconds": 30,
            "StartAt": "W",
            "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}},
        }
    )
    state, _, effects = start(machine, {}, _ctx(), T0)
    timers = sorted((e for e in effects if isinstance(e, StartTimer)), key=lambda t: t.due)
    assert timers[0].due == T0 + timedelta(seconds=30)
    state, events, _ = advance(
        machine, state, TimerFired(timer_id=timers[0].timer_id), timers[0].due
    )
    assert state.status == "TIMED_OUT"
    assert events[-1].type == "ExecutionTimedOut"
    assert state.error == "States.Timeout"


@pytest.mark.parametrize("stored", [False, True])
def test_redrive_of_a_failed_map_reruns_only_the_failed_iterations(stored: bool) -> None:
    """``stored``: the failed execution is redriven from its snapshot, as a worker does (the
    iterations that succeeded are kept there as results only)."""
    machine = parse(
        {
            "StartAt": "Prep",
            "States": {
                "Prep": {"Type": "Task", "Resource": FN, "ResultPath": None, "Next": "M"},
                "M": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "StartAt": "I",
                        "States": {"I": {"Type": "Task", "Resource": FN, "End": True}},
                    },
                    "End": True,
                },
            },
        }
    )
    state, _, effects = start(machine, [1, 2, 3, 4], _ctx(), T0)
    prep = effects[0]
    assert isinstance(prep, RunTask)
    state, _, effects = advance(machine, state, _ok(prep), T0)
    runs = {cast(int, e.parameters): e for e in effects if isinstance(e, RunTask)}
    assert sorted(runs) == [1, 2, 3, 4]
    for item in (1, 3):  # two iterations succeed before item 2 fails; item 4 is aborted
        state, _, _ = advance(
            machine, state, TaskSucceeded(task_id=runs[item].task_id, output=item * 10), T0
        )
    failure = TaskFailed(task_id=runs[2].task_id, error="Item.Failed", cause="two")
    state, events, _ = advance(machine, state, failure, T0)
    assert (state.status, state.error) == ("FAILED", "Item.Failed")
    assert [e.type for e in events].count("MapIterationAborted") == 1
    if stored:
        state = ExecutionState.from_json(json.loads(json.dumps(state.to_json())))

    state, events, effects = redrive(machine, state, T0 + timedelta(hours=1))
    assert events[0].type == "ExecutionRedriven"
    assert events[0].details == {"executionRedrivenEventDetails": {"redriveCount": 1}}
    again = [e for e in effects if isinstance(e, RunTask)]
    assert sorted(cast(int, e.parameters) for e in again) == [2, 4]  # failed + aborted only
    for run in again:
        state, _, _ = advance(
            machine,
            state,
            TaskSucceeded(task_id=run.task_id, output=cast(int, run.parameters) * 10),
            T0,
        )
    assert state.status == "SUCCEEDED"
    assert state.output == [10, 20, 30, 40]
    assert state.context.redrive_count == 1


@pytest.mark.parametrize("concurrency", [0, 1])
def test_redrive_of_a_map_whose_item_selector_failed_runs_that_item(concurrency: int) -> None:
    """The ItemSelector raises for item 1 on the first attempt only (it reads RedriveCount):
    the redrive runs item 1 and the items after it, not just those after it. With
    MaxConcurrency 1 the failure comes after item 0 succeeded; with 0, while launching."""
    selector = (
        "{% $states.context.Execution.RedriveCount = 0 and $states.context.Map.Item.Index = 1"
        " ? $error('boom') : $states.context.Map.Item.Value * 10 %}"
    )
    machine = parse(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "MaxConcurrency": concurrency,
                    "ItemSelector": selector,
                    "ItemProcessor": {
                        "StartAt": "I",
                        "States": {"I": {"Type": "Pass", "End": True}},
                    },
                    "End": True,
                }
            },
        }
    )
    state, _, _ = start(machine, [1, 2, 3], _ctx(), T0)
    assert (state.status, state.error) == ("FAILED", "States.QueryEvaluationError")
    state = ExecutionState.from_json(json.loads(json.dumps(state.to_json())))

    state, events, _ = redrive(machine, state, T0 + timedelta(hours=1))
    assert (state.status, state.output) == ("SUCCEEDED", [10, 20, 30])
    started = [e for e in events if e.type == "MapIterationStarted"]
    assert len(started) == (2 if concurrency == 1 else 3)  # item 0 already succeeded / aborted


def test_a_map_whose_item_selector_raised_runs_no_iteration_while_its_retry_waits() -> None:
    """Item 0's iteration is started before item 1's ItemSelector raises: it is aborted at
    once (it used to run its task during the Retry's wait), and the retry runs every item."""
    selector = (
        "{% $states.context.State.RetryCount = 0 and $states.context.Map.Item.Index = 1"
        " ? $error('boom') : $states.context.Map.Item.Value %}"
    )
    machine = parse(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "ItemSelector": selector,
                    "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
                    "ItemProcessor": {
                        "StartAt": "I",
                        "States": {"I": {"Type": "Task", "Resource": FN, "End": True}},
                    },
                    "End": True,
                }
            },
        }
    )
    state, events, effects = start(machine, [1, 2, 3], _ctx(), T0)
    assert state.status == "RUNNING"
    assert not [e for e in effects if isinstance(e, RunTask)]
    assert "TaskScheduled" not in [e.type for e in events]
    (timer,) = [e for e in effects if isinstance(e, StartTimer)]
    state, _, effects = advance(machine, state, TimerFired(timer_id=timer.timer_id), timer.due)
    runs = [e for e in effects if isinstance(e, RunTask)]
    assert sorted(cast(int, e.parameters) for e in runs) == [1, 2, 3]
    state, _ = _drive(machine, state, list(effects), _ok)
    assert state.output == [{"done": 1}, {"done": 2}, {"done": 3}]


def test_a_map_left_keeps_neither_its_items_nor_its_input_in_the_snapshot() -> None:
    machine = parse(
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "ItemsPath": "$.xs",
                    "ItemSelector": {"v.$": "$$.Map.Item.Value"},
                    "ItemProcessor": {
                        "StartAt": "X",
                        "States": {"X": {"Type": "Pass", "End": True}},
                    },
                    "Next": "W",
                },
                "W": {"Type": "Wait", "Seconds": 5, "End": True},
            },
        }
    )
    state, _, _ = start(machine, {"xs": [1, 2]}, _ctx(), T0)
    assert (state.root.state_name, state.root.input) == ("W", [{"v": 1}, {"v": 2}])
    frames = cast(list[JSONObject], state.to_json()["frames"])
    assert [(f["id"], f["items"], f["scratch"]) for f in frames] == [("", None, None)]


def test_redrive_reruns_only_the_failed_parallel_branch_and_failed_state() -> None:
    machine = parse(
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "End": True,
                    "Branches": [
                        {
                            "StartAt": "Ok",
                            "States": {"Ok": {"Type": "Task", "Resource": FN, "End": True}},
                        },
                        {
                            "StartAt": "Pre",
                            "States": {
                                "Pre": {"Type": "Pass", "Result": "x", "Next": "Bad"},
                                "Bad": {"Type": "Task", "Resource": FN, "End": True},
                            },
                        },
                    ],
                }
            },
        }
    )
    fail_bad = {"on": True}
    ran: list[str] = []

    def outcome(run: RunTask) -> Inbound:
        ran.append(run.state_name)
        if run.state_name == "Bad" and fail_bad["on"]:
            return TaskFailed(task_id=run.task_id, error="E")
        return TaskSucceeded(task_id=run.task_id, output=run.state_name)

    state, _, effects = start(machine, {}, _ctx(), T0)
    state, _ = _drive(machine, state, effects, outcome)
    assert state.status == "FAILED"
    fail_bad["on"] = False
    ran.clear()
    state, events, effects = redrive(machine, state, T0)
    state, more = _drive(machine, state, effects, outcome)
    assert state.status == "SUCCEEDED"
    assert state.output == ["Ok", "Bad"]
    assert ran == ["Bad"]
    assert "PassStateEntered" not in [e.type for e in events + more]


def test_history_limit_fails_the_execution() -> None:
    machine = parse(
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "End": True,
                    "ItemProcessor": {
                        "StartAt": "I",
                        "States": {"I": {"Type": "Pass", "End": True}},
                    },
                }
            },
        }
    )
    state, events, _ = start(machine, list(range(7000)), _ctx(), T0)
    assert state.status == "FAILED"
    assert state.error == "States.Runtime"
    assert len(events) == 25_000
    assert events[-1].type == "ExecutionFailed"
    assert (events[-1].id, events[-1].previous_event_id) == (25_000, 24_999)
    assert state.cause == "The execution reached the maximum number of history events (25000)."


def test_stop_records_the_states_in_progress_as_aborted() -> None:
    machine = parse(
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "End": True,
                    "Branches": [
                        {
                            "StartAt": "W",
                            "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}},
                        },
                        {
                            "StartAt": "M",
                            "States": {
                                "M": {
                                    "Type": "Map",
                                    "End": True,
                                    "ItemProcessor": {
                                        "StartAt": "T",
                                        "States": {
                                            "T": {"Type": "Task", "Resource": FN, "End": True}
                                        },
                                    },
                                }
                            },
                        },
                    ],
                }
            },
        }
    )
    state, _, _ = start(machine, [1, 2], _ctx(), T0)
    state, events, effects = advance(machine, state, StopRequested(), T0)
    types = [e.type for e in events]
    assert types.count("TaskStateAborted") == 2
    assert types.count("MapIterationAborted") == 2
    assert types.index("MapStateAborted") > types.index("MapIterationAborted")
    assert "WaitStateAborted" in types
    assert types[-2:] == ["ParallelStateAborted", "ExecutionAborted"]
    assert len([e for e in effects if isinstance(e, CancelTask)]) == 2
