"""ASL error names and AWS's Retry/Catch matching rules (AWS "Error handling" page)."""

from __future__ import annotations

import pytest

from eltflow.asl import errors

TASK_ERRORS = [
    "States.TaskFailed",
    "States.Permissions",
    "States.ResultPathMatchFailure",
    "States.ParameterPathFailure",
    "States.BranchFailed",
    "States.NoChoiceMatched",
    "States.IntrinsicFailure",
    "States.ExceedToleratedFailureThreshold",
    "States.ItemReaderFailed",
    "States.ResultWriterFailed",
    "States.QueryEvaluationError",
    "States.Http.Socket",
    "Lambda.ServiceException",
    "DynamoDB.ConditionalCheckFailedException",
    "MyCustomError",
]


def test_predefined_names() -> None:
    assert len(errors.PREDEFINED) == 17
    assert all(name.startswith("States.") for name in errors.PREDEFINED)
    assert {"States.DataLimitExceeded", "States.Runtime"} == errors.TERMINAL


@pytest.mark.parametrize("error", [*TASK_ERRORS, "States.Timeout", "States.HeartbeatTimeout"])
def test_states_all_matches_every_non_terminal_error(error: str) -> None:
    assert errors.matches(["States.ALL"], error)


@pytest.mark.parametrize("error", ["States.DataLimitExceeded", "States.Runtime"])
def test_terminal_errors_match_nothing(error: str) -> None:
    assert errors.is_terminal(error)
    assert not errors.matches(["States.ALL"], error)
    assert not errors.matches([error], error)
    assert not errors.matches(["States.TaskFailed"], error)


@pytest.mark.parametrize("error", TASK_ERRORS)
def test_task_failed_matches_everything_but_timeouts(error: str) -> None:
    assert errors.matches(["States.TaskFailed"], error)


@pytest.mark.parametrize("error", ["States.Timeout", "States.HeartbeatTimeout"])
def test_task_failed_does_not_match_timeouts(error: str) -> None:
    assert not errors.matches(["States.TaskFailed"], error)
    assert errors.matches(["States.Timeout"], error)


@pytest.mark.parametrize(
    ("error_equals", "error", "expected"),
    [
        (["MyError"], "MyError", True),
        (["MyError"], "myerror", False),
        (["A", "B"], "B", True),
        ([], "A", False),
        (["States.HeartbeatTimeout"], "States.Timeout", False),
        (["States.HeartbeatTimeout"], "States.HeartbeatTimeout", True),
        (["Lambda.ServiceException"], "Lambda.SdkClientException", False),
    ],
)
def test_exact_matching(error_equals: list[str], error: str, expected: bool) -> None:
    assert errors.matches(error_equals, error) is expected


def test_reserved_prefix() -> None:
    assert errors.is_reserved("States.Whatever")
    assert not errors.is_reserved("Custom.States")


def test_state_failure_cause() -> None:
    assert errors.state_failure_cause("Pick", 2, "Detail.") == (
        "An error occurred while executing the state 'Pick' (entered at the event id #2). Detail."
    )
