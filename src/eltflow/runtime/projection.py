"""The execution row rebuilt from history alone: history is the source of truth, the row a
projection of it (written in the same transaction as the events it follows from).

Used to check the stored projection (``eltflow`` tests, and an operator after restoring a
backup) and to describe an execution whose row was lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eltflow.store.rows import EventRow

# Closing event type -> (status, details member)
_CLOSING = {
    "ExecutionSucceeded": ("SUCCEEDED", "executionSucceededEventDetails"),
    "ExecutionFailed": ("FAILED", "executionFailedEventDetails"),
    "ExecutionTimedOut": ("TIMED_OUT", "executionTimedOutEventDetails"),
    "ExecutionAborted": ("ABORTED", "executionAbortedEventDetails"),
}


@dataclass(frozen=True, kw_only=True)
class Projection:
    status: str
    input: str | None
    output: str | None
    error: str | None
    cause: str | None
    start_us: int | None
    stop_us: int | None
    redrive_count: int
    redrive_us: int | None
    event_count: int


def project(events: Iterable[EventRow]) -> Projection:
    """Fold an execution's events (in order) into what its row must say."""
    status = "RUNNING"
    input_text: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    start_us: int | None = None
    stop_us: int | None = None
    redrive_us: int | None = None
    redrives = 0
    count = 0
    for ev in events:
        count += 1
        if ev.event_type == "ExecutionStarted":
            details = ev.details.get("executionStartedEventDetails")
            if isinstance(details, dict) and isinstance(details.get("input"), str):
                input_text = str(details["input"])
            start_us = ev.timestamp_us
        elif ev.event_type == "ExecutionRedriven":
            details = ev.details.get("executionRedrivenEventDetails")
            count_value = details.get("redriveCount") if isinstance(details, dict) else None
            if isinstance(count_value, int):
                redrives = count_value
            status, output, error, cause, stop_us = "RUNNING", None, None, None, None
            redrive_us = ev.timestamp_us
        elif ev.event_type in _CLOSING:
            status, member = _CLOSING[ev.event_type]
            details = ev.details.get(member)
            details = details if isinstance(details, dict) else {}
            output = _text(details.get("output")) if status == "SUCCEEDED" else None
            error = _text(details.get("error"))
            cause = _text(details.get("cause"))
            stop_us = ev.timestamp_us
    return Projection(
        status=status,
        input=input_text,
        output=output,
        error=error,
        cause=cause,
        start_us=start_us,
        stop_us=stop_us,
        redrive_count=redrives,
        redrive_us=redrive_us,
        event_count=count,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
