"""The Data API's catalog operations: ListDatabases, ListSchemas, ListTables, DescribeTable.

On AWS these answer synchronously (no statement id); here they read ``information_schema``,
which DuckDB and PostgreSQL both have, through the same warehouse interface as statements (so
patterns are bound parameters). ``SchemaPattern``/``TablePattern`` are SQL LIKE patterns.
Results page with MaxResults/NextToken like every list call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from eltflow.dataapi import validation as v
from eltflow.warehouse.base import INTERNAL_SCHEMA, RunControl, SqlError, Warehouse

_TYPE_NAMES = {
    # PostgreSQL information_schema spellings
    "integer": "int4",
    "bigint": "int8",
    "smallint": "int2",
    "character varying": "varchar",
    "character": "bpchar",
    "text": "varchar",
    "double precision": "float8",
    "real": "float4",
    "boolean": "bool",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "time without time zone": "time",
    # DuckDB spellings
    "int": "int4",
    "varchar": "varchar",
    "double": "float8",
    "float": "float4",
    "timestamp": "timestamp",
    "timestamp with time zone ": "timestamptz",
    "hugeint": "numeric",
    "tinyint": "int2",
    "blob": "varbyte",
}
_DECIMAL = re.compile(r"(?:decimal|numeric)(?:\((\d+),\s*(\d+)\))?")
_SIGNED = {"int2", "int4", "int8", "numeric", "float4", "float8"}
_INTERNAL_CATALOGS = {"system", "temp"}  # DuckDB's built-in catalogs


def _query(
    warehouse: Warehouse, sql: str, params: Mapping[str, str], database: str | None
) -> list[tuple[Any, ...]]:
    try:
        (result,) = warehouse.run(
            [sql], dict(params) or None, database=database, transaction=False, control=RunControl()
        )
    except SqlError as e:
        raise v.invalid(f"Could not read the catalog: {e.message}") from e
    return result.rows


def _page(items: Sequence[Any], request: Mapping[str, Any]) -> tuple[list[Any], str | None]:
    limit = v.int_in(request, "MaxResults", "maxResults", 0, 1000) or 1000
    offset = v.decode_token(request.get("NextToken"), "offset") or 0
    if not isinstance(offset, int) or offset < 0:
        raise v.invalid("The NextToken is invalid.")
    chunk = list(items[offset : offset + limit])
    more = offset + limit < len(items)
    return chunk, v.encode_token({"offset": offset + limit}) if more else None


def _with_token(out: dict[str, Any], token: str | None) -> dict[str, Any]:
    if token:
        out["NextToken"] = token
    return out


def list_databases(
    warehouse: Warehouse, request: Mapping[str, Any], configured: Sequence[str]
) -> dict[str, Any]:
    rows = _query(
        warehouse,
        "select distinct catalog_name from information_schema.schemata order by 1",
        {},
        v.optional_str(request, "Database"),
    )
    names = {str(r[0]) for r in rows if str(r[0]) not in _INTERNAL_CATALOGS} | set(configured)
    chunk, token = _page(sorted(names), request)
    return _with_token({"Databases": chunk}, token)


def list_schemas(warehouse: Warehouse, request: Mapping[str, Any]) -> dict[str, Any]:
    database = v.require_str(request, "Database", "database")
    pattern = v.optional_str(request, "SchemaPattern") or "%"
    rows = _query(
        warehouse,
        "select distinct schema_name from information_schema.schemata "
        "where schema_name like :p and schema_name <> :internal order by 1",
        {"p": pattern, "internal": INTERNAL_SCHEMA},
        database,
    )
    chunk, token = _page([str(r[0]) for r in rows], request)
    return _with_token({"Schemas": chunk}, token)


def list_tables(warehouse: Warehouse, request: Mapping[str, Any]) -> dict[str, Any]:
    database = v.require_str(request, "Database", "database")
    rows = _query(
        warehouse,
        "select table_schema, table_name, table_type from information_schema.tables "
        "where table_schema like :s and table_name like :t and table_schema <> :internal "
        "order by 1, 2",
        {
            "s": v.optional_str(request, "SchemaPattern") or "%",
            "t": v.optional_str(request, "TablePattern") or "%",
            "internal": INTERNAL_SCHEMA,
        },
        database,
    )
    tables = [
        {"name": str(name), "schema": str(schema), "type": "VIEW" if kind == "VIEW" else "TABLE"}
        for schema, name, kind in rows
    ]
    chunk, token = _page(tables, request)
    return _with_token({"Tables": chunk}, token)


def describe_table(warehouse: Warehouse, request: Mapping[str, Any]) -> dict[str, Any]:
    database = v.require_str(request, "Database", "database")
    schema = v.optional_str(request, "Schema")
    table = v.optional_str(request, "Table")
    rows = _query(
        warehouse,
        "select table_schema, table_name, column_name, data_type, is_nullable, column_default, "
        "character_maximum_length, numeric_precision, numeric_scale "
        "from information_schema.columns where table_schema like :s and table_name like :t "
        "and table_schema <> :internal order by table_schema, table_name, ordinal_position",
        {"s": schema or "%", "t": table or "%", "internal": INTERNAL_SCHEMA},
        database,
    )
    columns = [_column(*row) for row in rows]
    chunk, token = _page(columns, request)
    out: dict[str, Any] = {"ColumnList": chunk}
    if table:
        out["TableName"] = table
    return _with_token(out, token)


def _column(
    schema: Any,
    table: Any,
    name: Any,
    data_type: Any,
    nullable: Any,
    default: Any,
    length: Any,
    precision: Any,
    scale: Any,
) -> dict[str, Any]:
    text = str(data_type).strip().lower()
    m = _DECIMAL.fullmatch(text)
    if m:
        type_name = "numeric"
        precision = int(m.group(1)) if m.group(1) else precision
        scale = int(m.group(2)) if m.group(2) else scale
    else:
        type_name = _TYPE_NAMES.get(text, text.split("(")[0])
    out: dict[str, Any] = {
        "name": str(name),
        "label": str(name),
        "typeName": type_name,
        "schemaName": str(schema),
        "tableName": str(table),
        "nullable": 1 if str(nullable).upper() == "YES" else 0,
        "length": int(length or 0),
        "precision": int(precision or 0),
        "scale": int(scale or 0),
        "isSigned": type_name in _SIGNED,
        "isCaseSensitive": type_name in ("varchar", "bpchar"),
        "isCurrency": False,
    }
    if default is not None:
        out["columnDefault"] = str(default)
    return out
