"""The runtime's store interface: what the engine, the worker and the service need from a store.

Two implementations: :class:`~eltflow.store.runtime_store.RuntimeStore` (SQLite and PostgreSQL,
durable) and :class:`~eltflow.store.memory.MemoryStore` (one process, behind
``eltflow.execute``). The runtime is typed against this protocol only, so both run the same
engine and task runner. Methods that end in ``_txn`` run inside ``with store.transaction() as
conn``; the others open their own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from eltflow.store.interrupt import Interrupt
from eltflow.store.map_runs import MapRunStore
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
)
from eltflow.store.sync_waits import SyncWaitStore
from eltflow.types import JSON

Txn = Any
"""An open transaction: each store has its own type (a SQL connection, or nothing at all for
the memory store) and only that store reads it; the runtime just passes it along."""


class Guard(Protocol):
    """Whether an execution is still as a step read it, for the writes made after the guard
    in the same transaction (:meth:`StateStore.guard_execution_txn`)."""

    def known(self) -> bool | None:
        """The answer if it is in, without waiting for it (None: not yet). Asked before the
        writes (a store that read the row at once already knows: nothing is written if
        not), and after a failed write (a write that failed because the execution changed
        meanwhile, such as a history event another step recorded first, is that change)."""
        ...

    def holds(self) -> bool:
        """The answer, after the writes and before COMMIT; sends what is queued. A transaction
        whose guard does not hold must roll back."""
        ...


@dataclass(frozen=True)
class KnownGuard:
    """A guard whose answer was known when it was made (the row was read at once)."""

    answer: bool

    def known(self) -> bool | None:
        return self.answer

    def holds(self) -> bool:
        return self.answer


class StateStore(Protocol):
    def transaction(self) -> AbstractContextManager[Txn]:
        """One transaction: all of its writes happen, or none of them."""
        ...

    def read_transaction(self) -> AbstractContextManager[Txn]:
        """A consistent read that blocks no writer: the runtime reads an execution here,
        evaluates its step with no transaction open, then writes it in :meth:`transaction`
        if it did not change meanwhile. ``_txn`` methods that only read may run in it."""
        ...

    def insert_version_txn(
        self,
        conn: Txn,
        *,
        machine_name: str,
        version: int,
        definition: str,
        description: str,
        created_us: int,
    ) -> int: ...

    def get_version_txn(self, conn: Txn, version_id: int) -> VersionRow | None: ...

    def get_version(self, version_id: int) -> VersionRow | None: ...

    def insert_machine_txn(self, conn: Txn, machine: MachineRow) -> None: ...

    def update_machine_txn(
        self, conn: Txn, *, name: str, current_version_id: int, role_arn: str, now_us: int
    ) -> None: ...

    def get_machine_txn(self, conn: Txn, name: str) -> MachineRow | None: ...

    def get_machine(self, name: str) -> MachineRow | None: ...

    def list_machines(self, *, after: str = "", limit: int = 100) -> list[MachineRow]: ...

    def delete_machine(self, name: str, now_us: int = 0) -> bool: ...

    def list_versions(
        self, name: str, *, before_version: int = 2**62, limit: int = 100
    ) -> list[VersionRow]:
        """Live versions of machine ``name`` below ``before_version``, newest first."""
        ...

    def insert_execution_txn(
        self,
        conn: Txn,
        *,
        id: str,
        arn: str,
        machine_name: str,
        version_id: int,
        name: str,
        input: str,
        start_us: int,
    ) -> None: ...

    def insert_started_execution_txn(
        self, conn: Txn, row: ExecutionRow, machine: MachineRow
    ) -> bool:
        """Insert StartExecution's ``row``, already projected from the execution's first step,
        if its machine is still ``machine`` (the row the step was decided with, and
        ``row``'s machine name and version are its) and no execution has ``row.arn``. False
        when either is not so: nothing is written, and the caller reads which."""
        ...

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
        """:meth:`insert_started_execution_txn`, then :meth:`insert_task_txn` of each of
        ``tasks`` (created at ``row.start_us``), :meth:`insert_timer_txn` of each of
        ``timers`` (``(timer_id, due_us)``), :meth:`append_history_txn` of ``events`` and, if
        ``notify``, :meth:`notify_work_txn`, in a transaction of their own (or the thread's
        open one; a durable store may commit concurrent callers' starts in one), committed
        on return: what a start whose first step only started tasks and timers writes.
        False, nothing written, as :meth:`insert_started_execution_txn`."""
        ...

    def get_execution_txn(self, conn: Txn, execution_id: str) -> ExecutionRow | None: ...

    def get_execution(self, execution_id: str) -> ExecutionRow | None: ...

    def get_execution_by_arn_txn(self, conn: Txn, arn: str) -> ExecutionRow | None: ...

    def get_execution_by_arn(self, arn: str) -> ExecutionRow | None: ...

    def lock_execution_txn(self, conn: Txn, execution_id: str) -> ExecutionRow | None:
        """Read the execution and hold it until the transaction ends (row lock / write lock)."""
        ...

    def guard_execution_txn(
        self, conn: Txn, execution_id: str, unchanged: Callable[[ExecutionVersion | None], bool]
    ) -> Guard:
        """Lock the execution (as :meth:`lock_execution_txn`) for writes that hold only if
        ``unchanged(row)`` (see :class:`Guard`); ``row`` may have only the columns it
        compares. PostgreSQL sends the lock with the writes queued behind it, in one round
        trip (issue 16: a step's lock was a round trip of its own); the others read it at
        once."""
        ...

    def step_reads_txn(
        self, conn: Txn, execution_id: str, *, due_us: int | None, inbox: bool
    ) -> tuple[ExecutionRow | None, list[TimerRow], list[InboxRow], list[TaskRow], int | None]:
        """What a step is evaluated from, in one round trip and without a lock: the
        execution; its timers due by ``due_us`` (none when None); its inbox when ``inbox``;
        its pending tasks and when its next timer is due (as :meth:`work_txn`)."""
        ...

    def update_execution_txn(
        self,
        conn: Txn,
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
    ) -> None: ...

    def set_redriven_txn(self, conn: Txn, execution_id: str, now_us: int) -> None: ...

    def list_executions(
        self,
        *,
        machine_name: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[ExecutionSummaryRow]: ...

    def count_by_status(self) -> dict[str, int]: ...

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
        """Lease up to ``limit`` runnable executions (or just ``only``) to ``owner``; with
        ``busy_seconds``, where :attr:`listens_while_busy`, starts notify the claimant ahead
        of idle workers for that long."""
        ...

    def renew(self, *, owner: str, execution_ids: Iterable[str], expires_us: int) -> set[str]:
        """Extend ``owner``'s leases; returns the ids it still holds."""
        ...

    def release_txn(
        self, conn: Txn, *, owner: str, execution_id: str, wake_us: int | None
    ) -> None: ...

    def wake_txn(self, conn: Txn, execution_id: str, wake_us: int) -> None: ...

    @property
    def map_runs(self) -> MapRunStore:
        """Distributed Map: Map Runs and their child executions."""
        ...

    @property
    def sync_waits(self) -> SyncWaitStore:
        """``states:startExecution.sync`` tasks waiting for their child execution."""
        ...

    @property
    def durable(self) -> bool:
        """Whether what is recorded outlives the process. When not, the engine keeps each
        execution's state as a live object instead of encoding a snapshot per step."""
        ...

    @property
    def notifies(self) -> bool:
        """Whether :meth:`wait_for_work` returns early when work arrives."""
        ...

    @property
    def wait_sees_next_wake(self) -> bool:
        """Whether :meth:`wait_for_work` also ends by itself when :meth:`next_wake` comes due
        (else the caller bounds its timeout by it)."""
        ...

    def notify_work_txn(self, conn: Txn) -> None:
        """Tell idle workers there is work now (on commit; PostgreSQL only, else a no-op)."""
        ...

    @property
    def listens_while_busy(self) -> bool:
        """Whether a busy worker waits with :meth:`wait_while_busy` to hear of new work."""
        ...

    def wait_while_busy(self, fd: int, timeout: float) -> bool:
        """Block up to ``timeout`` seconds until ``fd`` is readable or work is notified to
        this busy worker; True if a notification came."""
        ...

    def wait_for_work(
        self,
        timeout: float,
        *,
        runnable_at: int | None = None,
        claimant: bool = True,
        interrupt: Interrupt | None = None,
    ) -> bool:
        """Block up to ``timeout`` seconds for a work notification; True if one came (or, on
        a store that can tell, if some execution is runnable at ``runnable_at`` already).
        Not ``claimant``: a worker for one execution, which takes no one else's work, so a
        store that wakes one waiter per start does not pick it. ``interrupt`` (the worker's
        stop) ends the wait at once when set, also before it began."""
        ...

    def close_listener(self) -> None: ...

    def next_wake(self) -> int | None:
        """When some RUNNING execution that nobody live holds next has work (None: never)."""
        ...

    def heartbeat(self, owner: str, now_us: int) -> None: ...

    def worker_gone(self, owner: str) -> None: ...

    def live_workers(self, since_us: int) -> list[str]:
        """Owners whose last heartbeat is at or after ``since_us``."""
        ...

    def append_events_txn(self, conn: Txn, execution_id: str, events: Sequence[EventRow]) -> int:
        """Append events idempotently; returns how many were new."""
        ...

    def append_history_txn(self, conn: Txn, execution_id: str, events: Sequence[NewEvent]) -> int:
        """:meth:`append_events_txn` for events as the runtime emits them."""
        ...

    def history(
        self, execution_id: str, *, after_seq: int = 0, limit: int = 1000, reverse: bool = False
    ) -> list[EventRow]:
        """Events in order (``after_seq`` exclusive), or newest first below ``after_seq``."""
        ...

    def insert_task_txn(
        self,
        conn: Txn,
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
    ) -> None: ...

    def delete_task_txn(self, conn: Txn, execution_id: str, task_id: str) -> bool: ...

    def tasks_txn(self, conn: Txn, execution_id: str) -> list[TaskRow]: ...

    def tasks(self, execution_id: str) -> list[TaskRow]: ...

    def dispatch_task_txn(self, conn: Txn, execution_id: str, task_id: str) -> None:
        """Mark a task as handed to a runner (counts attempts: a re-dispatch after a crash)."""
        ...

    def set_checkpoint(self, execution_id: str, task_id: str, checkpoint: JSON) -> None: ...

    def insert_timer_txn(
        self, conn: Txn, execution_id: str, timer_id: str, due_us: int
    ) -> None: ...

    def delete_timer_txn(self, conn: Txn, execution_id: str, timer_id: str) -> bool: ...

    def due_timers_txn(self, conn: Txn, execution_id: str, now_us: int) -> list[TimerRow]: ...

    def next_timer_txn(self, conn: Txn, execution_id: str) -> int | None: ...

    def forget_work_txn(
        self,
        conn: Txn,
        execution_id: str,
        *,
        task_ids: Sequence[str] = (),
        timer_ids: Sequence[str] = (),
    ) -> None:
        """Drop tasks and timers that are done or cancelled (nothing is read back, so a store
        may send the deletes with the transaction's other writes)."""
        ...

    def work_txn(self, conn: Txn, execution_id: str) -> tuple[list[TaskRow], int | None]:
        """The execution's pending tasks and when its next timer is due (None: no timer)."""
        ...

    def clear_work_txn(self, conn: Txn, execution_id: str) -> None:
        """Drop the pending tasks and timers of an execution that has ended."""
        ...

    def insert_snapshot_parts_txn(
        self, conn: Txn, execution_id: str, parts: Sequence[tuple[str, str]]
    ) -> None:
        """Keep parts (name, text) of the execution's snapshots (``ExecutionState.to_stored``),
        with the snapshot that first names them. A part already kept stays as it is."""
        ...

    def snapshot_parts_txn(self, conn: Txn, execution_id: str) -> dict[str, str]:
        """Every part kept for the execution's snapshots, by name."""
        ...

    def insert_inbox_txn(
        self, conn: Txn, execution_id: str, kind: str, payload: JSON, now_us: int
    ) -> None: ...

    def inbox_txn(self, conn: Txn, execution_id: str) -> list[InboxRow]: ...

    def delete_inbox_txn(self, conn: Txn, inbox_id: int) -> None: ...

    def executions_with_inbox(self, owner: str) -> list[str]: ...


def insert_started_txn(
    store: StateStore,
    conn: Txn,
    row: ExecutionRow,
    machine: MachineRow,
    events: Sequence[NewEvent],
    tasks: Sequence[NewTask],
    *,
    notify: bool,
    timers: Sequence[tuple[str, int]] = (),
) -> bool:
    """What :meth:`StateStore.insert_started_execution` writes, in ``conn``'s transaction,
    through the store's ``_txn`` methods: the way every store writes a start unless it has a
    faster one of its own (PostgreSQL's single statement)."""
    if not store.insert_started_execution_txn(conn, row, machine):
        return False
    for task in tasks:
        store.insert_task_txn(
            conn,
            execution_id=row.id,
            task_id=task.task_id,
            state_name=task.state_name,
            resource=task.resource,
            parameters=task.parameters,
            timeout_seconds=task.timeout_seconds,
            heartbeat_seconds=task.heartbeat_seconds,
            task_token=task.task_token,
            now_us=row.start_us,
        )
    for timer_id, due_us in timers:
        store.insert_timer_txn(conn, row.id, timer_id, due_us)
    store.append_history_txn(conn, row.id, events)
    if notify:
        store.notify_work_txn(conn)
    return True
