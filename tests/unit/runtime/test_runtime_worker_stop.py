"""``Worker.stop()`` ends the worker's wait at once, on every store: an idle worker's wait for
work (a condition in memory and SQLite, the LISTEN socket on PostgreSQL) and a busy worker's
wait for its tasks. Polls are set to a minute here: a stop that waited one out fails the
join's 5 s."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.support.wait import wait_until

from eltflow.app import build_app
from eltflow.clock import Clock, SystemClock
from eltflow.integrations.base import Registry
from eltflow.runtime.engine import Engine
from eltflow.runtime.worker import Worker
from eltflow.store.memory import MemoryStore
from eltflow.types import JSON

POLL = 60.0  # far longer than any join below
SLOW = "arn:aws:lambda:us-east-1:123456789012:function:slow"


@dataclass(frozen=True)
class _MemoryHost:
    store: MemoryStore
    engine: Engine
    registry: Registry
    clock: Clock


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def idle_worker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Worker]:
    if request.param == "memory":
        store, clock = MemoryStore(), SystemClock()
        host = _MemoryHost(store, Engine(store, clock), Registry(), clock)
        yield Worker(host, poll_seconds=POLL, idle_seconds=POLL)
        return
    url = f"sqlite:///{tmp_path / 'state.db'}"
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
    app = build_app(state_url=url, clock=SystemClock())
    yield app.worker(poll_seconds=POLL, idle_seconds=POLL)
    app.close()


def _inside(thread: threading.Thread, function: str) -> bool:
    """Whether ``thread`` is running ``function`` now (its stack has a frame of it)."""
    frame = sys._current_frames().get(thread.ident or 0)
    while frame is not None:
        if frame.f_code.co_name == function:
            return True
        frame = frame.f_back
    return False


def test_stop_ends_an_idle_wait_for_work_at_once(idle_worker: Worker) -> None:
    thread = threading.Thread(target=idle_worker.run, daemon=True)  # left behind if it fails
    thread.start()
    wait_until(lambda: _inside(thread, "wait_for_work"), 10, what="the worker to wait for work")
    idle_worker.stop()
    thread.join(5)
    assert not thread.is_alive(), "stop() waited for the worker's poll"


def test_stop_ends_a_busy_wait_at_once(store_url: str) -> None:
    """A worker that leaves its tasks behind (``wait_for_tasks=False``) returns at once."""
    app = build_app(state_url=store_url, clock=SystemClock())
    gate, entered = threading.Event(), threading.Event()

    def slow(p: JSON) -> JSON:
        entered.set()
        gate.wait(30)
        return p

    app.register(SLOW, slow)
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": SLOW, "End": True}}}
    app.service.create_state_machine(name="s", definition=definition)
    app.service.start_execution(state_machine_arn="s")
    worker = app.worker(poll_seconds=POLL, idle_seconds=POLL, wait_for_tasks=False)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert entered.wait(10)
        wait_until(lambda: _inside(thread, "_wait_busy"), 10, what="the worker to wait on its task")
        worker.stop()
        thread.join(5)
        assert not thread.is_alive(), "stop() waited for the worker's poll"
    finally:
        gate.set()
        thread.join(30)
        app.close()
