"""No SQL text against the state database in Python outside store/ (tests/state_sql.py): the
check holds on the real source, and each kind of violation, planted in a module, is found."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import state_sql

SRC = Path(__file__).resolve().parents[2] / "src"
TABLES = state_sql.state_tables(SRC)


def test_no_module_outside_the_store_holds_state_sql() -> None:
    found = state_sql.check_tree(SRC)
    assert found == [], "\n".join(map(str, found))


def test_the_state_tables_are_read_from_the_migrations() -> None:
    assert {"sfn_executions", "item_rows", "sns_topics", "dataapi_statements"} <= TABLES
    assert {"lambda_functions", "cfn_stacks", "sched_fires"} <= TABLES


@pytest.mark.parametrize("module", sorted(state_sql.WAREHOUSE_SQL))
def test_each_warehouse_sql_exemption_is_still_needed(module: str) -> None:
    """A module that no longer runs warehouse SQL leaves the list, so the list cannot hide a
    state-database query written there later."""
    text = (SRC / "eltflow" / module).read_text(encoding="utf-8")
    assert state_sql.check_source(text, module, TABLES), f"{module}: drop it from WAREHOUSE_SQL"
    assert state_sql.check_source(text, module, TABLES, statements=False) == []


PLANTED = {
    "literal": 'ROWS = db.execute("SELECT item FROM item_rows WHERE pk = :pk", {"pk": 1})\n',
    "lowercase": 'SQL = "delete from sns_topics where name = :n"\n',
    "f-string": 'SQL = f"SELECT {COLUMNS} FROM dataapi_statements WHERE id = :id"\n',
    "f-string-table": 'SQL = f"UPDATE {TABLE} SET status = :s WHERE id = :id"\n',
    "concatenated": 'SQL = "INSERT INTO lambda_functions (name) " + "VALUES (:n)"\n',
    "joined-name": 'SQL = "DELETE FROM " + TABLE + " WHERE name = :n"\n',
    "no-table": 'SQL = "SELECT 1 AS x FROM t WHERE name = :n"\n',
    "ddl": 'SQL = "CREATE INDEX x ON t (a)"\n',
    "lowercase-sql": 'SQL = "select id, name from t"\n',
    "dialect-branch": 'LOCK = " FOR UPDATE" if db.dialect == "postgres" else ""\n',
    "dialect-name": 'def f(dialect: str) -> bool:\n    return "sqlite" != dialect\n',
}


@pytest.mark.parametrize("code", PLANTED.values(), ids=PLANTED.keys())
def test_a_planted_violation_is_found(code: str) -> None:
    found = state_sql.check_source(code, "eltflow/notify/x.py", TABLES)
    assert len(found) == 1, found
    assert found[0].line == code.count("\n")


def test_state_tables_are_found_even_in_a_module_of_warehouse_sql() -> None:
    code = 'OK = "ALTER TABLE staging.orders RENAME TO o"\nBAD = "SELECT * FROM sfn_executions"\n'
    found = state_sql.check_source(code, "eltflow/pipelines/x.py", TABLES, statements=False)
    assert [(f.line, f.what.split(" (")[0]) for f in found] == [
        (2, "SQL on the state table sfn_executions")
    ]


PROSE = [
    '"""Create a table; delete a stack and its resources; update the schedule set."""\n',
    'HELP = "select the rows you want from the list"\n',
    'HELP = "the item_rows table keeps one row per item"\n',
    'print(f"worker on {app.db.dialect} store")\n',
]


@pytest.mark.parametrize("code", PROSE)
def test_prose_and_dialect_names_are_not_findings(code: str) -> None:
    assert state_sql.check_source(code, "eltflow/cli/x.py", TABLES) == []


def test_the_command_reports_where_and_what(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "eltflow" / "store" / "migrations" / "sqlite").mkdir(parents=True)
    migration = tmp_path / "eltflow" / "store" / "migrations" / "sqlite" / "0001_t.sql"
    migration.write_text("CREATE TABLE IF NOT EXISTS things (id TEXT PRIMARY KEY);\n")
    (tmp_path / "eltflow" / "store" / "q.py").write_text('SQL = "SELECT id FROM things"\n')
    (tmp_path / "eltflow" / "warehouse").mkdir()
    (tmp_path / "eltflow" / "warehouse" / "w.py").write_text('SQL = "SELECT id FROM things"\n')
    (tmp_path / "eltflow" / "items").mkdir()
    (tmp_path / "eltflow" / "items" / "s.py").write_text('X = 1\nSQL = "DELETE FROM things"\n')
    # stacks/ is checked like any other package now that its SQL is store/sql/stacks.sql.
    (tmp_path / "eltflow" / "stacks").mkdir()
    (tmp_path / "eltflow" / "stacks" / "r.py").write_text('SQL = "SELECT id FROM things"\n')
    assert state_sql.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "eltflow/items/s.py:2:6: SQL on the state table things (a named query in store/sql)",
        "eltflow/stacks/r.py:1:6: SQL on the state table things (a named query in store/sql)",
    ]
    (tmp_path / "eltflow" / "items" / "s.py").write_text("X = 1\n")
    (tmp_path / "eltflow" / "stacks" / "r.py").write_text("X = 1\n")
    assert state_sql.main([str(tmp_path)]) == 0
    assert state_sql.main([str(tmp_path / "nowhere")]) == 2
