"""The embedded DuckDB warehouse (the zero-setup default, ``.eltflow/warehouse.duckdb``).

One DuckDB database object per file, one cursor per run: DuckDB cursors are independent
connections to the same database, each with its own transaction, and a cursor whose result is
left unfetched blocks its connection, so every result is fetched before the cursor closes.
``cursor.interrupt()`` from another thread stops a running query at once (CancelStatement).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eltflow.warehouse.base import (
    Column,
    OnStatement,
    Params,
    RunControl,
    SqlError,
    StatementCancelled,
    StatementResult,
)
from eltflow.warehouse.translate import translate

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
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
_PROCEDURE_MESSAGE = (
    "stored procedures are not supported on the DuckDB warehouse '{name}' (DuckDB has no "
    "CREATE PROCEDURE or CALL of procedures); configure a PostgreSQL warehouse for it in "
    'eltflow.toml: [warehouses.{name}] url = "postgresql://..."'
)


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

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = path
        self._db: Any = None
        self._lock = threading.Lock()
        self._runs = 0

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
                    f"cannot open the DuckDB warehouse '{self.name}' at {self.path}: {e}. "
                    "A DuckDB file is usable by one process at a time; stop the other process, "
                    "or configure a PostgreSQL warehouse to share one between processes."
                ) from e
        return self._db

    def run(
        self,
        sqls: Sequence[str],
        params: Params | None,
        *,
        database: str | None,
        transaction: bool,
        control: RunControl,
        on_started: Callable[[int | None], None] | None = None,
        on_statement: OnStatement | None = None,
    ) -> list[StatementResult]:
        import duckdb

        with self._lock:
            cur = self._database().cursor()
            self._runs += 1
            run_no = self._runs
        results: list[StatementResult] = []
        index = 0
        in_tx = False
        try:
            control.attach(cur.interrupt)
            control.check()
            if on_started is not None:
                on_started(run_no)  # DuckDB has no backend pid: a per-warehouse run number
            if transaction:
                cur.execute("BEGIN TRANSACTION")
                in_tx = True
            for index, sql in enumerate(sqls):
                control.check()
                try:
                    result = self._one(cur, sql, params or {})
                except SqlError as e:
                    raise SqlError(e.message, index) from e
                results.append(result)
                if on_statement is not None:
                    on_statement(index, result)
            if in_tx:
                cur.execute("COMMIT")
                in_tx = False
        except duckdb.InterruptException as e:
            raise StatementCancelled("statement was cancelled") from e
        except duckdb.Error as e:
            if control.cancelled:
                raise StatementCancelled("statement was cancelled") from e
            raise SqlError(_message(e), index) from e
        finally:
            control.attach(None)
            if in_tx:
                with contextlib.suppress(duckdb.Error):  # the transaction may be aborted already
                    cur.execute("ROLLBACK")
            cur.close()
        return results

    def _one(self, cur: Any, sql: str, params: Params) -> StatementResult:
        tr = translate(sql, "duckdb")
        if tr.trunc_columns and tr.tables:
            cur.execute(_TEMPORAL_SQL, {"t": list(tr.tables), "c": list(tr.trunc_columns)})
            temporal = frozenset(str(r[0]) for r in cur.fetchall())
            if temporal:
                tr = translate(sql, "duckdb", temporal)
        if tr.is_procedure:
            raise SqlError(_PROCEDURE_MESSAGE.format(name=self.name))
        missing = [n for n in tr.params if n not in params]
        if missing:
            raise SqlError(f"no value given for parameter(s): {', '.join(missing)}")
        bound = {n: params[n] for n in tr.params}
        started = time.perf_counter_ns()
        for stmt in tr.statements:
            used = {n: v for n, v in bound.items() if re.search(rf"\${re.escape(n)}\b", stmt)}
            cur.execute(stmt, used or None)
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

    def close(self) -> None:
        with self._lock:
            db, self._db = self._db, None
        if db is not None:
            with contextlib.suppress(Exception):
                db.close()


_DML = re.compile(r"^\s*(?:WITH\b.*?\)\s*)?(INSERT|UPDATE|DELETE|MERGE)\b", re.I | re.S)


def _is_dml(sql: str) -> bool:
    return bool(_DML.match(sql))


def _message(e: Exception) -> str:
    return str(e).strip()
