"""Oracle tests: the same Redshift SQL gives the same rows on DuckDB and on PostgreSQL.

Each construct the translator handles is run through both engines (real DuckDB, real
PostgreSQL) and the results, in the Data API's typed-record form, must be equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eltflow.dataapi.records import record
from eltflow.types import JSON
from eltflow.warehouse.base import RunControl, SqlError, Warehouse
from eltflow.warehouse.duckdb_engine import DuckDBWarehouse
from eltflow.warehouse.postgres_engine import PostgresWarehouse

SETUP = [
    "create table src (id int encode az64, name varchar(20) encode lzo, amount decimal(10,2), "
    "day date, at timestamp) diststyle key distkey(id) compound sortkey(id, day) backup no",
    "insert into src values (1, 'a', 1.50, '2024-01-31', '2024-01-31 10:11:12'), "
    "(2, null, 2.25, '2024-02-29', '2024-02-29 23:59:59'), (3, 'c', null, '2024-03-01', null)",
]

CASES = {
    "nvl": "select id, nvl(name, 'none') from src order by id",
    "nvl2_decode": "select id, nvl2(name, 'has', 'no'), decode(id, 1, 'one', 2, 'two', 'many') "
    "from src order by id",
    "dateadd": "select id, dateadd(day, 1, day)::date, dateadd(month, 1, day)::date "
    "from src order by id",
    "datediff": "select id, datediff(day, day, '2024-03-31'::date) from src order by id",
    "casts": "select id::varchar, amount::int, '42'::int + 1, '2024-05-06'::date from src "
    "order by id",
    "trunc_timestamp": "select id, trunc(at) from src where at is not null order by id",
    "trunc_number": "select trunc(amount, 1), trunc(9.99) from src where amount is not null "
    "order by id",
    "getdate_is_today_utc": "select trunc(getdate()) = trunc(sysdate), "
    "getdate() <= sysdate + interval '1 day'",
    "top": "select top 2 id from src order by id desc",
    "listagg": "select listagg(id, ',') within group (order by id) from src",
    "coalesce_sum": "select sum(nvl(amount, 0)) from src",
    # DATEDIFF counts boundaries crossed (Jan 31 → Dec 1 is 11 months, 23:59:59 → 00:00 one day)
    "datediff_units": "select id, datediff(month, at, '2024-12-01'::timestamp), "
    "datediff(year, day, '2025-01-01'::date), datediff(hour, at, '2024-03-01 00:00'::timestamp), "
    "datediff(minute, at, at + interval '90 seconds'), datediff(week, day, '2024-03-31'::date), "
    "datediff(quarter, day, '2024-12-31'::date) from src where at is not null order by id",
    "extract_is_integer": "select extract(year from at), date_part(month, at), "
    "extract(day from day) from src where at is not null order by id",
    "approximate_count": "select approximate count(distinct id) from src",
    "regexp_substr": "select regexp_substr(name, '[a-z]+') from src where name is not null "
    "order by id",
    "json_extract_path_text": "select json_extract_path_text('{\"k\": {\"v\": \"x\"}}', 'k', 'v')",
    "convert_timezone": "select convert_timezone('UTC', 'America/New_York', at) from src "
    "where at is not null order by id",
    "window_and_case": "select id, row_number() over (order by amount desc nulls last), "
    "case when amount > 2 then 'big' else 'small' end from src order by id",
    "string_functions": "select left(name, 1), len(name), upper(name) || '-' || lower(name), "
    "split_part('a,b,c', ',', 2) from src where name is not null order by id",
}


@pytest.fixture
def engines(tmp_path: Path, pg_url: str) -> Iterator[tuple[Warehouse, Warehouse]]:
    duck = DuckDBWarehouse("oracle", str(tmp_path / "oracle.duckdb"))
    pg = PostgresWarehouse("oracle", pg_url)
    for wh in (duck, pg):
        wh.run(SETUP, None, database=None, transaction=True, control=RunControl())
    yield duck, pg
    duck.close()
    pg.close()


def _rows(wh: Warehouse, sql: str) -> list[list[JSON]]:
    (result,) = wh.run([sql], None, database=None, transaction=False, control=RunControl())
    assert result.has_result_set
    return [record(r) for r in result.rows]


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_rows_on_both_engines(engines: tuple[Warehouse, Warehouse], name: str) -> None:
    duck, pg = engines
    got_duck = _rows(duck, CASES[name])
    got_pg = _rows(pg, CASES[name])
    assert got_duck == got_pg
    assert got_duck  # a case that returns nothing proves nothing


def test_identity_columns_number_rows_alike(engines: tuple[Warehouse, Warehouse]) -> None:
    for wh in engines:
        wh.run(
            [
                "create table ident (id bigint identity(100, 10), v varchar(5)) diststyle all",
                "insert into ident (v) values ('x'), ('y')",
            ],
            None,
            database=None,
            transaction=True,
            control=RunControl(),
        )
    duck, pg = engines
    sql = "select id, v from ident order by id"
    assert (
        _rows(duck, sql)
        == _rows(pg, sql)
        == [
            [{"longValue": 100}, {"stringValue": "x"}],
            [{"longValue": 110}, {"stringValue": "y"}],
        ]
    )


def test_temp_table_like_then_insert_select(engines: tuple[Warehouse, Warehouse]) -> None:
    sqls = [
        "create temp table stage (like src)",
        "insert into stage select * from src where id > 1",
        "select id, name from stage order by id",
    ]
    outs = []
    for wh in engines:
        results = wh.run(sqls, None, database=None, transaction=True, control=RunControl())
        outs.append([record(r) for r in results[-1].rows])
    assert (
        outs[0]
        == outs[1]
        == [
            [{"longValue": 2}, {"isNull": True}],
            [{"longValue": 3}, {"stringValue": "c"}],
        ]
    )


def test_delete_using_and_update_from(engines: tuple[Warehouse, Warehouse]) -> None:
    sqls = [
        "create table dim (id int, label varchar(10))",
        "insert into dim values (1, 'one'), (2, 'two'), (3, 'three')",
        "update dim set label = src.name from src where dim.id = src.id and src.name is not null",
        "delete from dim using src where dim.id = src.id and src.amount is null",
        "select id, label from dim order by id",
    ]
    outs = []
    for wh in engines:
        results = wh.run(sqls, None, database=None, transaction=True, control=RunControl())
        assert [r.row_count for r in results[2:4]] == [2, 1]
        outs.append([record(r) for r in results[-1].rows])
    assert (
        outs[0]
        == outs[1]
        == [
            [{"longValue": 1}, {"stringValue": "a"}],
            [{"longValue": 2}, {"stringValue": "two"}],
        ]
    )


def test_untranslatable_sql_fails_with_the_engine_message(
    engines: tuple[Warehouse, Warehouse],
) -> None:
    for wh in engines:
        with pytest.raises(SqlError) as e:
            wh.run(
                # (UNLOAD was the example once; it runs locally now.)
                ["selec 1 from staging.nation"],
                None,
                database=None,
                transaction=False,
                control=RunControl(),
            )
        assert "syntax error" in e.value.message.lower()
        assert "not translated" in e.value.message


def test_datediff_counts_boundaries_like_redshift(engines: tuple[Warehouse, Warehouse]) -> None:
    sql = (
        "select datediff(month, at, '2024-12-01'::timestamp), datediff(year, day, "
        "'2025-01-01'::date), datediff(hour, at, '2024-03-01 00:00'::timestamp), "
        "datediff(minute, at, at + interval '90 seconds'), datediff(week, day, '2024-03-31'::date),"
        " datediff(quarter, day, '2024-12-31'::date), "
        "datediff(day, at, '2024-02-01 00:00'::timestamp) from src where id = 1"
    )
    expected = [[{"longValue": v} for v in (11, 1, 710, 1, 8, 3, 1)]]
    for wh in engines:
        assert _rows(wh, sql) == expected
