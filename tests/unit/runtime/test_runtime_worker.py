"""The worker on both stores: concurrency, durable timers, crash and takeover, leases, stop."""

from __future__ import annotations

import itertools
import json
import logging
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from tests.support.wait import wait_until

from eltflow.app import App, build_app
from eltflow.clock import SystemClock, VirtualClock
from eltflow.runtime.engine import SimulatedCrash
from eltflow.types import JSON

SLOW = "arn:aws:lambda:us-east-1:123456789012:function:slow"
FLAKY = "arn:aws:lambda:us-east-1:123456789012:function:flaky"
COUNT = "arn:aws:lambda:us-east-1:123456789012:function:count"


@pytest.fixture
def app(store_url: str) -> Iterator[App]:
    app = build_app(state_url=store_url, clock=VirtualClock())
    yield app
    app.close()


def _status(app: App, arn: str) -> str:
    return str(app.service.describe_execution(execution_arn=arn)["status"])


def _types(app: App, arn: str) -> list[str]:
    events = app.service.get_execution_history(execution_arn=arn)["events"]
    assert isinstance(events, list)
    return [str(e["type"]) for e in events if isinstance(e, dict)]


def test_parallel_branches_and_map_iterations_run_concurrently(store_url: str) -> None:
    app = build_app(state_url=store_url, clock=SystemClock())
    # Concurrency proven by meeting, not by timing: the three branches must all be inside their
    # task at once to pass a 3-party barrier, and the first two Map items a 2-party one (a
    # serial run breaks the barrier and fails the task). The count bounds Map at 2.
    branches = threading.Barrier(3, timeout=20)
    pair = threading.Barrier(2, timeout=20)
    lock = threading.Lock()
    items_seen = 0
    items_running = 0
    items_peak = 0

    def branch(p: JSON) -> JSON:
        branches.wait()
        return p

    def item(p: JSON) -> JSON:
        nonlocal items_seen, items_running, items_peak
        with lock:
            items_seen += 1
            first_two = items_seen <= 2
            items_running += 1
            items_peak = max(items_peak, items_running)
        if first_two:
            pair.wait()
        with lock:
            items_running -= 1
        return p

    app.register(SLOW, branch)
    app.register(COUNT, item)

    def task(name: str, resource: str) -> JSON:
        return {
            "StartAt": name,
            "States": {name: {"Type": "Task", "Resource": resource, "End": True}},
        }

    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [task("A", SLOW), task("B", SLOW), task("C", SLOW)],
                "Next": "M",
            },
            "M": {
                "Type": "Map",
                "MaxConcurrency": 2,
                "ItemProcessor": task("D", COUNT),
                "End": True,
            },
        },
    }
    app.service.create_state_machine(name="c", definition=definition)
    arn = str(app.service.start_execution(state_machine_arn="c", input="[1,2,3]")["executionArn"])
    # Map's input is the Parallel output: three copies of the list; it maps over them.
    app.worker().run(until_idle=True)
    assert _status(app, arn) == "SUCCEEDED", app.service.describe_execution(execution_arn=arn)
    assert items_seen == 3 and items_peak == 2
    app.close()


def test_retry_backoff_is_a_durable_timer(app: App) -> None:
    calls: list[float] = []

    def flaky(p: JSON) -> JSON:
        calls.append(app.clock.now().timestamp())
        if len(calls) < 3:
            raise RuntimeError("not yet")
        return {"calls": len(calls)}

    app.register(FLAKY, flaky)
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": FLAKY,
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 600}],
                "End": True,
            }
        },
    }
    app.service.create_state_machine(name="r", definition=definition)
    arn = str(app.service.start_execution(state_machine_arn="r")["executionArn"])
    app.worker().run(until_idle=True)
    assert _status(app, arn) == "SUCCEEDED"
    # Backoff 600 s then 1200 s (BackoffRate 2) on the virtual clock: no thread slept.
    assert [round(b - a) for a, b in itertools.pairwise(calls)] == [600, 1200]


def test_a_crashed_worker_is_taken_over_after_its_lease(store_url: str) -> None:
    clock = VirtualClock()
    counts: Counter[str] = Counter()

    def count(p: JSON) -> JSON:
        assert isinstance(p, dict)
        counts[str(p["k"])] += 1
        return p

    crashing = build_app(state_url=store_url, clock=clock, crash_after_events=6)
    crashing.register(COUNT, count)
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Task", "Resource": COUNT, "Parameters": {"k": "a"}, "Next": "W"},
            "W": {"Type": "Wait", "Seconds": 5, "Next": "B"},
            "B": {"Type": "Task", "Resource": COUNT, "Parameters": {"k": "b"}, "End": True},
        },
    }
    crashing.service.create_state_machine(name="k", definition=definition)
    arn = str(crashing.service.start_execution(state_machine_arn="k")["executionArn"])
    with pytest.raises(SimulatedCrash):
        crashing.worker(lease_seconds=30).run(until_idle=True)
    assert _status(crashing, arn) == "RUNNING"
    crashing.close()

    rescuer = build_app(state_url=store_url, clock=clock)
    rescuer.register(COUNT, count)
    # Its lease is still live: nobody may take the execution yet.
    assert rescuer.store.claim(owner="x", now_us=_us(clock), lease_us=1, limit=10) == []
    clock.advance(31)
    rescuer.worker().run(until_idle=True)
    assert _status(rescuer, arn) == "SUCCEEDED"
    assert counts == {"a": 1, "b": 1}
    types = _types(rescuer, arn)
    assert types.count("TaskStateEntered") == 2 and types.count("WaitStateEntered") == 1
    rescuer.close()


def _us(clock: VirtualClock) -> int:
    return int(clock.now().timestamp() * 1_000_000)


def test_stop_while_a_task_runs_discards_its_result(store_url: str) -> None:
    app = build_app(state_url=store_url, clock=SystemClock())
    gate = threading.Event()
    entered = threading.Event()

    def slow(p: JSON) -> JSON:
        entered.set()
        gate.wait(10)
        return {"late": True}

    app.register(SLOW, slow)
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": SLOW, "End": True}}}
    app.service.create_state_machine(name="s", definition=definition)
    arn = str(app.service.start_execution(state_machine_arn="s")["executionArn"])
    worker = app.worker(poll_seconds=0.05)
    thread = threading.Thread(target=worker.run, kwargs={"until_idle": True})
    thread.start()
    assert entered.wait(10)
    app.service.stop_execution(execution_arn=arn, error="Stop", cause="by test")
    gate.set()
    thread.join(10)
    assert not thread.is_alive()
    desc = app.service.describe_execution(execution_arn=arn)
    assert desc["status"] == "ABORTED" and desc["error"] == "Stop" and "output" not in desc
    assert "TaskSucceeded" not in _types(app, arn) and "LambdaFunctionSucceeded" not in _types(
        app, arn
    )
    app.close()


def test_task_timeout_fails_the_task(store_url: str) -> None:
    app = build_app(state_url=store_url, clock=SystemClock())

    release = threading.Event()

    def stuck(p: JSON) -> JSON:
        release.wait(30)  # outlives TimeoutSeconds; released once the test has its answer
        return p

    app.register(SLOW, stuck)
    definition = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": SLOW, "TimeoutSeconds": 1, "End": True}},
    }
    app.service.create_state_machine(name="t", definition=definition)
    arn = str(app.service.start_execution(state_machine_arn="t")["executionArn"])

    def timed_out() -> bool:
        if app.service.describe_execution(execution_arn=arn)["status"] == "RUNNING":
            return False
        release.set()  # the worker drains in-flight tasks before it returns
        return True

    try:
        app.worker(poll_seconds=0.05).run(until=timed_out)
    finally:
        release.set()
    desc = app.service.describe_execution(execution_arn=arn)
    assert desc["status"] == "FAILED" and desc["error"] == "States.Timeout"
    app.close()


def test_waiting_executions_cost_rows_not_threads(app: App) -> None:
    definition = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}},
    }
    app.service.create_state_machine(name="w", definition=definition)
    for i in range(200):
        app.service.start_execution(state_machine_arn="w", name=f"w{i}")
    worker = app.worker()
    worker.run(until=lambda: app.store.count_by_status().get("RUNNING", 0) == 0)
    assert app.store.count_by_status() == {"SUCCEEDED": 200}
    assert threading.active_count() < 20


def test_machine_timeout_times_the_execution_out(app: App) -> None:
    definition = {
        "TimeoutSeconds": 10,
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}},
    }
    app.service.create_state_machine(name="to", definition=definition)
    arn = str(app.service.start_execution(state_machine_arn="to")["executionArn"])
    app.worker().run(until_idle=True)
    desc = app.service.describe_execution(execution_arn=arn)
    assert desc["status"] == "TIMED_OUT"
    start = app.service.describe_execution(execution_arn=arn)
    assert str(start["stopDate"]) > str(start["startDate"])


def test_two_workers_on_postgres_run_each_execution_once(pg_url: str) -> None:
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def count(p: JSON) -> JSON:
        assert isinstance(p, dict)
        with lock:
            counts[str(p["n"])] += 1
        return p

    apps = [build_app(state_url=pg_url, clock=SystemClock()) for _ in range(2)]
    for a in apps:
        a.register(COUNT, count)
    definition = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": COUNT, "End": True}},
    }
    apps[0].service.create_state_machine(name="once", definition=definition)
    for n in range(500):
        apps[0].service.start_execution(
            state_machine_arn="once", name=f"e{n}", input=json.dumps({"n": n})
        )
    workers = [a.worker(batch=16, poll_seconds=0.05) for a in apps]
    threads = [threading.Thread(target=w.run, kwargs={"until_idle": True}) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(240)
    assert apps[0].store.count_by_status() == {"SUCCEEDED": 500}
    assert len(counts) == 500 and set(counts.values()) == {1}
    # Both workers took part.
    assert all(w.stats.claimed > 0 for w in workers)
    for a in apps:
        a.close()


def _listening(app: App, pg_url: str) -> bool:
    """True once the worker waits for a notification: its listener has run LISTEN (a
    notification sent before that would be lost) and put its channel among the idle ones
    (what a start notifies), both before it waits."""
    del pg_url
    with app.db.transaction() as conn:
        rows = conn.execute("SELECT COUNT(*) AS n FROM sfn_idle_listeners")
    return int(rows[0]["n"]) > 0


def test_an_idle_postgres_worker_wakes_on_notify(pg_url: str) -> None:
    app = build_app(state_url=pg_url, clock=SystemClock())
    definition = {"StartAt": "P", "States": {"P": {"Type": "Wait", "Seconds": 0, "End": True}}}
    app.service.create_state_machine(name="n", definition=definition)
    # Polling alone would take up to 30 s to notice new work.
    worker = app.worker(poll_seconds=30, idle_seconds=30)
    thread = threading.Thread(target=worker.run)
    thread.start()
    wait_until(lambda: _listening(app, pg_url), 10, what="the idle worker to LISTEN")
    arn = str(app.service.start_execution(state_machine_arn="n")["executionArn"])
    # Well inside the 30 s poll: only the notification can have woken it.
    wait_until(lambda: _status(app, arn) != "RUNNING", 10, what="the notified worker to run")
    worker.stop()
    thread.join(10)
    assert not thread.is_alive()
    assert _status(app, arn) == "SUCCEEDED"
    app.close()


def test_a_start_wakes_one_idle_postgres_listener_not_all(pg_url: str) -> None:
    # Two idle listeners (two processes' stores, here two apps) wait for work; one start
    # notifies exactly one of them (issue 16: one NOTIFY woke every worker to race for the
    # same claim). The other sleeps out its timeout.
    apps = [build_app(state_url=pg_url, clock=SystemClock()) for _ in range(3)]
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 0, "End": True}}}
    apps[2].service.create_state_machine(name="one", definition=definition)
    woken: dict[int, bool] = {}

    def listen(i: int) -> None:
        woken[i] = apps[i].store.wait_for_work(1.5)

    threads = [threading.Thread(target=listen, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()

    def idle_listeners() -> int:
        with apps[2].db.transaction() as conn:
            return int(conn.execute("SELECT COUNT(*) AS n FROM sfn_idle_listeners")[0]["n"])

    wait_until(lambda: idle_listeners() == 2, 10, what="both listeners to wait")
    apps[2].service.start_execution(state_machine_arn="one")
    for t in threads:
        t.join(10)
    assert sorted(woken.values()) == [False, True]
    assert idle_listeners() == 0  # each took its row back when it stopped waiting
    for app in apps:
        app.close()


def test_grouped_steps_commit_together_and_a_failing_one_fails_alone(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The worker records the first steps of the executions it claims in one transaction
    # (group commit). One of them has a snapshot the interpreter cannot read: the group rolls
    # back and its steps are recorded one at a time, so that execution ends FAILED
    # (States.Runtime) and the others run to their end, each task run once.
    app = build_app(state_url=store_url, clock=VirtualClock())
    counts: Counter[str] = Counter()

    def count(p: JSON) -> JSON:
        assert isinstance(p, dict)
        counts[str(p["k"])] += 1
        return p

    app.register(COUNT, count)
    definition = {
        "StartAt": "A",
        "States": {"A": {"Type": "Task", "Resource": COUNT, "End": True}},
    }
    app.service.create_state_machine(name="g", definition=definition)
    arns = [
        str(
            app.service.start_execution(
                state_machine_arn="g", name=f"e{i}", input=json.dumps({"k": f"e{i}"})
            )["executionArn"]
        )
        for i in range(4)
    ]
    broken = app.store.get_execution_by_arn(arns[2])
    assert broken is not None
    with app.db.transaction() as conn:
        conn.execute("UPDATE sfn_executions SET snapshot = '[]' WHERE id = :id", {"id": broken.id})
    with caplog.at_level(logging.INFO, logger="eltflow.runtime.worker"):
        stats = app.worker(batch=10).run(until_idle=True)
    assert stats.claimed == 4
    assert "a group of 4 steps failed, recording them one by one" in caplog.text
    assert [_status(app, a) for a in arns] == ["SUCCEEDED", "SUCCEEDED", "FAILED", "SUCCEEDED"]
    assert app.service.describe_execution(execution_arn=arns[2])["error"] == "States.Runtime"
    assert counts == {"e0": 1, "e1": 1, "e3": 1}
    app.close()


_SQLITE_WORKER = """
import sys
from eltflow.app import build_app
from eltflow.clock import SystemClock
app = build_app(state_url=sys.argv[1], clock=SystemClock())
app.register(sys.argv[2], lambda p: p)
worker = app.worker(poll_seconds=30, idle_seconds=30)  # only a wake-up makes it claim
import threading
thread = threading.Thread(target=worker.run)
thread.start()
print("ready", flush=True)
sys.stdin.readline()
worker.stop()
thread.join(30)
app.close()
"""


def _succeeded(app: App, arn: str) -> bool:
    return _status(app, arn) == "SUCCEEDED"


def test_a_sqlite_worker_hears_of_starts_made_by_another_process(tmp_path: Path) -> None:
    # `eltflow worker` in one process, starts from another (`eltflow start`, the HTTP
    # endpoint): each start wakes the worker, well inside its 30 s poll (issue 16: SQLite
    # workers heard only of their own process's starts; others waited for the poll).
    url = f"sqlite:///{tmp_path / 'state.db'}"
    app = build_app(state_url=url, clock=SystemClock())
    task = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": COUNT, "End": True}}}
    app.service.create_state_machine(name="quick", definition=task)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    worker = subprocess.Popen(
        [sys.executable, "-c", _SQLITE_WORKER, url, COUNT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert worker.stdout is not None and worker.stdin is not None
        assert worker.stdout.readline().strip() == "ready"
        # One after another: from the second on, the worker waits (idle) when it is started.
        for n in range(3):
            arn = str(
                app.service.start_execution(state_machine_arn="quick", name=f"q{n}")["executionArn"]
            )
            wait_until(partial(_succeeded, app, arn), 10, what=f"q{n} to run")
        worker.stdin.write("stop\n")
        worker.stdin.flush()
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(30)
        for pipe in (worker.stdin, worker.stdout):
            if pipe is not None:
                pipe.close()
        app.close()
