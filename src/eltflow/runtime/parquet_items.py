"""A Distributed Map's ``ReaderConfig.InputType: PARQUET``: each row of a Parquet file in the
local S3 is one item, a JSON object keyed by column name.

Read with DuckDB (``read_parquet`` on the object's own file: nothing is copied). Values become
JSON as another local emulator reports recording them from AWS (unverified here): numbers and
booleans as JSON numbers and booleans, strings as strings, NULL as null, lists as arrays,
structs and maps as objects, timestamps as integer epoch milliseconds. Not recorded anywhere
we could find, so chosen here: a DATE is its ISO ``YYYY-MM-DD`` string, a TIME
``HH:MM:SS[.ffffff]``, a DECIMAL a JSON number (an integer when it has no fraction), binary
data a base64 string, a UUID its text, a float NaN or infinity null (JSON has no such numbers).
AWS's limits on Parquet item sources (file, row group and footer sizes) are not applied.

A file DuckDB cannot read as Parquet (not Parquet, truncated) is ``States.ItemReaderFailed``
with DuckDB's reason.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eltflow.types import JSON

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def read_rows(path: Path, limit: int | None, failed: Callable[[str], Exception]) -> list[JSON]:
    """The rows of the Parquet file at ``path`` (the first ``limit`` of them when given)."""
    import duckdb  # here, not at import: only a Map Run reading Parquet pays for it

    conn = duckdb.connect(":memory:")
    try:
        try:
            described = conn.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)])
            columns = [(str(r[0]), str(r[1])) for r in described.fetchall()]
            names = [name for name, _ in columns]
            query = "SELECT " + ", ".join(_select(name, kind) for name, kind in columns)
            query += " FROM read_parquet(?)"
            params: list[Any] = [str(path)]
            if limit is not None:
                query += " LIMIT ?"
                params.append(limit)
            rows = conn.execute(query, params).fetchall()
        except duckdb.Error as e:
            raise failed(f"the object is not a Parquet file DuckDB can read: {e}") from e
    finally:
        conn.close()
    return [{name: to_json(value) for name, value in zip(names, row, strict=True)} for row in rows]


def _select(name: str, kind: str) -> str:
    """A column of the SELECT: a timestamp with time zone as epoch milliseconds in SQL (its
    Python value would need pytz, which eltflow does not depend on)."""
    quoted = '"' + name.replace('"', '""') + '"'  # an identifier: it cannot be a parameter
    if kind.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"epoch_ms({quoted}) AS {quoted}"
    return quoted


def to_json(value: Any) -> JSON:
    """One Parquet value (as DuckDB hands it to Python) as JSON."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return (aware - EPOCH) // dt.timedelta(milliseconds=1)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value // dt.timedelta(milliseconds=1)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"key", "value"} and isinstance(value["key"], list):
            # A MAP column: DuckDB hands it over as parallel key and value lists.
            return {str(k): to_json(v) for k, v in zip(value["key"], value["value"], strict=True)}
        return {str(k): to_json(v) for k, v in value.items()}
    return str(value)
