"""Rows and columns in the Data API's typed shape (``GetStatementResult``) and as CSV
(``GetStatementResultV2``).

Each value becomes one ``Field`` union member as Redshift's Data API returns it: integers as
``longValue``, floating point as ``doubleValue``, booleans as ``booleanValue``, NULL as
``{"isNull": true}``, and everything else (numeric/decimal, dates, timestamps, text) as
``stringValue`` in Redshift's text form.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eltflow.types import JSON, JSONObject
from eltflow.warehouse.base import Column

_SIGNED = {"int2", "int4", "int8", "numeric", "float4", "float8"}
_CASE_SENSITIVE = {"varchar", "bpchar", "char", "text"}


def field(value: Any) -> JSONObject:
    """One value as a Data API ``Field``."""
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return {"stringValue": str(value)}
        return {"doubleValue": value}
    if isinstance(value, Decimal):
        return {"stringValue": format(value, "f")}
    if isinstance(value, datetime):
        return {"stringValue": value.isoformat(sep=" ")}
    if isinstance(value, date | time):
        return {"stringValue": value.isoformat()}
    if isinstance(value, timedelta):
        return {"stringValue": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"blobValue": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, UUID):
        return {"stringValue": str(value)}
    # Nested values (DuckDB lists/structs, PostgreSQL json) travel as JSON text, like SUPER.
    return {"stringValue": json.dumps(value, default=str, separators=(",", ":"))}


def record(row: Sequence[Any]) -> list[JSON]:
    return [field(v) for v in row]


def column_metadata(columns: Sequence[Column]) -> list[JSON]:
    """``ColumnMetadata`` entries, with the keys the Data API sends for each column."""
    out: list[JSON] = []
    for c in columns:
        out.append(
            {
                "isCaseSensitive": c.type_name in _CASE_SENSITIVE,
                "isCurrency": False,
                "isSigned": c.type_name in _SIGNED,
                "label": c.name,
                "length": c.length,
                "name": c.name,
                "nullable": c.nullable,
                "precision": c.precision,
                "scale": c.scale,
                "schemaName": c.schema_name,
                "tableName": c.table_name,
                "typeName": c.type_name,
            }
        )
    return out


def csv_value(value: Any) -> str:
    """One value as a CSV field of ``GetStatementResultV2``: the text of its JSON-format
    ``Field`` (NULL is an empty field, booleans ``t``/``f`` as Redshift prints them, blobs
    base64). Unverified against AWS: the API reference shows only that ``CSVRecords`` is a
    string of CSV text, not how each type is written."""
    f = field(value)
    if "isNull" in f:
        return ""
    if "booleanValue" in f:
        return "t" if f["booleanValue"] else "f"
    return str(next(iter(f.values())))


def csv_records(names: Sequence[str] | None, rows: Sequence[Sequence[Any]]) -> str:
    """A page of ``CSVRecords``: RFC 4180 text (fields quoted where needed, lines ending in
    ``\\n``), starting with a header line of column names when ``names`` is given (the first
    page; unverified whether AWS repeats it on later pages)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if names is not None:
        writer.writerow(names)
    writer.writerows([csv_value(v) for v in row] for row in rows)
    return out.getvalue()
