"""Retry and Catch: AWS's backoff sequence, per-retrier counters, catchers, timeouts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from eltflow import execute
from eltflow.asl.model import Retrier
from eltflow.asl.parser import parse
from eltflow.clock import VirtualClock
from eltflow.errors import StatesError
from eltflow.interpreter import advance, start
from eltflow.interpreter.protocol import (
    CancelTask,
    ExecutionContext,
    RunTask,
    StartTimer,
    TimerFired,
)
from eltflow.interpreter.retry import backoff_delay, decide_retry
from eltflow.types import JSON

FN = "arn:aws:states:::lambda:invoke"
T0 = datetime(2026, 5, 1, tzinfo=UTC)


class FlakyError(Exception):
    pass


def _failing(*errors: Exception) -> Callable[[JSON], JSON]:
    """A task raising ``errors`` in turn, then succeeding with the attempt count."""
    calls: list[JSON] = []

    def task(params: JSON) -> JSON:
        calls.append(params)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return {"attempts": len(calls)}

    return task


def _offsets(result_history: list[datetime]) -> list[float]:
    return [(t - result_history[0]).total_seconds() for t in result_history]


def _retry_machine(retry: list[JSON], **task: JSON) -> dict[str, JSON]:
    return {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": FN, "Retry": retry, "End": True, **task}},
    }


def test_backoff_sequence_interval_times_rate_to_the_n() -> None:
    definition = _retry_machine(
        [
            {
                "ErrorEquals": ["FlakyError"],
                "IntervalSeconds": 3,
                "MaxAttempts": 3,
                "BackoffRate": 2.0,
            }
        ]
    )
    clock = VirtualClock(T0)
    task = _failing(*[FlakyError("no")] * 10)
    result = execute(definition, {}, tasks={FN: task}, clock=clock, virtual_time=True)
    scheduled = [e.timestamp for e in result.events("TaskScheduled")]
    assert _offsets(scheduled) == [0, 3, 9, 21]  # 3, 3*2, 3*4 seconds apart
    assert (result.status, result.error, result.cause) == ("FAILED", "FlakyError", "no")
    assert result.event_types()[-2:] == ["TaskFailed", "ExecutionFailed"]


def test_max_delay_seconds_caps_the_backoff() -> None:
    definition = _retry_machine(
        [
            {
                "ErrorEquals": ["States.ALL"],
                "IntervalSeconds": 3,
                "MaxAttempts": 4,
                "BackoffRate": 3.0,
                "MaxDelaySeconds": 10,
            }
        ]
    )
    result = execute(
        definition,
        {},
        tasks={FN: _failing(*[FlakyError()] * 10)},
        clock=VirtualClock(T0),
        virtual_time=True,
    )
    scheduled = [e.timestamp for e in result.events("TaskScheduled")]
    assert _offsets(scheduled) == [0, 3, 12, 22, 32]  # 3, 9, min(27,10), min(81,10)


def test_retry_count_is_visible_in_the_context_object() -> None:
    seen: list[JSON] = []

    def task(params: JSON) -> JSON:
        seen.append(params)
        if len(seen) < 3:
            raise FlakyError("again")
        return "ok"

    definition = _retry_machine(
        [{"ErrorEquals": ["FlakyError"], "IntervalSeconds": 1, "MaxAttempts": 5}],
        Parameters={"n.$": "$$.State.RetryCount"},
    )
    result = execute(definition, {}, tasks={FN: task}, virtual_time=True)
    assert result.output == "ok"
    assert seen == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_only_states_that_can_retry_have_a_retry_count() -> None:
    # Recorded on AWS: a Pass state's $$.State is {"Name", "EnteredTime"}; Task, Parallel and
    # Map states carry RetryCount too.
    branch = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Parameters": {"s.$": "$$.State"}, "Next": "Par"},
            "Par": {
                "Type": "Parallel",
                "Parameters": {"s.$": "$$.State"},
                "Branches": [branch],
                "End": True,
            },
        },
    }
    result = execute(definition, {})
    assert result.output is not None and isinstance(result.output, list)
    [parallel_input] = result.output
    assert isinstance(parallel_input, dict) and isinstance(parallel_input["s"], dict)
    assert parallel_input["s"]["RetryCount"] == 0
    assert isinstance(parallel_input["s"]["Name"], str)
    entered = result.events("ParallelStateEntered")[0].details["stateEnteredEventDetails"]
    assert isinstance(entered, dict) and '"RetryCount"' not in str(entered["input"])


def test_each_retrier_counts_its_own_attempts_and_the_first_match_wins() -> None:
    definition = _retry_machine(
        [
            {"ErrorEquals": ["A"], "MaxAttempts": 1, "IntervalSeconds": 1},
            {"ErrorEquals": ["B", "A"], "MaxAttempts": 5, "IntervalSeconds": 1},
        ]
    )
    task = _failing(StatesError("A"), StatesError("B"), StatesError("A"))
    result = execute(definition, {}, tasks={FN: task}, virtual_time=True)
    # A retried once (first retrier), B once (second), then A again: its retrier is spent,
    # and the second retrier is not consulted.
    assert len(result.events("TaskScheduled")) == 3
    assert (result.status, result.error) == ("FAILED", "A")


def test_max_attempts_zero_never_retries() -> None:
    definition = _retry_machine([{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}])
    result = execute(definition, {}, tasks={FN: _failing(FlakyError("x"))})
    assert len(result.events("TaskScheduled")) == 1
    assert result.error == "FlakyError"


def test_catch_with_result_path_keeps_the_input_and_adds_error_output() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": FN,
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error-info", "Next": "Recover"}
                ],
                "End": True,
            },
            "Recover": {"Type": "Pass", "End": True},
        },
    }
    result = execute(definition, {"job": 7}, tasks={FN: _failing(ValueError("bad value"))})
    assert result.status == "SUCCEEDED"
    assert result.output == {"job": 7, "error-info": {"Error": "ValueError", "Cause": "bad value"}}
    assert result.event_types()[3:7] == [
        "TaskStarted",
        "TaskFailed",
        "TaskStateExited",
        "PassStateEntered",
    ]


def test_catch_without_result_path_replaces_input_with_error_output() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": FN,
                "Catch": [
                    {"ErrorEquals": ["Other"], "Next": "No"},
                    {"ErrorEquals": ["States.TaskFailed"], "Next": "Yes"},
                ],
                "End": True,
            },
            "No": {"Type": "Fail", "Error": "Wrong"},
            "Yes": {"Type": "Pass", "End": True},
        },
    }
    task = _failing(StatesError("Lambda.Unknown", "The cause"))
    result = execute(definition, {}, tasks={FN: task})
    assert result.output == {"Error": "Lambda.Unknown", "Cause": "The cause"}


def test_retry_then_catch_after_exhaustion() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": FN,
                "Retry": [{"ErrorEquals": ["FlakyError"], "MaxAttempts": 2, "IntervalSeconds": 1}],
                "Catch": [{"ErrorEquals": ["FlakyError"], "Next": "H"}],
                "End": True,
            },
            "H": {"Type": "Succeed"},
        },
    }
    result = execute(definition, {}, tasks={FN: _failing(*[FlakyError()] * 5)}, virtual_time=True)
    assert len(result.events("TaskFailed")) == 3
    assert result.status == "SUCCEEDED"


def _ctx() -> ExecutionContext:
    return ExecutionContext(
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:e",
        execution_name="e",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
        state_machine_name="m",
        start_time=T0,
    )


def test_task_timeout_fires_states_timeout_and_cancels_the_task() -> None:
    machine = parse(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": FN,
                    "TimeoutSeconds": 5,
                    "Catch": [
                        {"ErrorEquals": ["States.TaskFailed"], "Next": "Wrong"},
                        {"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"},
                    ],
                    "End": True,
                },
                "Wrong": {"Type": "Fail"},
                "TimedOut": {"Type": "Pass", "End": True},
            },
        }
    )
    state, events, effects = start(machine, {}, _ctx(), T0)
    run = next(e for e in effects if isinstance(e, RunTask))
    timer = next(e for e in effects if isinstance(e, StartTimer))
    assert run.timeout_seconds == 5
    assert timer.due == T0 + timedelta(seconds=5)
    state, events, effects = advance(machine, state, TimerFired(timer_id=timer.timer_id), timer.due)
    assert CancelTask(task_id=run.task_id) in effects
    assert [e.type for e in events][:1] == ["TaskTimedOut"]
    assert events[0].details["taskTimedOutEventDetails"] == {
        "resourceType": "lambda",
        "resource": "invoke",
        "error": "States.Timeout",
    }
    assert state.status == "SUCCEEDED"
    assert state.output == {"Error": "States.Timeout", "Cause": ""}


def test_timeout_seconds_path() -> None:
    machine = parse(
        {
            "StartAt": "T",
            "States": {
                "T": {"Type": "Task", "Resource": FN, "TimeoutSecondsPath": "$.t", "End": True}
            },
        }
    )
    _, events, effects = start(machine, {"t": 42}, _ctx(), T0)
    run = next(e for e in effects if isinstance(e, RunTask))
    assert run.timeout_seconds == 42
    details = events[-1].details["taskScheduledEventDetails"]
    assert isinstance(details, dict) and details["timeoutInSeconds"] == 42


def test_full_jitter_is_random_below_the_backoff_and_replayable() -> None:
    r = Retrier(error_equals=("States.ALL",), interval_seconds=10, jitter_strategy="FULL")
    import random

    delays = [backoff_delay(r, 2, random.Random(i)) for i in range(50)]
    assert all(0 <= d <= 40 for d in delays)
    assert len(set(delays)) > 40
    assert backoff_delay(r, 2, random.Random(7)) == backoff_delay(r, 2, random.Random(7))


@pytest.mark.parametrize(
    ("error", "expected"),
    [("States.Timeout", None), ("Custom", 0), ("States.DataLimitExceeded", None)],
)
def test_task_failed_does_not_match_timeout_nor_terminal_errors(
    error: str, expected: int | None
) -> None:
    decision = decide_retry([Retrier(error_equals=("States.TaskFailed",))], [0], error)
    assert (decision.index if decision else None) == expected


def test_parallel_state_is_retried_as_a_whole() -> None:
    calls: list[JSON] = []

    def once_failing(params: JSON) -> JSON:
        calls.append(params)
        if len(calls) == 1:
            raise FlakyError("first")
        return "fine"

    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "End": True,
                "Retry": [{"ErrorEquals": ["FlakyError"], "IntervalSeconds": 2}],
                "Branches": [
                    {
                        "StartAt": "T",
                        "States": {"T": {"Type": "Task", "Resource": FN, "End": True}},
                    },
                    {"StartAt": "Q", "States": {"Q": {"Type": "Pass", "Result": 1, "End": True}}},
                ],
            }
        },
    }
    result = execute(definition, {}, tasks={FN: once_failing}, virtual_time=True)
    assert result.output == ["fine", 1]
    assert len(result.events("ParallelStateStarted")) == 2
    assert result.events("ParallelStateFailed") == []
