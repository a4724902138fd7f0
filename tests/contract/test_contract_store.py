"""One contract suite for the runtime store, run on SQLite, on a real PostgreSQL and on the
in-memory store behind ``eltflow.execute`` (which must follow the same rules)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from eltflow.errors import ConflictError
from eltflow.store.db import Database
from eltflow.store.interface import StateStore
from eltflow.store.memory import MemoryStore
from eltflow.store.migrate import migrate
from eltflow.store.rows import EventRow, ExecutionRow, MachineRow
from eltflow.store.runtime_store import RuntimeStore


@pytest.fixture(params=["sqlite", "postgres", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    db = Database(url)
    migrate(db)
    yield RuntimeStore(db)
    db.close()


def _machine(store: StateStore, name: str = "m", version: int = 1) -> int:
    with store.transaction() as conn:
        vid = store.insert_version_txn(
            conn,
            machine_name=name,
            version=version,
            definition='{"StartAt":"A"}',
            description="",
            created_us=1,
        )
        if store.get_machine_txn(conn, name) is None:
            store.insert_machine_txn(
                conn,
                MachineRow(
                    name=name,
                    arn=f"arn:{name}",
                    current_version_id=vid,
                    role_arn="r",
                    machine_type="STANDARD",
                    created_us=1,
                    updated_us=1,
                ),
            )
    return vid


def _execution(store: StateStore, eid: str, vid: int, start_us: int = 10) -> None:
    with store.transaction() as conn:
        store.insert_execution_txn(
            conn,
            id=eid,
            arn=f"arn:exec:{eid}",
            machine_name="m",
            version_id=vid,
            name=eid,
            input="{}",
            start_us=start_us,
        )


def test_migrate_is_idempotent(store: StateStore) -> None:
    if not isinstance(store, RuntimeStore):
        pytest.skip("the memory store has no schema")
    assert migrate(store.db) == []


def test_machines_and_versions(store: StateStore) -> None:
    v1 = _machine(store)
    with pytest.raises(ConflictError, match="already exists"), store.transaction() as conn:
        store.insert_machine_txn(
            conn,
            MachineRow(
                name="m",
                arn="arn:m",
                current_version_id=v1,
                role_arn="r",
                machine_type="STANDARD",
                created_us=1,
                updated_us=1,
            ),
        )
    v2 = _machine(store, version=2)
    with store.transaction() as conn:
        store.update_machine_txn(conn, name="m", current_version_id=v2, role_arn="r2", now_us=5)
    m = store.get_machine("m")
    assert m is not None and m.current_version_id == v2 and m.role_arn == "r2"
    version = store.get_version(v1)
    assert version is not None and version.version == 1
    _machine(store, name="a")
    assert [x.name for x in store.list_machines()] == ["a", "m"]
    assert [x.name for x in store.list_machines(after="a")] == ["m"]
    assert store.delete_machine("m") is True
    assert store.delete_machine("m") is False
    assert store.get_machine("m") is None


def test_executions_projection_and_listing(store: StateStore) -> None:
    vid = _machine(store)
    for i in range(5):
        _execution(store, f"e{i}", vid, start_us=10 + i)
    with pytest.raises(ConflictError):
        _execution(store, "e0", vid)
    with store.transaction() as conn:
        store.update_execution_txn(
            conn,
            execution_id="e1",
            status="SUCCEEDED",
            output='{"x":1}',
            error=None,
            cause=None,
            stop_us=99,
            snapshot="{}",
            event_count=3,
            wake_us=None,
        )
    e1 = store.get_execution_by_arn("arn:exec:e1")
    assert e1 is not None and e1.status == "SUCCEEDED" and e1.output == '{"x":1}'
    assert e1.stop_us == 99 and e1.event_count == 3
    assert [e.id for e in store.list_executions()] == ["e4", "e3", "e2", "e1", "e0"]
    assert [e.id for e in store.list_executions(status="SUCCEEDED")] == ["e1"]
    assert [e.id for e in store.list_executions(machine_name="zz")] == []
    assert [e.id for e in store.list_executions(limit=2, offset=2)] == ["e2", "e1"]
    assert store.count_by_status() == {"RUNNING": 4, "SUCCEEDED": 1}


def _started(eid: str, vid: int, **projected: object) -> ExecutionRow:
    row = ExecutionRow.started(
        id=eid,
        arn=f"arn:exec:{eid}",
        machine_name="m",
        version_id=vid,
        name=eid,
        input='{"i":1}',
        start_us=10,
    )
    return replace(row, **projected)  # type: ignore[arg-type]


def test_a_started_execution_is_inserted_projected_if_its_machine_and_arn_allow(
    store: StateStore,
) -> None:
    vid = _machine(store)
    machine = store.get_machine("m")
    assert machine is not None
    ended = _started(
        "e1",
        vid,
        status="SUCCEEDED",
        output='{"o":1}',
        stop_us=10,
        snapshot='{"s":1}',
        event_count=4,
        wake_us=None,
    )
    with store.transaction() as conn:
        assert store.insert_started_execution_txn(conn, ended, machine) is True
    got = store.get_execution_by_arn("arn:exec:e1")
    assert got is not None
    assert (got.status, got.output, got.stop_us, got.snapshot) == (
        "SUCCEEDED",
        '{"o":1}',
        10,
        '{"s":1}',
    )
    assert (got.event_count, got.wake_us, got.error, got.cause) == (4, None, None, None)
    assert (got.input, got.start_us, got.version_id, got.redrive_count) == ('{"i":1}', 10, vid, 0)
    assert got.lease_owner is None and got.lease_expires_us is None
    running = _started("e2", vid, snapshot="{}", event_count=2, wake_us=15)
    # The ARN is taken: nothing written, whatever the row (the caller reads the existing one).
    with store.transaction() as conn:
        assert (
            store.insert_started_execution_txn(conn, replace(running, arn=ended.arn), machine)
            is False
        )
    assert store.get_execution(running.id) is None
    # The machine changed (a new version, a new role, deleted): nothing written.
    v2 = _machine(store, version=2)
    with store.transaction() as conn:
        store.update_machine_txn(conn, name="m", current_version_id=v2, role_arn="r", now_us=1)
    with store.transaction() as conn:
        assert store.insert_started_execution_txn(conn, running, machine) is False
    updated = store.get_machine("m")
    assert updated is not None
    with store.transaction() as conn:
        # The new machine row with the old version in the execution row: not its machine.
        assert store.insert_started_execution_txn(conn, running, updated) is False
        assert store.insert_started_execution_txn(conn, replace(running, version_id=v2), updated)
    assert store.get_execution("e2") is not None
    with store.transaction() as conn:
        store.update_machine_txn(conn, name="m", current_version_id=v2, role_arn="r2", now_us=1)
    third = _started("e3", v2, snapshot="{}", event_count=2, wake_us=15)
    with store.transaction() as conn:
        assert store.insert_started_execution_txn(conn, third, updated) is False
    store.delete_machine("m")
    with store.transaction() as conn:
        assert store.insert_started_execution_txn(conn, third, updated) is False
    assert store.get_execution("e3") is None
    assert [e.id for e in store.list_executions()] == ["e2", "e1"]


def test_history_appends_are_idempotent_and_conflicts_detected(store: StateStore) -> None:
    _execution(store, "e", _machine(store))
    events = [
        EventRow(seq=i, previous_seq=i - 1, event_type="T", timestamp_us=i, details={"n": i})
        for i in range(1, 6)
    ]
    with store.transaction() as conn:
        assert store.append_events_txn(conn, "e", events[:3]) == 3
    with store.transaction() as conn:
        assert store.append_events_txn(conn, "e", events) == 2
    bad = EventRow(seq=2, previous_seq=1, event_type="T", timestamp_us=2, details={"n": 7})
    with pytest.raises(ConflictError, match="event 2"), store.transaction() as conn:
        store.append_events_txn(conn, "e", [bad])
    assert [e.seq for e in store.history("e")] == [1, 2, 3, 4, 5]
    assert store.history("e")[1].details == {"n": 2}
    assert [e.seq for e in store.history("e", after_seq=3)] == [4, 5]
    assert [e.seq for e in store.history("e", limit=2, reverse=True)] == [5, 4]
    assert [e.seq for e in store.history("e", after_seq=4, reverse=True)] == [3, 2, 1]


def test_claims_are_exclusive_until_the_lease_expires(store: StateStore) -> None:
    vid = _machine(store)
    for i in range(4):
        _execution(store, f"e{i}", vid, start_us=10 + i)
    a = store.claim(owner="A", now_us=100, lease_us=50, limit=3)
    b = store.claim(owner="B", now_us=100, lease_us=50, limit=3)
    assert len(a) == 3 and len(b) == 1 and not set(a) & set(b)
    assert store.claim(owner="C", now_us=120, lease_us=50, limit=10) == []
    assert store.renew(owner="A", execution_ids=[*a, *b], expires_us=1000) == set(a)
    # B's lease (expiring at 150) lapses; A's renewed leases do not.
    assert store.claim(owner="C", now_us=200, lease_us=50, limit=10) == b
    with store.transaction() as conn:
        store.release_txn(conn, owner="A", execution_id=a[0], wake_us=500)
    # C's lease on b lapsed at 250; a[0] was released with nothing due before 500.
    assert store.claim(owner="D", now_us=400, lease_us=50, limit=10) == b
    assert a[0] in store.claim(owner="E", now_us=500, lease_us=50, limit=10)
    assert store.next_wake() is not None
    assert store.claim(owner="F", now_us=10_000, lease_us=5, limit=9, only="e9") == []
    assert store.claim(owner="F", now_us=10_000, lease_us=5, limit=9, only=a[1]) == [a[1]]


def test_snapshot_parts_are_kept_once_per_execution(store: StateStore) -> None:
    vid = _machine(store)
    _execution(store, "e", vid)
    _execution(store, "f", vid)
    with store.transaction() as conn:
        store.insert_snapshot_parts_txn(conn, "e", [("p:a", "[1,2]"), ("r:0:0", '"0":1')])
        store.insert_snapshot_parts_txn(conn, "f", [("p:a", "[3]")])
    with store.transaction() as conn:
        # A part already kept stays as it is (an equal payload written again: the same name).
        store.insert_snapshot_parts_txn(conn, "e", [("p:a", "[1,2]"), ("r:0:1", '"1":2')])
        store.insert_snapshot_parts_txn(conn, "e", [])
    with store.read_transaction() as conn:
        assert store.snapshot_parts_txn(conn, "e") == {
            "p:a": "[1,2]",
            "r:0:0": '"0":1',
            "r:0:1": '"1":2',
        }
        assert store.snapshot_parts_txn(conn, "f") == {"p:a": "[3]"}
        assert store.snapshot_parts_txn(conn, "none") == {}


def test_tasks_timers_and_inbox(store: StateStore) -> None:
    _execution(store, "e", _machine(store))
    with store.transaction() as conn:
        for tid in ("t1", "t2"):
            store.insert_task_txn(
                conn,
                execution_id="e",
                task_id=tid,
                state_name="S",
                resource="arn:r",
                parameters={"p": tid},
                timeout_seconds=5.0,
                heartbeat_seconds=None,
                task_token=None,
                now_us=1,
            )
        store.dispatch_task_txn(conn, "e", "t1")
        store.dispatch_task_txn(conn, "e", "t1")
        store.insert_timer_txn(conn, "e", "w1", 50)
        store.insert_timer_txn(conn, "e", "w2", 20)
        store.insert_timer_txn(conn, "e", "w2", 20)
        store.insert_inbox_txn(conn, "e", "stop", {"error": "x"}, 1)
    store.set_checkpoint("e", "t2", {"Id": "abc"})
    tasks = {t.task_id: t for t in store.tasks("e")}
    assert tasks["t1"].started and tasks["t1"].attempt == 2
    assert tasks["t1"].parameters == '{"p":"t1"}'
    assert not tasks["t2"].started and tasks["t2"].checkpoint == '{"Id":"abc"}'
    with store.transaction() as conn:
        assert [t.timer_id for t in store.due_timers_txn(conn, "e", 30)] == ["w2"]
        assert store.next_timer_txn(conn, "e") == 20
        assert store.delete_timer_txn(conn, "e", "w2") is True
        assert store.delete_timer_txn(conn, "e", "w2") is False
        assert store.delete_task_txn(conn, "e", "t1") is True
        assert [i.kind for i in store.inbox_txn(conn, "e")] == ["stop"]
    assert store.claim(owner="A", now_us=100, lease_us=10, limit=1) == ["e"]
    assert store.executions_with_inbox("A") == ["e"]
    with store.transaction() as conn:
        store.clear_work_txn(conn, "e")
        assert store.tasks_txn(conn, "e") == [] and store.next_timer_txn(conn, "e") is None


def test_worker_heartbeats(store: StateStore) -> None:
    store.heartbeat("w1", 100)
    store.heartbeat("w2", 100)
    store.heartbeat("w1", 200)
    assert store.live_workers(150) == ["w1"]
    store.worker_gone("w1")
    assert store.live_workers(0) == ["w2"]
