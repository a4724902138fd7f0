"""Parsing procedures for DuckDB: which bodies run, and parameters as bound placeholders."""

from __future__ import annotations

import pytest

from eltflow.warehouse.base import SqlError
from eltflow.warehouse.duckdb_procedures import key, parse_call, parse_create, parse_drop


def test_a_sql_body_becomes_statements_with_placeholders() -> None:
    proc = parse_create(
        "CREATE OR REPLACE PROCEDURE Public.Load(p_day IN date, p_x varchar(max)) NONATOMIC AS $$\n"
        "BEGIN\n"
        "  -- p_day in a comment; and a semicolon\n"
        "  delete from fact where day = p_day and note <> 'p_day;';\n"
        "  insert into fact select $1, $2, t.p_day from t;\n"
        "  RAISE INFO 'done %', p_day;\n"
        "  commit;\n"
        "END;\n"
        "$$ LANGUAGE plpgsql"
    )
    assert proc.name == "public.load"
    assert proc.params == ("p_day", "p_x")
    assert proc.replace
    assert proc.body == (
        "delete from fact where day = :p_day and note <> 'p_day;'",
        "insert into fact select :p_day, :p_x, t.p_day from t",
        "commit",
    )


def test_name_mode_type_and_mode_name_type_are_both_read() -> None:
    assert parse_create(
        "create procedure p(a in int, in b int) as $$ begin select a, b; end; $$ language plpgsql"
    ).params == ("a", "b")
    with pytest.raises(SqlError, match="an INOUT parameter"):
        parse_create("create procedure p(inout a int) as $$ begin end; $$ language plpgsql")


def test_other_languages_are_refused() -> None:
    with pytest.raises(SqlError, match="without LANGUAGE plpgsql"):
        parse_create("create procedure p() as $$ begin end; $$ language sql")


def test_call_and_drop() -> None:
    assert parse_call("call etl.Load(trunc(sysdate), 'a,b')") == (
        "etl.load",
        "trunc(sysdate), 'a,b'",
    )
    assert parse_drop("drop procedure if exists load(date)") == ("public.load", True)
    assert key('"MixedCase"') == "public.MixedCase"
