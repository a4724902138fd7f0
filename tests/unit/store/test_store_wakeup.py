"""SQLite's work notifications (issue 16): a committed transaction that made work wakes idle
workers at once instead of at their next poll, this process's and, through a FIFO next to the
database file, another process's; a rolled-back one does not. No timing assertions: a wake
that is owed returns True without waiting."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
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


# Across processes: a FIFO next to the database file (store/wakeup.py).


def _claim(store: RuntimeStore, only: str | None = None) -> list[str]:
    return store.claim(owner="w", now_us=0, lease_us=1_000_000, limit=10, only=only)


def _has_reader(fifo: Path) -> bool:
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as e:
        assert e.errno == errno.ENXIO  # the FIFO is there, nobody reads it
        return False
    os.close(fd)
    return True


_NOTIFY = """
import sys
from eltflow.store.db import Database
from eltflow.store.runtime_store import RuntimeStore
store = RuntimeStore(Database(sys.argv[1]))
with store.transaction() as conn:
    store.notify_work_txn(conn)
store.db.close()
"""


def test_a_commit_in_another_process_wakes_a_claiming_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    worker = _store(tmp_path / "s.db")
    assert _claim(worker) == []  # a worker's store: it reads other processes' wake-ups now
    assert _has_reader(tmp_path / "s.db-wake")
    assert worker.wait_for_work(0) is False
    woke: list[bool] = []
    waiting = threading.Thread(target=lambda: woke.append(worker.wait_for_work(30)))
    waiting.start()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", _NOTIFY, url], env=env, check=True, timeout=60)
    waiting.join(60)
    assert woke == [True]
    worker.close_listener()  # the worker is done: nobody reads any more
    assert not _has_reader(tmp_path / "s.db-wake")


def test_a_store_for_one_execution_reads_no_other_process_wake_up(tmp_path: Path) -> None:
    # `eltflow start --wait`: it would take a wake-up meant for a worker that claims anything.
    store = _store(tmp_path / "s.db")
    assert _claim(store, only="e1") == []
    assert not (tmp_path / "s.db-wake").exists()


def test_anything_but_a_fifo_at_the_wake_path_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "s.db-wake").write_text("mine")
    worker, writer = _store(tmp_path / "s.db"), _store(tmp_path / "s.db")
    assert _claim(worker) == []  # cannot read it: polls (and hears this process) instead
    assert worker.wait_for_work(0) is False
    with writer.transaction() as conn:
        writer.notify_work_txn(conn)
    assert worker.wait_for_work(30) is True
    assert (tmp_path / "s.db-wake").read_text() == "mine"
    worker.close_listener()
