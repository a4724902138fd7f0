"""Multi-statement texts: splitting, transaction verbs, and the engine-independent driver."""

from __future__ import annotations

import pytest

from eltflow.warehouse.base import SqlError, StatementResult
from eltflow.warehouse.script import Statement, run_text, statements, transaction_verb


@pytest.mark.parametrize(
    ("sql", "verb"),
    [
        ("begin", "begin"),
        ("BEGIN TRANSACTION", "begin"),
        ("begin work", "begin"),
        ("start transaction", "begin"),
        ("begin transaction isolation level serializable", "begin"),
        ("commit", "commit"),
        ("end", "commit"),
        ("end transaction", "commit"),
        ("COMMIT WORK", "commit"),
        ("rollback", "rollback"),
        ("abort", "rollback"),
        ("rollback transaction", "rollback"),
        ("select 1", None),
        ("begin_date", None),
        ("endpoint", None),
    ],
)
def test_transaction_verbs(sql: str, verb: str | None) -> None:
    assert transaction_verb(sql) == verb


def test_statements_know_their_position() -> None:
    parts = statements("begin; insert into t values (';'); end transaction;")
    assert [(p.position, p.total, p.verb) for p in parts] == [
        (1, 3, "begin"),
        (2, 3, None),
        (3, 3, "commit"),
    ]
    assert parts[1].where() == "statement 2 of 3 (\"insert into t values (';')\")"
    assert statements("select 1")[0].where() == ""


class FakeTx:
    """Records what the driver asks of the engine's transaction."""

    def __init__(self) -> None:
        self.open = False
        self.log: list[str] = []

    def active(self) -> bool:
        return self.open

    def begin(self) -> None:
        self.open = True
        self.log.append("BEGIN")

    def commit(self) -> None:
        self.open = False
        self.log.append("COMMIT")

    def rollback(self) -> None:
        self.open = False
        self.log.append("ROLLBACK")


def test_run_text_drives_the_transaction_and_skips_redundant_verbs() -> None:
    tx = FakeTx()
    ran: list[str] = []

    def one(stmt: Statement) -> StatementResult:
        ran.append(stmt.sql)
        return StatementResult(has_result_set=False, row_count=len(ran))

    result = run_text("begin; begin; insert x; end; commit; rollback", tx, one, 0)
    assert ran == ["insert x"]
    assert tx.log == ["BEGIN", "COMMIT"]  # the second BEGIN and the later verbs are no-ops
    assert result.row_count == 1


def test_run_text_names_the_failing_statement() -> None:
    def one(stmt: Statement) -> StatementResult:
        if "bad" in stmt.sql:
            raise SqlError("boom")
        return StatementResult(has_result_set=False)

    with pytest.raises(SqlError) as info:
        run_text("select 1; select bad thing; select 3", FakeTx(), one, 4)
    assert info.value.index == 4
    assert info.value.message == 'statement 2 of 3 ("select bad thing"): boom'
    with pytest.raises(SqlError) as lone:
        run_text("select bad", FakeTx(), one, 0)
    assert lone.value.message == "boom"
