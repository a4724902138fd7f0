"""A PostgreSQL warehouse through psycopg 3.

Connections are autocommit (so a single statement commits on its own, and procedures that
COMMIT inside work); a batch runs inside ``conn.transaction()``. Cancel uses PostgreSQL's
cancel request (``conn.cancel_safe()``), which aborts the running query and so its transaction.
Idle connections are kept in a small pool so a statement does not pay a new backend each time.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eltflow.open_errors import postgres_connect_failure
from eltflow.warehouse import copy_sql, loading, postgres_copy
from eltflow.warehouse.base import (
    Column,
    Connection,
    OnStarted,
    OnStatement,
    Outcome,
    Params,
    RunControl,
    ServerRun,
    SqlError,
    StatementCancelled,
    StatementResult,
)
from eltflow.warehouse.s3local import LocalObjects, local_objects
from eltflow.warehouse.script import Statement, lone_statement, one_transaction, run_text
from eltflow.warehouse.translate import escape_percent, translate

logger = logging.getLogger(__name__)

# The Data API's warehouse connections say so (application_name), so a recorded backend pid
# is only ever matched against one of ours.
APPLICATION_NAME = "eltflow-dataapi"
# A backend runs a recorded run if its pid matches and, when a transaction was recorded, it is
# still in that transaction (backend_xid is the 32-bit part of the 64-bit id).
_RUN_MATCHES = (
    "pid = %(pid)s AND application_name = %(app)s AND (%(xact)s::bigint IS NULL "
    "OR backend_xid::text::bigint = %(xact)s::bigint %% 4294967296)"
)
_SETTLE_SECONDS = 30.0
# Statements PostgreSQL refuses inside a transaction block, and CALL (a procedure may COMMIT,
# which it can only do outside one): these run as written, as autocommit statements.
_OUTSIDE_TRANSACTION = re.compile(
    r"^\s*(?:vacuum|call|create\s+database|drop\s+database|alter\s+system|"
    r"(?:create|drop)\s+tablespace|create\s+(?:unique\s+)?index\s+concurrently|"
    r"drop\s+index\s+concurrently|reindex\b.*\bconcurrently|discard\s+all|"
    r"cluster\s*;?\s*$)",
    re.I | re.S,
)


def _run_params(run: ServerRun) -> dict[str, Any]:
    return {"pid": run.pid, "app": APPLICATION_NAME, "xact": run.xact}


# PostgreSQL type names that Redshift reports differently.
_RENAME = {"text": "varchar", "float4": "float4", "name": "varchar"}
_POOL_SIZE = 8
# Redshift functions that SQL sqlglot never sees still needs: procedure bodies are plpgsql run
# as written, so GETDATE() or NVL() inside them must exist in the database itself. Installed
# once per warehouse, in schema public, under an advisory lock (concurrent installers would
# otherwise collide on the catalog row).
_COMPAT_LOCK = 724167
_COMPAT_SQL = (
    "CREATE OR REPLACE FUNCTION public.getdate() RETURNS timestamp LANGUAGE sql STABLE AS "
    "$$ SELECT date_trunc('second', now() AT TIME ZONE 'UTC')::timestamp $$",
    "CREATE OR REPLACE FUNCTION public.nvl(anyelement, anyelement) RETURNS anyelement "
    "LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce($1, $2) $$",
    "CREATE OR REPLACE FUNCTION public.trunc(timestamp) RETURNS date LANGUAGE sql IMMUTABLE AS "
    "$$ SELECT $1::date $$",
    "CREATE OR REPLACE FUNCTION public.trunc(timestamptz) RETURNS date LANGUAGE sql STABLE AS "
    "$$ SELECT ($1 AT TIME ZONE 'UTC')::date $$",
    # Redshift's takes a varchar holding JSON; PostgreSQL's only json.
    "CREATE OR REPLACE FUNCTION public.json_extract_path_text(varchar, VARIADIC text[]) "
    "RETURNS text LANGUAGE sql IMMUTABLE AS "
    "$$ SELECT pg_catalog.json_extract_path_text($1::json, VARIADIC $2) $$",
)
# Which of the columns used as TRUNC(col) are dates/timestamps (see Translation.trunc_columns).
_TEMPORAL_SQL = (
    "SELECT DISTINCT lower(column_name) FROM information_schema.columns "
    "WHERE lower(table_name) = ANY(%(t)s) AND lower(column_name) = ANY(%(c)s) "
    "AND (data_type LIKE 'timestamp%%' OR data_type = 'date')"
)


class PostgresWarehouse:
    """PostgreSQL behind the :class:`~eltflow.warehouse.base.Warehouse` interface."""

    dialect = "postgres"

    def __init__(self, name: str, url: str, s3_root: Path | LocalObjects | None = None) -> None:
        self.name = name
        self.url = url
        # Local S3 for COPY and UNLOAD (see s3local.py).
        self.s3 = local_objects(s3_root)
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._compat = False

    def _connect(self) -> Any:
        import psycopg

        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed:
                    return conn
        try:
            conn = psycopg.connect(self.url, autocommit=True, application_name=APPLICATION_NAME)
        except psycopg.Error as e:
            raise SqlError(
                f"warehouse '{self.name}': {postgres_connect_failure(self.url, e)}"
            ) from e
        if not self._compat:
            self._compat = True
            try:
                with conn.transaction():
                    conn.execute(f"SELECT pg_advisory_xact_lock({_COMPAT_LOCK})")
                    for stmt in _COMPAT_SQL:
                        conn.execute(stmt)
            except psycopg.Error as e:
                # Without CREATE on schema public (PostgreSQL 15's default for non-owners)
                # plain SQL still works; only plpgsql bodies calling GETDATE() etc. will not.
                logger.warning(
                    "warehouse %s: Redshift compatibility functions not installed: %s",
                    self.name,
                    e,
                )
        return conn

    def _release(self, conn: Any) -> None:
        import psycopg

        if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            with contextlib.suppress(Exception):
                conn.close()
            return
        with self._lock:
            if len(self._idle) < _POOL_SIZE:
                self._idle.append(conn)
                return
        conn.close()

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
        import psycopg

        held = connection.conn if isinstance(connection, PostgresConnection) else None
        if connection is not None and held is None:
            raise SqlError(f"warehouse '{self.name}': not a connection of this warehouse")
        conn = held if held is not None else self._connect()
        results: list[StatementResult] = []
        index = 0
        tx = _Transaction(conn)
        # A lone statement runs in a transaction of its own too (the same effect as
        # autocommit), so that if this process dies the server can be asked whether it
        # committed (see settle); only what PostgreSQL refuses inside one runs as written.
        wrapped = transaction or lone_statement(sqls, _OUTSIDE_TRANSACTION)
        try:
            control.attach(lambda: conn.cancel_safe(timeout=5.0))
            control.check()
            xact = None
            if wrapped:
                xact = tx.begin_tracked()
                if not one_transaction(sqls):
                    xact = None  # it commits midway: one transaction id cannot tell its fate
            if on_started is not None:
                on_started(conn.info.backend_pid, xact)
            for index, sql in enumerate(sqls):
                control.check()
                result = run_text(
                    sql, tx, lambda stmt: self._guarded(conn, stmt, params or {}, control), index
                )
                results.append(result)
                if on_statement is not None:
                    on_statement(index, result)
            if tx.active():
                if wrapped:
                    tx.commit()
                else:
                    tx.rollback()  # BEGIN without COMMIT in one text: see script.py
        except psycopg.errors.QueryCanceled as e:
            raise StatementCancelled("statement was cancelled") from e
        except psycopg.Error as e:
            if control.cancelled:
                raise StatementCancelled("statement was cancelled") from e
            raise SqlError(_message(e), index) from e
        finally:
            control.attach(None)
            if tx.active():
                with contextlib.suppress(psycopg.Error):
                    tx.rollback()
            if held is None:
                self._release(conn)
        return results

    def connect(self) -> PostgresConnection:
        """A backend of its own (never returned to the pool: its temporary tables and
        settings belong to the session holding it)."""
        return PostgresConnection(self._connect())

    def interrupt(self, run: ServerRun) -> bool:
        """``pg_cancel_backend`` on the run's backend, if it still runs this run: the backend's
        pid and current transaction must match what was recorded (a pid alone may have been
        reused by a new connection), and it must be one of the Data API's connections."""
        if run.pid is None:
            return False
        rows = self._admin(
            "SELECT pg_cancel_backend(pid) AS done FROM pg_stat_activity "
            f"WHERE {_RUN_MATCHES} AND state <> 'idle'",
            _run_params(run),
        )
        return any(r[0] for r in rows)

    def settle(self, run: ServerRun) -> Outcome:
        """End the run on the server if it is still there (``pg_terminate_backend``, which
        rolls back its open transaction), then read its transaction's fate with
        ``pg_xact_status``: committed or aborted, from the server's commit log. A run with no
        transaction recorded (a statement PostgreSQL runs only outside one) is ended the same
        way, but the server keeps nothing that says whether it completed first: UNKNOWN."""
        if run.pid is None and run.xact is None:
            return Outcome.ABORTED  # it never reached the server: nothing of it ran
        deadline = time.monotonic() + _SETTLE_SECONDS
        while True:
            rows = self._admin(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                f"WHERE {_RUN_MATCHES}",
                _run_params(run),
            )
            if run.xact is None:
                return Outcome.UNKNOWN
            status = self._admin(
                "SELECT pg_xact_status(%(xact)s::text::xid8)", {"xact": str(run.xact)}
            )[0][0]
            if status == "committed":
                return Outcome.COMMITTED
            if status == "aborted":
                return Outcome.ABORTED
            if status is None or time.monotonic() > deadline:
                return Outcome.UNKNOWN  # too old for the commit log, or never ends
            if not rows:  # in progress, yet no backend of ours holds it: give it a moment
                time.sleep(0.05)

    def forget(self, statement_id: str) -> None:
        """Nothing to forget: the server's commit log is PostgreSQL's own."""

    def _admin(self, sql: str, params: Params | dict[str, Any]) -> list[tuple[Any, ...]]:
        """One query on a connection of its own (the run's may be gone or busy)."""
        import psycopg

        try:
            with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
                return list(conn.execute(sql, dict(params)).fetchall())
        except psycopg.Error as e:
            raise SqlError(f"warehouse '{self.name}': {_message(e)}") from e

    def _guarded(
        self, conn: Any, stmt: Statement, params: Params, control: RunControl
    ) -> StatementResult:
        """:meth:`_one`, with PostgreSQL's errors as :class:`SqlError` (so they name ``stmt``)."""
        import psycopg

        control.check()
        try:
            with conn.cursor() as cur:
                if copy_sql.is_copy(stmt.sql):
                    load = copy_sql.parse_copy(stmt.sql)
                    run = lambda s: self._one(cur, s, params, 0)  # noqa: E731
                    try:
                        return postgres_copy.copy(cur, load, self.s3, run)
                    except loading.LoadFailed as e:
                        self._record_load_error(e.error)
                        raise
                if copy_sql.is_unload(stmt.sql):
                    return postgres_copy.unload(cur, copy_sql.parse_unload(stmt.sql), self.s3)
                return self._one(cur, stmt.sql, params, 0)
        except psycopg.errors.QueryCanceled as e:
            raise StatementCancelled("statement was cancelled") from e
        except psycopg.Error as e:
            if control.cancelled:
                raise StatementCancelled("statement was cancelled") from e
            raise SqlError(_message(e)) from e

    def _record_load_error(self, error: loading.LoadError) -> None:
        """A row of ``stl_load_errors``, on its own connection: it outlives the failed load."""
        import psycopg

        try:
            with psycopg.connect(self.url, autocommit=True) as conn, conn.cursor() as cur:
                self._one(cur, loading.LOAD_ERRORS_DDL, {}, 0)
                self._one(cur, loading.LOAD_ERRORS_INSERT, error.params(), 0)
        except (psycopg.Error, SqlError) as e:  # the load's own error matters more
            logger.warning("warehouse %s: stl_load_errors not written: %s", self.name, e)

    def _one(self, cur: Any, sql: str, params: Params, index: int) -> StatementResult:
        import psycopg

        tr = translate(sql, "postgres")
        if tr.trunc_columns and tr.tables:
            cur.execute(_TEMPORAL_SQL, {"t": list(tr.tables), "c": list(tr.trunc_columns)})
            temporal = frozenset(str(r[0]) for r in cur.fetchall())
            if temporal:
                tr = translate(sql, "postgres", temporal)
        missing = [n for n in tr.params if n not in params]
        if missing:
            raise SqlError(f"no value given for parameter(s): {', '.join(missing)}", index)
        started = time.perf_counter_ns()
        try:
            for stmt in tr.statements:
                if tr.params:
                    cur.execute(escape_percent(stmt), {n: params[n] for n in tr.params})
                else:
                    cur.execute(stmt)
        except psycopg.errors.QueryCanceled:
            raise
        except psycopg.Error as e:
            if tr.problem is None:
                raise
            raise SqlError(f"{_message(e)} (run as written: {tr.problem})") from e
        if not tr.statements:  # informational only on Redshift (a key constraint added)
            return StatementResult(has_result_set=False, duration_ns=0)
        description = cur.description
        if description is None:
            return StatementResult(
                has_result_set=False,
                row_count=cur.rowcount if cur.rowcount is not None else -1,
                duration_ns=time.perf_counter_ns() - started,
            )
        rows = cur.fetchall()
        types = cur.connection.adapters.types
        columns = []
        for d in description:
            info = types.get(d.type_code)
            type_name = info.name if info is not None else "unknown"
            columns.append(
                Column(
                    name=d.name,
                    type_name=_RENAME.get(type_name, type_name),
                    precision=d.precision or 0,
                    scale=d.scale or 0,
                    length=d.internal_size if d.internal_size and d.internal_size > 0 else 0,
                )
            )
        return StatementResult(
            has_result_set=True,
            columns=tuple(columns),
            rows=rows,
            row_count=len(rows),
            duration_ns=time.perf_counter_ns() - started,
        )

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(Exception):
                conn.close()


class PostgresConnection:
    """A PostgreSQL connection held across runs (see :meth:`PostgresWarehouse.connect`)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()


class _Transaction:
    """A run's transaction, sent as SQL on the autocommit connection.

    Not psycopg's ``conn.transaction()`` block: a Redshift text may COMMIT or ROLLBACK in the
    middle (see :mod:`eltflow.warehouse.script`). Whether one is open is the server's answer.
    """

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def active(self) -> bool:
        import psycopg

        status = self._conn.info.transaction_status
        return bool(status != psycopg.pq.TransactionStatus.IDLE)

    def begin(self) -> None:
        self._conn.execute("BEGIN")

    def begin_tracked(self) -> int:
        """BEGIN, and the new transaction's 64-bit id (assigned now, in the same round trip):
        what :meth:`PostgresWarehouse.settle` asks the server about."""
        cur = self._conn.execute("BEGIN; SELECT pg_current_xact_id()::text")
        cur.nextset()  # the first result is BEGIN's
        row = cur.fetchone()
        return int(row[0])

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        self._conn.execute("ROLLBACK")


def _message(e: Exception) -> str:
    # psycopg's message is PostgreSQL's, e.g. 'relation "x" does not exist\nLINE 1: ...'.
    diag = getattr(e, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    severity = getattr(diag, "severity", None) if diag is not None else None
    if primary:
        return f"{severity or 'ERROR'}: {primary}"
    return str(e).strip()
