"""The runtime store in one process's memory: what ``eltflow.execute`` runs on.

It implements :class:`~eltflow.store.interface.StateStore` with dicts, so the in-memory runner
drives the very engine, worker and task runner the durable runtime does. Its rules mirror the
SQL in ``sql/<dialect>.sql`` query by query (claim, leases, next wake-up, idempotent history
appends, the orders rows come back in); a differential test runs every fixture on both.

Differences, all because nothing outlives the process:
- a transaction is a lock, not an undo log: a step that raises half-way keeps what it wrote
  (the durable store rolls it back). The runtime only raises mid-step on an interpreter bug,
  and then fails the execution anyway;
- nothing is ever encoded that does not have to be: history details and rows are kept as the
  objects the runtime handed over (the runtime never mutates them after recording);
- ``wait_for_work`` wakes as soon as a transaction touched an execution (no polling).
"""

from __future__ import annotations

import select
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from eltflow.errors import ConflictError
from eltflow.store.interface import KnownGuard, insert_started_txn
from eltflow.store.interrupt import Interrupt
from eltflow.store.memory_map_runs import MemoryMapRuns
from eltflow.store.rows import (
    EventRow,
    ExecutionRow,
    ExecutionSummaryRow,
    ExecutionVersion,
    InboxRow,
    MachineRow,
    NewEvent,
    NewTask,
    TaskRow,
    TimerRow,
    VersionRow,
    event_rows,
    project,
)
from eltflow.store.runtime_store import dumps
from eltflow.store.sync_waits import MemorySyncWaits
from eltflow.types import JSON

_FAR = 2**62


class MemoryStore:
    """Machines, versions, executions, history, tasks, timers and leases in dicts."""

    def __init__(self, *, keeps_history: Callable[[str], bool] | None = None) -> None:
        """``keeps_history(execution_id)``: whether that execution's events are kept (default:
        all). For the others only their number is, so appends stay idempotent and numbered
        while :meth:`history` answers nothing: a store private to one in-memory run keeps only
        what its caller can still ask for (issue 16: a Distributed Map's 100,000 children kept
        ~3.4 KB of history each that nothing read)."""
        self._keeps_history = keeps_history
        self._counts: dict[str, int] = {}  # events of executions whose history is not kept
        # Re-entrant, as SQLite's nested ``transaction()`` joins the outer one.
        self._lock = threading.RLock()
        self._work = threading.Condition(self._lock)
        self._versions: dict[int, VersionRow] = {}
        self._machines: dict[str, MachineRow] = {}
        # Executions are kept as mutable records; the frozen row handed out is built on the
        # first read after a change (a step writes the row once and reads it once).
        self._executions: dict[str, _Record] = {}
        self._rows: dict[str, ExecutionRow] = {}
        self._by_arn: dict[str, str] = {}
        self._history: dict[str, list[EventRow | NewEvent]] = {}
        self._parts: dict[str, dict[str, str]] = {}  # execution id -> snapshot parts
        self._tasks: dict[str, dict[str, TaskRow]] = {}
        self._timers: dict[str, dict[str, int]] = {}
        self._inbox: dict[str, list[InboxRow]] = {}
        self._workers: dict[str, int] = {}
        self._next_id = 0
        self._signalled = False
        self._waiters = 0
        # Distributed Map: Map Runs and their children (told of their ends under the lock).
        self.map_runs = MemoryMapRuns(self, self._lock)
        self.sync_waits = MemorySyncWaits(self)  # .sync tasks waiting for their child

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def transaction(self) -> AbstractContextManager[bool]:
        """Hold the store for the block (there is no rollback; see the module docstring)."""
        return self._lock

    def read_transaction(self) -> AbstractContextManager[bool]:
        """The same lock: a reader of the dicts must not see a step half written."""
        return self._lock

    # -- machines and versions -------------------------------------------------------------
    def insert_version_txn(
        self,
        conn: Any,
        *,
        machine_name: str,
        version: int,
        definition: str,
        description: str,
        created_us: int,
    ) -> int:
        vid = self._id()
        self._versions[vid] = VersionRow(
            id=vid,
            machine_name=machine_name,
            version=version,
            definition=definition,
            description=description,
            created_us=created_us,
        )
        return vid

    def get_version_txn(self, conn: Any, version_id: int) -> VersionRow | None:
        return self._versions.get(version_id)

    def get_version(self, version_id: int) -> VersionRow | None:
        return self._versions.get(version_id)

    def insert_machine_txn(self, conn: Any, machine: MachineRow) -> None:
        with self._lock:
            if machine.name in self._machines:
                raise ConflictError(f"state machine {machine.name!r} already exists")
            self._machines[machine.name] = machine

    def update_machine_txn(
        self, conn: Any, *, name: str, current_version_id: int, role_arn: str, now_us: int
    ) -> None:
        with self._lock:
            old = self._machines.get(name)
            if old is not None:
                self._machines[name] = replace(
                    old, current_version_id=current_version_id, role_arn=role_arn, updated_us=now_us
                )

    def get_machine_txn(self, conn: Any, name: str) -> MachineRow | None:
        return self._machines.get(name)

    def get_machine(self, name: str) -> MachineRow | None:
        return self._machines.get(name)

    def list_machines(self, *, after: str = "", limit: int = 100) -> list[MachineRow]:
        with self._lock:
            names = sorted(n for n in self._machines if n > after)[:limit]
            return [self._machines[n] for n in names]

    def delete_machine(self, name: str, now_us: int = 0) -> bool:
        with self._lock:
            found = self._machines.pop(name, None) is not None
            used = {e.version_id for e in self._executions.values()}
            for vid, v in list(self._versions.items()):
                if v.machine_name != name:
                    continue
                if vid not in used:
                    del self._versions[vid]
                elif v.retired_us is None:
                    self._versions[vid] = replace(v, retired_us=now_us)
        return found

    def list_versions(
        self, name: str, *, before_version: int = _FAR, limit: int = 100
    ) -> list[VersionRow]:
        """Live versions of machine ``name`` below ``before_version``, newest first."""
        with self._lock:
            rows = [
                v
                for v in self._versions.values()
                if v.machine_name == name and v.retired_us is None and v.version < before_version
            ]
        rows.sort(key=lambda v: v.version, reverse=True)
        return rows[:limit]

    # -- executions ------------------------------------------------------------------------
    def insert_execution_txn(
        self,
        conn: Any,
        *,
        id: str,
        arn: str,
        machine_name: str,
        version_id: int,
        name: str,
        input: str,
        start_us: int,
    ) -> None:
        with self._lock:
            if id in self._executions or arn in self._by_arn:
                raise ConflictError(f"execution {arn!r} already exists")
            row = ExecutionRow.started(
                id=id,
                arn=arn,
                machine_name=machine_name,
                version_id=version_id,
                name=name,
                input=input,
                start_us=start_us,
            )
            self._insert(row)

    def insert_started_execution_txn(
        self, conn: Any, row: ExecutionRow, machine: MachineRow
    ) -> bool:
        """As the SQL stores' (``insert_started_execution``): False, nothing written, when the
        machine is not ``machine`` any more or the ARN is taken."""
        with self._lock:
            current = self._machines.get(row.machine_name)
            if (
                current is None
                or current != machine
                or current.current_version_id != row.version_id
                or row.arn in self._by_arn
            ):
                return False
            if row.id in self._executions:
                raise ConflictError(f"execution {row.id!r} already exists")
            self._insert(row)
            return True

    def insert_row_txn(self, conn: Any, row: ExecutionRow) -> None:
        """Insert ``row`` as it is (a Map Run's child, projected from its first step)."""
        with self._lock:
            if row.id in self._executions or row.arn in self._by_arn:
                raise ConflictError(f"execution {row.arn!r} already exists")
            self._insert(row)

    def insert_started_execution(
        self,
        row: ExecutionRow,
        machine: MachineRow,
        events: Sequence[NewEvent],
        tasks: Sequence[NewTask] = (),
        *,
        timers: Sequence[tuple[str, int]] = (),
        notify: bool = False,
    ) -> bool:
        with self.transaction() as conn:
            return insert_started_txn(
                self, conn, row, machine, events, tasks, notify=notify, timers=timers
            )

    def _insert(self, row: ExecutionRow) -> None:
        # Called with the lock held.
        self._executions[row.id] = _Record(row)
        self._by_arn[row.arn] = row.id
        if self._keeps_history is None or self._keeps_history(row.id):
            self._history[row.id] = []
        self._signal()

    def get_execution_txn(self, conn: Any, execution_id: str) -> ExecutionRow | None:
        row = self._rows.get(execution_id)
        if row is None:
            e = self._executions.get(execution_id)
            if e is None:
                return None
            row = self._rows[execution_id] = e.row()
        return row

    def record(self, execution_id: str) -> _Record | None:
        """The execution as kept, to be read (not changed, not kept) under the lock: a Map
        Run's reads of all its children (the memory Map Run store) build no row for each
        (:meth:`get_execution` keeps the row it built until the execution changes)."""
        return self._executions.get(execution_id)

    def status_of(self, execution_id: str) -> str | None:
        """The execution's status (None: no such execution), without building its row: a
        Map Run's reads filter their children by status (the memory Map Run store)."""
        e = self._executions.get(execution_id)
        return None if e is None else e.status

    def get_execution(self, execution_id: str) -> ExecutionRow | None:
        with self._lock:
            return self.get_execution_txn(None, execution_id)

    def get_execution_by_arn_txn(self, conn: Any, arn: str) -> ExecutionRow | None:
        eid = self._by_arn.get(arn)
        return None if eid is None else self.get_execution_txn(conn, eid)

    def get_execution_by_arn(self, arn: str) -> ExecutionRow | None:
        return self.get_execution_by_arn_txn(None, arn)

    def lock_execution_txn(self, conn: Any, execution_id: str) -> ExecutionRow | None:
        """Read the execution; the transaction's lock already holds the whole store."""
        return self.get_execution_txn(conn, execution_id)

    def guard_execution_txn(
        self, conn: Any, execution_id: str, unchanged: Callable[[ExecutionVersion | None], bool]
    ) -> KnownGuard:
        """Checked at once: the memory store has no rollback, so nothing may be written unless
        the execution is as the step read it."""
        return KnownGuard(unchanged(self.get_execution_txn(conn, execution_id)))

    def step_reads_txn(
        self, conn: Any, execution_id: str, *, due_us: int | None, inbox: bool
    ) -> tuple[ExecutionRow | None, list[TimerRow], list[InboxRow], list[TaskRow], int | None]:
        row = self.get_execution_txn(conn, execution_id)
        if row is None:
            return None, [], [], [], None
        due = [] if due_us is None else self.due_timers_txn(conn, execution_id, due_us)
        requests = self.inbox_txn(conn, execution_id) if inbox else []
        return row, due, requests, *self.work_txn(conn, execution_id)

    def update_execution_txn(
        self,
        conn: Any,
        *,
        execution_id: str,
        status: str,
        output: str | None,
        error: str | None,
        cause: str | None,
        stop_us: int | None,
        snapshot: str | None,
        event_count: int,
        wake_us: int | None,
    ) -> None:
        with self._lock:
            e = self._executions.get(execution_id)
            if e is None:
                return
            if e.status != status:  # a Map Run's child: its counts, and its end wakes the driver
                self.map_runs.status_changed(execution_id, e.status, status)
            e.status, e.output, e.error, e.cause = status, output, error, cause
            e.stop_us, e.snapshot, e.wake_us = stop_us, snapshot, wake_us
            e.event_count = event_count
            self._rows.pop(execution_id, None)
            self._signal()

    def set_redriven_txn(self, conn: Any, execution_id: str, now_us: int) -> None:
        with self._lock:
            e = self._executions.get(execution_id)
            if e is not None:
                e.redrive_count, e.redrive_us = e.redrive_count + 1, now_us
                self._rows.pop(execution_id, None)

    def list_executions(
        self,
        *,
        machine_name: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[ExecutionSummaryRow]:
        with self._lock:
            child = self.map_runs.is_child  # listed by their Map Run only
            rows = [
                e
                for e in self._executions.values()
                if (machine_name is None or e.machine_name == machine_name)
                and (status is None or e.status == status)
                and not child(e.id)
            ]
        rows.sort(key=lambda e: (e.start_us, e.id), reverse=True)
        return [project(ExecutionSummaryRow, e) for e in rows[offset : offset + limit]]

    def count_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self._lock:
            for e in self._executions.values():
                counts[e.status] = counts.get(e.status, 0) + 1
        return counts

    # -- leases ----------------------------------------------------------------------------
    @staticmethod
    def _runnable(e: _Record, now_us: int) -> bool:
        return (
            e.status == "RUNNING"
            and e.wake_us is not None
            and e.wake_us <= now_us
            and (e.lease_expires_us is None or e.lease_expires_us < now_us)
        )

    def claim(
        self,
        *,
        owner: str,
        now_us: int,
        lease_us: int,
        limit: int,
        only: str | None = None,
        busy_seconds: float | None = None,
    ) -> list[str]:
        """Lease up to ``limit`` runnable executions (or just ``only``) to ``owner``
        (``busy_seconds``: unused, a busy worker is not notified here)."""
        with self._lock:
            if only is not None:
                # The execution and the children of its Distributed Maps (claim_execution).
                family = self.map_runs.family(only)
                if family:  # ended children are forgotten: a claim walks only the open ones
                    family[:] = [i for i in family if self._executions[i].status == "RUNNING"]
                ids = [only, *family]
                candidates = [e for e in map(self._executions.get, ids) if e is not None]
            else:
                candidates = list(self._executions.values())
            runnable = [e for e in candidates if self._runnable(e, now_us)]
            runnable.sort(key=lambda e: e.wake_us or 0)
            taken = runnable[:limit]
            for e in taken:
                e.lease_owner, e.lease_expires_us = owner, now_us + lease_us
                self._rows.pop(e.id, None)
            return [e.id for e in taken]

    def renew(self, *, owner: str, execution_ids: Iterable[str], expires_us: int) -> set[str]:
        """Extend ``owner``'s leases; returns the ids it still holds."""
        held: set[str] = set()
        with self._lock:
            for eid in execution_ids:
                e = self._executions.get(eid)
                if e is not None and e.lease_owner == owner:
                    e.lease_expires_us = expires_us
                    self._rows.pop(eid, None)
                    held.add(eid)
        return held

    def release_txn(self, conn: Any, *, owner: str, execution_id: str, wake_us: int | None) -> None:
        with self._lock:
            e = self._executions.get(execution_id)
            if e is not None and e.lease_owner == owner:
                e.lease_owner, e.lease_expires_us, e.wake_us = None, None, wake_us
                self._rows.pop(execution_id, None)
                self._signal()

    def mark_awaited_txn(self, conn: Any, execution_id: str) -> None:
        """A .sync task linked itself to the execution (MemorySyncWaits.watch)."""
        with self._lock:
            e = self._executions.get(execution_id)
            if e is not None:
                e.awaited = True
                self._rows.pop(execution_id, None)

    def wake_txn(self, conn: Any, execution_id: str, wake_us: int) -> None:
        with self._lock:
            e = self._executions.get(execution_id)
            if e is not None and e.status == "RUNNING":
                e.wake_us = wake_us
                self._rows.pop(execution_id, None)
                self._signal()

    @property
    def durable(self) -> bool:
        """Nothing outlives the process: the engine keeps live states, not snapshots."""
        return False

    @property
    def notifies(self) -> bool:
        """Whether :meth:`wait_for_work` returns early when work arrives: it does."""
        return True

    @property
    def wait_sees_next_wake(self) -> bool:
        """No: the caller bounds :meth:`wait_for_work` by :meth:`next_wake`."""
        return False

    def _signal(self) -> None:
        # Called with the lock held. Any change to an execution may be work for a waiter.
        self._signalled = True
        if self._waiters:
            self._work.notify_all()

    def notify_work_txn(self, conn: Any) -> None:
        """Tell idle workers there is work now."""
        with self._lock:
            self._signal()

    @property
    def listens_while_busy(self) -> bool:
        """No: one process, whose busy worker claims on its own."""
        return False

    def wait_while_busy(self, fd: int, timeout: float) -> bool:
        """Not asked (see :attr:`listens_while_busy`): waits for ``fd`` alone."""
        select.select([fd], [], [], max(timeout, 0))
        return False

    def wait_for_work(
        self,
        timeout: float,
        *,
        runnable_at: int | None = None,
        claimant: bool = True,
        interrupt: Interrupt | None = None,
    ) -> bool:
        """Block up to ``timeout`` seconds until a transaction changes an execution, or
        ``interrupt`` is set; True if one did (every waiter is woken: ``claimant`` makes no
        difference)."""
        with self._lock:
            if not self._signalled:
                self._waiters += 1
                try:
                    if interrupt is None:
                        self._work.wait(max(timeout, 0.0))
                    elif interrupt.watch(self._work):
                        try:
                            self._work.wait(max(timeout, 0.0))
                        finally:
                            interrupt.unwatch(self._work)
                finally:
                    self._waiters -= 1
            signalled, self._signalled = self._signalled, False
            return signalled

    def close_listener(self) -> None:
        """Nothing to close: notifications are a condition variable."""

    def next_wake(self) -> int | None:
        """When some RUNNING execution that nobody live holds next has work (None: never)."""
        best: int | None = None
        with self._lock:
            for e in self._executions.values():
                if e.status != "RUNNING":
                    continue
                wake, lease = e.wake_us, e.lease_expires_us
                if lease is None:
                    due = wake
                elif wake is None:
                    due = lease
                else:
                    due = max(wake, lease)
                if due is not None and (best is None or due < best):
                    best = due
        return best

    # -- workers ---------------------------------------------------------------------------
    def heartbeat(self, owner: str, now_us: int) -> None:
        with self._lock:
            self._workers[owner] = now_us

    def worker_gone(self, owner: str) -> None:
        with self._lock:
            self._workers.pop(owner, None)

    def live_workers(self, since_us: int) -> list[str]:
        """Owners whose last heartbeat is at or after ``since_us``."""
        with self._lock:
            return sorted(o for o, beat in self._workers.items() if beat >= since_us)

    # -- history ---------------------------------------------------------------------------
    def append_events_txn(self, conn: Any, execution_id: str, events: Sequence[EventRow]) -> int:
        """Append events idempotently; returns how many were new.

        Sequence numbers are dense from 1, so event ``seq`` lives at index ``seq - 1``. The
        same event again is a no-op; different content under a recorded number is a conflict.
        """
        return self._append(execution_id, events)

    def append_history_txn(self, conn: Any, execution_id: str, events: Sequence[NewEvent]) -> int:
        """:meth:`append_events_txn` for events as the runtime emits them, kept as they are
        (rows are made only if someone reads the history)."""
        return self._append(execution_id, events)

    def _append(self, execution_id: str, events: Sequence[EventRow | NewEvent]) -> int:
        if self._keeps_history is not None and not self._keeps_history(execution_id):
            return self._count(execution_id, events)
        with self._lock:
            log = self._history.setdefault(execution_id, [])
            if events and _seq(events[0]) == len(log) + 1:
                log.extend(events)  # the usual case: new events, numbered by the interpreter
                return len(events)
            new = 0
            for ev in events:
                seq = _seq(ev)
                if seq == len(log) + 1:
                    log.append(ev)
                    new += 1
                    continue
                if not 0 < seq <= len(log):
                    raise ConflictError(
                        f"execution {execution_id}: event {seq} does not follow event {len(log)}"
                    )
                old, row = _row(log[seq - 1]), _row(ev)
                if old.event_type != row.event_type or old.details != row.details:
                    raise ConflictError(
                        f"execution {execution_id}: event {seq} is already recorded as "
                        f"{old.event_type} with different content"
                    )
            return new

    def _count(self, execution_id: str, events: Sequence[EventRow | NewEvent]) -> int:
        """:meth:`_append` without the events: an event again is a no-op (its content is not
        kept to compare), a gap is a conflict."""
        with self._lock:
            count = self._counts.get(execution_id, 0)
            new = 0
            for ev in events:
                seq = _seq(ev)
                if seq == count + 1:
                    count += 1
                    new += 1
                elif not 0 < seq <= count:
                    raise ConflictError(
                        f"execution {execution_id}: event {seq} does not follow event {count}"
                    )
            self._counts[execution_id] = count
            return new

    def history(
        self, execution_id: str, *, after_seq: int = 0, limit: int = 1000, reverse: bool = False
    ) -> list[EventRow]:
        """Events in order (``after_seq`` exclusive), or newest first below ``after_seq``."""
        with self._lock:
            log = self._history.get(execution_id, [])
            if reverse:
                before = min(after_seq or _FAR, len(log) + 1)
                picked = log[max(before - 1 - limit, 0) : before - 1][::-1]
            else:
                picked = log[after_seq : after_seq + limit]
        return [_row(e) for e in picked]

    # -- tasks -----------------------------------------------------------------------------
    def insert_task_txn(
        self,
        conn: Any,
        *,
        execution_id: str,
        task_id: str,
        state_name: str,
        resource: str,
        parameters: JSON,
        timeout_seconds: float | None,
        heartbeat_seconds: float | None,
        task_token: str | None,
        now_us: int,
    ) -> None:
        with self._lock:
            tasks = self._tasks.setdefault(execution_id, {})
            if task_id in tasks:
                return  # ON CONFLICT DO NOTHING
            # Encoded like the durable store does: the runner hands the task its own copy.
            tasks[task_id] = TaskRow(
                execution_id=execution_id,
                task_id=task_id,
                state_name=state_name,
                resource=resource,
                parameters=dumps(parameters),
                timeout_seconds=timeout_seconds,
                heartbeat_seconds=heartbeat_seconds,
                task_token=task_token,
                started=False,
                attempt=0,
                checkpoint=None,
                created_us=now_us,
            )

    def delete_task_txn(self, conn: Any, execution_id: str, task_id: str) -> bool:
        with self._lock:
            tasks = self._tasks.get(execution_id)
            return tasks is not None and tasks.pop(task_id, None) is not None

    def tasks_txn(self, conn: Any, execution_id: str) -> list[TaskRow]:
        with self._lock:
            tasks = self._tasks.get(execution_id)
            if not tasks:
                return []
            return sorted(tasks.values(), key=lambda t: (t.created_us, t.task_id))

    def tasks(self, execution_id: str) -> list[TaskRow]:
        return self.tasks_txn(None, execution_id)

    def dispatch_task_txn(self, conn: Any, execution_id: str, task_id: str) -> None:
        """Mark a task as handed to a runner (counts attempts: a re-dispatch after a crash)."""
        with self._lock:
            tasks = self._tasks.get(execution_id, {})
            task = tasks.get(task_id)
            if task is not None:
                # Built field by field: dataclasses.replace inspects the fields on every call
                # (~4 µs, twice per execution of a two-Task machine).
                tasks[task_id] = TaskRow(
                    execution_id=task.execution_id,
                    task_id=task.task_id,
                    state_name=task.state_name,
                    resource=task.resource,
                    parameters=task.parameters,
                    timeout_seconds=task.timeout_seconds,
                    heartbeat_seconds=task.heartbeat_seconds,
                    task_token=task.task_token,
                    started=True,
                    attempt=task.attempt + 1,
                    checkpoint=task.checkpoint,
                    created_us=task.created_us,
                    awaits=task.awaits,
                )

    def task_rows(self, execution_id: str) -> dict[str, TaskRow]:
        """The execution's task rows by id, to be changed in place under the lock (the
        memory :class:`~eltflow.store.sync_waits.MemorySyncWaits`)."""
        return self._tasks.get(execution_id, {})

    def set_checkpoint(self, execution_id: str, task_id: str, checkpoint: JSON) -> None:
        with self._lock:
            tasks = self._tasks.get(execution_id, {})
            task = tasks.get(task_id)
            if task is not None:
                tasks[task_id] = replace(task, checkpoint=dumps(checkpoint))

    # -- timers ----------------------------------------------------------------------------
    def insert_timer_txn(self, conn: Any, execution_id: str, timer_id: str, due_us: int) -> None:
        with self._lock:
            self._timers.setdefault(execution_id, {}).setdefault(timer_id, due_us)

    def delete_timer_txn(self, conn: Any, execution_id: str, timer_id: str) -> bool:
        with self._lock:
            timers = self._timers.get(execution_id)
            return timers is not None and timers.pop(timer_id, None) is not None

    def due_timers_txn(self, conn: Any, execution_id: str, now_us: int) -> list[TimerRow]:
        with self._lock:
            timers = self._timers.get(execution_id)
            if not timers:
                return []
            due = sorted((d, t) for t, d in timers.items() if d <= now_us)
            return [TimerRow(timer_id=t, due_us=d) for d, t in due]

    def next_timer_txn(self, conn: Any, execution_id: str) -> int | None:
        timers = self._timers.get(execution_id)
        return min(timers.values()) if timers else None

    def forget_work_txn(
        self,
        conn: Any,
        execution_id: str,
        *,
        task_ids: Sequence[str] = (),
        timer_ids: Sequence[str] = (),
    ) -> None:
        for task_id in task_ids:
            self.delete_task_txn(conn, execution_id, task_id)
        for timer_id in timer_ids:
            self.delete_timer_txn(conn, execution_id, timer_id)

    def work_txn(self, conn: Any, execution_id: str) -> tuple[list[TaskRow], int | None]:
        return self.tasks_txn(conn, execution_id), self.next_timer_txn(conn, execution_id)

    def clear_work_txn(self, conn: Any, execution_id: str) -> None:
        """Drop the pending tasks and timers of an execution that has ended."""
        with self._lock:
            self._tasks.pop(execution_id, None)
            self._timers.pop(execution_id, None)

    def insert_snapshot_parts_txn(
        self, conn: Any, execution_id: str, parts: Sequence[tuple[str, str]]
    ) -> None:
        """Kept like a SQL store's (the engine writes none here: it keeps live states)."""
        with self._lock:
            kept = self._parts.setdefault(execution_id, {})
            for part, body in parts:
                kept.setdefault(part, body)

    def snapshot_parts_txn(self, conn: Any, execution_id: str) -> dict[str, str]:
        with self._lock:
            return dict(self._parts.get(execution_id, {}))

    # -- inbox -----------------------------------------------------------------------------
    def insert_inbox_txn(
        self, conn: Any, execution_id: str, kind: str, payload: JSON, now_us: int
    ) -> None:
        with self._lock:
            item = InboxRow(id=self._id(), kind=kind, payload=dumps(payload))
            self._inbox.setdefault(execution_id, []).append(item)
            self._signal()

    def inbox_txn(self, conn: Any, execution_id: str) -> list[InboxRow]:
        with self._lock:
            return list(self._inbox.get(execution_id, ()))

    def delete_inbox_txn(self, conn: Any, inbox_id: int) -> None:
        with self._lock:
            for items in self._inbox.values():
                for i, item in enumerate(items):
                    if item.id == inbox_id:
                        del items[i]
                        return

    def executions_with_inbox(self, owner: str) -> list[str]:
        with self._lock:
            return [
                eid
                for eid, items in self._inbox.items()
                if items and (e := self._executions.get(eid)) is not None and e.lease_owner == owner
            ]


def _seq(event: EventRow | NewEvent) -> int:
    return event.seq if isinstance(event, EventRow) else event.id


def _row(event: EventRow | NewEvent) -> EventRow:
    return event if isinstance(event, EventRow) else event_rows([event])[0]


class _Record:
    """An execution as the memory store keeps it: :class:`ExecutionRow`'s fields, mutable.
    Slotted: one is kept per execution to the end of the run, a Distributed Map's children
    included (issue 16: a SimpleNamespace and its dict took ~530 bytes, this ~180)."""

    __slots__ = (
        "arn",
        "awaited",
        "cause",
        "error",
        "event_count",
        "id",
        "input",
        "lease_expires_us",
        "lease_owner",
        "machine_name",
        "name",
        "output",
        "redrive_count",
        "redrive_us",
        "snapshot",
        "start_us",
        "status",
        "stop_us",
        "version_id",
        "wake_us",
    )

    id: str
    arn: str
    machine_name: str
    version_id: int
    name: str
    status: str
    input: str
    output: str | None
    error: str | None
    cause: str | None
    start_us: int
    stop_us: int | None
    redrive_count: int
    redrive_us: int | None
    snapshot: str | None
    event_count: int
    wake_us: int | None
    lease_owner: str | None
    lease_expires_us: int | None
    awaited: bool

    def __init__(self, row: ExecutionRow) -> None:
        self.id, self.arn, self.machine_name = row.id, row.arn, row.machine_name
        self.version_id, self.name, self.status = row.version_id, row.name, row.status
        self.input, self.output, self.error, self.cause = (
            row.input,
            row.output,
            row.error,
            row.cause,
        )
        self.start_us, self.stop_us = row.start_us, row.stop_us
        self.redrive_count, self.redrive_us = row.redrive_count, row.redrive_us
        self.snapshot, self.event_count, self.wake_us = row.snapshot, row.event_count, row.wake_us
        self.lease_owner, self.lease_expires_us = row.lease_owner, row.lease_expires_us
        self.awaited = row.awaited

    def row(self) -> ExecutionRow:
        return ExecutionRow(
            id=self.id,
            arn=self.arn,
            machine_name=self.machine_name,
            version_id=self.version_id,
            name=self.name,
            status=self.status,
            input=self.input,
            output=self.output,
            error=self.error,
            cause=self.cause,
            start_us=self.start_us,
            stop_us=self.stop_us,
            redrive_count=self.redrive_count,
            redrive_us=self.redrive_us,
            snapshot=self.snapshot,
            event_count=self.event_count,
            wake_us=self.wake_us,
            lease_owner=self.lease_owner,
            lease_expires_us=self.lease_expires_us,
            awaited=self.awaited,
        )
