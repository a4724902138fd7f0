"""COPY and UNLOAD against local S3 folders, on DuckDB and PostgreSQL.

Expected values come from the Redshift COPY / UNLOAD documentation cited in each test, not
from comparing the two engines.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eltflow.s3.service import S3Service
from eltflow.s3.warehouse import WarehouseObjects
from eltflow.warehouse.base import RunControl, SqlError, StatementResult, Warehouse
from eltflow.warehouse.duckdb_engine import DuckDBWarehouse
from eltflow.warehouse.postgres_engine import PostgresWarehouse

AUTH = "iam_role 'arn:aws:iam::123456789012:role/load' region 'us-east-1'"


@pytest.fixture(params=["duckdb", "duckdb+s3service", "postgres"])
def wh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    root = tmp_path / "s3"
    (root / "bkt").mkdir(parents=True)
    engine: Warehouse
    if request.param == "duckdb":
        engine = DuckDBWarehouse("dw", str(tmp_path / "w.duckdb"), root)
    elif request.param == "duckdb+s3service":
        # As the app wires it: COPY/UNLOAD through the S3 service's view of the same folders.
        engine = DuckDBWarehouse(
            "dw", str(tmp_path / "w.duckdb"), WarehouseObjects(S3Service(root))
        )
    else:
        engine = PostgresWarehouse("dw", request.getfixturevalue("pg_url"), root)
    yield engine
    engine.close()


def bucket(wh: Warehouse) -> Path:
    root: Path = wh.s3.path  # type: ignore[attr-defined]
    return root / "bkt"


def put(wh: Warehouse, key: str, data: bytes) -> None:
    path = bucket(wh) / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def run(wh: Warehouse, *sqls: str) -> list[StatementResult]:
    return wh.run(list(sqls), None, database=None, transaction=False, control=RunControl())


def rows(wh: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    (result,) = run(wh, sql)
    return [tuple(r) for r in result.rows]


def error(wh: Warehouse, sql: str) -> str:
    with pytest.raises(SqlError) as info:
        run(wh, sql)
    return info.value.message


def test_copy_csv_loads_every_file_under_the_prefix(wh: Warehouse) -> None:
    # copy-parameters-data-source-s3: FROM 's3://bucket/prefix' loads all objects whose key
    # begins with the prefix. copy-parameters-data-conversion: IGNOREHEADER skips n lines per
    # file; DATEFORMAT parses dates; an empty CHAR/VARCHAR field is an empty string (NULL only
    # with EMPTYASNULL), other types load an empty field as NULL. IAM_ROLE/REGION: accepted.
    put(wh, "in/day=1.csv", b"id,name,day\n1,a,05/01/2024\n2,,06/01/2024\n")
    put(wh, "in/day=2.csv", b'id,name,day\n3,"c,d",\n')
    put(wh, "other/x.csv", b"id,name,day\n9,zz,01/01/2024\n")
    run(wh, "create table t (id int, name varchar(10), day date)")
    (result,) = run(
        wh, f"copy t from 's3://bkt/in/day' {AUTH} csv ignoreheader 1 dateformat 'DD/MM/YYYY'"
    )
    assert result.row_count == 3
    assert rows(wh, "select id, name, day from t order by id") == [
        (1, "a", dt.date(2024, 1, 5)),
        (2, "", dt.date(2024, 1, 6)),
        (3, "c,d", None),
    ]
    run(
        wh,
        f"copy t from 's3://bkt/in/day=1' {AUTH} csv ignoreheader 1 emptyasnull "
        "dateformat 'DD/MM/YYYY'",
    )
    assert rows(wh, "select count(*) from t where name is null") == [(1,)]


def test_copy_default_text_format_and_gzip(wh: Warehouse) -> None:
    # r_COPY / copy-parameters-data-format: without a format the file is text, fields split by
    # '|' (the default DELIMITER), and NULL AS defaults to '\N'. GZIP reads gzip files.
    put(wh, "t/part-0.gz", gzip.compress(b"1|x|2.50\n2|\\N|\\N\n"))
    run(wh, "create table t (id int, name varchar(5), amount decimal(8,2))")
    run(wh, f"copy t from 's3://bkt/t/part' {AUTH} gzip")
    assert rows(wh, "select id, name, cast(amount as varchar) from t order by id") == [
        (1, "x", "2.50"),
        (2, None, None),
    ]


def test_copy_json_auto_and_manifest(wh: Warehouse) -> None:
    # copy-parameters-data-format: JSON 'auto' maps object keys to column names.
    # loading-data-files-using-manifest: a MANIFEST lists the files; a mandatory one missing
    # is an error.
    put(wh, "j/a.json", b'{"id": 1, "name": "a"}\n{"id": 2, "name": "b"}\n')
    manifest = {"entries": [{"url": "s3://bkt/j/a.json", "mandatory": True}]}
    put(wh, "j/load.manifest", json.dumps(manifest).encode())
    run(wh, "create table t (id int, name varchar(5))")
    run(wh, f"copy t from 's3://bkt/j/load.manifest' {AUTH} json 'auto' manifest")
    assert rows(wh, "select id, name from t order by id") == [(1, "a"), (2, "b")]
    manifest["entries"].append({"url": "s3://bkt/j/missing.json", "mandatory": True})
    put(wh, "j/load.manifest", json.dumps(manifest).encode())
    message = error(wh, f"copy t from 's3://bkt/j/load.manifest' {AUTH} json 'auto' manifest")
    assert "s3://bkt/j/missing.json" in message


def test_copy_errors_name_the_missing_bucket_or_prefix(wh: Warehouse) -> None:
    run(wh, "create table t (id int)")
    assert "bucket does not exist" in error(wh, f"copy t from 's3://nobucket/x' {AUTH} csv")
    assert "prefix 'none/' does not exist" in error(wh, f"copy t from 's3://bkt/none/' {AUTH}")
    assert "FIXEDWIDTH" in error(wh, f"copy t from 's3://bkt/x' {AUTH} fixedwidth 'a:1'")


def test_unload_then_copy_back_as_parquet(wh: Warehouse) -> None:
    # r_UNLOAD: PARALLEL OFF writes <prefix>000 (".parquet" added for PARQUET); existing files
    # under the prefix are an error unless ALLOWOVERWRITE; MANIFEST lists the files written.
    run(wh, "create table s (id int, name varchar(5))")
    run(wh, "insert into s values (1, 'a'), (2, 'it''s')")
    (result,) = run(
        wh,
        f"unload ('select id, name from s where name <> ''zz'' order by id') "
        f"to 's3://bkt/out/s_' {AUTH} format as parquet parallel off manifest",
    )
    assert result.row_count == 2
    assert (bucket(wh) / "out/s_000.parquet").is_file()
    listed = json.loads((bucket(wh) / "out/s_manifest").read_text())
    assert [e["url"] for e in listed["entries"]] == ["s3://bkt/out/s_000.parquet"]
    again = f"unload ('select 1') to 's3://bkt/out/s_' {AUTH} parquet parallel off"
    assert "ALLOWOVERWRITE" in error(wh, again)
    run(wh, "create table back (id int, name varchar(5))")
    run(wh, f"copy back from 's3://bkt/out/s_000.parquet' {AUTH} format as parquet")
    assert rows(wh, "select id, name from back order by id") == [(1, "a"), (2, "it's")]


def test_unload_csv_with_header(wh: Warehouse) -> None:
    # r_UNLOAD: CSV with HEADER writes the column names first; PARALLEL ON (the default)
    # names the file <prefix>0000_part_00.
    run(wh, "create table s (id int, name varchar(5))")
    run(wh, "insert into s values (1, 'a,b'), (2, null)")
    run(wh, f"unload ('select id, name from s order by id') to 's3://bkt/csv/s_' {AUTH} csv header")
    text = (bucket(wh) / "csv/s_0000_part_00").read_text()
    assert text.splitlines() == ["id,name", '1,"a,b"', "2,"]


def test_a_bad_field_is_named_with_its_file_line_and_column(wh: Warehouse) -> None:
    # r_COPY / stl_load_errors: a failed load names the file, the line and the column of the
    # first field that does not convert (the header line counts as line 1).
    put(wh, "bad/f.csv", b"id,day\n1,2024-01-01\n2,2024-13-01\n")
    run(wh, "create table t (id int, day date)")
    message = error(wh, f"copy t from 's3://bkt/bad/' {AUTH} csv ignoreheader 1")
    assert message.startswith("Load into table 't' failed: s3://bkt/bad/f.csv, line 3, column day")
    assert "Check 'stl_load_errors' system table for details." in message
    assert rows(wh, "select count(*) from t") == [(0,)]
    # r_STL_LOAD_ERRORS: one row per error, with filename, line_number, colname, the raw value
    assert rows(
        wh, "select filename, line_number, colname, raw_field_value, err_code from stl_load_errors"
    ) == [("s3://bkt/bad/f.csv", 3, "day", "2024-13-01", 1206)]
    # recorded outside the load's transaction: a failed batch still leaves its error row
    with pytest.raises(SqlError):
        wh.run(
            ["insert into t values (9, '2024-01-01')", f"copy t from 's3://bkt/bad/' {AUTH} csv"],
            None,
            database=None,
            transaction=True,
            control=RunControl(),
        )
    assert rows(wh, "select count(*) from t") == [(0,)]
    assert rows(wh, "select count(*) from stl_load_errors") == [(2,)]


def test_unload_to_a_missing_bucket_fails(wh: Warehouse) -> None:
    message = error(wh, f"unload ('select 1') to 's3://nobucket/x_' {AUTH}")
    assert "bucket does not exist" in message
    assert not (bucket(wh).parent / "nobucket").exists()
