"""The durable shell around the pure interpreter: every step is recorded in one transaction.

A step is: lock the execution row, load its snapshot, feed the interpreter (start / advance /
redrive), then write — in the same transaction — the new history events (idempotent appends
keyed by (execution, seq)), the effects as rows (tasks to run, timers with a due time), and the
execution projection (status, output, snapshot). A crash at any point leaves either all of a
step or none of it, so resuming is "load the snapshot and carry on": tasks still recorded as
pending are dispatched again, timers fire when due.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, cast

from eltflow.asl.model import StateMachine
from eltflow.clock import Clock
from eltflow.errors import NotFoundError
from eltflow.interpreter.protocol import (
    CancelTask,
    CancelTimer,
    Effect,
    ExecutionContext,
    HistoryEvent,
    Inbound,
    RunTask,
    StartTimer,
    TaskFailed,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
)
from eltflow.interpreter.state import ExecutionState
from eltflow.interpreter.step import start_lazy
from eltflow.runtime.machines import MachineCache
from eltflow.store.interface import StateStore, Txn
from eltflow.store.rows import ExecutionRow, TaskRow, to_us
from eltflow.store.runtime_store import dumps
from eltflow.types import JSON, JSONObject

if TYPE_CHECKING:
    from eltflow.interpreter.step import LazyStep

log = logging.getLogger(__name__)


LIVE_SNAPSHOT = "(live)"
"""The snapshot column on a store that is not durable: the state is held by the engine."""


class SimulatedCrash(BaseException):
    """Raised by the ``crash_after_events`` fault hook right after a commit, as a kill -9 would
    stop the process there. A BaseException so that no ``except Exception`` swallows it."""


@dataclass
class StepResult:
    """What a recorded step left for the caller: the state and the tasks it may dispatch."""

    state: ExecutionState | None
    dispatch: list[TaskRow] = field(default_factory=list)
    status: str = "RUNNING"
    next_timer_us: int | None = None
    lost: bool = False  # the caller no longer holds the lease
    arn: str = ""  # the execution's ARN (the worker needs it to run tasks)


@dataclass
class _Pending:
    events: list[HistoryEvent] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)


class Engine:
    def __init__(
        self,
        store: StateStore,
        clock: Clock,
        *,
        crash_after_events: int | None = None,
        on_events: Callable[[str, Sequence[HistoryEvent]], None] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.machines = MachineCache(store)
        self.crash_after_events = crash_after_events
        self.events_recorded = 0
        self._on_events = on_events  # sees each step's events as they are recorded
        # A store that is not durable (memory) gets no snapshots: the engine keeps each
        # execution's state object here, so no step encodes and decodes the whole state.
        self._live: dict[str, ExecutionState] | None = None if store.durable else {}
        self._local = threading.local()  # per thread: inside group()?

    @contextmanager
    def group(self) -> Iterator[None]:
        """Record the steps taken inside (on this thread) in one transaction: they commit
        together or not at all (group commit). The crash hook runs after that one COMMIT,
        as it does after each step's own."""
        local = self._local
        if getattr(local, "grouped", False):
            yield
            return
        local.grouped = True
        try:
            with self.store.transaction():
                yield
        finally:
            local.grouped = False
        self._after_commit()

    # -- execution state ---------------------------------------------------------------------
    def _load(self, row: ExecutionRow) -> ExecutionState:
        if self._live is not None:
            live = self._live.get(row.id)
            if live is not None:
                return live
        return ExecutionState.from_json(cast(JSONObject, json.loads(row.snapshot or "")))

    def _snapshot(self, execution_id: str, state: ExecutionState) -> str:
        if self._live is not None:
            self._live[execution_id] = state
            return LIVE_SNAPSHOT
        return dumps(state.to_json())

    def state_of(self, execution_id: str) -> ExecutionState | None:
        """The live state of an execution on a store that is not durable (else ``None``)."""
        return None if self._live is None else self._live.get(execution_id)

    def state_of_row(self, row: ExecutionRow) -> ExecutionState | None:
        """The interpreter state recorded with ``row`` (durable or live), None before any."""
        return None if row.snapshot is None else self._load(row)

    # -- entry points ----------------------------------------------------------------------
    def start_txn(
        self,
        conn: Txn,
        row: ExecutionRow,
        machine: StateMachine,
        input: JSON,
        context: ExecutionContext,
        now: datetime,
    ) -> ExecutionState:
        """Record ``start`` for a freshly inserted execution row (inside the caller's txn)."""
        return self.record_start_txn(conn, row, self.begin(machine, input, context, now), now)

    def begin(
        self, machine: StateMachine, input: JSON, context: ExecutionContext, now: datetime
    ) -> LazyStep:
        """An execution's first step, decided but not recorded yet (:meth:`record_start_txn`
        records it; :meth:`start_txn` does both). Its events are built when first read: an
        in-memory execution that ends in this step may never need them."""
        return start_lazy(machine, input, context, now)

    def record_start_txn(
        self, conn: Txn, row: ExecutionRow, step: LazyStep, now: datetime
    ) -> ExecutionState:
        """Record the first step :meth:`begin` decided, for the execution row it belongs to."""
        state, log, effects = step
        events = log.events()
        now_us = to_us(now)
        self._record(conn, row.id, events, effects, [], now_us)
        # A new execution has no tasks or timers but those this step made: no need to read.
        work = _work_of(effects) if row.event_count == 0 and row.snapshot is None else None
        self._project(conn, row, state, now_us, owner=None, events=events, work=work)
        return state

    def apply(
        self,
        execution_id: str,
        inbounds: Sequence[Inbound],
        *,
        owner: str | None = None,
        due_timers: bool = False,
        inbox: bool = False,
        dispatch: Callable[[TaskRow], bool] | None = None,
        release: bool | Callable[[], bool] = False,
    ) -> StepResult:
        """One recorded step: feed ``inbounds`` (plus due timers / inbox requests), optionally
        mark tasks for dispatch (``dispatch(task)`` says whether to take it), then project and,
        if ``release``, give the lease back. Commits, then runs the crash hook."""
        from eltflow.interpreter.step import advance

        now = self.clock.now()
        now_us = to_us(now)
        with self.store.transaction() as conn:
            row, due, requests = self.store.lock_step_txn(
                conn, execution_id, due_us=now_us if due_timers else None, inbox=inbox
            )
            if row is None:
                raise NotFoundError(f"execution {execution_id} does not exist")
            if row.status != "RUNNING" or row.snapshot is None:
                self.store.clear_work_txn(conn, execution_id)
                if owner is not None:
                    self.store.release_txn(
                        conn, owner=owner, execution_id=execution_id, wake_us=None
                    )
                return StepResult(state=None, status=row.status, arn=row.arn)
            machine = self.machines.get_txn(conn, row.version_id)
            state = self._load(row)
            todo: list[Inbound] = list(inbounds)
            todo += [TimerFired(timer_id=t.timer_id) for t in due]
            if requests:
                from eltflow.interpreter.protocol import StopRequested

                for item in requests:
                    payload = json.loads(item.payload)
                    if item.kind == "stop":
                        todo.append(
                            StopRequested(error=payload.get("error"), cause=payload.get("cause"))
                        )
                    self.store.delete_inbox_txn(conn, item.id)
            pending = _Pending()
            for inbound in todo:
                if state.status != "RUNNING":
                    break
                state, events, effects = advance(machine, state, inbound, now)
                pending.events += events
                pending.effects += effects
            self._record(conn, execution_id, pending.events, pending.effects, todo, now_us)
            taken: list[TaskRow] = []
            # A worker whose lease lapsed (and was taken over) still records the outcome it
            # holds, but must not dispatch: the new owner does that.
            lost = owner is not None and row.lease_owner != owner
            work: tuple[bool, int | None] | None = None
            if dispatch is not None and state.status == "RUNNING" and not lost:
                started = _Pending()
                tasks, next_timer = self.store.work_txn(conn, execution_id)
                for task in tasks:
                    if not dispatch(task):
                        continue
                    if not task.started:
                        state, events, effects = advance(
                            machine, state, TaskStarted(task_id=task.task_id), now
                        )
                        started.events += events
                        started.effects += effects
                    self.store.dispatch_task_txn(conn, execution_id, task.task_id)
                    taken.append(task)
                self._record(conn, execution_id, started.events, started.effects, [], now_us)
                if not started.effects:  # dispatching added and removed no task or timer
                    work = (_runnable(tasks), next_timer)
            wake, next_timer = self._project(
                conn, row, state, now_us, owner=owner, events=pending.events, work=work
            )
            do_release = release() if callable(release) else release
            if owner is not None and (do_release or state.status != "RUNNING"):
                self.store.release_txn(conn, owner=owner, execution_id=execution_id, wake_us=wake)
        self._after_commit()
        return StepResult(
            state=state,
            dispatch=taken if state.status == "RUNNING" else [],
            status=state.status,
            next_timer_us=next_timer,
            lost=lost,
            arn=row.arn,
        )

    def redrive(self, execution_id: str) -> ExecutionState:
        from eltflow.interpreter.step import redrive

        now = self.clock.now()
        now_us = to_us(now)
        with self.store.transaction() as conn:
            row = self.store.lock_execution_txn(conn, execution_id)
            if row is None or row.snapshot is None:
                raise NotFoundError(f"execution {execution_id} does not exist")
            machine = self.machines.get_txn(conn, row.version_id)
            state = self._load(row)
            state, events, effects = redrive(machine, state, now)
            self.store.clear_work_txn(conn, execution_id)
            self._record(conn, execution_id, events, effects, [], now_us)
            self.store.set_redriven_txn(conn, execution_id, now_us)
            self._project(conn, row, state, now_us, owner=None, reopen=True, events=events)
        self._after_commit()
        return state

    def fail(self, execution_id: str, error: str, cause: str) -> None:
        """Fail a RUNNING execution that cannot make progress (the interpreter raised on it):
        record ExecutionFailed after its last event, so it ends visibly instead of being
        retried by every worker forever. Redrive can continue it once the cause is fixed."""
        from eltflow.interpreter.events import execution_failed

        now = self.clock.now()
        now_us = to_us(now)
        with self.store.transaction() as conn:
            row = self.store.lock_execution_txn(conn, execution_id)
            if row is None or row.status != "RUNNING":
                return
            next_id, previous, snapshot = row.event_count + 1, row.event_count, row.snapshot
            try:  # keep the snapshot consistent when it can be read (redrive needs it)
                state = self._load(row)
                next_id, previous = state.next_event_id, state.last_event_id
                state.next_event_id, state.last_event_id = next_id + 1, next_id
                state.status, state.error, state.cause = "FAILED", error, cause
                snapshot = self._snapshot(execution_id, state)
            except Exception:  # the snapshot itself may be what broke
                log.exception("execution %s: unreadable snapshot kept as is", execution_id)
            event_type, details = execution_failed(error, cause)
            event = HistoryEvent(
                id=next_id,
                previous_event_id=previous,
                timestamp=now,
                type=event_type,
                details=details,
            )
            self._record(conn, execution_id, [event], [], [], now_us)
            self.store.clear_work_txn(conn, execution_id)
            self.store.update_execution_txn(
                conn,
                execution_id=execution_id,
                status="FAILED",
                output=None,
                error=error,
                cause=cause,
                stop_us=now_us,
                snapshot=snapshot,
                event_count=next_id,
                wake_us=None,
            )
            if row.lease_owner is not None:
                self.store.release_txn(
                    conn, owner=row.lease_owner, execution_id=execution_id, wake_us=None
                )
        self._after_commit()

    # -- recording -------------------------------------------------------------------------
    def _record(
        self,
        conn: Txn,
        execution_id: str,
        events: Sequence[HistoryEvent],
        effects: Sequence[Effect],
        consumed: Sequence[Inbound],
        now_us: int,
    ) -> None:
        store = self.store
        # Deletes read nothing back (forget_work_txn), so a durable store sends them with the
        # step's other writes in one round trip.
        done_tasks: list[str] = []
        done_timers: list[str] = []
        for inbound in consumed:
            # The outcome is recorded with this step: the task / timer row is done.
            # A TaskStarted fed back by the task runner is a .waitForTaskToken call made: the
            # task waits for its token (SendTaskSuccess/Failure), nothing is left to run.
            if isinstance(inbound, TaskSucceeded | TaskFailed | TaskStarted):
                done_tasks.append(inbound.task_id)
            elif isinstance(inbound, TimerFired):
                done_timers.append(inbound.timer_id)
        if done_tasks or done_timers:
            store.forget_work_txn(conn, execution_id, task_ids=done_tasks, timer_ids=done_timers)
        for effect in effects:
            if isinstance(effect, RunTask):
                store.insert_task_txn(
                    conn,
                    execution_id=execution_id,
                    task_id=effect.task_id,
                    state_name=effect.state_name,
                    resource=effect.resource,
                    parameters=effect.parameters,
                    timeout_seconds=effect.timeout_seconds,
                    heartbeat_seconds=effect.heartbeat_seconds,
                    task_token=effect.task_token,
                    now_us=now_us,
                )
            elif isinstance(effect, CancelTask):
                store.forget_work_txn(conn, execution_id, task_ids=[effect.task_id])
            elif isinstance(effect, StartTimer):
                store.insert_timer_txn(conn, execution_id, effect.timer_id, to_us(effect.due))
            elif isinstance(effect, CancelTimer):
                store.forget_work_txn(conn, execution_id, timer_ids=[effect.timer_id])
        if events:
            store.append_history_txn(conn, execution_id, events)
            self.events_recorded += len(events)
            if self._on_events is not None:
                self._on_events(execution_id, events)

    def _project(
        self,
        conn: Txn,
        row: ExecutionRow,
        state: ExecutionState,
        now_us: int,
        *,
        owner: str | None,
        reopen: bool = False,
        events: Sequence[HistoryEvent] = (),
        work: tuple[bool, int | None] | None = None,
    ) -> tuple[int | None, int | None]:
        """Write the execution row from the state; returns when it next has work and when its
        next timer is due (either None: never). ``work`` is (runnable, next timer) when the
        caller knows them, else they are read."""
        store = self.store
        running = state.status == "RUNNING"
        next_timer: int | None = None
        if running:
            # Pending task rows need a runner now (if the lease holder dies, whoever claims
            # next re-dispatches them); otherwise the execution sleeps until its next timer.
            # Activity tasks wait for a GetActivityTask poller, not for a runner.
            if work is None:
                tasks, next_timer = store.work_txn(conn, row.id)
                runnable = _runnable(tasks)
            else:
                runnable, next_timer = work
            wake = now_us if runnable else next_timer
        else:
            store.clear_work_txn(conn, row.id)
            wake = None
        stop_us = None if running else (row.stop_us if row.status == state.status else now_us)
        if reopen:
            stop_us = None if running else now_us
        if wake is not None and wake <= now_us and owner is None:
            store.notify_work_txn(conn)  # runnable now and nobody holds it: wake a worker
        store.update_execution_txn(
            conn,
            execution_id=row.id,
            status=state.status,
            output=_output_text(state, events),
            error=state.error,
            cause=state.cause,
            stop_us=stop_us,
            snapshot=self._snapshot(row.id, state),
            event_count=state.next_event_id - 1,
            wake_us=wake,
        )
        return wake, next_timer

    def _after_commit(self) -> None:
        if getattr(self._local, "grouped", False):
            return  # not committed yet: group() runs this after its COMMIT
        limit = self.crash_after_events
        if limit is not None and self.events_recorded >= limit:
            raise SimulatedCrash(f"fault hook: crashed after {self.events_recorded} events")


def is_activity(resource: str) -> bool:
    """An activity ARN (``arn:aws:states:REGION:ACCOUNT:activity:NAME``): its task is handed to
    a worker polling GetActivityTask, never run by the task runner."""
    return resource.startswith("arn:aws:states:") and ":activity:" in resource


def _runnable(tasks: Sequence[TaskRow]) -> bool:
    """Whether some pending task needs a runner (an activity task waits for a poller)."""
    return any(not is_activity(t.resource) for t in tasks)


def _work_of(effects: Sequence[Effect]) -> tuple[bool, int | None]:
    """(runnable, next timer due) of an execution whose only tasks and timers are those
    ``effects`` make (its first step)."""
    tasks: dict[str, str] = {}
    timers: dict[str, int] = {}
    for effect in effects:
        if isinstance(effect, RunTask):
            tasks.setdefault(effect.task_id, effect.resource)
        elif isinstance(effect, CancelTask):
            tasks.pop(effect.task_id, None)
        elif isinstance(effect, StartTimer):
            timers.setdefault(effect.timer_id, to_us(effect.due))
        elif isinstance(effect, CancelTimer):
            timers.pop(effect.timer_id, None)
    runnable = any(not is_activity(resource) for resource in tasks.values())
    return runnable, min(timers.values()) if timers else None


def _output_text(state: ExecutionState, events: Sequence[HistoryEvent]) -> str | None:
    """A succeeded execution's output as text: the ExecutionSucceeded event of this step
    already holds it, encoded the same way (compact, key order kept), so it is not encoded
    twice."""
    if state.status != "SUCCEEDED":
        return None
    if events and events[-1].type == "ExecutionSucceeded":
        details = events[-1].details.get("executionSucceededEventDetails")
        if isinstance(details, dict) and isinstance(details.get("output"), str):
            return cast(str, details["output"])
    return dumps(state.output)
