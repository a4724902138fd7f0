"""SQLite's in-process work notifications (issue 16): a committed transaction that made work
wakes this process's idle workers at once instead of at their next poll; a rolled-back one
does not. No timing assertions: a wake that is owed returns True without waiting."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from eltflow.store.db import Database
from eltflow.store.migrate import migrate
from eltflow.store.runtime_store import RuntimeStore


def _store(path: Path) -> RuntimeStore:
    db = Database(f"sqlite:///{path}")
    migrate(db)
    return RuntimeStore(db)


def test_a_commit_that_made_work_wakes_a_waiter_in_another_store_of_the_same_file(
    tmp_path: Path,
) -> None:
    writer, worker = _store(tmp_path / "s.db"), _store(tmp_path / "s.db")
    assert worker.wait_for_work(0) is False  # nothing happened since this thread looked
    woke: list[bool] = []
    waiting = threading.Thread(target=lambda: woke.append(worker.wait_for_work(60)))
    waiting.start()
    with writer.transaction() as conn:
        writer.notify_work_txn(conn)
    waiting.join(60)
    assert woke == [True]


def test_a_notification_sent_while_the_worker_was_busy_is_not_lost(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db")
    assert store.wait_for_work(0) is False
    with store.transaction() as conn:  # the worker is claiming, not waiting, when this lands
        store.notify_work_txn(conn)
    assert store.wait_for_work(60) is True  # owed: returns at once
    assert store.wait_for_work(0) is False  # and only once


def test_a_rolled_back_transaction_wakes_nobody(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db")
    assert store.wait_for_work(0) is False
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.notify_work_txn(conn)
        raise RuntimeError("abort")
    assert store.wait_for_work(0) is False
    with store.transaction() as conn:  # the flag did not leak into the next transaction
        pass
    assert store.wait_for_work(0) is False
