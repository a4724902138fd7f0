"""Tasks waiting for a child execution: ``states:startExecution.sync`` / ``.sync:2``.

A parent's task that started a child does not poll it (issue 16: a thread per waiting parent,
waking every 50 ms). Instead:

1. :meth:`SyncWaitStore.watch` links the child to the task (``sfn_sync_waits``) and marks
   the child awaited (``ExecutionRow.awaited``) in one transaction that holds the child's row,
   so the child cannot end in between: either the link is recorded while the child runs, or
   the caller learns the child has ended already and takes its outcome at once;
2. the step that records the task's ``TaskSubmitted`` parks its row (:meth:`park_txn`:
   ``sfn_tasks.awaits``), so no worker runs it again while the child runs;
3. the child's last step (the transaction that makes it SUCCEEDED, FAILED, TIMED_OUT or
   ABORTED) wakes the parents linked to it (:meth:`wake_parents_txn`): their row becomes
   runnable and the workers are told, in that same transaction, so a crash between the child's
   end and the parent's step loses nothing. Only an awaited child's does: the engine skips
   the statement for every other execution (issue 16: it cost every durable execution's end
   ~5 us on SQLite); the step's guard compares ``awaited``, so a step evaluated before the
   link was written is evaluated again;
4. the parent's next step reads its ended children (:meth:`ended_children_txn`) and records
   each one's outcome as its task's, then drops the link (:meth:`forget_txn`).

:class:`SqlSyncWaits` is the SQLite / PostgreSQL implementation (named queries in
``sql/common.sql`` and the dialect files), :class:`MemorySyncWaits` the same rules in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from eltflow.store.rows import ExecutionRow, build

if TYPE_CHECKING:
    from eltflow.store.memory import MemoryStore
    from eltflow.store.runtime_store import RuntimeStore

Txn = Any


class SyncWaitStore(Protocol):
    def watch(self, child_arn: str, *, parent_id: str, task_id: str) -> str | None:
        """Link the child ``child_arn`` to task ``task_id`` of ``parent_id`` and mark it
        awaited if the child is RUNNING (its id), in a transaction of its own that holds the
        child's row; None (and nothing written) when it has ended or does not exist."""
        ...

    def wake_parents_txn(self, conn: Txn, child_id: str, now_us: int) -> bool:
        """The child ended in this transaction: its RUNNING parents have work at ``now_us``
        (and idle workers are told once it commits). True when it is known that one was
        (SQLite, memory: a busy worker of this process should claim it now); PostgreSQL
        does not wait for the answer (False), its NOTIFY reaches the busy workers too. The
        engine calls it for an awaited child only (no other has a parent to wake)."""
        ...

    def ended_children_txn(self, conn: Txn, parent_id: str) -> list[tuple[str, ExecutionRow]]:
        """``(task id, child row)`` of the parent's links whose child has ended."""
        ...

    def park_txn(self, conn: Txn, parent_id: str, task_id: str, child_arn: str) -> None:
        """Mark the task as waiting for the child ``child_arn`` (``TaskRow.awaits``)."""
        ...

    def forget_txn(self, conn: Txn, parent_id: str, task_ids: Sequence[str]) -> None:
        """Drop the links of these tasks (their outcome is recorded, or they were cancelled)."""
        ...

    def wake_if_ended_txn(self, conn: Txn, parent_id: str, now_us: int) -> None:
        """Make the parent runnable at ``now_us`` if a child it is linked to has ended: a step
        that wrote the parent's wake-up from its own work may have overwritten the one the
        child's end wrote just before (see :meth:`wake_parents_txn`)."""
        ...


class SqlSyncWaits:
    """:class:`SyncWaitStore` on SQLite / PostgreSQL (the runtime store's database)."""

    def __init__(self, store: RuntimeStore) -> None:
        self._store = store
        self._q = store.q

    def watch(self, child_arn: str, *, parent_id: str, task_id: str) -> str | None:
        with self._store.transaction() as conn:
            rows = conn.execute(self._q["await_sync_child"], {"arn": child_arn})
            if not rows:
                return None
            child_id = str(rows[0]["id"])
            conn.execute(
                self._q["insert_sync_wait"],
                {"parent_id": parent_id, "task_id": task_id, "child_id": child_id},
            )
        return child_id

    def wake_parents_txn(self, conn: Txn, child_id: str, now_us: int) -> bool:
        params = {"child_id": child_id, "now_us": now_us}
        if self._store.db.dialect == "postgres":
            conn.write(self._q["wake_sync_parents"], params)  # notifies in the same statement
            return False
        if not conn.execute(self._q["wake_sync_parents"], params):
            return False
        self._store.wake_on_commit()
        return True

    def ended_children_txn(self, conn: Txn, parent_id: str) -> list[tuple[str, ExecutionRow]]:
        rows = conn.execute(self._q["ended_sync_children"], {"parent_id": parent_id})
        return [(str(r["awaiting_task"]), build(ExecutionRow, r)) for r in rows]

    def park_txn(self, conn: Txn, parent_id: str, task_id: str, child_arn: str) -> None:
        conn.write(
            self._q["park_task"],
            {"execution_id": parent_id, "task_id": task_id, "child_arn": child_arn},
        )

    def forget_txn(self, conn: Txn, parent_id: str, task_ids: Sequence[str]) -> None:
        if task_ids:
            rows = [{"parent_id": parent_id, "task_id": t} for t in task_ids]
            conn.write_many(self._q["delete_sync_wait"], rows)

    def wake_if_ended_txn(self, conn: Txn, parent_id: str, now_us: int) -> None:
        conn.write(self._q["wake_if_children_ended"], {"parent_id": parent_id, "now_us": now_us})


class MemorySyncWaits:
    """:class:`SyncWaitStore` in memory: the same rules, under the memory store's lock."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._links: dict[str, dict[str, str]] = {}  # parent -> {task: child}
        self._parents: dict[str, set[tuple[str, str]]] = {}  # child -> its (parent, task)s

    def watch(self, child_arn: str, *, parent_id: str, task_id: str) -> str | None:
        store = self._store
        with store.transaction():
            child = store.get_execution_by_arn_txn(None, child_arn)
            if child is None or child.status != "RUNNING":
                return None
            store.mark_awaited_txn(None, child.id)
            self._unlink(parent_id, task_id)
            self._links.setdefault(parent_id, {})[task_id] = child.id
            self._parents.setdefault(child.id, set()).add((parent_id, task_id))
        return child.id

    def _unlink(self, parent_id: str, task_id: str) -> None:
        tasks = self._links.get(parent_id)
        child_id = None if tasks is None else tasks.pop(task_id, None)
        if tasks is not None and not tasks:
            del self._links[parent_id]
        keys = None if child_id is None else self._parents.get(child_id)
        if child_id is not None and keys is not None:
            keys.discard((parent_id, task_id))
            if not keys:
                del self._parents[child_id]

    def wake_parents_txn(self, conn: Txn, child_id: str, now_us: int) -> bool:
        store = self._store
        woke = False
        with store.transaction():
            for parent_id, _ in self._parents.get(child_id, ()):
                row = store.get_execution_txn(None, parent_id)
                if row is None or row.status != "RUNNING":
                    continue
                if row.wake_us is None or row.wake_us > now_us:
                    store.wake_txn(None, parent_id, now_us)
                woke = True
        return woke

    def ended_children_txn(self, conn: Txn, parent_id: str) -> list[tuple[str, ExecutionRow]]:
        store = self._store
        out = []
        with store.transaction():
            for task_id, child_id in self._links.get(parent_id, {}).items():
                child = store.get_execution_txn(None, child_id)
                if child is not None and child.status != "RUNNING":
                    out.append((task_id, child))
        return out

    def park_txn(self, conn: Txn, parent_id: str, task_id: str, child_arn: str) -> None:
        store = self._store
        with store.transaction():
            tasks = store.task_rows(parent_id)
            task = tasks.get(task_id)
            if task is not None:
                tasks[task_id] = replace(task, awaits=child_arn)

    def forget_txn(self, conn: Txn, parent_id: str, task_ids: Sequence[str]) -> None:
        with self._store.transaction():
            for task_id in task_ids:
                self._unlink(parent_id, task_id)

    def wake_if_ended_txn(self, conn: Txn, parent_id: str, now_us: int) -> None:
        store = self._store
        with store.transaction():
            row = store.get_execution_txn(None, parent_id)
            if row is None or (row.wake_us is not None and row.wake_us <= now_us):
                return
            tasks = store.task_rows(parent_id)
            for task_id, _ in self.ended_children_txn(conn, parent_id):
                task = tasks.get(task_id)
                if task is not None and task.awaits is not None:
                    store.wake_txn(None, parent_id, now_us)
                    return
