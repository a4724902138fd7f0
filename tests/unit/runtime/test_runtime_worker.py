"""The worker on both stores: concurrency, durable timers, crash and takeover, leases, stop."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest

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
    running = 0
    peak = 0
    lock = threading.Lock()

    def slow(p: JSON) -> JSON:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.3)
        with lock:
            running -= 1
        return p

    app.register(SLOW, slow)

    def task(name: str) -> JSON:
        return {"StartAt": name, "States": {name: {"Type": "Task", "Resource": SLOW, "End": True}}}

    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Parallel", "Branches": [task("A"), task("B"), task("C")], "Next": "M"},
            "M": {"Type": "Map", "MaxConcurrency": 2, "ItemProcessor": task("D"), "End": True},
        },
    }
    app.service.create_state_machine(name="c", definition=definition)
    arn = str(app.service.start_execution(state_machine_arn="c", input="[1,2,3]")["executionArn"])
    # Map's input is the Parallel output: three copies of the list; it maps over them.
    started = time.monotonic()
    app.worker().run(until_idle=True)
    elapsed = time.monotonic() - started
    assert _status(app, arn) == "SUCCEEDED"
    # 3 branches at once (0.3 s) + 3 items two at a time (0.6 s); serially it would be 1.8 s.
    assert peak == 3 and elapsed < 1.5
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

    def slow(p: JSON) -> JSON:
        time.sleep(2)
        return p

    app.register(SLOW, slow)
    definition = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": SLOW, "TimeoutSeconds": 1, "End": True}},
    }
    app.service.create_state_machine(name="t", definition=definition)
    arn = str(app.service.start_execution(state_machine_arn="t")["executionArn"])
    app.worker(poll_seconds=0.05).run(until_idle=True)
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


def test_an_idle_postgres_worker_wakes_on_notify(pg_url: str) -> None:
    app = build_app(state_url=pg_url, clock=SystemClock())
    definition = {"StartAt": "P", "States": {"P": {"Type": "Wait", "Seconds": 0, "End": True}}}
    app.service.create_state_machine(name="n", definition=definition)
    # Polling alone would take up to 30 s to notice new work.
    worker = app.worker(poll_seconds=30, idle_seconds=30)
    thread = threading.Thread(target=worker.run)
    thread.start()
    time.sleep(0.5)  # let it go idle (LISTENing)
    started = time.monotonic()
    arn = str(app.service.start_execution(state_machine_arn="n")["executionArn"])
    while _status(app, arn) == "RUNNING" and time.monotonic() - started < 10:
        time.sleep(0.02)
    latency = time.monotonic() - started
    worker.stop()
    app.service.start_execution(state_machine_arn="n")  # wakes it so it sees stop() now
    thread.join(10)
    assert not thread.is_alive()
    assert _status(app, arn) == "SUCCEEDED" and latency < 3
    app.close()
