"""The PostgreSQL connection layer's per-statement shortcuts (issue 16): statements converted
once to psycopg's positional form, rows built from the result's field names, one cursor shared
by queued writes and read cursors reused. Each must leave what a statement binds and returns
exactly as before: the same name bound twice, ``%`` and ``::casts`` in the text, statements
that return no rows, and a read after a read returning its own rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from eltflow.errors import ConflictError, StoreError
from eltflow.store.db import Database, PgQuery, PostgresConnection, pg_query, split_statements


def test_named_placeholders_become_positional_ones_in_order() -> None:
    q = pg_query("SELECT :a::int + :b, '100%' || :a WHERE x = :c")
    assert q == PgQuery(b"SELECT %s::int + %s, '100%%' || %s WHERE x = %s", ("a", "b", "a", "c"))
    assert q.bind({"a": 1, "b": 2, "c": 3, "unused": 4}) == [1, 2, 1, 3]
    assert pg_query("SELECT :a::int + :b, '100%' || :a WHERE x = :c") is q  # converted once


def test_a_missing_parameter_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="query parameter missing: b, c"):
        pg_query("SELECT :a, :b, :c").bind({"a": 1})
    with pytest.raises(StoreError, match="query parameter missing: a"):
        pg_query("SELECT :a").bind(None)


pg = pytest.mark.postgres


@pg
def test_statements_bind_and_return_as_written(pg_url: str) -> None:
    db = Database(pg_url)
    with db.transaction() as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, label text)")
        rows = conn.execute(
            "SELECT :a::int + 1 AS n, :s || '%' AS pct, :a AS again", {"a": 41, "s": "50"}
        )
        assert rows == [{"n": 42, "pct": "50%", "again": 41}]
        assert conn.execute("INSERT INTO t VALUES (:id, :label)", {"id": 1, "label": "x"}) == []
        assert conn.execute("SELECT label FROM t WHERE id = :id", {"id": 2}) == []
    db.close()


@pg
def test_queued_writes_on_one_cursor_all_land_and_reads_get_their_own_rows(pg_url: str) -> None:
    db = Database(pg_url)
    db.execute("CREATE TABLE t (id int PRIMARY KEY, label text)")
    with db.transaction() as conn:
        for i in range(5):
            conn.write("INSERT INTO t VALUES (:id, :label)", {"id": i, "label": f"l{i}"})
        conn.write_many("INSERT INTO t VALUES (:id, :label)", [{"id": 9, "label": "nine"}])
        first = conn.execute("SELECT count(*) AS n FROM t")
        second = conn.execute("SELECT label FROM t WHERE id = :id", {"id": 9})
        both = conn.execute_all(
            [
                ("SELECT label FROM t WHERE id = :id", {"id": 0}),
                ("UPDATE t SET label = 'u' WHERE id = :id", {"id": 1}),
                ("SELECT id FROM t WHERE id > :id ORDER BY id", {"id": 3}),
            ]
        )
        after = conn.execute("SELECT label FROM t WHERE id = :id", {"id": 1})
    assert first == [{"n": 6}]
    assert second == [{"label": "nine"}]
    assert both == [[{"label": "l0"}], [], [{"id": 4}, {"id": 9}]]
    assert after == [{"label": "u"}]
    with db.read_transaction() as conn:
        assert conn.execute("SELECT count(*) AS n FROM t") == [{"n": 6}]
    db.close()


@pg
def test_a_queued_write_that_conflicts_rolls_its_transaction_back(pg_url: str) -> None:
    db = Database(pg_url)
    db.execute("CREATE TABLE t (id int PRIMARY KEY)")
    with pytest.raises(ConflictError), db.transaction() as conn:
        conn.write("INSERT INTO t VALUES (:id)", {"id": 1})
        conn.write("INSERT INTO t VALUES (:id)", {"id": 1})
    assert db.execute("SELECT count(*) AS n FROM t") == [{"n": 0}]
    db.execute("INSERT INTO t VALUES (:id)", {"id": 2})  # the pooled connection is usable
    assert db.execute("SELECT id FROM t") == [{"id": 2}]
    db.close()


@pg
def test_a_queued_read_travels_with_the_writes_behind_it(pg_url: str) -> None:
    db = Database(pg_url)
    db.execute("CREATE TABLE t (id int PRIMARY KEY, label text)")
    db.execute("INSERT INTO t VALUES (1, 'one')")
    with db.transaction() as conn:
        assert isinstance(conn, PostgresConnection) and conn.deferred
        found = conn.queue("SELECT label FROM t WHERE id = :id FOR UPDATE", {"id": 1})
        conn.write("INSERT INTO t VALUES (:id, :label)", {"id": 2, "label": "two"})
        assert found.answered() is None  # nothing sent yet
        syncs = conn._syncs
        assert found.rows() == [{"label": "one"}]
        assert conn._syncs == syncs + 1  # the lock and the write: one round trip
        assert found.rows() == [{"label": "one"}] and conn._syncs == syncs + 1
    assert db.execute("SELECT count(*) AS n FROM t") == [{"n": 2}]
    db.close()


@pg
def test_a_queued_read_is_answered_although_a_write_behind_it_failed(pg_url: str) -> None:
    db = Database(pg_url)
    db.execute("CREATE TABLE t (id int PRIMARY KEY)")
    db.execute("INSERT INTO t VALUES (1)")
    found = None
    with pytest.raises(ConflictError), db.transaction() as conn:
        found = conn.queue("SELECT id FROM t WHERE id = :id", {"id": 1})
        conn.write("INSERT INTO t VALUES (:id)", {"id": 1})  # a duplicate
        found.rows()
    assert found is not None and found.answered() == [{"id": 1}]
    assert db.execute("SELECT count(*) AS n FROM t") == [{"n": 1}]
    db.close()


def test_sqlite_reads_a_queued_read_at_once(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    db.execute("CREATE TABLE t (id int PRIMARY KEY)")
    with db.transaction() as conn:
        assert not conn.deferred
        found = conn.queue("SELECT count(*) AS n FROM t")
        conn.write("INSERT INTO t VALUES (:id)", {"id": 1})
        assert found.answered() == found.rows() == [{"n": 0}]
    db.close()


@pg
def test_a_pooled_connection_keeps_its_cursors_for_the_next_transaction(pg_url: str) -> None:
    db = Database(pg_url, max_connections=1)
    db.execute("CREATE TABLE t (id int PRIMARY KEY)")
    with db.transaction() as first:
        assert isinstance(first, PostgresConnection)
        first.write("INSERT INTO t VALUES (:id)", {"id": 1})
        assert first.execute("SELECT id FROM t") == [{"id": 1}]
        cursors = first.cursors
        reader, writer = list(cursors.readers), cursors.writer
    with db.read_transaction() as second:
        assert isinstance(second, PostgresConnection) and second.cursors is cursors
        assert second.execute("SELECT count(*) AS n FROM t") == [{"n": 1}]
        assert cursors.readers == reader and cursors.writer is writer  # none made anew
    db.close()


def test_a_migration_splits_into_statements_but_not_inside_a_function_body() -> None:
    # A PL/pgSQL body's statements end with ';' at line ends too (migration 0014).
    script = (
        "-- a comment\nCREATE TABLE t (a INT);\n"
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n"
        "    -- kept: part of the body\n    PERFORM 1;\nEND\n$$;\nDROP TABLE t;"
    )
    assert split_statements(script) == [
        "CREATE TABLE t (a INT)",
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n"
        "    -- kept: part of the body\n    PERFORM 1;\nEND\n$$",
        "DROP TABLE t",
    ]
