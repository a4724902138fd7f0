"""ASL error names as data, and AWS's rules for matching them in ``Retry``/``Catch``.

Errors inside an execution are strings (``States.TaskFailed``, ``DynamoDB.ConditionalCheck...``)
recorded in history, never Python exception classes: they survive replay, travel through
``$states.errorOutput`` and are compared by ``ErrorEquals``. This module holds the predefined
names and the matching rules from AWS's "Error handling in Step Functions" page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

ALL: Final = "States.ALL"
TIMEOUT: Final = "States.Timeout"
HEARTBEAT_TIMEOUT: Final = "States.HeartbeatTimeout"
TASK_FAILED: Final = "States.TaskFailed"
PERMISSIONS: Final = "States.Permissions"
RESULT_PATH_MATCH_FAILURE: Final = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE: Final = "States.ParameterPathFailure"
BRANCH_FAILED: Final = "States.BranchFailed"
NO_CHOICE_MATCHED: Final = "States.NoChoiceMatched"
INTRINSIC_FAILURE: Final = "States.IntrinsicFailure"
EXCEED_TOLERATED_FAILURE_THRESHOLD: Final = "States.ExceedToleratedFailureThreshold"
ITEM_READER_FAILED: Final = "States.ItemReaderFailed"
RESULT_WRITER_FAILED: Final = "States.ResultWriterFailed"
DATA_LIMIT_EXCEEDED: Final = "States.DataLimitExceeded"
RUNTIME: Final = "States.Runtime"
QUERY_EVALUATION_ERROR: Final = "States.QueryEvaluationError"
HTTP_SOCKET: Final = "States.Http.Socket"

PREDEFINED: Final[frozenset[str]] = frozenset(
    {
        ALL,
        TIMEOUT,
        HEARTBEAT_TIMEOUT,
        TASK_FAILED,
        PERMISSIONS,
        RESULT_PATH_MATCH_FAILURE,
        PARAMETER_PATH_FAILURE,
        BRANCH_FAILED,
        NO_CHOICE_MATCHED,
        INTRINSIC_FAILURE,
        EXCEED_TOLERATED_FAILURE_THRESHOLD,
        ITEM_READER_FAILED,
        RESULT_WRITER_FAILED,
        DATA_LIMIT_EXCEEDED,
        RUNTIME,
        QUERY_EVALUATION_ERROR,
        HTTP_SOCKET,
    }
)
"""Every ``States.*`` name AWS defines. Other ``States.`` names are reserved (see
:func:`is_reserved`)."""

TERMINAL: Final[frozenset[str]] = frozenset({DATA_LIMIT_EXCEEDED, RUNTIME})
"""Errors no Retry or Catch can handle: "States.ALL ... cannot catch the States.DataLimitExceeded
terminal error or Runtime error types" (AWS error-handling page). They always fail the
execution."""

_TIMEOUTS: Final[frozenset[str]] = frozenset({TIMEOUT, HEARTBEAT_TIMEOUT})


def is_terminal(error: str) -> bool:
    """True when ``error`` can never be retried or caught."""
    return error in TERMINAL


def is_reserved(error: str) -> bool:
    """True for names in the ``States.`` namespace.

    "States can report errors with other names. However, these error names can't begin with the
    States. prefix" -- a Fail state or a task must not invent one.
    """
    return error.startswith("States.")


def matches(error_equals: Sequence[str], error: str) -> bool:
    """Whether a retrier's or catcher's ``ErrorEquals`` handles ``error``.

    Rules (AWS error-handling page):

    - terminal errors (``States.DataLimitExceeded``, ``States.Runtime``) match nothing;
    - ``States.ALL`` "matches any known error name";
    - ``States.TaskFailed`` "acts as a wildcard that matches any known error name except for
      ``States.Timeout``"; a heartbeat timeout is a kind of timeout, so it is excluded too;
    - ``States.Timeout`` matches a task that "ran longer than TimeoutSeconds, or failed to send
      a heartbeat for a period longer than HeartbeatSeconds", so it also matches
      ``States.HeartbeatTimeout``;
    - any other entry matches only the identical (case-sensitive) name.
    """
    if is_terminal(error):
        return False
    for name in error_equals:
        if name in (error, ALL):
            return True
        if name == TASK_FAILED and error not in _TIMEOUTS:
            return True
        if name == TIMEOUT and error == HEARTBEAT_TIMEOUT:
            return True
    return False


LOCATED: Final[frozenset[str]] = frozenset({RUNTIME, QUERY_EVALUATION_ERROR, NO_CHOICE_MATCHED})
"""Errors the engine itself raises while it executes a state (a path or an intrinsic that fails,
a JSONata expression that fails or returns the wrong type, a Choice with no match, a field
value out of range): AWS's cause names the state (see :func:`state_failure_cause`). Errors a
task reports, a Fail state's own error, ``States.DataLimitExceeded`` ("The state/task 'X'
returned a result ...") and errors a branch passes up keep their cause as it is."""


def state_failure_cause(state_name: str, entered_event_id: int, detail: str) -> str:
    """The cause AWS writes for an error raised while a state runs its data flow.

    AWS prefixes the detail of a ``States.Runtime``/``States.QueryEvaluationError`` raised by
    paths, intrinsics or JSONata with the state and the id of its ``...StateEntered`` event, e.g.
    ``An error occurred while executing the state 'Pick' (entered at the event id #2). The
    function 'States.Format('{}', $.nope)' had the following error: ...``.
    """
    return (
        f"An error occurred while executing the state '{state_name}' "
        f"(entered at the event id #{entered_event_id}). {detail}"
    )


def located_cause(error: str, cause: str, state_name: str, entered_event_id: int) -> str:
    """``cause`` as AWS records it when ``error`` was raised while ``state_name`` executed."""
    if error in LOCATED:
        return state_failure_cause(state_name, entered_event_id, cause)
    return cause
