"""Map Runs and their child executions in the state store (Distributed Map).

A Map Run is a row of ``sfn_map_runs``; each of its children is an ordinary execution row of
``sfn_executions`` (history, snapshot, leases: workers run it like any other) that also names
its Map Run (``map_run_arn``), its position in it (``item_index``: the item's, or the batch's),
how many items it holds (``item_count``) and the top-level execution it works for
(``root_id``). Counts are read from the children rows, so they are never out of step with
them. :class:`SqlMapRuns` is the SQLite / PostgreSQL implementation (named queries in
``sql/common.sql``); :mod:`eltflow.store.memory_map_runs` keeps the same in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from eltflow.store.rows import ExecutionRow, ExecutionSummaryRow, build, started_params

if TYPE_CHECKING:
    from eltflow.store.runtime_store import RuntimeStore

Txn = Any


@dataclass(frozen=True, kw_only=True, slots=True)
class MapRunRow:
    arn: str
    execution_id: str
    state_name: str
    status: str
    start_us: int
    stop_us: int | None
    max_concurrency: int
    tolerated_failure_count: int
    tolerated_failure_percentage: float
    total_items: int | None
    results_written: int
    redrive_count: int
    redrive_us: int | None
    error: str | None
    cause: str | None
    config: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ChildRow:
    """A child execution as a Map Run reads it back (results, ResultWriter, redrive)."""

    id: str
    arn: str
    machine_name: str
    name: str
    status: str
    input: str
    output: str | None
    error: str | None
    cause: str | None
    start_us: int
    stop_us: int | None
    redrive_count: int
    item_index: int
    item_count: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ExecutionLink:
    """Where an execution sits: its Map Run (None for a top-level one) and its root."""

    id: str
    map_run_arn: str | None
    item_index: int | None
    item_count: int | None
    root_id: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Counts:
    """Children (and the items they hold) by status."""

    executions: dict[str, int]
    items: dict[str, int]


class MapRunStore(Protocol):
    def insert_map_run_txn(
        self,
        conn: Txn,
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
        """Record a Map Run (idempotent: a second insert of the same ARN does nothing)."""
        ...

    def get_map_run(self, arn: str) -> MapRunRow | None: ...

    def list_map_runs(
        self, execution_id: str, *, limit: int = 100, offset: int = 0
    ) -> list[MapRunRow]: ...

    def set_total(self, arn: str, total_items: int) -> None: ...

    def update_map_run(
        self,
        arn: str,
        *,
        max_concurrency: int | None,
        tolerated_failure_count: int | None,
        tolerated_failure_percentage: float | None,
    ) -> None:
        """UpdateMapRun: the settings given (not None) replace the recorded ones."""
        ...

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
    ) -> None: ...

    def redrive_map_run(self, arn: str, now_us: int) -> None: ...

    def insert_child_txn(
        self,
        conn: Txn,
        row: ExecutionRow,
        *,
        map_run_arn: str,
        item_index: int,
        item_count: int,
        root_id: str,
    ) -> None:
        """Insert the child ``row``, already projected from its first step
        (``Engine.first_step``), linked to its Map Run."""
        ...

    def link(self, execution_id: str) -> ExecutionLink | None: ...

    def counts(self, map_run_arn: str) -> Counts: ...

    def wait_child_end(self, map_run_arn: str, timeout: float) -> bool:
        """Block until a child of the Map Run has ended since this was last asked (True at
        once if one has), at most ``timeout`` seconds; False when this store cannot tell (the
        caller pauses for its poll instead)."""
        ...

    def last_index(self, map_run_arn: str) -> int | None:
        """The highest item index started in the Map Run (None: no child yet)."""
        ...

    def next_timer(self, map_run_arn: str) -> int | None:
        """When the earliest timer of the Map Run's RUNNING children is due (None: none)."""
        ...

    def children(
        self, map_run_arn: str, *, after_index: int = -1, status: str | None = None, limit: int
    ) -> list[ChildRow]:
        """Children in item order after ``after_index`` (only ``status`` ones, if given)."""
        ...

    def list_executions(
        self, map_run_arn: str, *, status: str | None, limit: int, offset: int
    ) -> list[tuple[ExecutionSummaryRow, int]]:
        """ListExecutions(mapRunArn): newest first, with each child's item count."""
        ...


def all_children(
    store: MapRunStore, map_run_arn: str, *, status: str | None = None, page: int = 1000
) -> Iterator[ChildRow]:
    """Every child of the Map Run in item order, read a page at a time."""
    after = -1
    while True:
        rows = store.children(map_run_arn, after_index=after, status=status, limit=page)
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1].item_index


class SqlMapRuns:
    """:class:`MapRunStore` on SQLite / PostgreSQL (the runtime store's database)."""

    def __init__(self, store: RuntimeStore) -> None:
        self._store = store
        self._q = store.q

    def _rows(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._store.transaction() as conn:
            return list(conn.execute(self._q[name], params))

    def _read(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """A read that takes no write lock (SQLite: a deferred BEGIN, neither queued behind
        the children's writes nor holding them up; PostgreSQL: no BEGIN/COMMIT round trips).
        Each is one statement, so its own snapshot is all the consistency it needs. Not for
        use inside another transaction on PostgreSQL, whose reads there take another
        connection (the Map Run driver and the Map Run API call these at top level)."""
        with self._store.read_transaction() as conn:
            return list(conn.execute(self._q[name], params))

    def insert_map_run_txn(
        self,
        conn: Txn,
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
        conn.execute(
            self._q["insert_map_run"],
            {
                "arn": arn,
                "execution_id": execution_id,
                "state_name": state_name,
                "start_us": start_us,
                "max_concurrency": max_concurrency,
                "tolerated_failure_count": tolerated_failure_count,
                "tolerated_failure_percentage": tolerated_failure_percentage,
                "config": config,
            },
        )

    def get_map_run(self, arn: str) -> MapRunRow | None:
        rows = self._read("get_map_run", {"arn": arn})
        return build(MapRunRow, rows[0]) if rows else None

    def list_map_runs(
        self, execution_id: str, *, limit: int = 100, offset: int = 0
    ) -> list[MapRunRow]:
        rows = self._read(
            "list_map_runs", {"execution_id": execution_id, "limit": limit, "offset": offset}
        )
        return [build(MapRunRow, r) for r in rows]

    def set_total(self, arn: str, total_items: int) -> None:
        self._rows("set_map_run_total", {"arn": arn, "total_items": total_items})

    def update_map_run(
        self,
        arn: str,
        *,
        max_concurrency: int | None,
        tolerated_failure_count: int | None,
        tolerated_failure_percentage: float | None,
    ) -> None:
        self._rows(
            "update_map_run",
            {
                "arn": arn,
                "max_concurrency": max_concurrency,
                "tolerated_failure_count": tolerated_failure_count,
                "tolerated_failure_percentage": tolerated_failure_percentage,
            },
        )

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
        self._rows(
            "finish_map_run",
            {
                "arn": arn,
                "status": status,
                "stop_us": stop_us,
                "error": error,
                "cause": cause,
                "total_items": total_items,
                "results_written": results_written,
            },
        )

    def redrive_map_run(self, arn: str, now_us: int) -> None:
        self._rows("redrive_map_run", {"arn": arn, "redrive_us": now_us})

    def insert_child_txn(
        self,
        conn: Txn,
        row: ExecutionRow,
        *,
        map_run_arn: str,
        item_index: int,
        item_count: int,
        root_id: str,
    ) -> None:
        params = started_params(row)
        params["map_run_arn"] = map_run_arn
        params["item_index"] = item_index
        params["item_count"] = item_count
        params["root_id"] = root_id
        conn.write(self._q["insert_child_execution"], params)

    def link(self, execution_id: str) -> ExecutionLink | None:
        rows = self._rows("execution_link", {"id": execution_id})
        return build(ExecutionLink, rows[0]) if rows else None

    def counts(self, map_run_arn: str) -> Counts:
        rows = self._read("map_run_counts", {"arn": map_run_arn})
        return Counts(
            executions={str(r["status"]): int(r["n"]) for r in rows},
            items={str(r["status"]): int(r["items"] or 0) for r in rows},
        )

    def wait_child_end(self, map_run_arn: str, timeout: float) -> bool:
        """Not told here: the Map Run driver polls (another process may run the children)."""
        return False

    def last_index(self, map_run_arn: str) -> int | None:
        rows = self._read("map_run_last_index", {"arn": map_run_arn})
        last = rows[0]["last"] if rows else None
        return None if last is None else int(last)

    def next_timer(self, map_run_arn: str) -> int | None:
        rows = self._read("map_run_next_timer", {"arn": map_run_arn})
        due = rows[0]["due_us"] if rows else None
        return None if due is None else int(due)

    def children(
        self, map_run_arn: str, *, after_index: int = -1, status: str | None = None, limit: int
    ) -> list[ChildRow]:
        rows = self._read(
            "map_run_children",
            {"arn": map_run_arn, "after_index": after_index, "status": status, "limit": limit},
        )
        return [build(ChildRow, r) for r in rows]

    def list_executions(
        self, map_run_arn: str, *, status: str | None, limit: int, offset: int
    ) -> list[tuple[ExecutionSummaryRow, int]]:
        rows = self._read(
            "list_map_run_executions",
            {"arn": map_run_arn, "status": status, "limit": limit, "offset": offset},
        )
        return [(build(ExecutionSummaryRow, r), int(r["item_count"] or 1)) for r in rows]
