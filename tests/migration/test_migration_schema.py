"""Applying every runtime migration gives exactly the fresh schema (store/schema/*.sql)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from eltflow.store.db import Database
from eltflow.store.migrate import migrate

RUNTIME_TABLES = (
    "sfn_machines",
    "sfn_versions",
    "sfn_executions",
    "sfn_history",
    "sfn_tasks",
    "sfn_timers",
    "sfn_inbox",
    "sfn_workers",
)


def _fresh_sql(dialect: str) -> str:
    path = resources.files("eltflow.store").joinpath("schema", f"{dialect}.sql")
    return path.read_text(encoding="utf-8")


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
