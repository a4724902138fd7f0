"""COPY and UNLOAD on DuckDB: its own readers and writers stream the files, never Python.

COPY stages the fields with ``read_csv`` (all text, DuckDB's parallel streaming reader) or
``read_json`` into a temporary table, then the shared INSERT of :mod:`eltflow.warehouse.loading`
converts them; Parquet goes straight in by column position, as Redshift maps it. UNLOAD is
DuckDB's ``COPY (query) TO``. Redshift's default text format (pipe-delimited, ``\\N`` for NULL)
is read without backslash escapes: DuckDB cannot have ``\\`` as both escape and NULL marker
(unverified corner: a field holding an escaped ``|``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from eltflow.warehouse import loading
from eltflow.warehouse.base import SqlError, StatementResult
from eltflow.warehouse.copy_sql import Copy, Unload
from eltflow.warehouse.s3local import LocalObjects
from eltflow.warehouse.translate import translate


def _columns(cur: Any, table: str, wanted: tuple[str, ...]) -> list[tuple[str, str]]:
    cur.execute(translate(f"SELECT * FROM {table} LIMIT 0", "duckdb").statements[0])
    described = [(str(d[0]), str(d[1])) for d in cur.description]
    if not wanted:
        return described
    types = {name.lower(): kind for name, kind in described}
    missing = [w for w in wanted if w.strip('"').lower() not in types]
    if missing:
        raise SqlError(f"column {missing[0]} of relation {table} does not exist")
    return [(w.strip('"'), types[w.strip('"').lower()]) for w in wanted]


def copy(cur: Any, stmt: Copy, root: LocalObjects, fresh: Callable[[], Any]) -> StatementResult:
    """Run a COPY; the row count loaded.

    One ``INSERT ... SELECT <conversions> FROM read_csv(...)``: DuckDB streams the files
    through the conversion in parallel, with no staging table and nothing in Python.
    """
    paths = [str(p) for p in loading.files(stmt, root)]
    table = loading.table_name(stmt.table)
    columns = _columns(cur, table, stmt.columns)
    if stmt.compression == "bzip2":
        raise SqlError(
            "COPY: BZIP2 files cannot be read by the DuckDB warehouse (GZIP and ZSTD can)"
        )
    # Redshift reads a .gz file as gzip only when told (GZIP): so do we.
    params: dict[str, object] = {"files": paths, "z": stmt.compression or "none"}
    if stmt.format == "parquet":
        reader = "(SELECT * FROM read_parquet($files))"
        del params["z"]
    elif stmt.format == "json":
        fields = ", ".join(f'"{n}" AS c{i}' for i, (n, _) in enumerate(columns))
        reader = f"(SELECT {fields} FROM read_json_auto($files, compression = $z))"
    else:
        text = stmt.format == "text"
        reader = (
            "read_csv($files, delim = $d, quote = $q, escape = $e, header = false, "
            "skip = $skip, nullstr = $n, all_varchar = true, auto_detect = false, "
            "columns = $cols, compression = $z)"
        )
        params |= {
            "d": stmt.delimiter or ("|" if text else ","),
            "q": "" if text else stmt.quote,
            "e": "" if text else stmt.quote,
            "skip": stmt.ignore_header,
            "n": stmt.null if stmt.null is not None else "\\N",
            "cols": {f"c{i}": "VARCHAR" for i in range(len(columns))},
        }
    if stmt.format == "parquet":
        names = ", ".join(f'"{n}"' for n, _ in columns)
        insert = translate(f"INSERT INTO {table} ({names}) SELECT 1", "duckdb").statements[0]
        sql = insert.removesuffix(" SELECT 1") + f" SELECT * FROM {reader} AS src"
    else:
        tr = translate(loading.insert_sql(stmt, table, columns), "duckdb")
        sql = tr.statements[-1]
        stage = f"FROM {loading.STAGE}"
        if not tr.translated or len(tr.statements) != 1 or not sql.endswith(stage):
            raise SqlError(f"COPY into {table}: cannot build the load statement")  # a bug
        names = ", ".join(f"c{i}" for i in range(len(columns)))
        sql = sql[: -len(stage)] + f"FROM {reader} AS src({names})"
    import duckdb

    try:
        cur.execute(sql, params)
    except duckdb.Error as e:
        if stmt.format not in ("csv", "text") or isinstance(e, duckdb.InterruptException):
            raise
        # A new connection: the load's transaction may be aborted now.
        probe = fresh()
        try:
            where = _first_bad_field(probe, stmt, table, columns, params, root)
        finally:
            probe.close()
        if where is None:
            raise
        reason = str(e).strip().splitlines()[0]
        raise loading.LoadFailed(replace(where, reason=reason)) from e
    row = cur.fetchone()
    return StatementResult(has_result_set=False, row_count=int(row[0]) if row else -1)


def _first_bad_field(
    cur: Any,
    stmt: Copy,
    table: str,
    columns: list[tuple[str, str]],
    params: dict[str, object],
    root: LocalObjects,
) -> loading.LoadError | None:
    """File, line, column and value of the first field that does not convert.

    Only after a failed load: each file is scanned again, numbering its lines, and every
    conversion is tried with TRY(); the first line with a field that does not convert is it.
    """
    exprs = loading.conversions(stmt, columns)
    bad = [
        f"({e}) IS NULL AND nullif(trim(c{i}), '') IS NOT NULL"
        for i, e in enumerate(exprs)
        if not loading.is_char(columns[i][1])
    ]
    if not bad:
        return None
    names = ", ".join(f"c{i}" for i in range(len(columns)))
    which = " ".join(f"WHEN {b} THEN {i}" for i, b in enumerate(bad))
    probe = translate(
        f"SELECT line, CASE {which} END AS col FROM {loading.STAGE} "
        f"WHERE {' OR '.join(f'({b})' for b in bad)} ORDER BY line LIMIT 1",
        "duckdb",
    ).statements[0]
    reader = (
        "read_csv($file, delim = $d, quote = $q, escape = $e, header = false, skip = $skip, "
        "nullstr = $n, all_varchar = true, auto_detect = false, columns = $cols, "
        "compression = $z)"
    )
    probe = probe.replace(
        f"FROM {loading.STAGE}", f"FROM {reader} WITH ORDINALITY AS src({names}, line)", 1
    )
    # conversions that fail must give NULL here, not stop the scan
    probe = _try_each(probe)
    checked = [i for i in range(len(columns)) if not loading.is_char(columns[i][1])]
    one_file = {k: v for k, v in params.items() if k != "files"}
    for path in loading.files(stmt, root):
        cur.execute(probe, {**one_file, "file": str(path)})
        found = cur.fetchone()
        if found is None:
            continue
        line, col = int(found[0]) + stmt.ignore_header, checked[int(found[1])]
        name, kind = columns[col]
        cur.execute(
            f"SELECT c{col} FROM {reader} WITH ORDINALITY AS src({names}, line) WHERE line = $line",
            {**one_file, "file": str(path), "line": int(found[0])},
        )
        raw = cur.fetchone()
        value = "" if raw is None or raw[0] is None else str(raw[0])
        return loading.LoadError(
            table=table,
            filename=root.url(path),
            line=line,
            column=name,
            type=kind,
            value=value,
            reason="",
        )
    return None


def _try_each(sql: str) -> str:
    """``sql`` with each conversion wrapped in DuckDB's TRY(), so a bad field gives NULL."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    for node in list(tree.find_all(exp.Cast, exp.StrToDate, exp.StrToTime)):
        if isinstance(node.parent, exp.Cast | exp.StrToDate | exp.StrToTime):
            continue
        node.replace(exp.Anonymous(this="TRY", expressions=[node.copy()]))
    return tree.sql(dialect="duckdb")


def unload(cur: Any, stmt: Unload, root: LocalObjects) -> StatementResult:
    """Run an UNLOAD: one file (a local engine is one slice), plus the manifest if asked."""
    target, query = loading.unload_target(stmt, root, "duckdb")
    params: dict[str, object]
    if stmt.format == "parquet":
        options, params = "FORMAT parquet", {"p": str(target)}
    else:
        options = "FORMAT csv, HEADER $h, DELIMITER $d, NULLSTR $n, COMPRESSION $z"
        text = stmt.format == "text"
        params = {
            "p": str(target),
            "h": stmt.header,
            "d": stmt.delimiter or ("|" if text else ","),
            "n": stmt.null if stmt.null is not None else ("\\N" if text else ""),
            "z": stmt.compression or "none",
        }
        if text:
            options += ", QUOTE ''"
    cur.execute(f"COPY ({query}) TO $p ({options})", params)
    row = cur.fetchone()
    count = int(row[0]) if row else -1
    loading.write_unload_manifest(stmt, root, target)
    return StatementResult(has_result_set=False, row_count=count)
