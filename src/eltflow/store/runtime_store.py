"""The runtime's store: machines, versions, executions, history, tasks, timers, leases.

One class for both dialects: the SQL differs only inside ``sql/<dialect>.sql``. Methods that
end in ``_txn`` run inside the caller's transaction (``with store.db.transaction() as conn``) so
the runtime can write events, the execution projection, tasks and timers atomically; the
others open their own transaction.
"""

from __future__ import annotations

import contextlib
import json
import select
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from eltflow import json_text
from eltflow.errors import ConflictError, StoreError
from eltflow.store.db import Connection, Database, Queued, to_pyformat
from eltflow.store.group_commit import GroupCommit
from eltflow.store.interface import Guard, KnownGuard, insert_started_txn
from eltflow.store.interrupt import Interrupt
from eltflow.store.map_runs import SqlMapRuns
from eltflow.store.queries import queries
from eltflow.store.rows import (
    EventRow,
    ExecutionRow,
    ExecutionSummaryRow,
    ExecutionVersion,
    GuardRow,
    InboxRow,
    MachineRow,
    NewEvent,
    NewTask,
    TaskRow,
    TimerRow,
    VersionRow,
    build,
    history_items,
    started_params,
)
from eltflow.store.sync_waits import SqlSyncWaits
from eltflow.store.wakeup import wakeup_for
from eltflow.types import JSON

# Compact and key-order-preserving: what AWS returns is what the user sent. The json module's
# text, written by orjson where that is the same text (issue 16: the json module's encoder was
# ~40 us of a 10-Pass execution's ~24 event-detail and snapshot texts).
dumps = json_text.dumps


def _drained(listener: Any) -> bool:
    """Take every notification ``listener`` (a psycopg connection) has received; True if
    there was one."""
    found = False
    for _ in listener.notifies(timeout=0):
        found = True
    return found


def _next_notification(listener: Any, timeout: float, interrupt: Interrupt | None) -> str | None:
    """The channel of the next notification ``listener`` receives (the last of the first
    batch) within ``timeout`` seconds; None if none came, or ``interrupt`` was set first."""
    if interrupt is None:
        woken: str | None = None
        for note in listener.notifies(timeout=timeout, stop_after=1):
            woken = note.channel
        return woken
    # psycopg's wait cannot take a second descriptor: select on both, then take what came
    # (also what came with the last statement's results, which no select sees).
    deadline = time.monotonic() + timeout
    ready = [listener.fileno(), interrupt.fileno()]
    while not interrupt.is_set():
        woken = None
        for note in listener.notifies(timeout=0, stop_after=1):
            woken = note.channel
        left = deadline - time.monotonic()
        if woken is not None or left <= 0:
            return woken
        select.select(ready, [], [], left)
    return None


SQLITE_GROUP_THREADS = 5
"""On SQLite, from how many threads starting executions their starts are group-committed
(:class:`~eltflow.store.group_commit.GroupCommit`'s ``group_threads``): a WAL commit is
~16 µs, and with 4 starter threads batches of ~2 cost ~+90 µs CPU per start in hand-offs
between threads (issue 16; with 16 threads grouping saves CPU and doubles the rate)."""


class RuntimeStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.q = queries(db.dialect)
        self._listener: Any = None  # psycopg connection LISTENing for work (PostgreSQL)
        # Its own channel, besides eltflow_work: a start notifies one idle listener (issue 16:
        # one NOTIFY woke every worker to race for one claim).
        self._channel = f"eltflow_work_{uuid.uuid4().hex}"
        # time.monotonic() until which this store's row stands for a busy worker: a claim
        # renews it only once half of it has passed (see claim).
        self._busy_renew_at = 0.0
        # SQLite: wake this process's idle workers after a commit that made work (issue 16:
        # start -> SUCCEEDED was set by the worker's 0.2 s poll). Per thread: the transaction
        # depth, whether it notified, and the last wake-up generation this thread saw.
        self._wakeup = wakeup_for(db) if db.dialect == "sqlite" else None
        self._reads_wakeups = False  # SQLite: wakeup.listen()ed, see claim
        self._local = _PerThread()
        self.map_runs = SqlMapRuns(self)  # Distributed Map: Map Runs and their children
        self.sync_waits = SqlSyncWaits(self)  # .sync tasks waiting for their child
        # Concurrent StartExecution callers' starts, committed together (issue 16); its
        # ``commits`` count the transactions that committed starts. PostgreSQL: whoever finds
        # a commit running waits for the next batch (a commit is a round trip and a flush);
        # SQLite: only once SQLITE_GROUP_THREADS threads or more are starting executions.
        self.starts = GroupCommit(
            self.transaction,
            group_threads=SQLITE_GROUP_THREADS if db.dialect == "sqlite" else 2,
        )

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: commits on success, rolls back on any exception. Opened inside
        another of this store on the same thread, it joins that one (both dialects), so the
        engine can record several steps in one transaction (group commit)."""
        local = self._local
        depth = getattr(local, "depth", 0)
        outer: Connection | None = getattr(local, "conn", None) if depth else None
        local.depth = depth + 1
        try:
            if outer is not None:
                yield outer
            else:
                with self.db.transaction() as conn:
                    local.conn = conn
                    try:
                        yield conn
                    finally:
                        local.conn = None
        except BaseException:
            if depth == 0:
                local.notify = False
            raise
        finally:
            local.depth = depth
        if depth == 0 and getattr(local, "notify", False):
            local.notify = False
            if self._wakeup is not None:
                self._wakeup.notify()  # after COMMIT: a woken worker sees the rows

    def read_transaction(self) -> AbstractContextManager[Connection]:
        """A consistent read that holds no write lock (see :meth:`Database.read_transaction`)."""
        return self.db.read_transaction()

    def _one(self, conn: Connection, name: str, params: dict[str, Any]) -> dict[str, Any] | None:
        rows = conn.execute(self.q[name], params)
        return rows[0] if rows else None

    # -- machines and versions -------------------------------------------------------------
    def insert_version_txn(
        self,
        conn: Connection,
        *,
        machine_name: str,
        version: int,
        definition: str,
        description: str,
        created_us: int,
    ) -> int:
        row = self._one(
            conn,
            "insert_version",
            {
                "machine_name": machine_name,
                "version": version,
                "definition": definition,
                "description": description,
                "created_us": created_us,
            },
        )
        assert row is not None
        return int(row["id"])

    def get_version_txn(self, conn: Connection, version_id: int) -> VersionRow | None:
        row = self._one(conn, "get_version", {"id": version_id})
        return build(VersionRow, row) if row else None

    def get_version(self, version_id: int) -> VersionRow | None:
        with self.db.read_transaction() as conn:
            return self.get_version_txn(conn, version_id)

    def insert_machine_txn(self, conn: Connection, machine: MachineRow) -> None:
        try:
            conn.execute(
                self.q["insert_machine"],
                {
                    "name": machine.name,
                    "arn": machine.arn,
                    "current_version_id": machine.current_version_id,
                    "role_arn": machine.role_arn,
                    "machine_type": machine.machine_type,
                    "created_us": machine.created_us,
                    "updated_us": machine.updated_us,
                },
            )
        except ConflictError as e:
            raise ConflictError(f"state machine {machine.name!r} already exists") from e

    def update_machine_txn(
        self, conn: Connection, *, name: str, current_version_id: int, role_arn: str, now_us: int
    ) -> None:
        conn.execute(
            self.q["update_machine"],
            {
                "name": name,
                "current_version_id": current_version_id,
                "role_arn": role_arn,
                "updated_us": now_us,
            },
        )

    def get_machine_txn(self, conn: Connection, name: str) -> MachineRow | None:
        row = self._one(conn, "get_machine", {"name": name})
        return build(MachineRow, row) if row else None

    def get_machine(self, name: str) -> MachineRow | None:
        with self.db.transaction() as conn:
            return self.get_machine_txn(conn, name)

    def list_machines(self, *, after: str = "", limit: int = 100) -> list[MachineRow]:
        with self.db.transaction() as conn:
            rows = conn.execute(self.q["list_machines"], {"after": after, "limit": limit})
        return [build(MachineRow, r) for r in rows]

    def delete_machine(self, name: str, now_us: int = 0) -> bool:
        with self.db.transaction() as conn:
            found = self.get_machine_txn(conn, name) is not None
            conn.execute(self.q["delete_machine"], {"name": name})
            conn.execute(self.q["delete_unused_versions"], {"name": name})
            conn.execute(self.q["retire_versions"], {"name": name, "now_us": now_us})
        return found

    def list_versions(
        self, name: str, *, before_version: int = 2**62, limit: int = 100
    ) -> list[VersionRow]:
        """Live versions of machine ``name`` below ``before_version``, newest first."""
        with self.db.transaction() as conn:
            rows = conn.execute(
                self.q["list_versions"],
                {
                    "name": name,
                    "before_version": before_version,
                    "limit": limit,
                },
            )
        return [build(VersionRow, r) for r in rows]

    # -- executions ------------------------------------------------------------------------
    def insert_execution_txn(
        self,
        conn: Connection,
        *,
        id: str,
        arn: str,
        machine_name: str,
        version_id: int,
        name: str,
        input: str,
        start_us: int,
    ) -> None:
        conn.execute(
            self.q["insert_execution"],
            {
                "id": id,
                "arn": arn,
                "machine_name": machine_name,
                "version_id": version_id,
                "name": name,
                "status": "RUNNING",
                "input": input,
                "start_us": start_us,
                "wake_us": start_us,
            },
        )

    def insert_started_execution_txn(
        self, conn: Connection, row: ExecutionRow, machine: MachineRow
    ) -> bool:
        """Insert StartExecution's ``row``, already projected from the execution's first step,
        if its machine is still ``machine`` and no execution has ``row.arn``; False (nothing
        written) when either is not so. One statement, which is both checks (issue 16: a
        start read the machine and the ARN before and again in its transaction, then
        inserted the row and updated it with the step's projection)."""
        found = conn.execute(self.q["insert_started_execution"], _started_params(row, machine))
        return bool(found)

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
        """The row (:meth:`insert_started_execution_txn`), its tasks and timers, its first
        events and a worker's wake-up committed together, answered once committed. Inside a
        transaction of this thread, in that one. Otherwise a start made while another
        thread's start is committing waits and is committed with the others that queued
        meanwhile, in one transaction (:class:`~eltflow.store.group_commit.GroupCommit`;
        issue 16: a start was a commit of its own, ~13 WAL pages on SQLite), on SQLite only
        once :data:`SQLITE_GROUP_THREADS` threads or more are starting executions; a lone
        start (on SQLite, any start of fewer threads) is committed at once, alone
        (:meth:`_insert_started_alone`)."""
        start = _Start(row, machine, events, tasks, timers, notify)
        if getattr(self._local, "depth", 0) > 0:
            with self.transaction() as conn:
                return self._insert_started_txn(conn, start)

        def alone() -> bool:
            return self._insert_started_alone(start)

        def grouped(conn: Connection) -> Callable[[], bool]:
            if self.db.dialect == "postgres" and events:
                # Each start's own statement, queued: a batch's are sent in one round trip.
                found = conn.queue(self.q["insert_started_execution_alone"], _alone_params(start))
                return lambda: bool(found.rows())
            done = self._insert_started_txn(conn, start)
            return lambda: done

        return self.starts.run(alone, grouped)

    def _insert_started_txn(self, conn: Connection, start: _Start) -> bool:
        return insert_started_txn(
            self,
            conn,
            start.row,
            start.machine,
            start.events,
            start.tasks,
            notify=start.notify,
            timers=start.timers,
        )

    def _insert_started_alone(self, start: _Start) -> bool:
        """One start committed by itself. On PostgreSQL that is one statement the server
        commits by itself (the connection is in autocommit): no BEGIN and no COMMIT to send
        and wait for (issue 16: a 10-Pass chain's StartExecution 3 -> 1 round trips).
        Elsewhere a transaction of them."""
        if self.db.dialect != "postgres" or not start.events:
            with self.transaction() as conn:
                return self._insert_started_txn(conn, start)
        with self.db.statement() as conn:
            found = conn.execute(self.q["insert_started_execution_alone"], _alone_params(start))
        return bool(found)

    def get_execution_txn(self, conn: Connection, execution_id: str) -> ExecutionRow | None:
        row = self._one(conn, "get_execution", {"id": execution_id})
        return build(ExecutionRow, row) if row else None

    def get_execution(self, execution_id: str) -> ExecutionRow | None:
        with self.db.transaction() as conn:
            return self.get_execution_txn(conn, execution_id)

    def get_execution_by_arn_txn(self, conn: Connection, arn: str) -> ExecutionRow | None:
        row = self._one(conn, "get_execution_by_arn", {"arn": arn})
        return build(ExecutionRow, row) if row else None

    def get_execution_by_arn(self, arn: str) -> ExecutionRow | None:
        # A read transaction: no write lock on SQLite, no BEGIN/COMMIT on PostgreSQL
        # (DescribeExecution, which callers poll, reads through here).
        with self.db.read_transaction() as conn:
            return self.get_execution_by_arn_txn(conn, arn)

    def lock_execution_txn(self, conn: Connection, execution_id: str) -> ExecutionRow | None:
        """Read the execution and hold it until the transaction ends (row lock / write lock)."""
        row = self._one(conn, "lock_execution", {"id": execution_id})
        return build(ExecutionRow, row) if row else None

    def guard_execution_txn(
        self,
        conn: Connection,
        execution_id: str,
        unchanged: Callable[[ExecutionVersion | None], bool],
    ) -> Guard:
        found = conn.queue(self.q["guard_execution"], {"id": execution_id})
        if not conn.deferred:
            rows = found.rows()  # read already: known before anything is written
            return KnownGuard(unchanged(build(GuardRow, rows[0]) if rows else None))
        return _QueuedGuard(found, unchanged)

    def step_reads_txn(
        self, conn: Connection, execution_id: str, *, due_us: int | None, inbox: bool
    ) -> tuple[ExecutionRow | None, list[TimerRow], list[InboxRow], list[TaskRow], int | None]:
        of = {"execution_id": execution_id}
        reads: list[tuple[str, dict[str, Any]]] = [
            (self.q["get_execution"], {"id": execution_id}),
            (self.q["list_tasks"], of),
            (self.q["next_timer"], of),
        ]
        if due_us is not None:
            reads.append((self.q["due_timers"], {**of, "now_us": due_us}))
        if inbox:
            reads.append((self.q["list_inbox"], of))
        found = conn.execute_all(reads)
        if not found[0]:
            return None, [], [], [], None
        row = build(ExecutionRow, found[0][0])
        tasks = [_task(r) for r in found[1]]
        next_due = found[2][0]["due_us"] if found[2] else None
        due = [build(TimerRow, r) for r in found[3]] if due_us is not None else []
        requests = [build(InboxRow, r) for r in found[-1]] if inbox else []
        return row, due, requests, tasks, None if next_due is None else int(next_due)

    def update_execution_txn(
        self,
        conn: Connection,
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
        conn.write(
            self.q["update_execution"],
            {
                "id": execution_id,
                "status": status,
                "output": output,
                "error": error,
                "cause": cause,
                "stop_us": stop_us,
                "snapshot": snapshot,
                "event_count": event_count,
                "wake_us": wake_us,
            },
        )

    def set_redriven_txn(self, conn: Connection, execution_id: str, now_us: int) -> None:
        conn.write(self.q["set_redriven"], {"id": execution_id, "redrive_us": now_us})

    def list_executions(
        self,
        *,
        machine_name: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[ExecutionSummaryRow]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                self.q["list_executions"],
                {"machine_name": machine_name, "status": status, "limit": limit, "offset": offset},
            )
        return [build(ExecutionSummaryRow, r) for r in rows]

    def count_by_status(self) -> dict[str, int]:
        with self.db.transaction() as conn:
            rows = conn.execute(self.q["count_by_status"])
        return {str(r["status"]): int(r["n"]) for r in rows}

    # -- leases ----------------------------------------------------------------------------
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
        """Lease up to ``limit`` runnable executions (or just ``only``) to ``owner``.

        PostgreSQL commits a claim without waiting for its WAL flush (issue 16: one fsync
        less on the way from start to first step). A claim lost in a server crash is a lease
        never taken, which recovery handles already; and the first step written under it is
        flushed normally, which flushes the claim's earlier WAL with it.

        ``busy_seconds`` (PostgreSQL): the claimant listens while busy
        (:meth:`wait_while_busy`); for that long a start notifies it ahead of idle workers
        (issue 16: each start woke another idle worker to run that one execution alone). A
        claim of such a worker that comes back full wakes one idle worker to share the rest."""
        if only is None and not self._reads_wakeups and self._wakeup is not None:
            # SQLite: a worker that claims any work hears of starts made by other processes
            # from now on (read before this claim, so none made after it goes unheard), until
            # close_listener. Not a worker for one execution: it would take the wake-up.
            self._reads_wakeups = True
            self._wakeup.listen()
        params = {"owner": owner, "now_us": now_us, "expires_us": now_us + lease_us}
        busy = None
        # Renewed once half of it has passed (else its row stands already), by a worker
        # listening before a start can pick its row (it claims without, if it cannot).
        if (
            busy_seconds is not None
            and self.listens_while_busy
            and time.monotonic() >= self._busy_renew_at
            and self._listening()
        ):
            busy = {
                "channel": self._channel,
                "since_us": time.time_ns() // 1000,
                "busy_us": int(busy_seconds * 1_000_000),
            }
        with self.db.transaction() as conn:
            if self.db.dialect == "postgres":
                conn.write(self.q["commit_without_flush"])
            if busy is not None:
                conn.write(self.q["listener_claiming"], busy)
            if only is not None:
                rows = conn.execute(
                    self.q["claim_execution"], {**params, "id": only, "limit": limit}
                )
            else:
                rows = conn.execute(self.q["claim_executions"], {**params, "limit": limit})
                if busy_seconds is not None and self.listens_while_busy and len(rows) >= limit:
                    # Maybe more than it takes at once (issue 16: starts go to one busy worker
                    # ahead of idle ones, which alone would leave the others idle under a
                    # backlog): one idle worker is woken to share it.
                    conn.write(self.q["notify_idle"])
        if busy is not None and busy_seconds is not None:  # committed: renewed at half-life
            self._busy_renew_at = time.monotonic() + busy_seconds / 2
        return [str(r["id"]) for r in rows]

    def renew(self, *, owner: str, execution_ids: Iterable[str], expires_us: int) -> set[str]:
        """Extend ``owner``'s leases; returns the ids it still holds. PostgreSQL sends the
        updates in one round trip (a worker holding 1,000 waiting executions sent 1,000)."""
        ids = list(execution_ids)
        q = self.q["renew_lease"]
        with self.db.transaction() as conn:
            found = conn.execute_all(
                [(q, {"id": eid, "owner": owner, "expires_us": expires_us}) for eid in ids]
            )
        return {eid for eid, rows in zip(ids, found, strict=True) if rows}

    def release_txn(
        self, conn: Connection, *, owner: str, execution_id: str, wake_us: int | None
    ) -> None:
        conn.write(
            self.q["release_lease"], {"id": execution_id, "owner": owner, "wake_us": wake_us}
        )

    def wake_txn(self, conn: Connection, execution_id: str, wake_us: int) -> None:
        conn.write(self.q["wake_execution"], {"id": execution_id, "wake_us": wake_us})

    @property
    def durable(self) -> bool:
        """Whether what is recorded outlives the process: yes (SQLite, PostgreSQL)."""
        return True

    @property
    def notifies(self) -> bool:
        """Whether :meth:`wait_for_work` returns early when work arrives."""
        return self.db.dialect == "postgres"

    @property
    def wait_sees_next_wake(self) -> bool:
        """Whether :meth:`wait_for_work` also ends by itself when some execution next has work
        (:meth:`next_wake`), so a worker need not read that first: PostgreSQL's wait reads it
        in the statement that makes the worker idle (one round trip less per wait)."""
        return self.db.dialect == "postgres"

    def notify_work_txn(self, conn: Connection) -> None:
        """Tell idle workers there is work now, on commit: PostgreSQL's NOTIFY; SQLite wakes
        the workers of this process when :meth:`transaction` commits."""
        if self._wakeup is not None:
            self.wake_on_commit()
            return  # SQLite's notify_work is a placeholder SELECT: one statement less
        conn.write(self.q["notify_work"])

    def wake_on_commit(self) -> None:
        """SQLite: wake this process's idle workers once the open transaction commits."""
        self._local.notify = True

    @property
    def listens_while_busy(self) -> bool:
        """Whether a busy worker should wait with :meth:`wait_while_busy` (PostgreSQL)."""
        return self.db.dialect == "postgres"

    def wait_while_busy(self, fd: int, timeout: float) -> bool:
        """A busy worker's wait: up to ``timeout`` seconds until ``fd`` (its tasks' completion
        pipe) is readable or a start notifies it; True if a notification came, then or
        since it last asked. Any is taken as work for it: it claims right after."""
        import psycopg

        listener = self._listener
        if listener is None or listener.closed:
            select.select([fd], [], [], max(timeout, 0))
            return False
        try:
            # Received meanwhile, with a statement's results or while it ran tasks.
            if _drained(listener):
                return True
            ready, _, _ = select.select([fd, listener.fileno()], [], [], max(timeout, 0))
            return fd not in ready and _drained(listener)
        except psycopg.Error:
            self.close_listener()  # reopened by the next wait or claim that needs it
            return False

    def wait_for_work(
        self,
        timeout: float,
        *,
        runnable_at: int | None = None,
        claimant: bool = True,
        interrupt: Interrupt | None = None,
    ) -> bool:
        """Block up to ``timeout`` seconds for a work notification; True if one came.

        PostgreSQL: LISTEN on a dedicated connection, so a new execution is picked up at once
        instead of at the next poll. With ``runnable_at``, returns True at once, without
        waiting, when some execution is runnable at that time already, so a worker that goes
        idle needs no claim of its own first to find out. SQLite: this waits for a commit
        that made work, in this process or, once this store claimed any work, another one
        (see :mod:`eltflow.store.wakeup`), else the timeout. ``interrupt`` (the worker's
        stop) ends the wait at once: it notifies the condition, or is selected on with the
        LISTEN connection (:mod:`eltflow.store.interrupt`).
        """
        if interrupt is not None and interrupt.is_set():
            return False
        wakeup = self._wakeup
        if wakeup is not None:
            local = self._local
            condition = wakeup.condition
            with condition:
                start = wakeup.generation
                seen = getattr(local, "seen", None)
                if seen is None:  # this thread's first wait: it saw nothing yet
                    seen = start
                if seen == start:
                    if interrupt is None:
                        condition.wait(max(timeout, 0))
                    elif interrupt.watch(condition):
                        try:
                            condition.wait(max(timeout, 0))
                        finally:
                            interrupt.unwatch(condition)
                now: int = wakeup.generation
                local.seen = now
                return now != seen
        if self.db.dialect != "postgres":
            if interrupt is None:
                time.sleep(max(timeout, 0))
            else:
                interrupt.wait(max(timeout, 0))
            return False
        import psycopg

        channel = {"channel": self._channel}
        try:
            listener = self._listen()
            # Notifications that came while this worker was busy are stale (issue 16: each
            # one woke the worker to an empty claim): the work they announced committed
            # before they arrived, so listener_idle below sees it. Dropped before it runs;
            # any that comes after is for work it may not see, and wakes the worker.
            _drained(listener)
            idle = {
                **channel,
                # Ordered by wall time across processes: only the order counts.
                "since_us": time.time_ns() // 1000,
                # -1: nothing is runnable that early, so none is looked for.
                "now_us": -1 if runnable_at is None else runnable_at,
                # Not a claimant (a worker for one execution): not among the idle listeners,
                # where it took a start's wake-up meant for a worker that claims (it was the
                # most recently idle, so picked first), and that start waited out the other
                # worker's poll. It hears eltflow_work, where wake-ups go when no worker
                # listens (its own execution's among them); its wait ends by itself when the
                # next wake-up comes due.
                "claimant": claimant,
            }
            row = listener.execute(to_pyformat(self.q["listener_idle"]), idle).fetchone()
            self._busy_renew_at = 0.0  # the row stands for an idle worker now, or is gone
            if row is not None and row[0]:
                return True  # runnable already: not made idle
            if row is not None and row[1] is not None:  # until the next wake-up is due
                now = time.time_ns() // 1000 if runnable_at is None else runnable_at
                timeout = min(timeout, (int(row[1]) - now) / 1_000_000)
            woken = _next_notification(listener, max(timeout, 0.001), interrupt)
            # A start that picked this channel made the row a busy one, so that the starts
            # right after go to this worker, about to claim. After a timeout the row stays an
            # idle one, idle since it first was: a worker whose wait timed out is no more
            # recently idle than before (issue 16: it took the next wake-up from the worker
            # that had just run out of work, so work kept moving between workers). Woken by
            # the channel all listen on, or taking no one else's work (no runnable_at), it
            # takes its row back (not a claimant: it has none).
            if claimant and ((woken is not None and woken != self._channel) or runnable_at is None):
                listener.execute(to_pyformat(self.q["listener_busy"]), channel)
            return woken is not None
        except psycopg.Error:
            # A broken listener only costs latency: fall back to a poll (at most the default
            # poll interval: the next wake-up was not read).
            self.close_listener()
            pause = max(min(timeout, 0.2), 0)
            if interrupt is None:
                time.sleep(pause)
            else:
                interrupt.wait(pause)
        return False

    def _listen(self) -> Any:
        """The connection LISTENing for work, opened on first use."""
        if self._listener is None or self._listener.closed:
            import psycopg

            listener = psycopg.connect(self.db.url, autocommit=True)
            # Its writes are the idle-listener rows alone: losing one in a server crash costs
            # a wake-up at most (the worker polls past idle_seconds), so its commits need not
            # wait for a WAL flush.
            listener.execute("SET synchronous_commit TO OFF")
            listener.execute("LISTEN eltflow_work")
            listener.execute(f"LISTEN {self._channel}")  # a uuid's hex: no quoting
            self._listener = listener
        return self._listener

    def _listening(self) -> bool:
        import psycopg

        try:
            self._listen()
        except psycopg.Error:
            self.close_listener()
            return False
        return True

    def close_listener(self) -> None:
        if self._reads_wakeups and self._wakeup is not None:
            self._reads_wakeups = False
            self._wakeup.unlisten()
        listener, self._listener = self._listener, None
        self._busy_renew_at = 0.0
        if listener is not None and not listener.closed:
            with contextlib.suppress(Exception):  # its row must not outlive it, if it can help
                listener.execute(to_pyformat(self.q["listener_busy"]), {"channel": self._channel})
            listener.close()

    def next_wake(self) -> int | None:
        """When some RUNNING execution that nobody live holds next has work (None: never).
        A read transaction: an idle worker asks this before every wait."""
        with self.db.read_transaction() as conn:
            row = self._one(conn, "next_wake", {})
        return None if row is None or row["due_us"] is None else int(row["due_us"])

    # -- workers ---------------------------------------------------------------------------
    def heartbeat(self, owner: str, now_us: int) -> None:
        with self.db.transaction() as conn:
            conn.execute(self.q["worker_heartbeat"], {"owner": owner, "now_us": now_us})

    def worker_gone(self, owner: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(self.q["worker_gone"], {"owner": owner})

    def live_workers(self, since_us: int) -> list[str]:
        """Owners whose last heartbeat is at or after ``since_us``."""
        with self.db.transaction() as conn:
            rows = conn.execute(self.q["live_workers"], {"since_us": since_us})
        return [str(r["owner"]) for r in rows]

    # -- history ---------------------------------------------------------------------------
    # One row per append in sfn_history_steps: a step's events as one JSON array (see
    # migrations/*/0011_runtime_history_steps.sql and :func:`_step_params`). Issue 16: one
    # row per event was about a third of a durable 10-Pass chain's CPU on SQLite (22
    # inserts, 22 texts).
    def append_events_txn(
        self, conn: Connection, execution_id: str, events: Sequence[EventRow]
    ) -> int:
        """Append events idempotently; returns how many were new.

        Re-appending an event that is already recorded with the same content is a no-op (a
        retried transaction); different content under the same sequence number is a conflict,
        and so is a new event that does not follow the last one (ids are dense from 1, as in
        the memory store). The recorded events of the batch's range are read first: a row
        holds a range of events, so no unique key tells an event recorded already.
        """
        if not events:
            return 0
        low = min(ev.seq for ev in events)
        high = max(ev.seq for ev in events)
        recorded = {
            old.seq: old
            for old in self._history_txn(
                conn, execution_id, after_seq=max(low - 2, 0), limit=high - low + 2
            )
            if old.seq <= high
        }
        last = max(recorded, default=0)  # the last id recorded, unless all of them are
        new: list[list[Any]] = []
        for ev in events:
            old = recorded.get(ev.seq)
            if old is None:
                if ev.seq != last + 1:
                    if not recorded:  # the last one recorded is below the range read
                        end = self._history_txn(
                            conn, execution_id, after_seq=0, limit=1, reverse=True
                        )
                        last = end[0].seq if end else 0
                    raise ConflictError(
                        f"execution {execution_id}: event {ev.seq} does not follow event {last}"
                    )
                new.append([ev.seq, ev.previous_seq, ev.event_type, ev.timestamp_us, ev.details])
                recorded[ev.seq], last = ev, ev.seq
            elif old.event_type != ev.event_type or dumps(old.details) != dumps(ev.details):
                raise ConflictError(
                    f"execution {execution_id}: event {ev.seq} is already recorded as "
                    f"{old.event_type} with different content"
                )
        if new:
            conn.write(self.q["insert_history_step"], _step_params(execution_id, new))
        return len(new)

    def append_history_txn(
        self, conn: Connection, execution_id: str, events: Sequence[NewEvent]
    ) -> int:
        """Append the events a step emits, as one row; returns how many.

        Unlike :meth:`append_events_txn` this does not check for events already recorded: the
        engine numbers events from the snapshot it read under the execution's lock, in the
        transaction that writes them, so a number already taken is a bug. The insert is
        strict and queued with the step's other writes (no savepoint, no read): a step
        numbered from the same snapshot again starts at a first_seq already taken, and fails
        with :class:`ConflictError` at its next read or at COMMIT.
        """
        if not events:
            return 0
        conn.write(self.q["insert_history_step"], _history_params(execution_id, events))
        return len(events)

    def history(
        self, execution_id: str, *, after_seq: int = 0, limit: int = 1000, reverse: bool = False
    ) -> list[EventRow]:
        """Events in order (``after_seq`` exclusive), or newest first below ``after_seq``."""
        with self.db.read_transaction() as conn:
            return self._history_txn(
                conn, execution_id, after_seq=after_seq, limit=limit, reverse=reverse
            )

    def _history_txn(
        self,
        conn: Connection,
        execution_id: str,
        *,
        after_seq: int,
        limit: int,
        reverse: bool = False,
    ) -> list[EventRow]:
        """:meth:`history` in the caller's transaction.

        Event ids are dense from 1, so the rows holding the next ``limit`` events are those
        that start within ``limit`` ids (plus the one a page starts inside): one query. Each
        query also returns the next row beyond its window, so a gap in the ids (which the
        engine never leaves) only costs another query, never a short page."""
        out: list[EventRow] = []
        cursor = after_seq or (_FAR if reverse else 0)
        params: dict[str, Any] = {"execution_id": execution_id}
        while len(out) < limit:
            need = limit - len(out)
            if reverse:
                params.update(before_seq=cursor, from_seq=cursor - need)
                rows = conn.execute(self.q["list_history_reverse"], params)
                found = [e for r in rows for e in _events(r) if e.seq < cursor]
                found.sort(key=_seq, reverse=True)
                # Every event from the row before the window on is here: go on below it.
                beyond = [int(r["first_seq"]) for r in rows if int(r["first_seq"]) < cursor - need]
            else:
                params.update(after_seq=cursor, until_seq=cursor + need)
                rows = conn.execute(self.q["list_history"], params)
                found = [e for r in rows for e in _events(r) if e.seq > cursor]
                found.sort(key=_seq)
                # Every event up to the end of the row past the window is here: go on after it.
                beyond = [int(r["last_seq"]) for r in rows if int(r["first_seq"]) > cursor + need]
            out += found[:need]
            if not beyond:
                break
            cursor = beyond[0]
        return out

    # -- tasks -----------------------------------------------------------------------------
    def insert_task_txn(
        self,
        conn: Connection,
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
        conn.write(
            self.q["insert_task"],
            {
                "execution_id": execution_id,
                "task_id": task_id,
                "state_name": state_name,
                "resource": resource,
                "parameters": dumps(parameters),
                "timeout_seconds": timeout_seconds,
                "heartbeat_seconds": heartbeat_seconds,
                "task_token": task_token,
                "created_us": now_us,
            },
        )

    def delete_task_txn(self, conn: Connection, execution_id: str, task_id: str) -> bool:
        rows = conn.execute(
            self.q["delete_task"], {"execution_id": execution_id, "task_id": task_id}
        )
        return bool(rows)

    def tasks_txn(self, conn: Connection, execution_id: str) -> list[TaskRow]:
        rows = conn.execute(self.q["list_tasks"], {"execution_id": execution_id})
        return [_task(r) for r in rows]

    def tasks(self, execution_id: str) -> list[TaskRow]:
        with self.db.transaction() as conn:
            return self.tasks_txn(conn, execution_id)

    def dispatch_task_txn(self, conn: Connection, execution_id: str, task_id: str) -> None:
        """Mark a task as handed to a runner (counts attempts: a re-dispatch after a crash)."""
        conn.write(self.q["dispatch_task"], {"execution_id": execution_id, "task_id": task_id})

    def set_checkpoint(self, execution_id: str, task_id: str, checkpoint: JSON) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                self.q["set_task_checkpoint"],
                {"execution_id": execution_id, "task_id": task_id, "checkpoint": dumps(checkpoint)},
            )

    # -- timers ----------------------------------------------------------------------------
    def insert_timer_txn(
        self, conn: Connection, execution_id: str, timer_id: str, due_us: int
    ) -> None:
        conn.write(
            self.q["insert_timer"],
            {"execution_id": execution_id, "timer_id": timer_id, "due_us": due_us},
        )

    def delete_timer_txn(self, conn: Connection, execution_id: str, timer_id: str) -> bool:
        rows = conn.execute(
            self.q["delete_timer"], {"execution_id": execution_id, "timer_id": timer_id}
        )
        return bool(rows)

    def due_timers_txn(self, conn: Connection, execution_id: str, now_us: int) -> list[TimerRow]:
        rows = conn.execute(self.q["due_timers"], {"execution_id": execution_id, "now_us": now_us})
        return [build(TimerRow, r) for r in rows]

    def next_timer_txn(self, conn: Connection, execution_id: str) -> int | None:
        row = self._one(conn, "next_timer", {"execution_id": execution_id})
        return None if row is None or row["due_us"] is None else int(row["due_us"])

    def forget_work_txn(
        self,
        conn: Connection,
        execution_id: str,
        *,
        task_ids: Sequence[str] = (),
        timer_ids: Sequence[str] = (),
    ) -> None:
        """Drop tasks and timers that are done or cancelled. Nothing is read back (unlike
        :meth:`delete_task_txn`), so the deletes go with the step's other writes."""
        if task_ids:
            rows = [{"execution_id": execution_id, "task_id": t} for t in task_ids]
            conn.write_many(self.q["delete_task"], rows)
        if timer_ids:
            rows = [{"execution_id": execution_id, "timer_id": t} for t in timer_ids]
            conn.write_many(self.q["delete_timer"], rows)

    def work_txn(self, conn: Connection, execution_id: str) -> tuple[list[TaskRow], int | None]:
        """The execution's pending tasks and when its next timer is due, in one round trip."""
        params = {"execution_id": execution_id}
        tasks, timer = conn.execute_all(
            [(self.q["list_tasks"], params), (self.q["next_timer"], params)]
        )
        due = timer[0]["due_us"] if timer else None
        return [_task(r) for r in tasks], None if due is None else int(due)

    def clear_work_txn(self, conn: Connection, execution_id: str) -> None:
        """Drop the pending tasks and timers of an execution that has ended."""
        conn.write(self.q["delete_tasks"], {"execution_id": execution_id})
        conn.write(self.q["delete_timers"], {"execution_id": execution_id})

    def insert_snapshot_parts_txn(
        self, conn: Connection, execution_id: str, parts: Sequence[tuple[str, str]]
    ) -> None:
        rows = [{"execution_id": execution_id, "part": p, "body": b} for p, b in parts]
        conn.write_many(self.q["insert_snapshot_part"], rows)

    def snapshot_parts_txn(self, conn: Connection, execution_id: str) -> dict[str, str]:
        rows = conn.execute(self.q["snapshot_parts"], {"execution_id": execution_id})
        return {str(r["part"]): str(r["body"]) for r in rows}

    # -- inbox -----------------------------------------------------------------------------
    def insert_inbox_txn(
        self, conn: Connection, execution_id: str, kind: str, payload: JSON, now_us: int
    ) -> None:
        conn.write(
            self.q["insert_inbox"],
            {
                "execution_id": execution_id,
                "kind": kind,
                "payload": dumps(payload),
                "created_us": now_us,
            },
        )

    def inbox_txn(self, conn: Connection, execution_id: str) -> list[InboxRow]:
        rows = conn.execute(self.q["list_inbox"], {"execution_id": execution_id})
        return [build(InboxRow, r) for r in rows]

    def delete_inbox_txn(self, conn: Connection, inbox_id: int) -> None:
        conn.write(self.q["delete_inbox"], {"id": inbox_id})

    def executions_with_inbox(self, owner: str) -> list[str]:
        with self.db.transaction() as conn:
            rows = conn.execute(self.q["inbox_for_owner"], {"owner": owner})
        return [str(r["execution_id"]) for r in rows]


@dataclass(frozen=True)
class _QueuedGuard:
    """A guard whose lock is queued ahead of the writes (PostgreSQL)."""

    found: Queued
    unchanged: Callable[[ExecutionVersion | None], bool]

    def _verdict(self, rows: list[dict[str, Any]]) -> bool:
        return self.unchanged(build(GuardRow, rows[0]) if rows else None)

    def known(self) -> bool | None:
        rows = self.found.answered()
        return None if rows is None else self._verdict(rows)

    def holds(self) -> bool:
        return self._verdict(self.found.rows())


_FAR = 2**62  # an event id beyond any execution's last: reverse paging starts below it


def _seconds(value: float | None) -> float | None:
    return None if value is None else float(value)


def _started_params(row: ExecutionRow, machine: MachineRow) -> dict[str, Any]:
    """The bound parameters of ``insert_started_execution``."""
    params = started_params(row)
    params.update(
        {
            "machine_arn": machine.arn,
            "machine_version_id": machine.current_version_id,
            "role_arn": machine.role_arn,
            "machine_type": machine.machine_type,
            "created_us": machine.created_us,
            "updated_us": machine.updated_us,
        }
    )
    return params


class _PerThread(threading.local):
    """The store's per-thread state at its defaults until a thread sets it: a ``getattr``
    with a default finds these instead of raising an AttributeError to drop (issue 16: a
    start's transaction asked for ``notify``, which a thread that never notified lacked)."""

    depth = 0
    conn: Connection | None = None
    notify = False
    seen: int | None = None


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs a call per field
class _Start:
    """What :meth:`RuntimeStore.insert_started_execution` writes for one start."""

    row: ExecutionRow
    machine: MachineRow
    events: Sequence[NewEvent]
    tasks: Sequence[NewTask]
    timers: Sequence[tuple[str, int]]  # (timer_id, due_us)
    notify: bool


def _alone_params(start: _Start) -> dict[str, Any]:
    """The bound parameters of ``insert_started_execution_alone``."""
    row, tasks = start.row, start.tasks
    params = _started_params(row, start.machine)
    params.update(_history_params(row.id, start.events))
    params["notify"] = start.notify
    # Tasks and timers as parallel arrays (unnest in the statement); timeouts as floats, so a
    # list of ints and floats is one array type.
    params["task_ids"] = [t.task_id for t in tasks]
    params["task_states"] = [t.state_name for t in tasks]
    params["task_resources"] = [t.resource for t in tasks]
    params["task_parameters"] = [dumps(t.parameters) for t in tasks]
    params["task_timeouts"] = [_seconds(t.timeout_seconds) for t in tasks]
    params["task_heartbeats"] = [_seconds(t.heartbeat_seconds) for t in tasks]
    params["task_tokens"] = [t.task_token for t in tasks]
    params["timer_ids"] = [timer_id for timer_id, _ in start.timers]
    params["timer_dues"] = [due_us for _, due_us in start.timers]
    return params


def _step_params(execution_id: str, items: list[list[Any]]) -> dict[str, Any]:
    """The bound parameters of one history row: ``items`` (``[seq, previous_seq, type,
    timestamp_us, details]`` each, in order) as one JSON array, and their first and last id."""
    return {
        "execution_id": execution_id,
        "first_seq": items[0][0],
        "last_seq": items[-1][0],
        "events": dumps(items),  # type: ignore[arg-type]
    }


def _history_params(execution_id: str, events: Sequence[NewEvent]) -> dict[str, Any]:
    """:func:`_step_params` of ``events`` (non-empty), written by :func:`history_items`."""
    first_seq, last_seq, text = history_items(events)
    return {
        "execution_id": execution_id,
        "first_seq": first_seq,
        "last_seq": last_seq,
        "events": text,
    }


def _seq(event: EventRow) -> int:
    return event.seq


def _events(r: dict[str, Any]) -> list[EventRow]:
    """The events of one history row."""
    items = json.loads(r["events"])
    out = []
    for seq, previous_seq, event_type, timestamp_us, details in items:
        if not isinstance(details, dict):
            raise StoreError(f"history event {seq}: details are not a JSON object")
        out.append(
            EventRow(
                seq=seq,
                previous_seq=previous_seq,
                event_type=event_type,
                timestamp_us=timestamp_us,
                details=details,
            )
        )
    return out


def _task(r: dict[str, Any]) -> TaskRow:
    r = dict(r)
    r["started"] = bool(r["started"])
    out: TaskRow = build(TaskRow, r)
    return out
