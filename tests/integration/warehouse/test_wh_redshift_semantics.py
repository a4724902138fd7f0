"""Oracle tests: Redshift SQL on the local engines gives what the Redshift documentation says.

Every expected value comes from the Redshift documentation page cited next to it (its examples
where it has them), never from comparing DuckDB with PostgreSQL. Each test runs on both engines
(real DuckDB, real PostgreSQL through the ``pg_url`` fixture, which fails instead of skipping
when ELTFLOW_REQUIRE_PG is set).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eltflow.warehouse.base import RunControl, SqlError, StatementResult, Warehouse
from eltflow.warehouse.duckdb_engine import DuckDBWarehouse
from eltflow.warehouse.postgres_engine import PostgresWarehouse

DOCS = "https://docs.aws.amazon.com/redshift/latest/dg/"


@pytest.fixture(params=["duckdb", "postgres"])
def wh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    engine: Warehouse
    if request.param == "duckdb":
        engine = DuckDBWarehouse("oracle", str(tmp_path / "oracle.duckdb"))
    else:
        engine = PostgresWarehouse("oracle", request.getfixturevalue("pg_url"))
    yield engine
    engine.close()


def run(wh: Warehouse, *sqls: str, transaction: bool = False) -> list[StatementResult]:
    return wh.run(list(sqls), None, database=None, transaction=transaction, control=RunControl())


def rows(wh: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    (result,) = run(wh, sql)
    assert result.has_result_set
    return [tuple(r) for r in result.rows]


def one(wh: Warehouse, sql: str) -> Any:
    ((value,),) = rows(wh, sql)
    return value


def error(wh: Warehouse, *sqls: str, transaction: bool = False) -> SqlError:
    with pytest.raises(SqlError) as info:
        run(wh, *sqls, transaction=transaction)
    return info.value


# --- DDL -----------------------------------------------------------------------------------


def test_key_constraints_are_informational(wh: Warehouse) -> None:
    # t_Defining_constraints: "Uniqueness, primary key, and foreign key constraints are
    # informational only; they are not enforced by Amazon Redshift ... Amazon Redshift does
    # enforce NOT NULL column constraints."
    run(
        wh,
        "create table dim (id int primary key, code varchar(10) unique not null)",
        "create table fact (id int, dim_id int references dim(id), "
        "primary key (id), foreign key (dim_id) references dim(id))",
        "alter table fact add constraint fact_uq unique (dim_id)",
    )
    run(wh, "insert into dim values (1, 'a'), (1, 'a')")
    run(wh, "insert into fact values (1, 99), (1, 99)")  # 99 is in no dim row
    assert one(wh, "select count(*) from dim") == 2
    assert one(wh, "select count(*) from fact") == 2
    assert "null" in error(wh, "insert into dim values (2, null)").message.lower()


def test_layout_hints_are_accepted_and_dropped(wh: Warehouse) -> None:
    # r_CREATE_TABLE_NEW: DISTSTYLE, DISTKEY, [COMPOUND | INTERLEAVED] SORTKEY, ENCODE and
    # BACKUP are table attributes of Redshift's storage; the table itself is a plain table.
    run(
        wh,
        "create table sales (id int encode az64 distkey, day date encode raw sortkey, "
        "note varchar(max) encode zstd) diststyle key interleaved sortkey (id, day) backup no",
        "create table other (id int) diststyle all compound sortkey (id)",
        "create temp table stage (id int encode az64) diststyle even",
        "insert into stage values (1)",  # a temp table lives as long as its session: this run
    )
    run(wh, "insert into sales values (1, '2024-01-01', 'x')")
    assert rows(wh, "select id, note from sales") == [(1, "x")]


def test_varchar_max_holds_the_longest_varchar(wh: Warehouse) -> None:
    # r_Character_types: VARCHAR(MAX) is a VARCHAR of the maximum length, 65535 bytes.
    run(wh, "create table t (v varchar(max), c character varying(max))")
    run(wh, f"insert into t values ('{'x' * 65535}', 'y')")
    assert one(wh, "select len(v) from t") == 65535


def test_identity_numbers_rows_from_seed_by_step(wh: Warehouse) -> None:
    # r_CREATE_TABLE_NEW: IDENTITY(seed, step) "the value used for the first row loaded" and
    # "the number to add to generate the next value"; seed 0 is allowed.
    run(
        wh,
        "create table a (id bigint identity(0, 1), v int)",
        "create table b (id int identity(10, 5), v int)",
        "create table c (id int identity, v int)",  # no (seed, step): 1, 1 assumed (unverified)
    )
    for table in ("a", "b", "c"):
        run(wh, f"insert into {table} (v) values (7), (8), (9)")
    assert [r[0] for r in rows(wh, "select id from a order by id")] == [0, 1, 2]
    assert [r[0] for r in rows(wh, "select id from b order by id")] == [10, 15, 20]
    assert [r[0] for r in rows(wh, "select id from c order by id")] == [1, 2, 3]


def test_public_schema_is_the_default_schema(wh: Warehouse) -> None:
    # r_Schemas_and_tables: "By default, a database has a single schema, which is named
    # PUBLIC"; an unqualified table name is in it.
    run(wh, "create table public.p (a int)", "create table q (a int)")
    run(wh, "insert into p values (1)", "insert into public.q values (2)")
    assert one(wh, "select count(*) from public.p") == 1
    assert one(wh, "select a from q") == 2


# --- arithmetic ----------------------------------------------------------------------------


def test_integer_division_is_an_integer(wh: Warehouse) -> None:
    # r_numeric_computations201, "Return types for computations": INT4 / INT4 is INT4, so the
    # fraction is dropped (toward zero, as in PostgreSQL, on which Redshift is based).
    assert rows(wh, "select 1/4, 7/2, -7/2, 9/3") == [(0, 3, -3, 3)]
    assert float(one(wh, "select 7.0/2")) == 3.5


def test_division_by_zero_is_an_error(wh: Warehouse) -> None:
    # A validation query such as 1/count(1) must fail on zero rows (Redshift: "ERROR: division
    # by zero", PostgreSQL's error, r_numeric_computations201 lists no NULL/infinity result).
    run(wh, "create table empty_fact (a int)")
    assert "zero" in error(wh, "select 1/count(1) from empty_fact").message.lower()
    assert "zero" in error(wh, "select 1.5/0").message.lower()
    assert "zero" in error(wh, "select 1::float8/0").message.lower()


# --- functions -----------------------------------------------------------------------------


def test_getdate_is_whole_seconds_and_sysdate_keeps_microseconds(wh: Warehouse) -> None:
    # r_GETDATE: returns TIMESTAMP, example "2008-12-04 16:10:43" (no fraction), and
    # trunc(getdate()) is the date. r_SYSDATE: TIMESTAMP in UTC with microseconds.
    now, date = rows(wh, "select getdate(), trunc(getdate())")[0]
    assert isinstance(now, dt.datetime) and now.tzinfo is None
    assert now.microsecond == 0
    assert date == now.date()
    utc = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert abs((utc - now).total_seconds()) < 3600  # UTC, not some local time zone
    sysdate = one(wh, "select sysdate")
    assert isinstance(sysdate, dt.datetime) and sysdate.tzinfo is None


def test_trunc_of_a_timestamp_is_its_date(wh: Warehouse) -> None:
    # r_TRUNC_date: "Truncates a timestamp and returns a date."
    assert one(wh, "select trunc('2011-07-21 10:32:38.248109'::timestamp)") == dt.date(2011, 7, 21)
    assert float(one(wh, "select trunc(111.86, 1)")) == 111.8  # r_TRUNC: the number form


def test_dateadd(wh: Warehouse) -> None:
    # r_DATEADD_function examples: 18 months on 2008-02-28 is 2009-08-28 00:00:00, and "m" is
    # minutes: 30 minutes on 2008-02-28 is 2008-02-28 00:30:00. The return type is TIMESTAMP.
    assert one(wh, "select dateadd(month, 18, '2008-02-28')") == dt.datetime(2009, 8, 28)
    assert one(wh, "select dateadd(m, 30, '2008-02-28')") == dt.datetime(2008, 2, 28, 0, 30)


def test_datediff_counts_boundaries(wh: Warehouse) -> None:
    # r_DATEDIFF_function example: datediff(week, '2009-01-01', '2009-12-31') is 52.
    assert one(wh, "select datediff(week, '2009-01-01', '2009-12-31')") == 52


def test_date_trunc_returns_a_timestamp(wh: Warehouse) -> None:
    # r_DATE_TRUNC examples on TIMESTAMP '2020-04-30 04:05:06.789': second → 04:05:06,
    # month → 2020-04-01 00:00:00, week → Monday 2020-04-27. Return type TIMESTAMP, also for
    # a DATE argument (no time zone).
    ts = "'2020-04-30 04:05:06.789'::timestamp"
    assert rows(
        wh,
        f"select date_trunc('second', {ts}), date_trunc('month', {ts}), "
        f"date_trunc('week', {ts}), date_trunc('week', '2020-04-30'::date)",
    ) == [
        (
            dt.datetime(2020, 4, 30, 4, 5, 6),
            dt.datetime(2020, 4, 1),
            dt.datetime(2020, 4, 27),
            dt.datetime(2020, 4, 27),
        )
    ]


def test_nvl_nvl2_decode(wh: Warehouse) -> None:
    # r_NVL_function: first non-null; r_NVL2: expression is null → third argument;
    # r_DECODE_expression: the result paired with the first matching search, else default.
    assert rows(
        wh,
        "select nvl(null, 'b'), nvl2(null, 'x', 'y'), nvl2('v', 'x', 'y'), "
        "decode(2, 1, 'one', 2, 'two', 'other'), decode(9, 1, 'one', 'other')",
    ) == [("b", "y", "x", "two", "other")]


def test_listagg(wh: Warehouse) -> None:
    # r_LISTAGG: values concatenated with the delimiter, in WITHIN GROUP (ORDER BY) order.
    run(wh, "create table s (g int, v varchar(5))")
    run(wh, "insert into s values (1, 'b'), (1, 'a'), (2, 'c')")
    assert rows(
        wh, "select g, listagg(v, ',') within group (order by v) from s group by g order by g"
    ) == [(1, "a,b"), (2, "c")]


def test_to_char_datetime_format_models(wh: Warehouse) -> None:
    # r_TO_CHAR examples: 'MONTH-DY-DD-YYYY HH12:MIPM' of 2009-12-31 23:15:59 is
    # 'DECEMBER -THU-31-2009 11:15PM'; 'DDD' is '365'; 'ID' of 2022-05-16 is '1'.
    # r_FORMAT_strings: DAY/Day/day is blank-padded to 9 characters.
    assert rows(
        wh,
        "select to_char(timestamp '2009-12-31 23:15:59', 'MONTH-DY-DD-YYYY HH12:MIPM'), "
        "to_char(timestamp '2009-12-31 23:15:59', 'DDD'), "
        "to_char(timestamp '2022-05-16 23:15:59', 'ID'), "
        "to_char('2024-01-05'::date, 'Day'), to_char('2024-01-05'::date, 'YYYY-MM-DD')",
    ) == [("DECEMBER -THU-31-2009 11:15PM", "365", "1", "Friday   ", "2024-01-05")]


def test_to_date_format_model(wh: Warehouse) -> None:
    # r_TO_DATE_function example: to_date('02 Oct 2001', 'DD Mon YYYY') is 2001-10-02.
    assert one(wh, "select to_date('02 Oct 2001', 'DD Mon YYYY')") == dt.date(2001, 10, 2)
    assert one(wh, "select to_date('20010702', 'YYYYMMDD')") == dt.date(2001, 7, 2)


def test_convert_timezone(wh: Warehouse) -> None:
    # r_CONVERT_TIMEZONE: with two arguments the source is UTC; America/New_York is UTC-4 in
    # July (daylight saving time), UTC-5 in January.
    assert rows(
        wh,
        "select convert_timezone('America/New_York', '2024-07-01 12:00:00'::timestamp), "
        "convert_timezone('UTC', 'America/New_York', '2024-01-01 12:00:00'::timestamp)",
    ) == [(dt.datetime(2024, 7, 1, 8, 0), dt.datetime(2024, 1, 1, 7, 0))]


def test_concatenation_and_casts(wh: Warehouse) -> None:
    # r_concat_op: || concatenates; r_CAST_function: expression::type.
    assert rows(wh, "select 'a' || 'b' || 'c', '42'::int + 1, 12::varchar || 'x'") == [
        ("abc", 43, "12x")
    ]


# --- transactions and multi-statement texts ------------------------------------------------


def test_begin_and_end_transaction_inside_a_batch(wh: Warehouse) -> None:
    # r_BEGIN / r_END: BEGIN starts a transaction block (inside one already: a warning only),
    # END commits it. A batch already is one transaction.
    run(wh, "create table t (a int)")
    run(
        wh,
        "begin transaction",
        "insert into t values (1)",
        "end transaction",
        transaction=True,
    )
    run(wh, "begin; insert into t values (2); commit;")
    run(wh, "start transaction; insert into t values (3); end;")
    assert one(wh, "select count(*) from t") == 3


def test_rollback_undoes_the_transaction(wh: Warehouse) -> None:
    # r_ROLLBACK: "Stops the current transaction and discards all updates made by that
    # transaction."
    run(wh, "create table t (a int)")
    run(wh, "begin; insert into t values (1); rollback;")
    run(wh, "begin transaction", "insert into t values (2)", "abort", transaction=True)
    assert one(wh, "select count(*) from t") == 0


def test_a_failing_batch_leaves_nothing(wh: Warehouse) -> None:
    # BatchExecuteStatement: "If any SQL statement fails, all work is rolled back."
    run(wh, "create table t (a int)")
    err = error(wh, "begin", "insert into t values (1)", "select 1/0", "end", transaction=True)
    assert err.index == 2
    assert one(wh, "select count(*) from t") == 0


def test_each_statement_of_a_text_is_translated_on_its_own(wh: Warehouse) -> None:
    # One statement sqlglot cannot translate leaves the others translated (ENCODE and
    # IDENTITY below would fail as written), and the error names the failing statement.
    err = error(
        wh,
        "create table m (id int identity(1, 1), a int encode az64); "
        "insert into m (a) values (1); "
        "vacuum sort only m to 75 percent; "
        "insert into m (a) values (2)",
    )
    assert "statement 3 of 4" in err.message
    assert "vacuum sort only m" in err.message
    assert one(wh, "select count(*) from m") == 1


# --- stored procedures (PostgreSQL) ----------------------------------------------------------

PROCEDURE = """
create or replace procedure load_fact(p_day date) nonatomic as $$
declare
  v_rows int;  -- a comment; with a semicolon
begin
  create temp table stage (id int identity(1, 1) encode az64, day date, note varchar(max))
    diststyle even;
  insert into stage (day, note) select p_day, nvl(note, 'none') from src where trunc(at) = p_day;
  select count(*) into v_rows from stage;
  if v_rows = 0 then
    raise exception 'nothing to load for %', p_day;
  else
    delete from fact where day = p_day;
    insert into fact select id, day, note from stage;
  end if;
  alter table fact add constraint fact_pk primary key (id);
  drop table stage;
end;
$$ language plpgsql
"""


@pytest.fixture
def pg(pg_url: str) -> Iterator[Warehouse]:
    engine = PostgresWarehouse("oracle", pg_url)
    yield engine
    engine.close()


def test_procedure_bodies_with_redshift_ddl_run_on_postgres(pg: Warehouse) -> None:
    # r_CREATE_PROCEDURE: a plpgsql body with NONATOMIC; the DDL inside it is Redshift's
    # (IDENTITY, ENCODE, DISTSTYLE, VARCHAR(MAX), informational PRIMARY KEY), and CALL takes
    # any expression as argument (r_CALL_procedure), here trunc(sysdate).
    run(
        pg,
        "create table src (note varchar(20), at timestamp)",
        "create table fact (id int, day date, note varchar(max), primary key (id))",
        "insert into src values ('a', sysdate), (null, sysdate), ('old', '2001-01-01 10:00')",
        PROCEDURE,
    )
    run(pg, "call load_fact(trunc(sysdate))")
    run(pg, "call load_fact(trunc(getdate()))")  # runs again: the PK is informational
    assert rows(pg, "select id, note from fact order by id") == [(1, "a"), (2, "none")]
    err = error(pg, "call load_fact('1999-01-01'::date)")
    assert "nothing to load for 1999-01-01" in err.message


SQL_ONLY_PROCEDURE = """
create or replace procedure load_day(p_day date, p_note varchar(max)) as $$
begin
  -- a body of SQL statements over IN parameters: DuckDB runs it too
  create temp table stage (id int identity(1, 1) encode az64, day date, note varchar(max))
    diststyle even;
  insert into stage (day, note) select p_day, nvl(note, p_note) from src where trunc(at) = $1;
  delete from fact where day = p_day;
  insert into fact select id, day, note from stage;
  raise info 'loaded %', p_day;
  drop table stage;
end;
$$ language plpgsql
"""


def test_sql_only_procedures_run_on_both_engines(wh: Warehouse) -> None:
    # r_CREATE_PROCEDURE / r_CALL_procedure: IN parameters by name or as $n, any expression
    # as a CALL argument; the body's statements run in one transaction.
    run(
        wh,
        "create table src (note varchar(20), at timestamp)",
        "create table fact (id int, day date, note varchar(max), primary key (id))",
        "insert into src values ('a', '2024-05-06 10:00'), (null, '2024-05-06 11:00'), "
        "('old', '2001-01-01 10:00')",
        SQL_ONLY_PROCEDURE,
    )
    run(wh, "call load_day('2024-05-06'::date, 'none')")
    run(wh, "call load_day(trunc('2024-05-06 23:00'::timestamp), 'none')")
    assert rows(wh, "select id, day, note from fact order by id") == [
        (1, dt.date(2024, 5, 6), "a"),
        (2, dt.date(2024, 5, 6), "none"),
    ]


def test_a_failing_procedure_leaves_nothing(wh: Warehouse) -> None:
    # r_CREATE_PROCEDURE (atomic by default): an error rolls back the procedure's work.
    run(
        wh,
        "create table t (a int)",
        "create procedure bad() as $$ begin insert into t values (1); "
        "insert into t select 1/count(*) from t where a < 0; end; $$ language plpgsql",
    )
    err = error(wh, "call bad()")
    assert "zero" in err.message.lower()
    assert one(wh, "select count(*) from t") == 0


@pytest.mark.parametrize(
    ("body", "construct"),
    [
        ("declare n int; begin select 1; end;", "DECLARE (variables)"),
        ("begin if p > 0 then delete from t; end if; end;", "IF"),
        ("begin select count(*) into n from t; end;", "SELECT ... INTO (variables)"),
        ("begin execute 'truncate t'; end;", "EXECUTE (dynamic SQL)"),
        ("begin raise exception 'no'; end;", "RAISE EXCEPTION"),
    ],
)
def test_duckdb_refuses_plpgsql_it_cannot_run_at_create(
    tmp_path: Path, body: str, construct: str
) -> None:
    duck = DuckDBWarehouse("dw", str(tmp_path / "w.duckdb"))
    try:
        err = error(duck, f"create procedure p(p int) as $$ {body} $$ language plpgsql")
    finally:
        duck.close()
    assert f"procedure p: {construct} is not supported on the DuckDB warehouse" in err.message
    assert "[warehouses.dw]" in err.message and "postgresql://" in err.message


def test_to_char_numeric_format_models(wh: Warehouse) -> None:
    # r_Numeric_formating: 9 a digit, 0 a leading zero, D / . the point, G / , the group
    # separator; r_TO_CHAR: "TO_CHAR inserts a space to the left of the numeral string"
    # (the sign's place); FM drops the padding.
    assert rows(
        wh,
        "select to_char(125.8, '999D99'), to_char(-125.8, '999.99'), "
        "to_char(1234567, '9,999,999'), to_char(5, '000'), to_char(5, 'FM000'), "
        "to_char(12345.678, '99999.99')",
    ) == [(" 125.80", "-125.80", " 1,234,567", " 005", "005", " 12345.68")]


def test_to_number(wh: Warehouse) -> None:
    # r_TO_NUMBER example: to_number('$ 2,012,454.88', 'L 9,999,999.99') is 2012454.88.
    assert float(one(wh, "select to_number('$ 2,012,454.88', 'L 9,999,999.99')")) == 2012454.88


def test_months_between(wh: Warehouse) -> None:
    # r_MONTHS_BETWEEN_function: months_between('1969-01-18', '1969-03-18') is -2; the same
    # day, or both last days of their months (8/31/14 and 9/30/14), give a whole number; else
    # the day difference counts over a 31-day month.
    assert rows(
        wh,
        "select months_between('1969-01-18'::date, '1969-03-18'::date), "
        "months_between('2014-09-30'::date, '2014-08-31'::date), "
        "months_between('2014-02-16'::date, '2014-01-01'::date)",
    ) == [(-2.0, 1.0, pytest.approx(1 + 15 / 31))]


def test_listagg_distinct(wh: Warehouse) -> None:
    # r_LISTAGG: "DISTINCT eliminates duplicate values from the specified expression before
    # concatenating".
    run(wh, "create table s (v varchar(5))")
    run(wh, "insert into s values ('b'), ('a'), ('b')")
    assert one(wh, "select listagg(distinct v, ',') within group (order by v) from s") == "a,b"


PROCEDURES_SCRIPT = """
CREATE OR REPLACE PROCEDURE sp_dim() AS $$
BEGIN
  TRUNCATE dim;
  INSERT INTO dim SELECT id, nvl(note, 'n/a') FROM src;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE PROCEDURE sp_fact(p_day date) AS $body$
BEGIN
  DELETE FROM fact WHERE day = p_day;  -- $$ and ; inside a tagged quote
  INSERT INTO fact SELECT id, p_day FROM src WHERE trunc(at) = p_day;
END;
$body$ LANGUAGE plpgsql;
"""


def test_a_script_of_procedures_then_calls_then_validation(wh: Warehouse) -> None:
    # The shape of AWS's SDK-integration ELT sample: one text of CREATE OR REPLACE PROCEDURE
    # statements (bodies quoted with $$ or $tag$, r_CREATE_PROCEDURE), CALLs, and a
    # validation query that must fail when the fact is empty (division by zero).
    run(
        wh,
        "create table src (id int, note varchar(20), at timestamp) diststyle even; "
        "create table dim (id int encode az64 primary key, note varchar(max)) diststyle all; "
        "create table fact (id int, day date) diststyle key distkey(id) sortkey(day)",
    )
    run(wh, PROCEDURES_SCRIPT)
    run(wh, "call sp_dim()")
    run(wh, "call sp_fact(trunc(sysdate))")
    assert "zero" in error(wh, "select 1/count(1) from fact").message.lower()
    run(wh, "insert into src values (1, 'a', sysdate), (2, null, sysdate)")
    run(wh, "call sp_dim()")
    run(wh, "call sp_fact(trunc(sysdate))")
    assert rows(wh, "select note from dim order by id") == [("a",), ("n/a",)]
    assert one(wh, "select 1/count(1) from fact") == 0


def test_commit_inside_a_procedure_keeps_the_work_before_it(wh: Warehouse) -> None:
    # stored-procedure-transaction-management: COMMIT in a procedure commits the work so far
    # and starts a new transaction; an error after it rolls back only the new one.
    run(
        wh,
        "create table t (a int)",
        "create procedure two_steps() as $$ begin insert into t values (1); commit; "
        "insert into t values (2); insert into t select 1/count(*) from t where a < 0; end; "
        "$$ language plpgsql",
    )
    assert "zero" in error(wh, "call two_steps()").message.lower()
    assert rows(wh, "select a from t") == [(1,)]


def test_commit_in_a_procedure_called_inside_a_transaction_block_fails(wh: Warehouse) -> None:
    # stored-procedure-transaction-management: "If the stored procedure is called from within
    # a transaction block, it can't issue COMMIT, ROLLBACK, or TRUNCATE statements."
    run(
        wh,
        "create table t (a int)",
        "create procedure commits() as $$ begin insert into t values (1); commit; end; "
        "$$ language plpgsql",
    )
    error(wh, "begin; call commits(); commit;")
    assert rows(wh, "select count(*) from t") == [(0,)]


def test_nonatomic_procedures_commit_each_statement_on_duckdb(tmp_path: Path) -> None:
    # stored-procedure-transaction-management, NONATOMIC: each statement commits on its own,
    # so the work before a failing statement stays. (On PostgreSQL NONATOMIC is dropped and
    # the CALL is one transaction: a documented difference.)
    duck = DuckDBWarehouse("dw", str(tmp_path / "w.duckdb"))
    try:
        run(
            duck,
            "create table t (a int)",
            "create procedure steps() nonatomic as $$ begin insert into t values (1); "
            "insert into t select 1/count(*) from t where a < 0; end; $$ language plpgsql",
        )
        error(duck, "call steps()")
        assert rows(duck, "select a from t") == [(1,)]
    finally:
        duck.close()


def test_a_value_longer_than_its_varchar_is_rejected(wh: Warehouse) -> None:
    # r_Character_types: CHAR(n) / VARCHAR(n) hold at most n bytes; a longer value is an
    # error, not silently stored (DuckDB ignores declared lengths unless told).
    run(wh, "create table t (code varchar(3), flag char(1))")
    run(wh, "insert into t values ('abc', 'y')")
    error(wh, "insert into t values ('abcd', 'y')")
    error(wh, "insert into t values ('ab', 'yes')")
    assert rows(wh, "select code, flag from t") == [("abc", "y")]
