"""The durable shell around the pure interpreter: every step is recorded in one transaction.

A step is: read the execution (its snapshot, due timers, inbox, tasks) without a write lock
(or, for a worker's execution it still holds and that has no timers, take what its last step
wrote: :class:`KnownSteps`), feed the interpreter (start / advance / redrive) with no
transaction open, then write — in one transaction that locks the execution row and commits
only if it is still as read (PostgreSQL sends the lock with the writes and checks it before
COMMIT) — the new history events (idempotent appends keyed by (execution, seq)), the effects
as rows (tasks to run, timers with a due time), and the execution projection (status,
output, snapshot). A crash at any point
leaves either all of a step or none of it, so resuming is "load the snapshot and carry on":
tasks still recorded as pending are dispatched again, timers fire when due.

The invariant: no user expression (JSONata, JSONPath, intrinsics, Choice rules) is evaluated
while a store write transaction is open. Evaluation is bounded but may take seconds; under
SQLite's one write lock that would stall every other command and process on the store
(issue 17). A step whose execution changed between its read and its write (another writer
recorded a step first) is evaluated again from the new record, so nothing is lost or doubled.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, cast

from eltflow.asl.model import StateMachine
from eltflow.clock import Clock
from eltflow.errors import ConflictError, NotFoundError, StoreError
from eltflow.interpreter.history import EventLog
from eltflow.interpreter.protocol import (
    CancelTask,
    CancelTimer,
    Effect,
    ExecutionContext,
    HistoryEvent,
    Inbound,
    RunTask,
    StartTimer,
    StopRequested,
    TaskFailed,
    TaskStarted,
    TaskSubmitted,
    TaskSucceeded,
    TimerFired,
)
from eltflow.interpreter.state import ExecutionState, abort_unfinished
from eltflow.interpreter.step import start_lazy
from eltflow.runtime.machines import MachineCache
from eltflow.runtime.state_cache import StateCache
from eltflow.runtime.sync_waits import (
    ChildStop,
    TaskAwaiting,
    child_of,
    is_sync,
    outcome,
    stopped,
    timed_out,
    timeout_timer,
)
from eltflow.store.interface import Guard, StateStore, Txn
from eltflow.store.rows import (
    ExecutionRow,
    ExecutionVersion,
    InboxRow,
    MachineRow,
    TaskRow,
    TimerRow,
    to_us,
)
from eltflow.store.runtime_store import dumps
from eltflow.types import JSON, JSONObject

if TYPE_CHECKING:
    from eltflow.interpreter.step import LazyStep

log = logging.getLogger(__name__)


StepInbound = Inbound | TaskAwaiting
"""What a step takes in: the interpreter's inbounds, and the runtime's own TaskAwaiting."""

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
    woke: bool = False  # it ended and made a waiting parent runnable (SQLite tells; else False)


class _PerThread(threading.local):
    """An engine's per-thread state, unset as None: a ``getattr(local, name, None)`` of one a
    thread never set finds the class's None instead of raising (and formatting) an
    AttributeError to drop (issue 16: two per StartExecution, in :meth:`Engine._after_commit`)."""

    writes: list[_Write] | None = None
    written: dict[str, tuple[str, ExecutionState]] | None = None
    stops: list[ChildStop] | None = None


@dataclass(frozen=True)
class _Write:
    """A step's writes, to be made only while its execution is as the step read it."""

    execution_id: str
    as_read: Callable[[ExecutionVersion | None], bool]
    write: Callable[[Txn], None]
    committed: Callable[[], None] = lambda: None  # run once its transaction has committed


@dataclass(frozen=True)
class Known:
    """What a worker's step left recorded for an execution it still holds, when that is all
    its next step would read: the execution row as written (the lock checks it is still so),
    its task rows, and no timers, due or not. Tasks and timers change only in steps, and a
    step rewrites the row's snapshot, so another writer's step is caught by that check, and
    the step is then evaluated again from a read. (A running task's checkpoint is written
    outside steps; only a re-dispatch reads it, and a worker does not re-dispatch a task it
    runs.)"""

    row: ExecutionRow
    tasks: tuple[TaskRow, ...]
    machine: StateMachine


class KnownSteps:
    """:class:`Known` per execution, for the owner holding it: its next step skips the read
    (issue 16: a Task step's read was a round trip and four statements of its own). An entry
    is taken (removed) by the step that uses it and put back only once that step committed,
    so a step that failed or found its execution changed leaves the next one to read. At most
    ``size`` entries: an execution whose lease was lost leaves its entry behind."""

    def __init__(self, size: int = 4096) -> None:
        self._entries: dict[str, Known] = {}
        self._lock = threading.Lock()
        self._size = size

    def take(self, execution_id: str, owner: str | None) -> Known | None:
        if owner is None:
            return None
        with self._lock:
            found = self._entries.pop(execution_id, None)
        return found if found is not None and found.row.lease_owner == owner else None

    def put(self, execution_id: str, known: Known) -> None:
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries.pop(next(iter(self._entries)))
            self._entries[execution_id] = known


def _dispatched(tasks: Sequence[TaskRow], taken: Sequence[TaskRow]) -> list[TaskRow]:
    """``tasks`` as the step's dispatch_task writes leave them (started, one attempt more)."""
    ids = {t.task_id for t in taken}
    return [
        replace(t, started=True, attempt=t.attempt + 1) if t.task_id in ids else t for t in tasks
    ]


class _Changed(Exception):
    """A step's execution changed after it was read: its transaction rolls back."""


@dataclass(frozen=True, slots=True)
class FirstStep:
    """An execution's first step, decided and encoded before the transaction that records it
    opens (:meth:`Engine.first_step`): the execution's row as it is to be inserted, already
    projected from the step (status, output, snapshot, event count, next wake-up), and what
    :meth:`Engine.record_first_txn` writes after it."""

    row: ExecutionRow
    state: ExecutionState
    events: Sequence[HistoryEvent]
    effects: Sequence[Effect]


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
        keeps_succeeded: Callable[[str], bool] | None = None,
    ) -> None:
        """``keeps_succeeded(execution_id)``: on a store that is not durable, whether that
        execution's live state is kept once it has SUCCEEDED (default: none is; see
        :meth:`_keep_live`)."""
        self.store = store
        self.clock = clock
        self.machines = MachineCache(store)
        self.crash_after_events = crash_after_events
        self.events_recorded = 0
        self._on_events = on_events  # sees each step's events as they are recorded
        # A store that is not durable (memory) gets no snapshots: the engine keeps each
        # execution's state object here, so no step encodes and decodes the whole state.
        self._live: dict[str, ExecutionState] | None = None if store.durable else {}
        self._keeps_succeeded = keeps_succeeded
        self._durable = store.durable
        self._known = KnownSteps()
        # A durable store's states as this engine last committed them, each with its snapshot
        # text: a step that reads that text back starts from the state instead of decoding it.
        self._states = StateCache()
        # Per thread: the writes of an open group(), and (while a step's transaction is open)
        # the snapshots it wrote, to be kept in ``_states`` once it commits.
        self._local = _PerThread()

    @contextmanager
    def group(self) -> Iterator[None]:
        """Record the steps taken inside (on this thread) in one transaction: they commit
        together or not at all (group commit). Each step is evaluated when it is taken, with
        no transaction open; their writes are made together when the block ends, each after
        its own check that its execution did not change (:func:`_unchanged`). If one did, the
        whole group rolls back with a :class:`ConflictError` (the caller records its steps
        one at a time then). A step's :class:`StepResult` is complete once the block has
        ended. The crash hook runs after that one COMMIT, as it does after each step's own."""
        local = self._local
        if getattr(local, "writes", None) is not None:
            yield
            return
        writes: list[_Write] = []
        local.writes = writes
        try:
            yield
        finally:
            local.writes = None
        if writes:
            with self._keeping(), self.store.transaction() as conn:
                guards = []
                for write in writes:
                    guard = self.store.guard_execution_txn(conn, write.execution_id, write.as_read)
                    if guard.known() is False:
                        raise ConflictError("an execution of the group changed meanwhile")
                    write.write(conn)
                    guards.append(guard)
                # The first guard asked sends every step's lock and writes (PostgreSQL: one
                # round trip for the group); a step whose execution changed rolls back all.
                if not all(guard.holds() for guard in guards):
                    raise ConflictError("an execution of the group changed meanwhile")
            for write in writes:
                write.committed()
        self._after_commit()

    # -- execution state ---------------------------------------------------------------------
    def _load(self, row: ExecutionRow) -> ExecutionState:
        """The state recorded with ``row``, for a step to advance in place: the one this engine
        last committed with that snapshot text if it still holds it, else decoded."""
        if self._live is not None:
            live = self._live.get(row.id)
            if live is None:  # never for a step: it reads RUNNING executions only
                raise NotFoundError(
                    f"execution {row.id} ended {row.status}: its state is no longer kept"
                )
            return live
        kept = self._states.take(row.id, row.snapshot or "")
        return kept if kept is not None else _decode(row, self._parts(row.id))

    def _parts(self, execution_id: str) -> Callable[[], Mapping[str, str]]:
        """Reads the parts of the execution's snapshots, for a snapshot that names some. In a
        transaction of its own: the parts a committed snapshot names are committed with it and
        never change, so any later read finds them (PostgreSQL: another connection, even
        inside an open transaction; SQLite: that transaction)."""

        def read() -> Mapping[str, str]:
            with self.store.read_transaction() as conn:
                return self.store.snapshot_parts_txn(conn, execution_id)

        return read

    def _snapshot(self, conn: Txn, execution_id: str, state: ExecutionState) -> str:
        """The snapshot text of ``state``, the parts it names first written in ``conn``."""
        if self._live is not None:
            self._keep_live(execution_id, state)
            return LIVE_SNAPSHOT
        text, parts = state.to_stored()
        if parts:
            self.store.insert_snapshot_parts_txn(conn, execution_id, parts)
        self._local.snapshot = text  # the row a step wrote, for :class:`Known`
        written: dict[str, tuple[str, ExecutionState]] | None = getattr(
            self._local, "written", None
        )
        if written is not None:
            written[execution_id] = (text, state)
        return text

    @contextmanager
    def _keeping(self) -> Iterator[None]:
        """Collect the snapshots written on this thread inside the block (around a
        transaction) and keep them in ``_states`` if it ends without an exception, i.e. once
        the transaction committed (a block left early had written none). Snapshots written
        outside (``record_start_txn``, whose caller commits; ``fail``) are not kept: the next
        step decodes them. (A StartExecution's are kept by :meth:`first_committed`.)"""
        written: dict[str, tuple[str, ExecutionState]] = {}
        self._local.written = written
        try:
            yield
        finally:
            self._local.written = None
        for execution_id, (text, state) in written.items():
            self._states.keep(execution_id, text, state)

    def _keep_live(self, execution_id: str, state: ExecutionState) -> None:
        """Keep ``state`` as the execution's live state (a store that is not durable), unless
        it has SUCCEEDED: then nothing reads it any more, so it is dropped (issue 16: a
        Distributed Map of 100,000 items kept every finished child's state, ~1 KB each, to
        the end of the run). What could read it: a step, a redrive (only of FAILED, ABORTED
        or TIMED_OUT: AWS redrives nothing else, nor does a Map Run redrive), a task token's
        answer (the execution no longer runs: StatesService answers TaskTimedOut without a
        state to check the token's digest against), the
        waiting tasks (none once ended); the row keeps status and output, the store the
        history. ``keeps_succeeded`` names those whose caller reads it still
        (``eltflow.execute``: its own execution's, for its result)."""
        live = self._live
        assert live is not None
        if state.status != "SUCCEEDED" or (
            self._keeps_succeeded is not None and self._keeps_succeeded(execution_id)
        ):
            live[execution_id] = state
        else:
            live.pop(execution_id, None)

    def state_of(self, execution_id: str) -> ExecutionState | None:
        """The live state of an execution on a store that is not durable (else ``None``; also
        None once it SUCCEEDED, unless kept: see :meth:`_keep_live`)."""
        return None if self._live is None else self._live.get(execution_id)

    def state_of_row(self, row: ExecutionRow) -> ExecutionState | None:
        """The interpreter state recorded with ``row`` (durable or live), None before any (or,
        on a store that is not durable, once it SUCCEEDED: :meth:`_keep_live`). Only to be
        read: a live state is the execution's own; a durable one is decoded (a kept state is
        left to the next step, which may be advancing it on another thread)."""
        if row.snapshot is None:
            return None
        if self._live is not None:
            return self._live.get(row.id)
        return _decode(row, self._parts(row.id))

    # -- entry points ----------------------------------------------------------------------
    def begin(
        self, machine: StateMachine, input: JSON, context: ExecutionContext, now: datetime
    ) -> LazyStep:
        """An execution's first step, decided but not recorded yet (:meth:`record_start_txn`
        records it), evaluated before the recording transaction opens. Its events are built
        when first read: an in-memory execution that ends in this step may never need them."""
        return start_lazy(machine, input, context, now)

    def first_step(self, started: ExecutionRow, step: LazyStep) -> FirstStep:
        """The first step :meth:`begin` decided, for the new execution ``started``
        (``ExecutionRow.started``), with the row projected as :meth:`_project` would leave it,
        all encoded now: the transaction that records it (:meth:`record_first_txn`) inserts
        that row once, and holds the write lock only for the writes."""
        state, log, effects = step
        # The log itself, its events unbuilt: a durable store writes their text from the
        # records (EventLog.json_items); whoever reads them (an in-memory store, a status
        # event subscriber) builds them then.
        events = log
        now_us = started.start_us
        running = state.status == "RUNNING"
        wake: int | None = None
        if running:
            # A new execution's only tasks and timers are those this step made.
            runnable, next_timer = _work_of(effects)
            wake = now_us if runnable else next_timer
        # Every field named: dataclasses.replace (fields(), a dict, the same __init__) cost
        # twice the row itself.
        row = ExecutionRow(
            id=started.id,
            arn=started.arn,
            machine_name=started.machine_name,
            version_id=started.version_id,
            name=started.name,
            status=state.status,
            input=started.input,
            output=_output_text(state, log),
            error=state.error,
            cause=state.cause,
            start_us=now_us,
            stop_us=None if running else now_us,
            redrive_count=started.redrive_count,
            redrive_us=started.redrive_us,
            snapshot=LIVE_SNAPSHOT if self._live is not None else dumps(state.to_json()),
            event_count=state.next_event_id - 1,
            wake_us=wake,
            lease_owner=started.lease_owner,
            lease_expires_us=started.lease_expires_us,
        )
        return FirstStep(row=row, state=state, events=events, effects=effects)

    def record_first_txn(self, conn: Txn, first: FirstStep) -> None:
        """Record ``first`` after its row was inserted (``insert_started_execution_txn``): its
        events and the tasks and timers it made; the row needs no update, and only an
        execution that ended in this step with work rows left has any to clear."""
        row = first.row
        self._record(conn, row.id, first.events, first.effects, [], row.start_us)
        if row.status != "RUNNING" and any(
            isinstance(e, RunTask | StartTimer) for e in first.effects
        ):
            self.store.clear_work_txn(conn, row.id)
        if row.wake_us is not None and row.wake_us <= row.start_us:
            self.store.notify_work_txn(conn)  # runnable now and nobody holds it: wake a worker
        if self._live is not None:
            self._keep_live(row.id, first.state)

    def insert_first(self, first: FirstStep, machine: MachineRow) -> bool | None:
        """Insert and record ``first`` on its own (committed on return) when its step started
        tasks and timers at most (nothing cancelled; tasks and timers only if the execution
        is still running, so none is left to clear): the store writes its row, tasks, timers
        and events and wakes a worker without a transaction of the caller's (PostgreSQL: one
        statement, no BEGIN and COMMIT; concurrent callers' starts grouped in one commit).
        None when ``first`` is not such a step (the caller records it with
        :meth:`record_first_txn`); False when the row was not inserted, as
        ``insert_started_execution_txn`` (nothing written). Then :meth:`first_committed`."""
        if self._live is not None:
            return None
        row = first.row
        tasks: list[RunTask] = []
        timers: list[tuple[str, int]] = []
        for effect in first.effects:
            if isinstance(effect, RunTask):
                tasks.append(effect)
            elif isinstance(effect, StartTimer):
                timers.append((effect.timer_id, to_us(effect.due)))
            else:
                return None
        if (tasks or timers) and row.status != "RUNNING":
            return None
        # As record_first_txn: runnable now and nobody holds it, so wake a worker.
        notify = row.wake_us is not None and row.wake_us <= row.start_us
        if not self.store.insert_started_execution(
            row, machine, first.events, tasks, timers=timers, notify=notify
        ):
            return False
        # What _record does for a step's events once they are written.
        if first.events:
            self.events_recorded += len(first.events)
            if self._on_events is not None:
                self._on_events(row.id, first.events)
        return True

    def first_committed(self, first: FirstStep) -> None:
        """After the transaction that recorded ``first`` (:meth:`record_first_txn`) committed:
        its state is kept with the snapshot text inserted, so this engine's first step of the
        new execution starts from it instead of decoding that text. A start that did not
        commit (its insert conflicted, its transaction raised) must not call this: nothing of
        it is kept, and a step decodes whatever the store holds. Then the crash hook."""
        row = first.row
        if self._live is None and row.snapshot is not None and row.status == "RUNNING":
            # The state is not changed after first_step encoded it (record_first_txn only
            # reads it), so it is the one the text was written from.
            self._states.keep(row.id, row.snapshot, first.state)
        self._after_commit()

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
        inbounds: Sequence[StepInbound],
        *,
        owner: str | None = None,
        due_timers: bool = False,
        inbox: bool = False,
        dispatch: Callable[[TaskRow], bool] | None = None,
        release: bool | Callable[[], bool] = False,
    ) -> StepResult:
        """One recorded step: feed ``inbounds`` (plus due timers / inbox requests), optionally
        mark tasks for dispatch (``dispatch(task)`` says whether to take it; it may be asked
        again if the step is evaluated again), then project and, if ``release`` and no task
        was taken, give the lease back. Commits, then runs the crash hook.

        Evaluate, then write: the step is computed from a read (no write lock held, so a slow
        expression blocks no other command), then written in one transaction that first
        checks the execution is as it was read (:func:`_unchanged`); if another writer got
        there first, the step is evaluated again from the new record."""
        for _ in range(MAX_STEP_ATTEMPTS):
            with self._live_guard():
                result = self._apply_once(
                    execution_id,
                    inbounds,
                    owner=owner,
                    due_timers=due_timers,
                    inbox=inbox,
                    dispatch=dispatch,
                    release=release,
                )
            if result is not None:
                self._after_commit()
                return result
        raise StoreError(_kept_changing(execution_id))

    def _live_guard(self) -> AbstractContextManager[object]:
        """A store that is not durable keeps each execution's state as one live object that a
        step changes in place: its lock (a process lock, no database) is held for the whole
        step so no other thread sees the object half advanced. A durable store's step
        evaluates on its own copy, decoded from the snapshot, with nothing held."""
        return self.store.transaction() if self._live is not None else nullcontext()

    def _apply_once(
        self,
        execution_id: str,
        inbounds: Sequence[StepInbound],
        *,
        owner: str | None,
        due_timers: bool,
        inbox: bool,
        dispatch: Callable[[TaskRow], bool] | None,
        release: bool | Callable[[], bool],
    ) -> StepResult | None:
        """One attempt of :meth:`apply`; None when the execution changed under it."""
        from eltflow.interpreter.step import advance

        now = self.clock.now()
        now_us = to_us(now)
        store = self.store
        # 1. Read (no write lock), unless this owner's last step left all there is to read.
        known = self._known.take(execution_id, owner) if not inbox else None
        machine: StateMachine | None
        timers: list[TimerRow] = []
        inbox_rows: list[InboxRow] = []
        next_timer: int | None = None
        # .sync tasks whose child is now linked to them: parked with this step (sync_waits).
        parks = {i.task_id: i for i in inbounds if isinstance(i, TaskAwaiting)}
        ended_children: list[tuple[str, ExecutionRow]] = []
        if known is not None:
            row, tasks, machine = known.row, _parked(known.tasks, parks), known.machine
            if machine is not None and any(t.awaits for t in tasks):
                with store.read_transaction() as conn:
                    ended_children = store.sync_waits.ended_children_txn(conn, execution_id)
        else:
            with store.read_transaction() as conn:
                found, timers, inbox_rows, tasks, next_timer = store.step_reads_txn(
                    conn, execution_id, due_us=now_us if due_timers else None, inbox=inbox
                )
                if found is None:
                    raise NotFoundError(f"execution {execution_id} does not exist")
                row = found
                running = row.status == "RUNNING" and row.snapshot is not None
                machine = self.machines.get_txn(conn, row.version_id) if running else None
                tasks = _parked(tasks, parks)
                if machine is not None and any(t.awaits for t in tasks):
                    ended_children = store.sync_waits.ended_children_txn(conn, execution_id)

        def as_read(current: ExecutionVersion | None) -> bool:
            return current is not None and _unchanged(current, row)

        if machine is None:
            # Ended meanwhile: a child linked to it since is let go, and stopped (as its end
            # stopped the others).
            late = [stopped(row.arn, p.child_arn) for p in parks.values()]

            def end(conn: Txn) -> None:
                store.clear_work_txn(conn, execution_id)
                store.sync_waits.forget_txn(conn, execution_id, list(parks))
                if owner is not None:
                    store.release_txn(conn, owner=owner, execution_id=execution_id, wake_us=None)

            ended = StepResult(state=None, status=row.status, arn=row.arn)
            gone = _Write(execution_id, as_read, end, lambda: self._stop_later(late))
            return ended if self._write(gone) else None
        # 2. Evaluate (no transaction open).
        state = self._load(row)
        todo = [i for i in inbounds if not isinstance(i, TaskAwaiting)] if parks else None
        if todo is None:  # the common step: no TaskAwaiting to take out
            todo = cast(list[Inbound], list(inbounds))
        # The outcomes of parked tasks whose child ended (links of tasks gone are dropped).
        stale: list[str] = []
        if ended_children:
            by_id = {t.task_id: t for t in tasks}
            for task_id, child in ended_children:
                task = by_id.get(task_id)
                if task is None:
                    stale.append(task_id)
                elif task.awaits is not None:
                    todo.append(outcome(task, child))
        todo += [TimerFired(timer_id=t.timer_id) for t in timers]
        for item in inbox_rows:
            if item.kind == "stop":
                payload = json.loads(item.payload)
                todo.append(StopRequested(error=payload.get("error"), cause=payload.get("cause")))
        pending = _Pending()
        for inbound in todo:
            if state.status != "RUNNING":
                break
            state, events, effects = advance(machine, state, inbound, now)
            pending.events += events
            pending.effects += effects
        finished = _ending(todo, tasks)
        after = _tasks_after(execution_id, tasks, finished, pending.effects, now_us)
        sync = _sync_changes(row.arn, state.status, todo, tasks, after, parks, stale)
        taken: list[TaskRow] = []
        started = _Pending()
        # A worker whose lease lapsed (and was taken over) still records the outcome it
        # holds, but must not dispatch: the new owner does that.
        lost = owner is not None and row.lease_owner != owner
        if dispatch is not None and state.status == "RUNNING" and not lost:
            for task in after:
                if not dispatch(task):
                    continue
                if not task.started:
                    state, events, effects = advance(
                        machine, state, TaskStarted(task_id=task.task_id), now
                    )
                    started.events += events
                    started.effects += effects
                taken.append(task)
        # The work left is known without reading it again unless timers or dispatching
        # changed it.
        timers_changed = bool(timers) or any(
            isinstance(e, StartTimer | CancelTimer) for e in pending.effects
        )
        work = None if timers_changed or started.effects else (_runnable(after), next_timer)
        result = StepResult(
            state=state,
            dispatch=taken if state.status == "RUNNING" else [],
            status=state.status,
            lost=lost,
            arn=row.arn,
        )

        # 3. Write, if the execution is still as read.
        written: list[Known] = []

        def write(conn: Txn) -> None:
            for item in inbox_rows:
                store.delete_inbox_txn(conn, item.id)
            # One history write for the step's events and its dispatches' TaskStarted ones;
            # an execution that ends here has all its tasks and timers cleared by _project,
            # so those its outcomes end are not deleted one by one first.
            ended = [] if state.status != "RUNNING" else finished
            events = pending.events + started.events
            self._record(conn, execution_id, events, pending.effects, ended, now_us)
            for task in taken:
                store.dispatch_task_txn(conn, execution_id, task.task_id)
            self._record(conn, execution_id, [], started.effects, [], now_us)
            wake, result.next_timer_us = self._project(
                conn, row, state, now_us, owner=owner, events=pending.events, work=work
            )
            do_release = not taken and (release() if callable(release) else release)
            if owner is not None and (do_release or state.status != "RUNNING"):
                store.release_txn(conn, owner=owner, execution_id=execution_id, wake_us=wake)
            elif owner is not None and work is not None and work[1] is None and self._durable:
                # Still held, and no timers: the next step needs nothing this one does not
                # know. (With timers it reads: which are due is the store's to say.)
                written.append(
                    Known(
                        row=replace(
                            row,
                            status=state.status,
                            snapshot=self._local.snapshot,
                            event_count=state.next_event_id - 1,
                        ),
                        tasks=tuple(_dispatched(after, taken)),
                        machine=machine,
                    )
                )
            # .sync waits: parks, links dropped, and the wake-ups of this child's parents (it
            # ended, and a .sync task linked itself to it: awaited) or of this parent (a child
            # ended before this write may have had its wake-up overwritten by this step's).
            waits = store.sync_waits
            if sync is not _NO_SYNC:
                for task_id, child_arn in sync.parks:
                    waits.park_txn(conn, execution_id, task_id, child_arn)
                waits.forget_txn(conn, execution_id, sync.forget)
            if state.status != "RUNNING" and row.awaited:
                result.woke = waits.wake_parents_txn(conn, execution_id, now_us)
            elif sync.waiting:
                waits.wake_if_ended_txn(conn, execution_id, now_us)

        def committed() -> None:
            for entry in written:
                self._known.put(execution_id, entry)
            self._stop_later(sync.stops)

        return result if self._write(_Write(execution_id, as_read, write, committed)) else None

    def _write(self, write: _Write) -> bool:
        """Run ``write`` in a transaction of its own, or queue it with an open group's. False
        (and nothing written) when its execution changed since it was read."""
        writes: list[_Write] | None = getattr(self._local, "writes", None)
        if writes is not None:
            writes.append(write)
            return True
        guard: Guard | None = None
        try:
            # Committed: the next step may start from the states written.
            with self._keeping(), self.store.transaction() as conn:
                guard = self.store.guard_execution_txn(conn, write.execution_id, write.as_read)
                if guard.known() is False:
                    return False  # nothing written
                write.write(conn)
                if not guard.holds():
                    raise _Changed  # roll back what was sent before the answer came
        except _Changed:
            return False
        except StoreError:
            # A write that failed because the execution changed meanwhile (a history event
            # numbered as another step's) is that change: evaluated again, not an error.
            if guard is not None and guard.known() is False:
                return False
            raise
        write.committed()
        return True

    def redrive(self, execution_id: str) -> ExecutionState:
        """Evaluated from a read, then written if the execution did not change meanwhile (as
        :meth:`apply`)."""
        from eltflow.interpreter.step import redrive

        for _ in range(MAX_STEP_ATTEMPTS):
            with self._live_guard():
                now = self.clock.now()
                now_us = to_us(now)
                with self.store.read_transaction() as conn:
                    row = self.store.get_execution_txn(conn, execution_id)
                    if row is None or row.snapshot is None:
                        raise NotFoundError(f"execution {execution_id} does not exist")
                    machine = self.machines.get_txn(conn, row.version_id)
                state, events, effects = redrive(machine, self._load(row), now)
                with self._keeping(), self.store.transaction() as conn:
                    current = self.store.lock_execution_txn(conn, execution_id)
                    if current is None or not _unchanged(current, row):
                        continue
                    self.store.clear_work_txn(conn, execution_id)
                    self._record(conn, execution_id, events, effects, [], now_us)
                    self.store.set_redriven_txn(conn, execution_id, now_us)
                    self._project(conn, row, state, now_us, owner=None, reopen=True, events=events)
            self._after_commit()
            return state
        raise StoreError(_kept_changing(execution_id))

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
                abort_unfinished(state)  # their tasks and timers: clear_work_txn below
                snapshot = self._snapshot(conn, execution_id, state)
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
            # Its .sync tasks' children are stopped, as when it ends otherwise.
            sync = [t for t in self.store.tasks_txn(conn, execution_id) if is_sync(t)]
            self.store.sync_waits.forget_txn(conn, execution_id, [t.task_id for t in sync])
            children = [child_of(t) for t in sync]
            stops = [stopped(row.arn, c) for c in children if c is not None]
            self.store.clear_work_txn(conn, execution_id)
            if row.awaited:
                self.store.sync_waits.wake_parents_txn(conn, execution_id, now_us)
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
        self._stop_later(stops)
        self._after_commit()

    def unwait(self, execution_id: str, awaiting: TaskAwaiting) -> None:
        """A ``.sync`` task linked its child after its execution was let go by the worker
        that ran it: if the execution ended meanwhile (stopped), its step did not know the
        child, so the link goes and the child is stopped here, as that step would have. (If
        another worker took it over, it runs the task again, which finds the child linked.)"""
        row = self.store.get_execution(execution_id)
        if row is None or row.status == "RUNNING":
            return
        with self.store.transaction() as conn:
            self.store.sync_waits.forget_txn(conn, execution_id, [awaiting.task_id])
        self._stop_later([stopped(row.arn, awaiting.child_arn)])
        self._stop_children()

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
            # The outcome is recorded with this step: the task / timer row is done (see
            # :func:`_ending` for TaskSubmitted).
            if isinstance(inbound, TaskSucceeded | TaskFailed | TaskSubmitted):
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
            snapshot=self._snapshot(conn, row.id, state),
            event_count=state.next_event_id - 1,
            wake_us=wake,
        )
        return wake, next_timer

    def _after_commit(self) -> None:
        if getattr(self._local, "writes", None) is not None:
            return  # not committed yet: group() runs this after its COMMIT
        limit = self.crash_after_events
        if limit is not None and self.events_recorded >= limit:
            raise SimulatedCrash(f"fault hook: crashed after {self.events_recorded} events")
        self._stop_children()

    def _stop_later(self, stops: Sequence[ChildStop]) -> None:
        """Stop these children once the step's transaction has committed (in
        :meth:`_after_commit`, on this thread): each stop is a step of its child's, which is
        not evaluated while a transaction is open."""
        if stops:
            pending: list[ChildStop] | None = getattr(self._local, "stops", None)
            if pending is None:
                pending = self._local.stops = []
            pending.extend(stops)

    def _stop_children(self) -> None:
        pending: list[ChildStop] | None = getattr(self._local, "stops", None)
        while pending:
            stop = pending.pop(0)
            child = self.store.get_execution_by_arn(stop.child_arn)
            if child is None or child.status != "RUNNING":
                continue
            try:
                self.apply(child.id, [StopRequested(error=stop.error, cause=stop.cause)])
            except (StoreError, NotFoundError) as e:  # its parent's step is recorded anyway
                log.warning("could not stop child execution %s: %s", stop.child_arn, e)


def _decode(row: ExecutionRow, parts: Callable[[], Mapping[str, str]]) -> ExecutionState:
    return ExecutionState.from_json(cast(JSONObject, json.loads(row.snapshot or "")), parts)


def _tasks_after(
    execution_id: str,
    tasks: Sequence[TaskRow],
    consumed: Sequence[Inbound],
    effects: Sequence[Effect],
    now_us: int,
) -> list[TaskRow]:
    """The execution's task rows as :meth:`Engine._record` will leave them after a step that
    consumed ``consumed`` and made ``effects``: what the step may dispatch, known before its
    transaction opens (outcomes delete their task, RunTask inserts one unless it exists,
    CancelTask deletes; in the store's order)."""
    rows = {t.task_id: t for t in tasks}
    for inbound in consumed:
        if isinstance(inbound, TaskSucceeded | TaskFailed | TaskSubmitted):
            rows.pop(inbound.task_id, None)
    for effect in effects:
        if isinstance(effect, RunTask) and effect.task_id not in rows:
            rows[effect.task_id] = TaskRow(
                execution_id=execution_id,
                task_id=effect.task_id,
                state_name=effect.state_name,
                resource=effect.resource,
                parameters=dumps(effect.parameters),
                timeout_seconds=effect.timeout_seconds,
                heartbeat_seconds=effect.heartbeat_seconds,
                task_token=effect.task_token,
                started=False,
                attempt=0,
                checkpoint=None,
                created_us=now_us,
            )
        elif isinstance(effect, CancelTask):
            rows.pop(effect.task_id, None)
    return sorted(rows.values(), key=lambda t: (t.created_us, t.task_id))


def _parked(tasks: Sequence[TaskRow], parks: dict[str, TaskAwaiting]) -> list[TaskRow]:
    """``tasks`` with those ``parks`` names marked as waiting for their child."""
    if not parks:
        return list(tasks)
    return [
        replace(t, awaits=parks[t.task_id].child_arn) if t.task_id in parks else t for t in tasks
    ]


@dataclass(frozen=True)
class _SyncChanges:
    """What a step changes of its ``.sync`` tasks' waits (:mod:`eltflow.runtime.sync_waits`)."""

    parks: list[tuple[str, str]]  # (task, child ARN): parked with this step
    forget: list[str]  # tasks whose link goes (answered, cancelled, gone)
    stops: list[ChildStop]  # children to stop once the step has committed
    waiting: bool  # tasks still parked after the step


_NO_SYNC = _SyncChanges(parks=[], forget=[], stops=[], waiting=False)


def _sync_changes(
    parent_arn: str,
    status: str,
    todo: Sequence[Inbound],
    tasks: Sequence[TaskRow],
    after: Sequence[TaskRow],
    parks: dict[str, TaskAwaiting],
    stale: list[str],
) -> _SyncChanges:
    """A step's ``.sync`` bookkeeping, from its task rows before (``tasks``, parks applied)
    and after. A task that is gone and was not answered had its child stopped by the poll
    when its parent ended (States.Aborted) or its TimeoutSeconds ran out (States.Timeout):
    so here; a task cancelled otherwise while its parent runs on leaves the child be."""
    if not parks and not stale and not any(is_sync(t) for t in tasks):
        return _NO_SYNC  # the common step: no .sync task before it
    running = status == "RUNNING"
    kept = {t.task_id for t in after} if running else set()
    answered = {i.task_id for i in todo if isinstance(i, TaskSucceeded | TaskFailed)}
    fired = {i.timer_id for i in todo if isinstance(i, TimerFired)}
    forget = list(stale)
    stops: list[ChildStop] = []
    present = set()
    for task in tasks:
        present.add(task.task_id)
        if not is_sync(task) or task.task_id in kept:
            continue
        forget.append(task.task_id)
        child = child_of(task)
        if child is None or task.task_id in answered:
            continue
        if timeout_timer(task.task_id) in fired:  # as the poll: the timeout first
            stops.append(timed_out(parent_arn, child))
        elif not running:
            stops.append(stopped(parent_arn, child))
    for task_id, park in parks.items():
        if task_id not in present:  # its task ended before its child was linked
            forget.append(task_id)
            if not running:
                stops.append(stopped(parent_arn, park.child_arn))
    return _SyncChanges(
        parks=[(t, p.child_arn) for t, p in parks.items() if t in kept],
        forget=forget,
        stops=stops,
        waiting=running and any(t.awaits is not None for t in after),
    )


def _ending(inbounds: Sequence[Inbound], tasks: Sequence[TaskRow]) -> list[Inbound]:
    """The inbounds that end their task or timer row when recorded. A ``TaskSubmitted`` ends
    a ``.waitForTaskToken`` task's row (the call is made; the answer comes with its token,
    nothing is left to run), but not a ``.sync`` task's: that one reports its submission
    while it runs on, polling its job, and its row stays until its outcome (so a worker that
    dies meanwhile leaves it to be run again, re-attaching to the same job)."""
    running = {t.task_id for t in tasks if not waits_for_token(t.resource)}
    return [i for i in inbounds if not (isinstance(i, TaskSubmitted) and i.task_id in running)]


def waits_for_token(resource: str) -> bool:
    """A ``.waitForTaskToken`` integration: its call made, it waits for SendTaskSuccess/
    Failure."""
    return resource.endswith(".waitForTaskToken")


MAX_STEP_ATTEMPTS = 50
"""How often a step is evaluated again because its execution changed before it was written.
Each retry means another writer recorded a step of the same execution meanwhile (a stop, a
task token, a redrive), which a lease makes rare; past this the store is reported as failing."""


def _unchanged(current: ExecutionVersion, read: ExecutionRow) -> bool:
    """Whether the execution row locked for writing is the one a step was evaluated from.

    The snapshot is the interpreter's whole state and every recorded step rewrites it (its
    event counter only grows), so an equal snapshot means no step was recorded in between;
    status and lease owner are compared too, since a stop or a takeover may change only
    those, and awaited, which a .sync task's link sets (a step that ends the execution wakes
    its parents only if it is). Tasks, timers and inbox rows are written by steps, so they are
    covered as well."""
    return (
        current.snapshot == read.snapshot
        and current.status == read.status
        and current.event_count == read.event_count
        and current.lease_owner == read.lease_owner
        and current.awaited == read.awaited
    )


def _kept_changing(execution_id: str) -> str:
    return (
        f"execution {execution_id} changed {MAX_STEP_ATTEMPTS} times while its step was being "
        f"evaluated; giving up on this step (it is evaluated again when next claimed)"
    )


def is_activity(resource: str) -> bool:
    """An activity ARN (``arn:aws:states:REGION:ACCOUNT:activity:NAME``): its task is handed to
    a worker polling GetActivityTask, never run by the task runner."""
    return resource.startswith("arn:aws:states:") and ":activity:" in resource


def _runnable(tasks: Sequence[TaskRow]) -> bool:
    """Whether some pending task needs a runner (an activity task waits for a poller, a
    parked .sync task for its child's end)."""
    return any(t.awaits is None and not is_activity(t.resource) for t in tasks)


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
    twice (an EventLog finds it in its records, building no event)."""
    if state.status != "SUCCEEDED":
        return None
    if isinstance(events, EventLog):
        text = events.succeeded_output()
        return dumps(state.output) if text is None else text
    if events and events[-1].type == "ExecutionSucceeded":
        details = events[-1].details.get("executionSucceededEventDetails")
        if isinstance(details, dict) and isinstance(details.get("output"), str):
            return cast(str, details["output"])
    return dumps(state.output)
