"""COPY and UNLOAD on PostgreSQL: files stream through ``COPY ... FROM STDIN / TO STDOUT``.

COPY stages the fields as text (``COPY stage FROM STDIN``, the file read in chunks, GZIP and
BZIP2 decompressed on the fly) and the shared INSERT of :mod:`eltflow.warehouse.loading`
converts them. Redshift's default text format is PostgreSQL's text format (pipe delimiter,
``\\N``, backslash escapes). JSON and Parquet are read by an in-memory DuckDB that writes a
temporary CSV on disk, which then streams in the same way. UNLOAD streams ``COPY (query) TO
STDOUT`` into the file; for PARQUET the CSV is converted by DuckDB, so column types are the
ones DuckDB infers from the text (unverified against Redshift's Parquet schema).
"""

from __future__ import annotations

import bz2
import gzip
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from eltflow.warehouse import loading
from eltflow.warehouse.base import SqlError, StatementResult
from eltflow.warehouse.copy_sql import Copy, Unload
from eltflow.warehouse.s3local import LocalObjects
from eltflow.warehouse.translate import translate

RunSql = Callable[[str], StatementResult]
_CHUNK = 1 << 20
_RENAME = {"text": "varchar", "bpchar": "char"}


def _columns(cur: Any, table: str, wanted: tuple[str, ...]) -> list[tuple[str, str]]:
    cur.execute(translate(f"SELECT * FROM {table} LIMIT 0", "postgres").statements[0])
    types = cur.connection.adapters.types
    described: list[tuple[str, str]] = []
    for d in cur.description:
        info = types.get(d.type_code)
        name = info.name if info is not None else "text"
        described.append((d.name, _RENAME.get(name, name)))
    if not wanted:
        return described
    by_name = {name.lower(): kind for name, kind in described}
    missing = [w for w in wanted if w.strip('"').lower() not in by_name]
    if missing:
        raise SqlError(f"column {missing[0]} of relation {table} does not exist")
    return [(w.strip('"'), by_name[w.strip('"').lower()]) for w in wanted]


@contextmanager
def _open(path: Path, compression: str | None) -> Iterator[IO[bytes]]:
    if compression == "gzip":
        with gzip.open(path, "rb") as gz:
            yield gz  # type: ignore[misc]  # GzipFile is a binary file object
    elif compression == "bzip2":
        with bz2.open(path, "rb") as bz:
            yield bz
    elif compression == "zstd":
        raise SqlError("COPY: ZSTD files cannot be read by the PostgreSQL warehouse")
    else:
        with path.open("rb") as f:
            yield f


def _skip_lines(f: IO[bytes], count: int) -> None:
    for _ in range(count):
        if not f.readline():
            return


def _stream(cur: Any, statement: Any, f: IO[bytes]) -> None:
    with cur.copy(statement) as cp:
        while chunk := f.read(_CHUNK):
            cp.write(chunk)


def copy(cur: Any, stmt: Copy, root: LocalObjects, run: RunSql) -> StatementResult:
    """Run a COPY: stage the files' fields as text, convert them into the table."""
    from psycopg import sql

    paths = loading.files(stmt, root)
    table = loading.table_name(stmt.table)
    columns = _columns(cur, table, stmt.columns)
    stage = sql.Identifier(loading.STAGE)
    fields = sql.SQL(", ").join(
        sql.SQL("{} text").format(sql.Identifier(f"c{i}")) for i in range(len(columns))
    )
    cur.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(stage))
    cur.execute(sql.SQL("CREATE TEMP TABLE {} ({})").format(stage, fields))
    try:
        if _direct(stmt):
            return _copy_direct(cur, stmt, table, columns, paths, root)
        if stmt.format in ("json", "parquet"):
            with tempfile.TemporaryDirectory() as tmp:
                csv_path = _typed_to_csv(stmt, paths, columns, Path(tmp))
                with csv_path.open("rb") as f:
                    _stream(cur, sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(stage), f)
        else:
            text = stmt.format == "text"
            options = [
                sql.SQL("FORMAT {}").format(sql.SQL("text" if text else "csv")),
                sql.SQL("DELIMITER {}").format(
                    sql.Literal(stmt.delimiter or ("|" if text else ","))
                ),
                sql.SQL("NULL {}").format(
                    sql.Literal(stmt.null if stmt.null is not None else "\\N")
                ),
            ]
            if not text:
                options.append(sql.SQL("QUOTE {}").format(sql.Literal(stmt.quote)))
            statement = sql.SQL("COPY {} FROM STDIN ({})").format(
                stage, sql.SQL(", ").join(options)
            )
            for path in paths:
                with _open(path, stmt.compression) as f:
                    _skip_lines(f, stmt.ignore_header)
                    _stream(cur, statement, f)
        return run(loading.insert_sql(stmt, table, columns))
    finally:
        _drop_stage(cur, sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(stage))


def _drop_stage(cur: Any, statement: Any) -> None:
    """Drop the stage, unless the transaction failed (its rollback removes the stage)."""
    import psycopg

    if cur.connection.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
        return
    cur.execute(statement)


def _direct(stmt: Copy) -> bool:
    """Whether PostgreSQL's own CSV COPY has Redshift's conversions (then it loads directly).

    It does when no option needs the staged conversion: NULL AS, BLANKSASNULL and date or
    time formats other than the ISO default. An unquoted empty field is NULL, except in
    character columns (FORCE_NOT_NULL) unless EMPTYASNULL, as in Redshift.
    """
    return (
        stmt.format == "csv"
        and stmt.null is None
        and not stmt.blanks_as_null
        and (stmt.date_format or "auto").lower() in ("auto", "yyyy-mm-dd")
        and (stmt.time_format or "auto").lower() == "auto"
    )


_CONTEXT = re.compile(r"line (\d+)(?:, column ([^:]+))?(?::\s*(.*))?", re.S)


def _copy_direct(
    cur: Any,
    stmt: Copy,
    table: str,
    columns: list[tuple[str, str]],
    paths: list[Path],
    root: LocalObjects,
) -> StatementResult:
    import psycopg
    from psycopg import sql

    target = translate(f"SELECT * FROM {table}", "postgres").statements[0][len("SELECT * FROM ") :]
    names = sql.SQL(", ").join(sql.Identifier(n) for n, _ in columns)
    options = [
        sql.SQL("FORMAT csv"),
        sql.SQL("DELIMITER {}").format(sql.Literal(stmt.delimiter or ",")),
        sql.SQL("QUOTE {}").format(sql.Literal(stmt.quote)),
    ]
    keep_empty = [n for n, kind in columns if loading.is_char(kind)]
    if keep_empty and not stmt.empty_as_null:
        options.append(
            sql.SQL("FORCE_NOT_NULL ({})").format(
                sql.SQL(", ").join(sql.Identifier(n) for n in keep_empty)
            )
        )
    statement = sql.SQL("COPY {} ({}) FROM STDIN ({})").format(
        sql.SQL(target),
        names,
        sql.SQL(", ").join(options),
    )
    total = 0
    for path in paths:
        try:
            with _open(path, stmt.compression) as f:
                _skip_lines(f, stmt.ignore_header)
                _stream(cur, statement, f)
        except psycopg.errors.QueryCanceled:
            raise
        except psycopg.Error as e:
            diag = getattr(e, "diag", None)
            context = getattr(diag, "context", None) or ""
            primary = getattr(diag, "message_primary", None) or str(e).strip()
            m = _CONTEXT.search(context)
            if m is None:
                raise
            column = (m.group(2) or "").strip()
            kinds = dict(columns)
            raw = (m.group(3) or "").strip()
            raise loading.LoadFailed(
                loading.LoadError(
                    table=table,
                    filename=root.url(path),
                    line=int(m.group(1)) + stmt.ignore_header,
                    column=column,
                    type=kinds.get(column, ""),
                    value=raw[1:-1] if raw.startswith('"') and raw.endswith('"') else raw,
                    reason=primary,
                )
            ) from e
        total += cur.rowcount if cur.rowcount and cur.rowcount > 0 else 0
    return StatementResult(has_result_set=False, row_count=total)


def _typed_to_csv(stmt: Copy, paths: list[Path], columns: list[tuple[str, str]], tmp: Path) -> Path:
    """JSON / Parquet files as one headerless CSV in ``tmp``, in the table's column order."""
    import duckdb

    out = tmp / "stage.csv"
    files = [str(p) for p in paths]
    con = duckdb.connect()
    try:
        if stmt.format == "json":
            picked = ", ".join(f'"{name}"' for name, _ in columns)
            source = f"SELECT {picked} FROM read_json_auto($files, compression = $z)"
            params: dict[str, Any] = {"files": files, "z": stmt.compression or "none"}
        else:
            source = "SELECT * FROM read_parquet($files)"
            params = {"files": files}
        con.execute(
            f"COPY ({source}) TO $out (FORMAT csv, HEADER false)", {**params, "out": str(out)}
        )
    except duckdb.Error as e:
        raise SqlError(f"COPY: cannot read {stmt.format.upper()} from {stmt.source}: {e}") from e
    finally:
        con.close()
    return out


def unload(cur: Any, stmt: Unload, root: LocalObjects) -> StatementResult:
    """Run an UNLOAD: one file (one slice), plus the manifest if asked."""
    from psycopg import sql

    target, query = loading.unload_target(stmt, root, "postgres")
    parquet = stmt.format == "parquet"
    text = stmt.format == "text"
    options = [
        sql.SQL("FORMAT csv"),
        sql.SQL("HEADER {}").format(sql.SQL("true" if stmt.header or parquet else "false")),
        sql.SQL("DELIMITER {}").format(sql.Literal(stmt.delimiter or ("|" if text else ","))),
        sql.SQL("NULL {}").format(
            sql.Literal(stmt.null if stmt.null is not None else ("\\N" if text else ""))
        ),
    ]
    statement = sql.SQL("COPY ({}) TO STDOUT ({})").format(
        sql.SQL(query),
        sql.SQL(", ").join(options),
    )
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "unload.csv" if parquet else target
        opener = gzip.open if stmt.compression == "gzip" and not parquet else open
        with opener(csv_path, "wb") as f, cur.copy(statement) as cp:
            for chunk in cp:
                f.write(chunk)
        rows = cur.rowcount
        if parquet:
            import duckdb

            con = duckdb.connect()
            try:
                con.execute(
                    "COPY (SELECT * FROM read_csv($src, header = true)) TO $out (FORMAT parquet)",
                    {"src": str(csv_path), "out": str(target)},
                )
            finally:
                con.close()
    loading.write_unload_manifest(stmt, root, target)
    return StatementResult(has_result_set=False, row_count=rows if rows is not None else -1)
