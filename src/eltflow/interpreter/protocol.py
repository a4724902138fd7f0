"""The contract between the pure interpreter and whatever drives it (in-memory runner, runtime).

The interpreter never does I/O, never sleeps and never reads a clock. The driver:

1. calls :func:`eltflow.interpreter.start` with the machine, input, context and ``now``;
2. persists the returned events (AWS-shaped history) and state snapshot, then carries out the
   returned effects: runs each :class:`RunTask` (anywhere, concurrently), arms each
   :class:`StartTimer` (a durable row with a due time), cancels each :class:`CancelTask` /
   :class:`CancelTimer`;
3. feeds each outcome back as an :class:`Inbound` through :func:`eltflow.interpreter.advance`,
   one at a time (per execution), with the current ``now``;
4. stops when ``state.status`` is no longer ``RUNNING``.

Every id (task, timer) is deterministic and unique within an execution, so an inbound that
arrives twice (a crash between running a task and recording it) is recognised and ignored.
The state is JSON-serialisable (``to_json`` / ``from_json``) so it can be snapshotted; it can
also be rebuilt by replaying the recorded inbounds from ``start``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from eltflow.types import JSON, JSONObject

ExecutionStatus = Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]


# Not slots: new_context fills the instance dict in one call (see there).
@dataclass(frozen=True, kw_only=True)
class ExecutionContext:
    """What the context object ``$$`` exposes about the execution (fixed for its lifetime)."""

    execution_arn: str
    execution_name: str
    state_machine_arn: str
    state_machine_name: str
    start_time: datetime
    role_arn: str = "arn:aws:iam::123456789012:role/eltflow"
    redrive_count: int = 0
    # Seeds States.UUID / $uuid / $random / jitter so a replay makes the same choices.
    seed: str = ""
    # TestState's ``context``: when set, ``$$`` is this object as given (AWS, recorded). Only a
    # TestState run, never stored, has one: snapshots do not carry it.
    given_context: JSONObject | None = None


_new = object.__new__


def new_context(
    *,
    execution_arn: str,
    execution_name: str,
    state_machine_arn: str,
    state_machine_name: str,
    start_time: datetime,
    role_arn: str,
    seed: str,
) -> ExecutionContext:
    """``ExecutionContext(...)`` with these fields (the others at their defaults): the same
    frozen object, its instance dict filled in one call instead of one ``object.__setattr__``
    per field (the dataclass's ``__init__``): a driver makes one context per execution, and
    this was 8.7k instructions with the fields set one by one as slots, 5.8k through
    ``__dict__.update(**fields)``. Item by item into the instance dict, in the fields' order
    (the dict then shares the class's keys, and no keyword dict is built): ~2k less again."""
    c = _new(ExecutionContext)
    d = c.__dict__
    d["execution_arn"] = execution_arn
    d["execution_name"] = execution_name
    d["state_machine_arn"] = state_machine_arn
    d["state_machine_name"] = state_machine_name
    d["start_time"] = start_time
    d["role_arn"] = role_arn
    d["redrive_count"] = 0
    d["seed"] = seed
    d["given_context"] = None
    return c


@dataclass(frozen=True, kw_only=True, slots=True)
class HistoryEvent:
    """One event of ``GetExecutionHistory``: ``details`` is keyed by AWS's member name,
    e.g. ``{"stateEnteredEventDetails": {"name": ..., "input": ..., "inputDetails": ...}}``."""

    id: int
    previous_event_id: int
    timestamp: datetime
    type: str
    details: JSONObject = field(default_factory=dict)

    def to_aws(self) -> JSONObject:
        """The event exactly as ``GetExecutionHistory`` returns it (timestamp as ISO-8601)."""
        out: JSONObject = {
            "timestamp": self.timestamp.isoformat(),
            "type": self.type,
            "id": self.id,
            "previousEventId": self.previous_event_id,
        }
        out.update(self.details)
        return out


# --- effects: what the driver must do -------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class RunTask:
    task_id: str
    state_name: str
    resource: str
    parameters: JSON
    timeout_seconds: float | None = None
    heartbeat_seconds: float | None = None
    task_token: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelTask:
    task_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class StartTimer:
    timer_id: str
    due: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelTimer:
    timer_id: str


Effect = RunTask | CancelTask | StartTimer | CancelTimer


# --- inbounds: what happened outside ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskStarted:
    task_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskSubmitted:
    """The service accepted the task's request and the task now waits: a ``.sync`` task for
    the job it started, a ``.waitForTaskToken`` task for its token. ``output`` is the
    service's response to the request (AWS records it in ``TaskSubmitted``)."""

    task_id: str
    output: JSON


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskSucceeded:
    task_id: str
    output: JSON


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskFailed:
    """``error`` is an ASL error name (``States.Timeout``, ``Lambda.Unknown``, ...)."""

    task_id: str
    error: str
    cause: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskHeartbeat:
    """``SendTaskHeartbeat`` for the task: restarts its ``HeartbeatSeconds`` countdown."""

    task_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class TimerFired:
    timer_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class StopRequested:
    error: str | None = None
    cause: str | None = None


Inbound = (
    TaskStarted
    | TaskSubmitted
    | TaskSucceeded
    | TaskFailed
    | TimerFired
    | StopRequested
    | TaskHeartbeat
)
