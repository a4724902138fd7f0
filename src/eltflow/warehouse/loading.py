"""COPY's engine-independent half: which files, and the INSERT that converts staged text.

An engine stages the files' fields as text in a temporary table (``c0``, ``c1``, ... in file
column order; JSON and Parquet keep their own types), then runs the Redshift-dialect INSERT
built here through its translator, so the conversion rules are the same on both engines:

- an empty field is NULL for non-character columns, and for character columns only with
  EMPTYASNULL; BLANKSASNULL makes whitespace-only character fields NULL
  ("Data conversion parameters",
  https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-conversion.html);
- DATEFORMAT / TIMEFORMAT other than 'auto' parse with the datetime format strings TO_DATE
  and TO_TIMESTAMP use; 'epochsecs' / 'epochmillisecs' are seconds / milliseconds since 1970.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eltflow.warehouse.base import SqlError
from eltflow.warehouse.copy_sql import Copy, Unload, unload_files
from eltflow.warehouse.s3local import LocalObjects
from eltflow.warehouse.translate import translate

STAGE = "eltflow_copy_stage"
# Redshift's STL_LOAD_ERRORS (https://docs.aws.amazon.com/redshift/latest/dg/r_STL_LOAD_ERRORS.html),
# the columns a local load knows; a real table here, written outside the failed transaction.
LOAD_ERRORS_DDL = (
    "CREATE TABLE IF NOT EXISTS stl_load_errors (starttime TIMESTAMP, tbl_name VARCHAR(256), "
    "filename VARCHAR(1024), line_number BIGINT, colname VARCHAR(127), type VARCHAR(64), "
    "raw_field_value VARCHAR(1024), err_code INT, err_reason VARCHAR(1024))"
)
LOAD_ERRORS_INSERT = (
    "INSERT INTO stl_load_errors VALUES (GETDATE(), :tbl_name, :filename, "
    "CAST(:line_number AS BIGINT), :colname, :type, :raw_field_value, CAST(:err_code AS INT), "
    ":err_reason)"
)


@dataclass(frozen=True, kw_only=True)
class LoadError:
    """Where a COPY failed: one row of ``stl_load_errors``."""

    table: str
    filename: str
    line: int
    column: str
    type: str
    value: str
    reason: str

    def message(self) -> str:
        return (
            f"Load into table '{self.table}' failed: {self.filename}, line {self.line}, "
            f"column {self.column} ({self.type}): invalid value '{self.value}'. "
            f"{self.reason} Check 'stl_load_errors' system table for details."
        )

    def params(self) -> dict[str, str]:
        """Values for :data:`LOAD_ERRORS_INSERT` (as the Data API's strings)."""
        return {
            "tbl_name": self.table,
            "filename": self.filename,
            "line_number": str(self.line),
            "colname": self.column,
            "type": self.type,
            "raw_field_value": self.value[:1024],
            "err_code": "1206" if "date" in self.type.lower() else "1207",
            "err_reason": self.reason[:1024],
        }


class LoadFailed(SqlError):
    """A COPY failed at a known field; the engine records it in ``stl_load_errors``."""

    def __init__(self, error: LoadError) -> None:
        self.error = error
        super().__init__(error.message())


def files(copy: Copy, root: LocalObjects) -> list[Path]:
    """The local files a COPY reads: the prefix's objects, or a MANIFEST's entries."""
    if not copy.manifest:
        return root.objects(copy.source)
    manifest = root.file(copy.source)
    try:
        entries = json.loads(manifest.read_text("utf-8"))["entries"]
    except FileNotFoundError:
        raise SqlError(f"the manifest {copy.source} does not exist") from None
    except (ValueError, KeyError, TypeError) as e:
        raise SqlError(f"the manifest {copy.source} is not valid JSON with entries: {e}") from e
    out: list[Path] = []
    for entry in entries:
        path = root.file(str(entry.get("url", "")))
        if path.is_file():
            out.append(path)
        elif entry.get("mandatory", False):
            raise SqlError(f"mandatory manifest entry {entry.get('url')} does not exist")
    if not out:
        raise SqlError(f"the manifest {copy.source} lists no existing file")
    return out


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def insert_sql(copy: Copy, table_sql: str, columns: Sequence[tuple[str, str]]) -> str:
    """Redshift SQL moving the staged fields into ``columns`` ((name, type) pairs)."""
    names = ", ".join(_quote(n) for n, _ in columns)
    exprs = ", ".join(conversions(copy, columns))
    return f"INSERT INTO {table_sql} ({names}) SELECT {exprs} FROM {STAGE}"


def is_char(type_name: str) -> bool:
    return any(k in type_name.lower() for k in ("char", "text", "string"))


def conversions(copy: Copy, columns: Sequence[tuple[str, str]]) -> list[str]:
    """One Redshift expression per column, converting staged field ``c<i>`` to its type.

    Non-character fields are cast to the column's type (PostgreSQL has no implicit cast from
    text in INSERT ... SELECT); ``typed`` stages (JSON, Parquet) keep their values as read.
    """
    exprs: list[str] = []
    for i, (_name, type_name) in enumerate(columns):
        field = f"c{i}"
        kind = type_name.lower()
        if copy.format in ("json", "parquet"):
            exprs.append(field if is_char(kind) else f"cast({field} as {type_name})")
            continue
        if is_char(kind):
            if copy.blanks_as_null:
                exprs.append(f"CASE WHEN trim({field}) = '' THEN NULL ELSE {field} END")
            elif copy.empty_as_null:
                exprs.append(f"nullif({field}, '')")
            else:
                exprs.append(field)
            continue
        value = f"nullif(trim({field}), '')"
        if kind.startswith("date") and copy.date_format not in (None, "auto", "AUTO"):
            exprs.append(f"to_date({value}, {_literal(str(copy.date_format))})")
        elif kind.startswith("timestamp") and copy.time_format not in (None, "auto", "AUTO"):
            fmt = str(copy.time_format).lower()
            if fmt in ("epochsecs", "epochmillisecs"):
                unit = "second" if fmt == "epochsecs" else "millisecond"
                exprs.append(
                    f"cast(timestamp 'epoch' + cast({value} as bigint) * interval '1 {unit}' "
                    f"as {type_name})"
                )
            else:
                exprs.append(
                    f"cast(to_timestamp({value}, {_literal(str(copy.time_format))}) as {type_name})"
                )
        else:
            exprs.append(f"cast({value} as {type_name})")
    return exprs


def table_name(text: str) -> str:
    """``text`` checked to be a (schema-qualified) table name; normalized Redshift SQL."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(f"SELECT * FROM {text}", read="redshift")
    except sqlglot.errors.SqlglotError:
        tree = None
    source = tree.args.get("from_") if tree is not None else None
    table = source.this if source is not None else None
    if not isinstance(table, exp.Table) or table.args.get("alias"):
        raise SqlError(f"'{text}' is not a table name")
    return table.sql(dialect="redshift")


def unload_target(stmt: Unload, root: LocalObjects, dialect: str) -> tuple[Path, str]:
    """UNLOAD's engine-independent half: the checks Redshift makes before writing (the bucket
    exists; the prefix is empty unless ALLOWOVERWRITE), the one file a local engine writes (it is
    one slice), and the query translated for ``dialect``."""
    name, ext = unload_files(stmt)
    target = root.file(stmt.target + name + ext)
    folder, _ = root.split(stmt.target)
    if not folder.is_dir():
        raise SqlError(
            f"S3ServiceException: The specified bucket does not exist ({folder.name}; "
            f"local buckets are folders under {root.path})"
        )
    if not stmt.allow_overwrite:
        try:
            root.objects(stmt.target)
        except SqlError:
            pass
        else:
            raise SqlError(
                "Specified unload destination on S3 is not empty. Consider using a different "
                "bucket / prefix, manually removing the target files in S3, or using the "
                "ALLOWOVERWRITE option."
            )
    tr = translate(stmt.query, dialect)
    if len(tr.statements) != 1 or tr.params:
        raise SqlError("UNLOAD needs exactly one SELECT statement without parameters")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target, tr.statements[0]


def write_unload_manifest(stmt: Unload, root: LocalObjects, target: Path) -> None:
    """UNLOAD ... MANIFEST: the manifest file Redshift writes next to the data files."""
    if stmt.manifest:
        manifest = root.file(stmt.target + "manifest")
        entry = {"url": root.url(target), "meta": {"content_length": target.stat().st_size}}
        manifest.write_text(json.dumps({"entries": [entry]}), "utf-8")
