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
from typing import Any, Literal

from eltflow.types import JSON, JSONObject

ExecutionStatus = Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]


@dataclass(frozen=True, kw_only=True, slots=True)
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


# Setting the slots through their descriptors skips the frozen dataclass's __init__ (one
# object.__setattr__ call per field): about half the cost, for a driver that makes one context
# per execution (a 10-Pass chain in memory spent ~1.2 of its ~18 µs building it).
_context_slots: dict[str, Any] = dict(vars(ExecutionContext))
_set_arn = _context_slots["execution_arn"].__set__
_set_name = _context_slots["execution_name"].__set__
_set_machine_arn = _context_slots["state_machine_arn"].__set__
_set_machine_name = _context_slots["state_machine_name"].__set__
_set_start = _context_slots["start_time"].__set__
_set_role = _context_slots["role_arn"].__set__
_set_redrives = _context_slots["redrive_count"].__set__
_set_seed = _context_slots["seed"].__set__
_set_given = _context_slots["given_context"].__set__


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
    frozen object, built in about half the time."""
    c = object.__new__(ExecutionContext)
    _set_arn(c, execution_arn)
    _set_name(c, execution_name)
    _set_machine_arn(c, state_machine_arn)
    _set_machine_name(c, state_machine_name)
    _set_start(c, start_time)
    _set_role(c, role_arn)
    _set_redrives(c, 0)
    _set_seed(c, seed)
    _set_given(c, None)
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
