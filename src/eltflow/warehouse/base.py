"""The one warehouse interface: run Redshift-dialect SQL, one statement or a transaction of many.

Every engine (DuckDB, PostgreSQL, real Redshift) takes *Redshift* SQL with ``:name``
placeholders and values given as strings (the Data API's contract) and returns plain Python
rows plus column descriptions with Redshift type names. Engines translate for themselves, so
the Data API service never knows which dialect runs underneath.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from eltflow.errors import EltflowError


@dataclass(frozen=True, kw_only=True)
class Column:
    """One result column, described with Redshift's type names (``int4``, ``varchar``...)."""

    name: str
    type_name: str
    nullable: int = 1  # JDBC convention the Data API follows: 0 no nulls, 1 nullable, 2 unknown
    precision: int = 0
    scale: int = 0
    length: int = 0
    schema_name: str = ""
    table_name: str = ""


@dataclass(frozen=True, kw_only=True)
class StatementResult:
    """What one statement produced.

    ``rows`` is empty unless ``has_result_set``; ``row_count`` is the rows returned for a query
    and the rows affected for DML (``-1`` when the engine cannot tell, as for DDL).
    """

    has_result_set: bool
    columns: tuple[Column, ...] = ()
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    row_count: int = -1
    duration_ns: int = 0


class SqlError(EltflowError):
    """A statement failed in the engine; ``index`` is its position in the batch (0-based)."""

    def __init__(self, message: str, index: int = 0) -> None:
        self.index = index
        self.message = message
        super().__init__(message)


class StatementCancelled(EltflowError):
    """The statement was cancelled while it ran; its transaction was rolled back."""


class UnknownWarehouse(EltflowError):
    """No warehouse is configured under the cluster or workgroup name asked for."""


@dataclass(frozen=True, kw_only=True)
class ServerRun:
    """Where a statement runs on the warehouse's server, as recorded when it started: enough
    for another process to cancel it there or, once the process running it has died, to read
    back what became of it. ``pid``: the server backend; ``xact``: the transaction it runs in
    (PostgreSQL's 64-bit ``pg_current_xact_id()``; DuckDB: the run's number, set only when the
    run's transaction wrote its commit marker), None when there is none to ask about."""

    pid: int | None
    xact: int | None
    statement_id: str | None = None  # the Data API statement (DuckDB's commit marker)


# The schema of eltflow's own bookkeeping inside a warehouse (DuckDB's commit markers): a name
# no user schema takes, kept out of the Data API's catalog listings.
INTERNAL_SCHEMA = "_eltflow_dataapi"


class Outcome(Enum):
    """What the server says became of a run whose process died (:meth:`Warehouse.settle`)."""

    COMMITTED = "committed"
    ABORTED = "aborted"  # rolled back, or never started: nothing of it was kept
    UNKNOWN = "unknown"  # the server cannot tell (no transaction to ask about)


OnStarted = Callable[[int | None, int | None], None]
"""``on_started(pid, xact)``: the run's :class:`ServerRun`, once the connection is in hand and
before any of the caller's SQL runs."""

_REPEAT_SECONDS = 0.05
_REPEAT_LIMIT = 600  # give up after 30 s: the engine ignores interrupts


class RunControl:
    """Shared by the thread running a statement and any thread that may cancel it.

    The engine registers how to interrupt the statement in flight (``cursor.interrupt``,
    ``conn.cancel_safe``...); :meth:`cancel` calls it, or, when nothing runs yet, makes the
    next :meth:`check` raise so the statement never starts.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._interrupt: Callable[[], None] | None = None
        self.cancelled = False

    def attach(self, interrupt: Callable[[], None] | None) -> None:
        with self._lock:
            self._interrupt = interrupt
            cancelled = self.cancelled
        if cancelled and interrupt is not None:
            interrupt()  # cancel raced with the start: interrupt right away

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            interrupt = self._interrupt
        if interrupt is not None:
            with contextlib.suppress(Exception):  # the statement may have just ended
                interrupt()
            # An interrupt that lands between the engine's last check and the moment its
            # query really starts is lost (DuckDB and PostgreSQL only stop a *running*
            # query), so keep interrupting until the engine lets go of the statement.
            threading.Thread(target=self._keep_interrupting, daemon=True).start()

    def _keep_interrupting(self) -> None:
        for _ in range(_REPEAT_LIMIT):
            time.sleep(_REPEAT_SECONDS)
            with self._lock:
                interrupt = self._interrupt
            if interrupt is None:
                return
            with contextlib.suppress(Exception):  # the statement may end between the two
                interrupt()

    def check(self) -> None:
        if self.cancelled:
            raise StatementCancelled("statement was cancelled")


Params = Mapping[str, str]
OnStatement = Callable[[int, StatementResult], None]


class Connection(Protocol):
    """A connection a caller holds across runs (a Data API session): every run given it
    (``Warehouse.run(..., connection=)``) sees the temporary tables and settings the earlier
    ones left. Only one run at a time may use it."""

    def close(self) -> None: ...


class Warehouse(Protocol):
    """A SQL engine reachable under one cluster/workgroup name."""

    name: str
    dialect: str  # "duckdb" | "postgres" | "redshift"

    def run(
        self,
        sqls: Sequence[str],
        params: Params | None,
        *,
        database: str | None,
        transaction: bool,
        control: RunControl,
        on_started: OnStarted | None = None,
        on_statement: OnStatement | None = None,
        connection: Connection | None = None,
        statement_id: str | None = None,
    ) -> list[StatementResult]:
        """Run ``sqls`` in order and return one result per statement.

        ``transaction=True`` runs them as one transaction (all or nothing); otherwise each
        commits on its own. ``on_started(pid, xact)`` is called once a connection is in hand;
        ``on_statement(i, result)`` after each statement. ``statement_id`` names the Data API
        statement, for an engine that records it to answer :meth:`settle` later. Raises
        :class:`SqlError` (with the failing index) or :class:`StatementCancelled`; either way
        nothing of a transaction remains. With ``connection`` (from :meth:`connect`) they run
        on it and it stays open; otherwise on a connection of the engine's choosing.
        """
        ...

    def connect(self) -> Connection:
        """A connection of its own for the caller to hold (and close). Raises
        :class:`SqlError` where the engine cannot hold one."""
        ...

    def interrupt(self, run: ServerRun) -> bool:
        """Cancel ``run``'s query on the server, from any process (its own process may be
        another one, or dead); True if one was cancelled. Engines without a server: False."""
        ...

    def settle(self, run: ServerRun) -> Outcome:
        """For a run whose process died: end it on the server if it still runs there, then
        read back whether it committed. Never guesses: :attr:`Outcome.UNKNOWN` when the
        server cannot tell."""
        ...

    def forget(self, statement_id: str) -> None:
        """The statement's outcome is recorded elsewhere now: what the engine kept to answer
        :meth:`settle` for it may go."""
        ...

    def close(self) -> None: ...
