"""Map Runs in memory (:class:`~eltflow.store.map_runs.MapRunStore` for ``eltflow.execute``).

The same rules as the SQL in ``sql/common.sql`` (children in item order, newest first for
ListExecutions); a child is an execution of the memory store plus its link, kept here.
Unlike the SQL stores, each Map Run's counts by status are kept as its children change
(:meth:`MemoryMapRuns.status_changed`), and a child's end wakes the driver waiting for it
(:meth:`MemoryMapRuns.wait_child_end`): the driver neither scans every child on each look
nor waits out a poll while a child's end would let it start the next.
"""

from __future__ import annotations

import threading
from bisect import bisect_right, insort
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from eltflow.store.map_runs import ChildRow, Counts, ExecutionLink, MapRunRow
from eltflow.store.rows import ExecutionRow, ExecutionSummaryRow, project

if TYPE_CHECKING:
    from eltflow.store.memory import MemoryStore


class MemoryMapRuns:
    def __init__(self, store: MemoryStore, lock: threading.RLock) -> None:
        """``lock``: the store's (every change to a child is made under it)."""
        self._store = store
        self._runs: dict[str, MapRunRow] = {}
        # Map Run ARN -> {item index: child execution id}, and each child's link.
        self._children: dict[str, dict[int, str]] = {}
        # Map Run ARN -> its item indexes in order (children start in item order), so a page
        # of children is a bisect away, not a sort of them all.
        self._order: dict[str, list[int]] = {}
        self._links: dict[str, ExecutionLink] = {}
        # Root execution id -> the ids of every child working for it (claimed with it).
        self._family: dict[str, list[str]] = {}
        # Map Run ARN -> its children's (executions, items) by status, kept as they change.
        self._tally: dict[str, tuple[dict[str, int], dict[str, int]]] = {}
        # Map Runs a child of which ended since their driver last asked wait_child_end.
        self._ended: set[str] = set()
        self._child_ended = threading.Condition(lock)

    def family(self, root_id: str) -> list[str]:
        """The children working for ``root_id`` (the list itself: the claim prunes it)."""
        return self._family.get(root_id, [])

    def insert_map_run_txn(
        self,
        conn: Any,
        *,
        arn: str,
        execution_id: str,
        state_name: str,
        start_us: int,
        max_concurrency: int,
        tolerated_failure_count: int,
        tolerated_failure_percentage: float,
        config: str,
    ) -> None:
        with self._store.transaction():
            if arn in self._runs:
                return
            self._runs[arn] = MapRunRow(
                arn=arn,
                execution_id=execution_id,
                state_name=state_name,
                status="RUNNING",
                start_us=start_us,
                stop_us=None,
                max_concurrency=max_concurrency,
                tolerated_failure_count=tolerated_failure_count,
                tolerated_failure_percentage=tolerated_failure_percentage,
                total_items=None,
                results_written=0,
                redrive_count=0,
                redrive_us=None,
                error=None,
                cause=None,
                config=config,
            )
            self._children[arn] = {}

    def get_map_run(self, arn: str) -> MapRunRow | None:
        return self._runs.get(arn)

    def list_map_runs(
        self, execution_id: str, *, limit: int = 100, offset: int = 0
    ) -> list[MapRunRow]:
        with self._store.transaction():
            rows = [r for r in self._runs.values() if r.execution_id == execution_id]
        rows.sort(key=lambda r: (r.start_us, r.arn), reverse=True)
        return rows[offset : offset + limit]

    def _update(self, arn: str, **changes: Any) -> None:
        with self._store.transaction():
            run = self._runs.get(arn)
            if run is not None:
                self._runs[arn] = replace(run, **changes)

    def set_total(self, arn: str, total_items: int) -> None:
        self._update(arn, total_items=total_items)

    def update_map_run(
        self,
        arn: str,
        *,
        max_concurrency: int | None,
        tolerated_failure_count: int | None,
        tolerated_failure_percentage: float | None,
    ) -> None:
        changes: dict[str, Any] = {
            "max_concurrency": max_concurrency,
            "tolerated_failure_count": tolerated_failure_count,
            "tolerated_failure_percentage": tolerated_failure_percentage,
        }
        self._update(arn, **{k: v for k, v in changes.items() if v is not None})

    def finish_map_run(
        self,
        arn: str,
        *,
        status: str,
        stop_us: int,
        error: str | None,
        cause: str | None,
        total_items: int | None,
        results_written: int,
    ) -> None:
        self._update(
            arn,
            status=status,
            stop_us=stop_us,
            error=error,
            cause=cause,
            total_items=total_items,
            results_written=results_written,
        )

    def redrive_map_run(self, arn: str, now_us: int) -> None:
        with self._store.transaction():
            run = self._runs.get(arn)
            if run is not None:
                self._runs[arn] = replace(
                    run,
                    status="RUNNING",
                    stop_us=None,
                    error=None,
                    cause=None,
                    redrive_count=run.redrive_count + 1,
                    redrive_us=now_us,
                )

    def insert_child_txn(
        self,
        conn: Any,
        row: ExecutionRow,
        *,
        map_run_arn: str,
        item_index: int,
        item_count: int,
        root_id: str,
    ) -> None:
        id = row.id
        with self._store.transaction():
            self._store.insert_row_txn(conn, row)
            children = self._children.setdefault(map_run_arn, {})
            order = self._order.setdefault(map_run_arn, [])
            if order and item_index < order[-1]:
                insort(order, item_index)
            elif item_index not in children:
                order.append(item_index)
            replaced = children.get(item_index)
            if replaced is not None:  # no longer the item's child: not counted
                status, link = self._store.status_of(replaced), self._links.get(replaced)
                if status is not None and link is not None:
                    self._count(map_run_arn, status, link.item_count or 1, -1)
            children[item_index] = id
            self._count(map_run_arn, row.status, item_count or 1, 1)
            self._links[id] = ExecutionLink(
                id=id,
                map_run_arn=map_run_arn,
                item_index=item_index,
                item_count=item_count,
                root_id=root_id,
            )
            self._family.setdefault(root_id, []).append(id)

    def is_child(self, execution_id: str) -> bool:
        return execution_id in self._links

    def link(self, execution_id: str) -> ExecutionLink | None:
        found = self._links.get(execution_id)
        if found is None and self._store.get_execution(execution_id) is not None:
            return ExecutionLink(
                id=execution_id, map_run_arn=None, item_index=None, item_count=None, root_id=None
            )
        return found

    def _child(self, execution_id: str) -> ChildRow | None:
        row = self._store.record(execution_id)
        link = self._links.get(execution_id)
        if row is None or link is None:
            return None
        return ChildRow(
            id=row.id,
            arn=row.arn,
            machine_name=row.machine_name,
            name=row.name,
            status=row.status,
            input=row.input,
            output=row.output,
            error=row.error,
            cause=row.cause,
            start_us=row.start_us,
            stop_us=row.stop_us,
            redrive_count=row.redrive_count,
            item_index=link.item_index or 0,
            item_count=link.item_count or 1,
        )

    def _count(self, map_run_arn: str, status: str, items: int, sign: int) -> None:
        executions, counted = self._tally.setdefault(map_run_arn, ({}, {}))
        executions[status] = executions.get(status, 0) + sign
        counted[status] = counted.get(status, 0) + sign * items

    def status_changed(self, execution_id: str, old: str, new: str) -> None:
        """An execution's status changes from ``old`` to ``new`` (called by the store, under
        its lock): if it is a Map Run's child, its counts move, and an end wakes the driver."""
        link = self._links.get(execution_id)
        if link is None or link.map_run_arn is None:
            return
        arn = link.map_run_arn
        if self._children.get(arn, {}).get(link.item_index or 0) != execution_id:
            return  # replaced by another child for its item: not counted
        items = link.item_count or 1
        self._count(arn, old, items, -1)
        self._count(arn, new, items, 1)
        if old == "RUNNING":
            self._ended.add(arn)
            self._child_ended.notify_all()

    def wait_child_end(self, map_run_arn: str, timeout: float) -> bool:
        """Until a child of the Map Run ended since the last call, at most ``timeout`` s."""
        with self._child_ended:
            if map_run_arn not in self._ended:
                self._child_ended.wait(max(timeout, 0.0))
            self._ended.discard(map_run_arn)
        return True

    def counts(self, map_run_arn: str) -> Counts:
        # Kept as the children change (status_changed): a Map Run asks this while its
        # children run, and scanning them all each time made that quadratic.
        with self._store.transaction():
            executions, items = self._tally.get(map_run_arn, ({}, {}))
            return Counts(
                executions={s: n for s, n in executions.items() if n},
                items={s: n for s, n in items.items() if n},
            )

    def last_index(self, map_run_arn: str) -> int | None:
        order = self._order.get(map_run_arn)
        return order[-1] if order else None

    def next_timer(self, map_run_arn: str) -> int | None:
        due: int | None = None
        with self._store.transaction():
            status_of = self._store.status_of
            for eid in self._children.get(map_run_arn, {}).values():
                if status_of(eid) != "RUNNING":
                    continue
                timer = self._store.next_timer_txn(None, eid)
                if timer is not None and (due is None or timer < due):
                    due = timer
        return due

    def children(
        self, map_run_arn: str, *, after_index: int = -1, status: str | None = None, limit: int
    ) -> list[ChildRow]:
        out: list[ChildRow] = []
        with self._store.transaction():
            found = self._children.get(map_run_arn, {})
            order = self._order.get(map_run_arn, [])
            status_of = self._store.status_of
            for index in order[bisect_right(order, after_index) :]:
                eid = found[index]
                # The status first: a row is built only for a child that is read (the
                # ResultWriter reads each status of all the children in turn).
                if status is not None and status_of(eid) != status:
                    continue
                child = self._child(eid)
                if child is not None:
                    out.append(child)
                    if len(out) >= limit:
                        break
        return out

    def list_executions(
        self, map_run_arn: str, *, status: str | None, limit: int, offset: int
    ) -> list[tuple[ExecutionSummaryRow, int]]:
        with self._store.transaction():
            # The children as kept: no row is built (and kept) for each, only for the page.
            rows: list[tuple[Any, int]] = []
            for eid in self._children.get(map_run_arn, {}).values():
                row, link = self._store.record(eid), self._links.get(eid)
                if row is not None and link is not None and status in (None, row.status):
                    rows.append((row, link.item_count or 1))
            rows.sort(key=lambda r: (r[0].start_us, r[0].id), reverse=True)
            return [(project(ExecutionSummaryRow, e), n) for e, n in rows[offset : offset + limit]]
