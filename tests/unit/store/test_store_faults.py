"""Store faults at transaction boundaries: a SQLite lock held past the busy timeout, a
PostgreSQL connection killed by the server. Each surfaces as a ``StoreError`` (never a driver
exception) and leaves the store usable; a pooled connection the server killed is replaced."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest

from eltflow.errors import ConflictError, StoreError
from eltflow.store.db import Database, _unique_violation


def _terminate_all(url: str) -> int:
    """Kill every other session on ``url``'s database, as a server restart or an admin would."""
    dbname = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as admin:
        rows = admin.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where datname = %s and pid <> pg_backend_pid()",
            (dbname,),
        ).fetchall()
    return len(rows)


def test_a_sqlite_lock_held_past_the_timeout_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    db = Database(f"sqlite:///{path}", busy_timeout=0.05)
    db.execute("create table t (x integer)")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        with pytest.raises(StoreError, match="locked"), db.transaction() as conn:
            conn.execute("insert into t values (1)")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    db.execute("insert into t values (2)")  # usable again once the lock is gone
    assert db.execute("select x from t") == [{"x": 2}]
    db.close()


def test_a_failed_sqlite_commit_leaves_no_transaction_open(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    db.execute("create table p (id integer primary key)")
    db.execute("create table c (pid integer references p (id) deferrable initially deferred)")
    with pytest.raises(StoreError, match="FOREIGN KEY"), db.transaction() as conn:
        conn.execute("insert into c values (99)")  # checked only at COMMIT
    # The failed COMMIT was rolled back: this thread's next transaction starts cleanly.
    db.execute("insert into p values (1)")
    assert db.execute("select count(*) as n from c") == [{"n": 0}]
    db.close()


def test_a_pooled_postgres_connection_killed_by_the_server_is_replaced(pg_url: str) -> None:
    db = Database(pg_url)
    db.execute("create table t (x integer)")
    assert _terminate_all(pg_url) >= 1  # the idle pooled connection
    db.execute("insert into t values (1)")  # not AdminShutdown: a fresh connection
    assert db.execute("select x from t") == [{"x": 1}]
    db.close()


def test_a_postgres_disconnect_inside_a_transaction_is_a_store_error(pg_url: str) -> None:
    db = Database(pg_url)
    db.execute("create table t (x integer)")
    with pytest.raises(StoreError), db.transaction() as conn:
        conn.execute("insert into t values (1)")
        _terminate_all(pg_url)
        conn.execute("insert into t values (2)")
    assert db.execute("select x from t") == []  # nothing of the broken transaction
    db.close()


def test_a_zero_byte_state_file_is_refused_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.touch()  # truncated by a full disk, a bad copy...
    with pytest.raises(StoreError, match=r"state\.db is empty \(0 bytes\)"):
        Database(f"sqlite:///{path}").execute("select 1")
    assert path.stat().st_size == 0  # left as found, for the user to restore


def test_a_postgres_server_out_of_connections_is_waited_for(pg_url: str) -> None:
    # A role allowed one connection stands in for a server at max_connections (SQLSTATE 53300,
    # what 100 concurrent `eltflow start` got): the store waits for a free one, not fails.
    role = f"eltflow_one_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 1')
        admin.execute(f'GRANT ALL ON SCHEMA public TO "{role}"')
    url = pg_url.replace("postgres@", f"{role}@", 1)
    other = psycopg.connect(url, autocommit=True)  # another process holds the only one
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            other.close()

    db = Database(url, sleep=sleep)
    try:
        assert db.execute("select 1 as one") == [{"one": 1}]
        # Waited until the slot was free: the server frees it once the closed connection's
        # backend has exited, which may take one more wait after close() returns.
        assert len(waits) >= 2
        db.close()  # gives its slot back
        other = psycopg.connect(url, autocommit=True)
        never = Database(url, sleep=waits.append, connect_wait=1.0)
        with pytest.raises(StoreError, match="too many connections"):
            never.execute("select 1")
        assert sum(waits[2:]) >= 1.0
        other.close()
    finally:
        db.close()
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')


def test_a_queued_write_that_conflicts_at_commit_is_a_conflict_error(pg_url: str) -> None:
    # A queued write's unique violation reaching COMMIT with no read in between: psycopg may
    # report it as COMMIT's "pipeline aborted" (the violation its context), which was a
    # StoreError in about one try in five. Every try must be a ConflictError.
    db = Database(pg_url)
    db.execute("create table u (x integer primary key)")
    db.execute("insert into u values (1)")
    for _ in range(200):
        with pytest.raises(ConflictError), db.transaction() as conn:
            conn.write("insert into u values (2)")
            conn.write("insert into u values (1)")  # queued; fails at COMMIT
    # Each was rolled back and the connection reset: nothing of them, and the store usable.
    db.execute("insert into u values (3)")
    assert db.execute("select x from u order by x") == [{"x": 1}, {"x": 3}]
    db.close()


def test_a_conflict_reported_as_pipeline_aborted_is_found() -> None:
    # The shape psycopg leaves when it replaces the violation while fetching what is left.
    violation = psycopg.errors.UniqueViolation("duplicate key value")
    try:
        try:
            raise violation
        finally:
            raise psycopg.errors.PipelineAborted("pipeline aborted")
    except psycopg.Error as e:
        assert _unique_violation(e) is violation
    assert _unique_violation(psycopg.errors.PipelineAborted("pipeline aborted")) is None
