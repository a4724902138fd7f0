"""RuntimeStore.insert_started_execution: a start's row, tasks and first events committed
together and a worker woken (PostgreSQL: one statement outside any transaction), or, when the
machine changed or the ARN is taken, nothing at all; inside a transaction of the thread it is
part of that one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest

from eltflow.interpreter.protocol import HistoryEvent
from eltflow.store.db import Database
from eltflow.store.migrate import migrate
from eltflow.store.rows import ExecutionRow, MachineRow, row_fields, to_us
from eltflow.store.runtime_store import RuntimeStore
from eltflow.types import JSON

NOW = datetime(2026, 12, 6, 1, 2, 3, 456789, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[RuntimeStore]:
    db = Database(store_url)
    migrate(db)
    yield RuntimeStore(db)
    db.close()


def _machine(store: RuntimeStore) -> MachineRow:
    with store.transaction() as conn:
        vid = store.insert_version_txn(
            conn, machine_name="m", version=1, definition="{}", description="", created_us=1
        )
        machine = MachineRow(
            name="m",
            arn="arn:m",
            current_version_id=vid,
            role_arn="r",
            machine_type="STANDARD",
            created_us=1,
            updated_us=1,
        )
        store.insert_machine_txn(conn, machine)
    return machine


def _row(machine: MachineRow, id: str, name: str) -> ExecutionRow:
    start_us = to_us(NOW)
    return ExecutionRow(
        id=id,
        arn=f"arn:exec:{name}",
        machine_name=machine.name,
        version_id=machine.current_version_id,
        name=name,
        status="SUCCEEDED",
        input='{"a":1}',
        output='{"a":1}',
        error=None,
        cause=None,
        start_us=start_us,
        stop_us=start_us,
        redrive_count=0,
        redrive_us=None,
        snapshot='{"version":1}',
        event_count=2,
        wake_us=None,
        lease_owner=None,
        lease_expires_us=None,
    )


EVENTS = [
    HistoryEvent(
        id=1,
        previous_event_id=0,
        timestamp=NOW,
        type="ExecutionStarted",
        details={"executionStartedEventDetails": {"input": "{}"}},
    ),
    HistoryEvent(
        id=2,
        previous_event_id=1,
        timestamp=NOW,
        type="ExecutionSucceeded",
        details={"executionSucceededEventDetails": {}},
    ),
]


def _history(store: RuntimeStore, execution_id: str) -> list[tuple[int, int, str, int]]:
    return [
        (e.seq, e.previous_seq, e.event_type, e.timestamp_us) for e in store.history(execution_id)
    ]


def test_row_and_events_are_committed_together(store: RuntimeStore) -> None:
    machine = _machine(store)
    row = _row(machine, "e1", "one")
    assert store.insert_started_execution(row, machine, EVENTS)
    assert store.get_execution("e1") == row
    assert _history(store, "e1") == [
        (1, 0, "ExecutionStarted", to_us(NOW)),
        (2, 1, "ExecutionSucceeded", to_us(NOW)),
    ]
    assert [e.details for e in store.history("e1")] == [e.details for e in EVENTS]


def test_a_taken_arn_writes_nothing(store: RuntimeStore) -> None:
    machine = _machine(store)
    assert store.insert_started_execution(_row(machine, "e1", "one"), machine, EVENTS)
    assert not store.insert_started_execution(_row(machine, "e2", "one"), machine, EVENTS)
    assert store.get_execution("e2") is None
    assert _history(store, "e2") == []


def test_a_changed_machine_writes_nothing(store: RuntimeStore) -> None:
    machine = _machine(store)
    stale = replace(machine, updated_us=0)
    assert not store.insert_started_execution(_row(machine, "e1", "one"), stale, EVENTS)
    assert store.get_execution("e1") is None
    assert _history(store, "e1") == []


def test_inside_a_transaction_it_is_part_of_it(store: RuntimeStore) -> None:
    machine = _machine(store)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), store.transaction():
        assert store.insert_started_execution(_row(machine, "e1", "one"), machine, EVENTS)
        raise Abort
    assert store.get_execution("e1") is None
    assert _history(store, "e1") == []


@dataclass(frozen=True)
class _Task:
    task_id: str
    state_name: str
    resource: str
    parameters: JSON
    timeout_seconds: float | None = None
    heartbeat_seconds: float | None = None
    task_token: str | None = None


TASKS = [
    _Task("t1", "First", "arn:aws:lambda:us-east-1:1:function:f", {"n": [1, 2.5, None, "é"]}),
    _Task("t2", "Second", "arn:r", '\x00\\u0000"', timeout_seconds=300, heartbeat_seconds=1.5),
    _Task("t3", "Third", "arn:r", None, timeout_seconds=0.1, task_token="token"),
]


def _tasks(store: RuntimeStore, execution_id: str) -> list[dict[str, object]]:
    """The execution's task rows, every column but the execution's id."""
    return [{**row_fields(t), "execution_id": None} for t in store.tasks(execution_id)]


def test_tasks_are_written_as_insert_task_writes_them(store: RuntimeStore) -> None:
    machine = _machine(store)
    running = replace(_row(machine, "e1", "one"), status="RUNNING", stop_us=None, output=None)
    assert store.insert_started_execution(running, machine, EVENTS, TASKS, notify=True)
    with store.transaction() as conn:  # the same written one step at a time
        other = replace(running, id="e2", arn="arn:exec:two", name="two")
        assert store.insert_started_execution_txn(conn, other, machine)
        for task in TASKS:
            store.insert_task_txn(
                conn,
                execution_id="e2",
                task_id=task.task_id,
                state_name=task.state_name,
                resource=task.resource,
                parameters=task.parameters,
                timeout_seconds=task.timeout_seconds,
                heartbeat_seconds=task.heartbeat_seconds,
                task_token=task.task_token,
                now_us=other.start_us,
            )
    assert _tasks(store, "e1") == _tasks(store, "e2")
    assert len(_tasks(store, "e1")) == 3
    assert [seq for seq, *_ in _history(store, "e1")] == [1, 2]


def test_no_tasks_are_written_when_the_row_is_not(store: RuntimeStore) -> None:
    machine = _machine(store)
    running = replace(_row(machine, "e1", "one"), status="RUNNING", stop_us=None, output=None)
    assert store.insert_started_execution(running, machine, EVENTS, TASKS[:1])
    taken = replace(running, id="e2")
    assert not store.insert_started_execution(taken, machine, EVENTS, TASKS, notify=True)
    assert _tasks(store, "e2") == []


def test_timers_are_written_with_the_start(store: RuntimeStore) -> None:
    machine = _machine(store)
    running = replace(_row(machine, "e1", "one"), status="RUNNING", stop_us=None, output=None)
    due = running.start_us + 3_600_000_000
    timers = [("w1", due), ("w2", due + 1)]
    assert store.insert_started_execution(running, machine, EVENTS, TASKS[:1], timers=timers)
    with store.read_transaction() as conn:
        assert store.next_timer_txn(conn, "e1") == due
        found = store.due_timers_txn(conn, "e1", due + 1)
    assert sorted((t.timer_id, t.due_us) for t in found) == timers
    assert len(_tasks(store, "e1")) == 1
    # Not written when the row is not.
    taken = replace(running, id="e2")
    assert not store.insert_started_execution(taken, machine, EVENTS, timers=timers)
    with store.read_transaction() as conn:
        assert store.next_timer_txn(conn, "e2") is None


def test_notify_wakes_a_waiting_worker(store_url: str, store: RuntimeStore) -> None:
    machine = _machine(store)
    worker_db = Database(store_url)
    worker = RuntimeStore(worker_db)
    try:
        worker.wait_for_work(0)  # listening from here on
        woke: list[bool] = []
        waiting = threading.Thread(target=lambda: woke.append(worker.wait_for_work(60)))
        waiting.start()
        running = replace(_row(machine, "e1", "one"), status="RUNNING", stop_us=None)
        assert store.insert_started_execution(running, machine, EVENTS, TASKS, notify=True)
        waiting.join(60)
        assert woke == [True]
    finally:
        worker.close_listener()
        worker_db.close()
