"""A Redshift DDL + stored-procedure script runs unchanged through the Data API on PostgreSQL;
on DuckDB a procedure fails with an error that says why and what to do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.dataapi.dataapi_harness import Harness
from tests.integration.dataapi.redshift_script import SCRIPT

from eltflow.config import Settings
from eltflow.dataapi import build_dataapi
from eltflow.store.db import Database


@pytest.fixture
def pg_dataapi(tmp_path: Path, pg_url: str) -> Iterator[Harness]:
    settings = Settings(project_dir=tmp_path, state_url=pg_url, warehouse_url=pg_url)
    db = Database(pg_url)
    service = build_dataapi(settings, db)
    yield Harness(service, "postgres", settings)
    service.close()
    db.close()


def test_redshift_script_runs_unchanged_on_postgres(pg_dataapi: Harness) -> None:
    desc = pg_dataapi.wait(pg_dataapi.batch(SCRIPT))
    assert desc["Status"] == "FINISHED", desc.get("Error")
    rows = pg_dataapi.rows(
        "SELECT region, total, sales, TRUNC(refreshed_at) = TRUNC(GETDATE()) "
        "FROM public.sales_summary ORDER BY region"
    )
    assert rows == [
        [
            {"stringValue": "north"},
            {"stringValue": "14.50"},
            {"longValue": 2},
            {"booleanValue": True},
        ],
        [
            {"stringValue": "south"},
            {"stringValue": "20.25"},
            {"longValue": 1},
            {"booleanValue": True},
        ],
    ]
    ids = pg_dataapi.rows("SELECT sale_id FROM public.sales ORDER BY sale_id")
    assert ids == [[{"longValue": i}] for i in (1, 2, 3, 4)]


def test_raise_exception_in_a_procedure_fails_the_statement(pg_dataapi: Harness) -> None:
    assert pg_dataapi.wait(pg_dataapi.batch(SCRIPT))["Status"] == "FINISHED"
    desc = pg_dataapi.run(
        "CALL public.refresh_summary(:m)", Parameters=[{"name": "m", "value": "1000"}]
    )
    assert desc["Status"] == "FAILED"
    assert "no sales of at least 1000" in desc["Error"]


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        (SCRIPT[2], "DECLARE (variables) is not supported on the DuckDB warehouse"),
        ("CALL refresh_summary(4)", "procedure public.refresh_summary does not exist"),
    ],
)
def test_procedures_on_duckdb_fail_clearly(tmp_path: Path, sql: str, error: str) -> None:
    settings = Settings(
        project_dir=tmp_path,
        state_url=f"sqlite:///{tmp_path / 'state.db'}",
        warehouse_url=f"duckdb://{tmp_path / 'wh.duckdb'}",
    )
    db = Database(settings.state_url)
    with build_dataapi(settings, db) as service:
        desc = Harness(service, "duckdb", settings).run(sql)
    db.close()
    assert desc["Status"] == "FAILED"
    assert error in desc["Error"]
    if sql.startswith("CREATE"):
        assert "postgresql://" in desc["Error"]


def test_without_create_privilege_plain_sql_still_runs(pg_url: str) -> None:
    """Compatibility functions are best effort: a role that may not create in schema public
    (PostgreSQL 15's default) still runs plain Redshift SQL."""
    import uuid

    import psycopg

    from eltflow.warehouse.base import RunControl
    from eltflow.warehouse.postgres_engine import PostgresWarehouse

    role = f"eltflow_ro_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'REVOKE CREATE ON SCHEMA public FROM PUBLIC, "{role}"')
    try:
        base, _, rest = pg_url.partition("://")
        wh = PostgresWarehouse("ro", f"{base}://{role}@{rest.split('@', 1)[1]}")
        (result,) = wh.run(
            ["select nvl(null::int, 7), dateadd(day, 1, '2024-02-28'::date)::date"],
            None,
            database=None,
            transaction=False,
            control=RunControl(),
        )
        assert [str(v) for v in result.rows[0]] == ["7", "2024-02-29"]
        wh.close()
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')
