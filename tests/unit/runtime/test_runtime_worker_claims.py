"""How workers claim and wake (issue 16): several workers run each execution once, an idle
worker runs no claim of its own before it waits, and a notification that came while a worker
was busy does not wake it once the work it announced is gone."""

from __future__ import annotations

import json
import select
import threading
from collections import Counter
from functools import partial

from tests.support.wait import wait_until

from eltflow.app import App, build_app
from eltflow.clock import SystemClock
from eltflow.store.rows import to_us
from eltflow.types import JSON

COUNT = "arn:aws:lambda:us-east-1:123456789012:function:count"
TASK = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": COUNT, "End": True}}}


def _status(app: App, arn: str) -> str:
    return str(app.service.describe_execution(execution_arn=arn)["status"])


def _succeeded(app: App, arn: str) -> bool:
    return _status(app, arn) == "SUCCEEDED"


def _idle_listeners(app: App) -> int:
    with app.db.transaction() as conn:
        return int(conn.execute("SELECT COUNT(*) AS n FROM sfn_idle_listeners")[0]["n"])


def test_workers_given_executions_while_they_run_run_each_once(store_url: str) -> None:
    # Three workers (three apps: on PostgreSQL as three processes would) while executions are
    # started one after another: each start wakes one idle worker, busy ones claim what is
    # left. Every execution ends SUCCEEDED and its task ran exactly once.
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def count(p: JSON) -> JSON:
        assert isinstance(p, dict)
        with lock:
            counts[str(p["n"])] += 1
        return p

    apps = [build_app(state_url=store_url, clock=SystemClock()) for _ in range(3)]
    for a in apps:
        a.register(COUNT, count)
    apps[0].service.create_state_machine(name="once", definition=TASK)
    workers = [a.worker(batch=8, poll_seconds=0.05, idle_seconds=0.5) for a in apps]
    threads = [threading.Thread(target=w.run) for w in workers]
    for t in threads:
        t.start()
    try:
        for n in range(120):
            apps[0].service.start_execution(
                state_machine_arn="once", name=f"e{n}", input=json.dumps({"n": n})
            )
        wait_until(
            lambda: apps[0].store.count_by_status() == {"SUCCEEDED": 120},
            120,
            what="every execution to succeed",
        )
    finally:
        for w in workers:
            w.stop()
        for t in threads:
            t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert len(counts) == 120 and set(counts.values()) == {1}
    assert sum(w.stats.claimed for w in workers) >= 120
    assert sum(w.stats.leases_lost for w in workers) == 0
    for a in apps:
        a.close()


def test_an_idle_postgres_worker_claims_only_when_woken(pg_url: str) -> None:
    # One execution at a time, each started once the worker waits: the start wakes it, it
    # claims that execution and, once it is done, waits again without a claim of its own
    # (its wait finds work that is runnable already). Before issue 16's change every return
    # to idle ran a claim that came back empty. Only the first claim, at startup, is empty.
    app = build_app(state_url=pg_url, clock=SystemClock())
    app.register(COUNT, lambda p: p)
    app.service.create_state_machine(name="one", definition=TASK)
    # Polls far apart: only notifications can make it claim within the test.
    worker = app.worker(poll_seconds=30, idle_seconds=30)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        for n in range(5):
            wait_until(lambda: _idle_listeners(app) == 1, 20, what="the worker to wait")
            arn = str(
                app.service.start_execution(state_machine_arn="one", name=f"e{n}")["executionArn"]
            )
            wait_until(partial(_succeeded, app, arn), 20, what=f"e{n} to succeed")
        wait_until(lambda: _idle_listeners(app) == 1, 20, what="the worker to wait")
    finally:
        worker.stop()
        app.service.start_execution(state_machine_arn="one", name="last")  # wakes it to stop
        thread.join(30)
    assert not thread.is_alive()
    stats = worker.stats
    assert stats.empty_claims == 1  # at startup, before its first wait
    assert stats.claimed >= 5
    assert stats.claims == stats.claimed + stats.empty_claims  # one execution per claim
    app.close()


def test_a_postgres_wait_returns_at_once_when_work_is_runnable_already(pg_url: str) -> None:
    # The execution was started before this store listened, so no notification can tell it:
    # the wait finds the runnable execution itself, returns True without waiting out its
    # timeout, and does not put itself among the idle listeners a start would wake.
    starter = build_app(state_url=pg_url, clock=SystemClock())
    waiter = build_app(state_url=pg_url, clock=SystemClock())
    starter.service.create_state_machine(name="w", definition=TASK)
    starter.service.start_execution(state_machine_arn="w")
    clock = SystemClock()
    assert waiter.store.wait_for_work(60, runnable_at=to_us(clock.now())) is True
    assert _idle_listeners(starter) == 0
    # Not asked to look (a worker for one execution): it waits, as an idle listener.
    assert waiter.store.wait_for_work(0.05) is False
    # Once it is claimed, nothing is runnable: the wait waits.
    claimed = starter.store.claim(
        owner="other", now_us=to_us(clock.now()), lease_us=60_000_000, limit=10
    )
    assert len(claimed) == 1
    assert waiter.store.wait_for_work(0.05, runnable_at=to_us(clock.now())) is False
    assert _idle_listeners(starter) == 0  # it took its row back when the wait ended
    starter.close()
    waiter.close()


def test_a_notification_that_came_while_busy_does_not_wake_a_postgres_waiter(
    pg_url: str,
) -> None:
    # The waiter listens but is busy (not waiting) when a start notifies everyone; another
    # worker claims that execution. The notification is stale by the time the waiter waits:
    # it must not end the wait (before issue 16's change it did, and the woken worker ran an
    # empty claim).
    starter = build_app(state_url=pg_url, clock=SystemClock())
    waiter = build_app(state_url=pg_url, clock=SystemClock())
    starter.service.create_state_machine(name="s", definition=TASK)
    assert waiter.store.wait_for_work(0.01) is False  # listening now, then busy
    assert _idle_listeners(starter) == 0
    starter.service.start_execution(state_machine_arn="s")  # nobody idle: notifies all
    listener = waiter.store._listener  # the waiter's LISTEN connection
    ready, _, _ = select.select([listener.fileno()], [], [], 30)
    assert ready, "the notification reached the waiter's connection"
    clock = SystemClock()
    claimed = starter.store.claim(
        owner="other", now_us=to_us(clock.now()), lease_us=60_000_000, limit=10
    )
    assert len(claimed) == 1
    assert waiter.store.wait_for_work(0.5, runnable_at=to_us(clock.now())) is False
    starter.close()
    waiter.close()
