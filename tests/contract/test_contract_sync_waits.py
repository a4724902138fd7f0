"""The store's side of ``states:startExecution.sync`` tasks waiting for their child (store/
sync_waits.py), on SQLite, a real PostgreSQL and the memory store: the same rules on each."""

from __future__ import annotations

import pytest
from tests.contract.test_contract_store import _execution, _machine, store

from eltflow.store.interface import StateStore
from eltflow.store.runtime_store import RuntimeStore

__all__ = ["store"]  # the fixture, parametrized over the three stores


def _end(store: StateStore, eid: str, status: str, now_us: int) -> None:
    """What a child's last step writes: its status, and the wake-up of its waiting parents."""
    with store.transaction() as conn:
        store.update_execution_txn(
            conn,
            execution_id=eid,
            status=status,
            output='{"x":1}' if status == "SUCCEEDED" else None,
            error=None,
            cause=None,
            stop_us=now_us,
            snapshot="{}",
            event_count=3,
            wake_us=None,
        )
        store.sync_waits.wake_parents_txn(conn, eid, now_us)


def _task(store: StateStore, parent: str, task_id: str) -> None:
    with store.transaction() as conn:
        store.insert_task_txn(
            conn,
            execution_id=parent,
            task_id=task_id,
            state_name="Call",
            resource="arn:aws:states:::states:startExecution.sync",
            parameters={},
            timeout_seconds=None,
            heartbeat_seconds=None,
            task_token=None,
            now_us=10,
        )


def _asleep(store: StateStore, eid: str) -> None:
    """The execution let go with no work (a parent whose task is parked)."""
    with store.transaction() as conn:
        store.update_execution_txn(
            conn,
            execution_id=eid,
            status="RUNNING",
            output=None,
            error=None,
            cause=None,
            stop_us=None,
            snapshot="{}",
            event_count=4,
            wake_us=None,
        )


def test_a_child_that_ends_wakes_its_waiting_parent(store: StateStore) -> None:
    vid = _machine(store)
    for eid in ("parent", "child", "other"):
        _execution(store, eid, vid)
    _task(store, "parent", "t1")
    _asleep(store, "parent")
    _asleep(store, "other")
    waits = store.sync_waits
    assert waits.watch("arn:exec:child", parent_id="parent", task_id="t1") == "child"
    with store.transaction() as conn:
        waits.park_txn(conn, "parent", "t1", "arn:exec:child")
        assert waits.ended_children_txn(conn, "parent") == []
    assert [t.awaits for t in store.tasks("parent")] == ["arn:exec:child"]
    _end(store, "other", "SUCCEEDED", 50)  # no one waits for it: wakes no one
    parent = store.get_execution("parent")
    assert parent is not None and parent.wake_us is None
    _end(store, "child", "FAILED", 60)
    parent = store.get_execution("parent")
    assert parent is not None and parent.wake_us == 60
    with store.transaction() as conn:
        [(task_id, child)] = waits.ended_children_txn(conn, "parent")
        assert (task_id, child.id, child.status, child.stop_us) == ("t1", "child", "FAILED", 60)
        waits.forget_txn(conn, "parent", ["t1"])
        assert waits.ended_children_txn(conn, "parent") == []


def test_watching_a_child_that_has_ended_links_nothing(store: StateStore) -> None:
    vid = _machine(store)
    for eid in ("parent", "child"):
        _execution(store, eid, vid)
    _end(store, "child", "SUCCEEDED", 30)
    waits = store.sync_waits
    assert waits.watch("arn:exec:child", parent_id="parent", task_id="t1") is None
    assert waits.watch("arn:exec:nobody", parent_id="parent", task_id="t1") is None
    with store.transaction() as conn:
        assert waits.ended_children_txn(conn, "parent") == []


def test_a_wake_up_overwritten_by_the_parent_is_restored(store: StateStore) -> None:
    """The child ended (waking the parent) before the parent's own step wrote its wake-up from
    its work: wake_if_ended_txn puts it back; without an ended child of a parked task it
    changes nothing."""
    vid = _machine(store)
    for eid in ("parent", "child"):
        _execution(store, eid, vid)
    _task(store, "parent", "t1")
    waits = store.sync_waits
    assert waits.watch("arn:exec:child", parent_id="parent", task_id="t1") == "child"
    _asleep(store, "parent")
    with store.transaction() as conn:
        waits.wake_if_ended_txn(conn, "parent", 40)
    parent = store.get_execution("parent")
    assert parent is not None and parent.wake_us is None
    _end(store, "child", "ABORTED", 50)
    _asleep(store, "parent")  # the parent's step, evaluated before, lets it go with no work
    with store.transaction() as conn:
        waits.wake_if_ended_txn(conn, "parent", 55)  # its task is not parked yet: no
    parent = store.get_execution("parent")
    assert parent is not None and parent.wake_us is None
    with store.transaction() as conn:
        waits.park_txn(conn, "parent", "t1", "arn:exec:child")
        waits.wake_if_ended_txn(conn, "parent", 56)
    parent = store.get_execution("parent")
    assert parent is not None and parent.wake_us == 56


def test_a_parent_that_ended_is_not_woken(store: StateStore) -> None:
    vid = _machine(store)
    for eid in ("parent", "child"):
        _execution(store, eid, vid)
    assert store.sync_waits.watch("arn:exec:child", parent_id="parent", task_id="t1") == "child"
    _end(store, "parent", "ABORTED", 20)
    _end(store, "child", "ABORTED", 30)
    parent = store.get_execution("parent")
    assert parent is not None and parent.status == "ABORTED" and parent.wake_us is None


def test_the_links_table_cascades_with_its_executions(store: StateStore) -> None:
    if not isinstance(store, RuntimeStore):
        pytest.skip("a SQL store's foreign keys")
    vid = _machine(store)
    for eid in ("parent", "child"):
        _execution(store, eid, vid)
    assert store.sync_waits.watch("arn:exec:child", parent_id="parent", task_id="t1") == "child"
    store.db.execute("DELETE FROM sfn_executions WHERE id = :id", {"id": "child"})
    rows = store.db.execute("SELECT COUNT(*) AS n FROM sfn_sync_waits", {})
    assert int(rows[0]["n"]) == 0


def test_watching_marks_the_child_awaited(store: StateStore) -> None:
    """watch marks the child it links awaited (the engine wakes parents at the end of an
    awaited execution only), and the step guard reads the mark."""
    vid = _machine(store)
    for eid in ("parent", "child", "other"):
        _execution(store, eid, vid)
    got = store.get_execution("child")
    assert got is not None and not got.awaited
    assert store.sync_waits.watch("arn:exec:child", parent_id="parent", task_id="t1") == "child"
    marks = {eid: getattr(store.get_execution(eid), "awaited", None) for eid in ("child", "other")}
    assert marks == {"child": True, "other": False}
    seen: list[object] = []

    def unchanged(version: object) -> bool:
        seen.append(version)
        return True

    with store.transaction() as conn:
        assert store.guard_execution_txn(conn, "child", unchanged).holds()
    assert [bool(getattr(v, "awaited", None)) for v in seen] == [True]
