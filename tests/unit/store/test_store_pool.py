"""PostgreSQL connections are bounded by the Database: a thread waits for a slot (and says so
when none frees up), and a transaction nested in one on the same thread never waits."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from eltflow.errors import StoreError
from eltflow.store.db import Database

pytestmark = pytest.mark.postgres


def test_a_thread_past_the_bound_waits_then_is_told(pg_url: str) -> None:
    db = Database(pg_url, max_connections=1, connect_wait=0.2)
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.transaction() as conn:
            conn.execute("SELECT 1 AS x")
            with db.transaction() as nested:  # same thread: no second slot needed
                nested.execute("SELECT 1 AS x")
            inside.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(30)
    with pytest.raises(StoreError, match=r"no PostgreSQL connection free .*\(1 in use"):
        db.execute("SELECT 1 AS x")
    release.set()
    holder.join(30)
    assert db.execute("SELECT 1 AS x") == [{"x": 1}]  # the slot is free again
    db.close()


def test_many_threads_share_a_few_connections(pg_url: str) -> None:
    db = Database(pg_url, max_connections=3)
    with ThreadPoolExecutor(max_workers=20) as pool:
        rows = list(pool.map(lambda _: db.execute("SELECT pg_backend_pid() AS p"), range(200)))
    pids = {r[0]["p"] for r in rows}
    assert 1 <= len(pids) <= 3
    db.close()
