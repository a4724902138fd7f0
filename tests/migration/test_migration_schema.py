"""Migrations build every table: the runtime tables exactly as the fresh schema
(store/schema/*.sql) describes them, and every table the same way on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import pytest

from eltflow.store.db import Database
from eltflow.store.migrate import migrate


def _fresh_sql(dialect: str) -> str:
    path = resources.files("eltflow.store").joinpath("schema", f"{dialect}.sql")
    return path.read_text(encoding="utf-8")


# Every table the fresh schema creates (read from it, so a new runtime table is compared too).
RUNTIME_TABLES = tuple(re.findall(r"CREATE TABLE (\w+)", _fresh_sql("sqlite")))
# The tables only migrations create (Data API, items, SNS, Lambda, scheduler, stacks): no
# fresh schema to compare with, so they are compared across dialects below. A new table must
# be added here or to the fresh schema, so none goes unchecked.
MIGRATION_ONLY_TABLES = frozenset(
    {
        "dataapi_owners",
        "dataapi_result_pages",
        "dataapi_statements",
        "item_rows",
        "item_tables",
        "sns_deliveries",
        "sns_subscriptions",
        "sns_topics",
        "lambda_functions",
        "sched_fires",
        "sched_schedules",
        "sched_event_rules",
        "cfn_change_sets",
        "cfn_exports",
        "cfn_stack_events",
        "cfn_stack_resources",
        "cfn_stacks",
    }
)


def _tables(db: Database) -> set[str]:
    if db.dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        sql = "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
    return {str(r["name"]) for r in db.execute(sql)} - {"eltflow_migrations"}


def _columns(db: Database, table: str) -> list[str]:
    if db.dialect == "sqlite":
        rows = db.execute("SELECT name FROM pragma_table_info(:t) ORDER BY cid", {"t": table})
    else:
        rows = db.execute(
            "SELECT column_name AS name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = :t ORDER BY ordinal_position",
            {"t": table},
        )
    return [str(r["name"]) for r in rows]


def test_every_migrated_table_is_checked(store_url: str) -> None:
    db = Database(store_url)
    migrate(db)
    assert _tables(db) == set(RUNTIME_TABLES) | MIGRATION_ONLY_TABLES
    db.close()


@pytest.mark.postgres
def test_both_dialects_migrate_to_the_same_tables_and_columns(pg_url: str, tmp_path: Any) -> None:
    lite, pg = Database(f"sqlite:///{tmp_path / 'lite.db'}"), Database(pg_url)
    migrate(lite)
    migrate(pg)
    assert _tables(lite) == _tables(pg)
    for table in sorted(_tables(lite)):
        assert _columns(lite, table) == _columns(pg, table), table
    lite.close()
    pg.close()


def _describe(db: Database) -> dict[str, Any]:
    """Columns, indexes and constraints of the runtime tables, normalised for comparison."""
    out: dict[str, Any] = {}
    with db.transaction() as conn:
        for table in RUNTIME_TABLES:
            if db.dialect == "sqlite":
                cols = conn.execute(
                    'SELECT name, type, "notnull", dflt_value, pk '
                    "FROM pragma_table_info(:t) ORDER BY cid",
                    {"t": table},
                )
                idx = conn.execute(
                    "SELECT name, sql FROM sqlite_master WHERE tbl_name = :t AND type = 'index' "
                    "ORDER BY name",
                    {"t": table},
                )
                fks = conn.execute(
                    'SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list(:t)',
                    {"t": table},
                )
                out[table] = (cols, idx, fks)
            else:
                cols = conn.execute(
                    "SELECT column_name, data_type, is_nullable, column_default, is_identity "
                    "FROM information_schema.columns WHERE table_name = :t "
                    "ORDER BY ordinal_position",
                    {"t": table},
                )
                idx = conn.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t "
                    "ORDER BY indexname",
                    {"t": table},
                )
                cons = conn.execute(
                    "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint "
                    "WHERE conrelid = CAST(:t AS regclass) ORDER BY conname",
                    {"t": table},
                )
                out[table] = (cols, idx, cons)
        if db.dialect == "postgres":  # the runtime's stored functions (sfn_notify_work)
            out["functions"] = conn.execute(
                "SELECT proname, pg_get_functiondef(oid) AS def FROM pg_proc "
                "WHERE pronamespace = CAST('public' AS regnamespace) AND proname LIKE 'sfn_%' "
                "ORDER BY proname"
            )
    return out


def test_migrated_schema_equals_fresh_schema(store_url: str, tmp_path: Any) -> None:
    migrated = Database(store_url)
    assert any(name.startswith("0001_") for name in migrate(migrated))
    if migrated.dialect == "sqlite":
        fresh_url = f"sqlite:///{tmp_path / 'fresh.db'}"
        fresh = Database(fresh_url)
        with fresh.transaction() as conn:
            conn.executescript(_fresh_sql("sqlite"))
        assert _describe(migrated) == _describe(fresh)
        fresh.close()
    else:
        # Same server: build the fresh schema in a second schema of the same database.
        described = _describe(migrated)
        with migrated.transaction() as conn:
            conn.execute("CREATE SCHEMA fresh")
            conn.execute("SET LOCAL search_path TO fresh")
            conn.executescript(_fresh_sql("postgres"))
        fresh_db = Database(store_url)
        with fresh_db.transaction() as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("ALTER SCHEMA fresh RENAME TO public")
        assert _describe(fresh_db) == described
        fresh_db.close()
    migrated.close()
