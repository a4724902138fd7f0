"""The embedded DuckDB warehouse (the zero-setup default, ``.eltflow/warehouse.duckdb``).

One DuckDB database object per file, one cursor per run: DuckDB cursors are independent
connections to the same database, each with its own transaction, and a cursor whose result is
left unfetched blocks its connection, so every result is fetched before the cursor closes.
``cursor.interrupt()`` from another thread stops a running query at once (CancelStatement).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eltflow.open_errors import duckdb_open_failure
from eltflow.warehouse import copy_sql, duckdb_copy, loading
from eltflow.warehouse import duckdb_procedures as procs
from eltflow.warehouse.base import (
    INTERNAL_SCHEMA,
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
from eltflow.warehouse.script import (
    Statement,
    lone_statement,
    one_transaction,
    run_text,
    statements,
)
from eltflow.warehouse.translate import translate

logger = logging.getLogger(__name__)

_TYPE_NAMES = {
    "BOOLEAN": "bool",
    "TINYINT": "int2",
    "SMALLINT": "int2",
    "INTEGER": "int4",
    "BIGINT": "int8",
    "HUGEINT": "numeric",
    "UTINYINT": "int2",
    "USMALLINT": "int4",
    "UINTEGER": "int8",
    "UBIGINT": "numeric",
    "FLOAT": "float4",
    "DOUBLE": "float8",
    "VARCHAR": "varchar",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "BLOB": "varbyte",
    "UUID": "varchar",
    "INTERVAL": "interval",
    '"NULL"': "unknown",
}
# Which of the columns used as TRUNC(col) are dates/timestamps (see Translation.trunc_columns).
_TEMPORAL_SQL = (
    "SELECT DISTINCT lower(column_name) FROM information_schema.columns "
    "WHERE list_contains($t, lower(table_name)) AND list_contains($c, lower(column_name)) "
    "AND (lower(data_type) LIKE 'timestamp%' OR lower(data_type) = 'date')"
)
# Redshift's session defaults that DuckDB's differ from, set on every cursor (DuckDB cursors are
# connections with their own settings): unqualified names are in schema ``public`` (tables an
# older eltflow made in DuckDB's ``main`` stay visible through the search path), sessions are in
# UTC, ``/`` of two integers is an integer truncated toward zero, and division by zero is an
# error, also for floating point. Source: "Computations with numeric values"
# (https://docs.aws.amazon.com/redshift/latest/dg/r_numeric_computations201.html): INT / INT
# is an INT.
_SESSION_SQL = (
    "SET search_path = 'public,main'; SET TimeZone = 'UTC'; SET integer_division = true; "
    "SET ieee_floating_point_ops = false; SET error_on_division_by_zero = true"
)
# Commit markers (issue 17): a statement the Data API runs in a transaction writes its id into
# this table in the same transaction, so once its process died another one can tell whether it
# committed (settle): the row is there, or nothing of the run is. A row goes once the statement's
# outcome is recorded in the state store (forget), in batches: a marker left over is never read
# (only a statement still active in the store is settled). No key: concurrent runs only
# append, and each row is deleted by one transaction, so no two runs ever conflict on it.
_MARKS = f"{INTERNAL_SCHEMA}.commits"
_MARKS_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {INTERNAL_SCHEMA}; "
    f"CREATE TABLE IF NOT EXISTS {_MARKS} (statement_id VARCHAR NOT NULL)"
)
_MARK_SQL = f"INSERT INTO {_MARKS} (statement_id) VALUES ($id)"
_FORGET_SQL = f"DELETE FROM {_MARKS} WHERE list_contains($ids, statement_id)"
_MARKED_SQL = f"SELECT count(*) FROM {_MARKS} WHERE statement_id = $id"
# Forgotten markers are deleted this many at a time: a delete in every run cost ~0.8 ms of a
# ~3 ms lone INSERT (DuckDB file, this machine).
_FORGET_BATCH = 64
# What runs as written, outside a transaction of its own: what DuckDB refuses inside one
# (CHECKPOINT), CALL (a procedure manages its transactions: nonatomic ones COMMIT inside), and
# a query that changes nothing (a re-run is harmless; a marker would cost a write per query;
# SELECT ... INTO a new table writes).
_OUTSIDE_TRANSACTION = re.compile(
    r"^\s*(?:(?:force\s+)?checkpoint\b|call\b"
    r"|(?:select|show|describe|explain|summarize|values)\b(?!.*\binto\b))",
    re.I | re.S,
)
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
_POSTGRES_HINT = ' (configure one in eltflow.toml: [warehouses.{name}] url = "postgresql://...")'


def column_of(name: str, duck_type: Any) -> Column:
    """Describe a DuckDB result column with Redshift's type names."""
    text = str(duck_type)
    m = _DECIMAL.fullmatch(text)
    if m:
        return Column(
            name=name, type_name="numeric", precision=int(m.group(1)), scale=int(m.group(2))
        )
    return Column(name=name, type_name=_TYPE_NAMES.get(text, text.lower()))


class DuckDBWarehouse:
    """DuckDB behind the :class:`~eltflow.warehouse.base.Warehouse` interface."""

    dialect = "duckdb"

    def __init__(self, name: str, path: str, s3_root: Path | LocalObjects | None = None) -> None:
        self.name = name
        self.path = path
        # Local S3 for COPY and UNLOAD (see s3local.py).
        self.s3 = local_objects(s3_root)
        self._db: Any = None
        self._lock = threading.Lock()
        self._runs = 0
        self._marks = False  # the commit-marker table exists (not in a read-only file)
        self._forgotten: list[str] = []  # markers to delete in the next marked run

    def _database(self) -> Any:
        """The DuckDB database, opened on first use (under ``self._lock``).

        Opened lazily so a file held by another process (DuckDB allows one writer process)
        fails the statement with a message, instead of failing whoever merely resolved the name.
        """
        import duckdb

        if self._db is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = duckdb.connect(self.path)
            except duckdb.Error as e:
                raise SqlError(
                    f"warehouse '{self.name}': {duckdb_open_failure(self.path, e)}"
                ) from e
            # Redshift's default schema; DuckDB's is ``main`` (see _SESSION_SQL). A file opened
            # read-only cannot take it, and then only ``public.x`` names fail.
            with contextlib.suppress(duckdb.Error):
                self._db.execute("CREATE SCHEMA IF NOT EXISTS public")
            try:
                self._db.execute(_MARKS_DDL)
                self._marks = True
            except duckdb.Error as e:  # read-only: runs go unmarked (UNKNOWN when settled)
                logger.debug("warehouse %s: no commit markers: %s", self.name, e)
        return self._db

    def connect(self) -> DuckDBConnection:
        """A DuckDB connection to the same database (its own temporary tables and
        settings), with Redshift's session settings applied once."""
        import duckdb

        with self._lock:
            cur = self._database().cursor()
        try:
            cur.execute(_SESSION_SQL)
        except duckdb.Error as e:
            cur.close()
            raise SqlError(_message(e)) from e
        return DuckDBConnection(cur)

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
        import duckdb

        held = connection.cursor if isinstance(connection, DuckDBConnection) else None
        if connection is not None and held is None:
            raise SqlError(f"warehouse '{self.name}': not a connection of this warehouse")
        with self._lock:
            cur = held if held is not None else self._database().cursor()
            self._runs += 1
            run_no = self._runs
        results: list[StatementResult] = []
        index = 0
        tx = _Transaction(cur)
        # A lone statement that writes runs in a transaction of its own too (the same effect
        # as autocommit), so that it can carry its commit marker (see settle).
        wrapped = transaction or lone_statement(sqls, _OUTSIDE_TRANSACTION)
        marked = wrapped and statement_id is not None and self._marks and one_transaction(sqls)
        taken: list[str] = []
        try:
            control.attach(cur.interrupt)
            control.check()
            if held is None:
                # A held connection got these once (connect): a session's own SET stays.
                cur.execute(_SESSION_SQL)
            if wrapped:
                tx.begin()
            if marked:
                cur.execute(_MARK_SQL, {"id": statement_id})
                with self._lock:
                    if len(self._forgotten) >= _FORGET_BATCH:
                        taken, self._forgotten = self._forgotten, []
                if taken:
                    cur.execute(_FORGET_SQL, {"ids": taken})
            if on_started is not None:
                # DuckDB has no backend pid: a per-warehouse run number (also the "transaction"
                # when the run is marked: settle asks the marker).
                on_started(run_no, run_no if marked else None)
            for index, sql in enumerate(sqls):
                control.check()
                result = run_text(
                    sql,
                    tx,
                    lambda stmt: self._guarded(cur, stmt, params or {}, control, tx),
                    index,
                )
                results.append(result)
                if on_statement is not None:
                    on_statement(index, result)
            if tx.active():
                if wrapped:
                    tx.commit()
                else:
                    tx.rollback()  # BEGIN without COMMIT in one text: see script.py
            taken = []  # committed: those markers are gone
        except duckdb.InterruptException as e:
            raise StatementCancelled("statement was cancelled") from e
        except duckdb.Error as e:
            if control.cancelled:
                raise StatementCancelled("statement was cancelled") from e
            raise SqlError(_message(e), index) from e
        finally:
            control.attach(None)
            if tx.active():
                with contextlib.suppress(duckdb.Error):  # the transaction may be aborted already
                    tx.rollback()
            if held is None:
                cur.close()
            if taken:  # rolled back with the run: delete them in a later one
                with self._lock:
                    self._forgotten.extend(taken)
        return results

    def _guarded(
        self,
        cur: Any,
        stmt: Statement,
        params: Mapping[str, Any],
        control: RunControl,
        tx: _Transaction,
    ) -> StatementResult:
        """:meth:`_one`, with DuckDB's errors as :class:`SqlError` (so they name ``stmt``)."""
        import duckdb

        control.check()
        try:
            if procs.is_create(stmt.sql):
                return self._create_procedure(cur, stmt.sql)
            if procs.is_drop(stmt.sql):
                return self._drop_procedure(cur, stmt.sql)
            if _CALL.match(stmt.sql):
                return self._call(cur, stmt.sql, params, control, tx)
            if copy_sql.is_copy(stmt.sql):
                load = copy_sql.parse_copy(stmt.sql)
                try:
                    return duckdb_copy.copy(cur, load, self.s3, self._fresh_cursor)
                except loading.LoadFailed as e:
                    self._record_load_error(e.error)
                    raise
            if copy_sql.is_unload(stmt.sql):
                return duckdb_copy.unload(cur, copy_sql.parse_unload(stmt.sql), self.s3)
            return self._one(cur, stmt.sql, params)
        except duckdb.InterruptException as e:
            raise StatementCancelled("statement was cancelled") from e
        except duckdb.Error as e:
            if control.cancelled:
                raise StatementCancelled("statement was cancelled") from e
            raise SqlError(_message(e)) from e

    def _fresh_cursor(self) -> Any:
        with self._lock:
            return self._database().cursor()

    def _record_load_error(self, error: loading.LoadError) -> None:
        """A row of ``stl_load_errors``, on its own connection: it outlives the failed load."""
        import duckdb

        with self._lock:
            cur = self._database().cursor()
        try:
            cur.execute(_SESSION_SQL)
            self._one(cur, loading.LOAD_ERRORS_DDL, {})
            self._one(cur, loading.LOAD_ERRORS_INSERT, error.params())
        except (duckdb.Error, SqlError) as e:  # the load's own error matters more
            logger.warning("warehouse %s: stl_load_errors not written: %s", self.name, e)
        finally:
            cur.close()

    def _create_procedure(self, cur: Any, sql: str) -> StatementResult:
        try:
            proc = procs.parse_create(sql)
        except SqlError as e:
            raise SqlError(e.message + _POSTGRES_HINT.format(name=self.name)) from e
        cur.execute(procs.CATALOG_SQL)
        if not proc.replace:
            cur.execute("SELECT 1 FROM eltflow.procedures WHERE name = $n", {"n": proc.name})
            if cur.fetchall():
                raise SqlError(f"procedure {proc.name} already exists")
        cur.execute(
            "INSERT OR REPLACE INTO eltflow.procedures (name, params, body, source, nonatomic) "
            "VALUES ($n, $p, $b, $s, $a)",
            {
                "n": proc.name,
                "p": list(proc.params),
                "b": list(proc.body),
                "s": sql,
                "a": proc.nonatomic,
            },
        )
        return StatementResult(has_result_set=False)

    def _drop_procedure(self, cur: Any, sql: str) -> StatementResult:
        name, if_exists = procs.parse_drop(sql)
        cur.execute(procs.CATALOG_SQL)
        cur.execute("DELETE FROM eltflow.procedures WHERE name = $n RETURNING name", {"n": name})
        if not cur.fetchall() and not if_exists:
            raise SqlError(f"procedure {name} does not exist")
        return StatementResult(has_result_set=False)

    def _call(
        self,
        cur: Any,
        sql: str,
        params: Mapping[str, Any],
        control: RunControl,
        tx: _Transaction,
    ) -> StatementResult:
        """Run a stored body (see :mod:`eltflow.warehouse.duckdb_procedures`) in one transaction."""
        name, args = procs.parse_call(sql)
        cur.execute(procs.CATALOG_SQL)
        cur.execute(
            "SELECT params, body, nonatomic FROM eltflow.procedures WHERE name = $n", {"n": name}
        )
        found = cur.fetchall()
        if not found:
            raise SqlError(f"procedure {name} does not exist")
        names, body, nonatomic = list(found[0][0]), list(found[0][1]), bool(found[0][2])
        values: tuple[Any, ...] = ()
        if args.strip():
            values = tuple(self._one(cur, f"SELECT {args}", params).rows[0])
        if len(values) != len(names):
            raise SqlError(
                f"procedure {name} takes {len(names)} argument(s), the CALL gives {len(values)}"
            )
        bound = dict(zip(names, values, strict=True))
        inside_block = tx.active()  # called within the caller's BEGIN ... COMMIT
        owned = not inside_block and not nonatomic
        if owned:
            tx.begin()
        try:
            for stmt in statements(";\n".join(body)):
                ends_tx = stmt.verb in ("commit", "rollback") or _TRUNCATE.match(stmt.sql)
                if ends_tx and inside_block:
                    raise SqlError(
                        f"{stmt.sql.split()[0].upper()} is not allowed in a procedure called "
                        "inside a transaction block"
                    )
                if stmt.verb == "begin":
                    if not tx.active():
                        tx.begin()
                    continue
                if stmt.verb is not None:
                    if tx.active() and stmt.verb == "commit":
                        tx.commit()
                    elif tx.active():
                        tx.rollback()
                    if owned:
                        tx.begin()  # Redshift starts the next transaction at once
                    continue
                try:
                    self._guarded(cur, stmt, bound, control, tx)
                except SqlError as e:
                    where = stmt.where()
                    raise SqlError(f"{where}: {e.message}" if where else e.message) from e
                if _TRUNCATE.match(stmt.sql) and owned and tx.active():
                    tx.commit()  # TRUNCATE commits implicitly
                    tx.begin()
        except SqlError as e:
            if owned and tx.active():
                tx.rollback()
            raise SqlError(f"in procedure {name}: {e.message}") from e
        if owned and tx.active():
            tx.commit()
        return StatementResult(has_result_set=False)

    def _one(self, cur: Any, sql: str, params: Mapping[str, Any]) -> StatementResult:
        import duckdb

        tr = translate(sql, "duckdb")
        if tr.trunc_columns and tr.tables:
            cur.execute(_TEMPORAL_SQL, {"t": list(tr.tables), "c": list(tr.trunc_columns)})
            temporal = frozenset(str(r[0]) for r in cur.fetchall())
            if temporal:
                tr = translate(sql, "duckdb", temporal)
        if tr.is_procedure:  # pragma: no cover - CREATE PROCEDURE and CALL go to _guarded
            raise SqlError(f"cannot run {sql.split(None, 1)[0]} here")
        missing = [n for n in tr.params if n not in params]
        if missing:
            raise SqlError(f"no value given for parameter(s): {', '.join(missing)}")
        bound = {n: params[n] for n in tr.params}
        started = time.perf_counter_ns()
        if not tr.statements:  # informational only on Redshift (a key constraint added)
            return StatementResult(has_result_set=False, duration_ns=0)
        try:
            for stmt in tr.statements:
                used = {n: v for n, v in bound.items() if re.search(rf"\${re.escape(n)}\b", stmt)}
                cur.execute(stmt, used or None)
        except duckdb.Error as e:
            if tr.problem is None or isinstance(e, duckdb.InterruptException):
                raise
            raise SqlError(f"{_message(e)} (run as written: {tr.problem})") from e
        description = cur.description
        rows = cur.fetchall() if description is not None else []
        elapsed = time.perf_counter_ns() - started
        if tr.returns_rows and description is not None:
            columns = tuple(column_of(d[0], d[1]) for d in description)
            return StatementResult(
                has_result_set=True,
                columns=columns,
                rows=rows,
                row_count=len(rows),
                duration_ns=elapsed,
            )
        # DML reports its row count as a one-row "Count" result; DDL reports nothing useful.
        count = -1
        single = description is not None and len(description) == 1
        if single and rows and isinstance(rows[0][0], int) and _is_dml(sql):
            count = rows[0][0]
        return StatementResult(has_result_set=False, row_count=count, duration_ns=elapsed)

    def interrupt(self, run: ServerRun) -> bool:
        """Nothing to reach from another process: the database runs inside the process that
        opened it (which holds its file's lock)."""
        return False

    def settle(self, run: ServerRun) -> Outcome:
        """A run dies with its process (which held the file; this process opens it now). A run
        that wrote its commit marker committed if and only if the marker is there; one that
        ran outside a transaction (CHECKPOINT, CALL, a query) left nothing to read back."""
        import duckdb

        if run.xact is None or run.statement_id is None:
            return Outcome.UNKNOWN
        with self._lock:
            cur = self._database().cursor()
        try:
            found = cur.execute(_MARKED_SQL, {"id": run.statement_id}).fetchall()
        except duckdb.Error as e:
            raise SqlError(f"warehouse '{self.name}': {_message(e)}") from e
        finally:
            cur.close()
        return Outcome.COMMITTED if found[0][0] else Outcome.ABORTED

    def forget(self, statement_id: str) -> None:
        """Delete the statement's marker with a later marked run, once a batch is due (or at
        close): no write of its own."""
        with self._lock:
            self._forgotten.append(statement_id)

    def close(self) -> None:
        import duckdb

        with self._lock:
            db, self._db = self._db, None
            forgotten, self._forgotten = self._forgotten, []
        if db is not None and forgotten and self._marks:
            with contextlib.suppress(duckdb.Error):  # a leftover marker only takes a row
                db.execute(_FORGET_SQL, {"ids": forgotten})
        if db is not None:
            with contextlib.suppress(Exception):
                db.close()


class DuckDBConnection:
    """A DuckDB cursor held across runs (see :meth:`DuckDBWarehouse.connect`)."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def close(self) -> None:
        import duckdb

        with contextlib.suppress(duckdb.Error):
            self.cursor.close()


class _Transaction:
    """A run's DuckDB transaction (DuckDB's Python API does not report whether one is open)."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur
        self._open = False

    def active(self) -> bool:
        return self._open

    def begin(self) -> None:
        self._cur.execute("BEGIN TRANSACTION")
        self._open = True

    def commit(self) -> None:
        self._open = False
        self._cur.execute("COMMIT")

    def rollback(self) -> None:
        self._open = False
        self._cur.execute("ROLLBACK")


_CALL = re.compile(r"^\s*CALL\b", re.I)
_TRUNCATE = re.compile(r"^\s*TRUNCATE\b", re.I)
_DML = re.compile(r"^\s*(?:WITH\b.*?\)\s*)?(INSERT|UPDATE|DELETE|MERGE)\b", re.I | re.S)


def _is_dml(sql: str) -> bool:
    return bool(_DML.match(sql))


def _message(e: Exception) -> str:
    return str(e).strip()
