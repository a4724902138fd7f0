"""StartExecution from concurrent callers, committed together (issue 16: group commit), on
SQLite and PostgreSQL: every start is recorded; starts queued while another commits share
one transaction, and each caller still gets its own answer (a new ARN, the same ARN for an
idempotent duplicate, ExecutionAlreadyExists for a taken name), only once its start is
committed; a batch whose COMMIT fails fails every caller in it and records none of them."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest

from eltflow.app import App, build_app
from eltflow.errors import AwsApiError, StoreError
from eltflow.runtime.service import StatesService
from eltflow.store.db import Database
from eltflow.store.runtime_store import SQLITE_GROUP_THREADS, RuntimeStore

WAIT = 30.0  # seconds: a bound on waiting for an event, not a pause
MACHINE = {
    "StartAt": "Work",
    "States": {
        "Work": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": True}
    },
}


@pytest.fixture
def app(store_url: str) -> Iterator[App]:
    app = build_app(state_url=store_url)
    app.service.create_state_machine(name="m", definition=json.dumps(MACHINE))
    try:
        yield app
    finally:
        app.close()


def _store(app: App) -> RuntimeStore:
    assert isinstance(app.store, RuntimeStore)
    return app.store


def _start(service: StatesService, name: str, input: str = "{}", machine: str = "m") -> str:
    started = service.start_execution(state_machine_arn=machine, name=name, input=input)
    return str(started["executionArn"])


def test_concurrent_starts_are_all_recorded_before_their_callers_are_answered(app: App) -> None:
    # Another connection to the same store sees a start as soon as its caller is answered.
    other = RuntimeStore(Database(app.db.url))
    seen: list[str] = []

    def starter(i: int) -> None:
        for k in range(6):
            arn = _start(app.service, f"s{i}-{k}", json.dumps({"i": i, "k": k}))
            row = other.get_execution_by_arn(arn)
            assert row is not None and row.status == "RUNNING"
            seen.append(arn)

    try:
        with ThreadPoolExecutor(8) as pool:
            for f in [pool.submit(starter, i) for i in range(8)]:
                f.result(WAIT)
    finally:
        other.db.close()
    assert len(set(seen)) == 48
    store = _store(app)
    for arn in seen:
        row = store.get_execution_by_arn(arn)
        assert row is not None
        assert [e.event_type for e in store.history(row.id)][:2] == [
            "ExecutionStarted",
            "TaskStateEntered",
        ]
        assert len(store.tasks(row.id)) == 1  # the first step's task, written with the start
    assert store.starts.commits <= 48


def test_the_store_groups_starts_of_a_few_threads_on_postgresql_only(app: App) -> None:
    # On SQLite a commit is too cheap for a batch of a few starts to pay for its hand-offs.
    expected = SQLITE_GROUP_THREADS if app.db.dialect == "sqlite" else 2
    assert _store(app).starts.group_threads == expected


@contextmanager
def _leader_blocked(app: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """The next start is committed alone and blocks before its commit until the block's
    ``release()``: starts made meanwhile queue behind it, to be committed together (however
    few: the SQLite store groups only once SQLITE_GROUP_THREADS threads are starting)."""
    store = _store(app)
    monkeypatch.setattr(store.starts, "group_threads", 2)
    original = store._insert_started_alone
    release = threading.Event()
    blocked = threading.Event()
    first = [True]

    def blocking(*args: Any) -> bool:
        if first[0]:
            first[0] = False
            blocked.set()
            assert release.wait(WAIT)
        return original(*args)

    monkeypatch.setattr(store, "_insert_started_alone", blocking)
    with ThreadPoolExecutor(1) as leader:
        done = leader.submit(_start, app.service, "leader")
        assert blocked.wait(WAIT)
        yield release.set
        assert done.result(WAIT).endswith(":leader")


def _queue(
    app: App, pool: ThreadPoolExecutor, starts: list[tuple[str, str]], machine: str = "m"
) -> list[Future[str]]:
    """Start each of ``starts`` (name, input) from its own thread, in this order, each once
    the one before has queued behind the blocked leader."""
    store = _store(app)
    out = []
    for i, (name, text) in enumerate(starts):
        out.append(pool.submit(_start, app.service, name, text, machine))
        assert store.starts.wait_queued(i + 1, WAIT)
    return out


def test_a_batch_answers_each_caller_its_own_start(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = _start(app.service, "taken", '{"v": 1}')
    store = _store(app)
    commits = store.starts.commits
    with ThreadPoolExecutor(6) as pool:
        with _leader_blocked(app, monkeypatch) as release:
            futures = _queue(
                app,
                pool,
                [
                    ("new", "{}"),
                    ("taken", '{"v": 2}'),  # name taken, other input
                    ("dup", '{"d": 1}'),
                    ("dup", '{"d": 1}'),  # the same start again, in the same batch
                    ("dup", '{"d": 2}'),  # that name, other input, in the same batch
                    ("last", "{}"),
                ],
            )
            release()
        new, taken_again, dup, dup_again, dup_other, last = futures
        assert new.result(WAIT).endswith(":new")
        with pytest.raises(AwsApiError) as e:
            taken_again.result(WAIT)
        assert e.value.code == "ExecutionAlreadyExists" and taken in str(e.value)
        assert dup.result(WAIT).endswith(":dup")
        assert dup_again.result(WAIT) == dup.result()
        with pytest.raises(AwsApiError) as e:
            dup_other.result(WAIT)
        assert e.value.code == "ExecutionAlreadyExists"
        assert last.result(WAIT).endswith(":last")
    # The leader's commit, then one for the whole batch.
    assert store.starts.commits == commits + 2
    row = store.get_execution_by_arn(dup.result())
    assert row is not None and row.input == '{"d": 1}'
    taken_row = store.get_execution_by_arn(taken)
    assert taken_row is not None and taken_row.input == '{"v": 1}'
    for arn in (new.result(), last.result()):
        found = store.get_execution_by_arn(arn)
        assert found is not None and len(store.tasks(found.id)) == 1


def test_a_failed_commit_fails_every_start_of_its_batch_and_records_none(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(app)

    @contextmanager
    def failing_commit() -> Iterator[Any]:
        # The batch's writes are made in a real transaction, which then fails to commit.
        with store.transaction() as conn:
            yield conn
            raise StoreError("COMMIT failed (injected)")

    with ThreadPoolExecutor(3) as pool:
        with _leader_blocked(app, monkeypatch) as release:
            futures = _queue(app, pool, [("a", "{}"), ("b", "{}"), ("c", "{}")])
            monkeypatch.setattr(store.starts, "_transaction", failing_commit)
            release()
        for f in futures:
            with pytest.raises(StoreError, match="COMMIT failed"):
                f.result(WAIT)
    listed = app.service.list_executions(state_machine_arn="m")["executions"]
    assert isinstance(listed, list)
    assert [e["name"] for e in listed if isinstance(e, dict)] == ["leader"]
    with store.read_transaction() as conn:
        counts = conn.execute(
            "SELECT (SELECT COUNT(*) FROM sfn_tasks) AS tasks,"
            " (SELECT COUNT(*) FROM sfn_history_steps) AS steps"
        )
    assert counts == [{"tasks": 1, "steps": 1}]  # the leader's alone


def test_starts_whose_first_step_waits_are_grouped_with_their_timers(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    wait = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    app.service.create_state_machine(name="w", definition=json.dumps(wait))
    store = _store(app)
    commits = store.starts.commits
    with ThreadPoolExecutor(2) as pool:
        with _leader_blocked(app, monkeypatch) as release:
            futures = _queue(app, pool, [("w1", "{}"), ("w2", "{}")], machine="w")
            release()
        arns = [f.result(WAIT) for f in futures]
    assert store.starts.commits == commits + 2  # the leader's, then both waits together
    for arn in arns:
        row = store.get_execution_by_arn(arn)
        assert row is not None and row.status == "RUNNING"
        with store.read_transaction() as conn:
            due = store.next_timer_txn(conn, row.id)
        assert due is not None and due == row.wake_us and due >= row.start_us + 3_600_000_000
