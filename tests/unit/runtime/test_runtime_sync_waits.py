"""``states:startExecution.sync`` / ``.sync:2`` tasks completed from their child's end (issue 16;
runtime/sync_waits.py), on SQLite and PostgreSQL: no thread waits for the child, the parent is
let go while it waits, its task completes once the child ends (also after a crash in between),
with the outcome the integration builds for a child it finds ended, and the parent's stop or
task timeout stops the child as the poll did."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from eltflow.app import App, build_app
from eltflow.errors import StoreError
from eltflow.integrations.base import TaskRequest
from eltflow.integrations.states import START_EXECUTION, StartExecutionIntegration
from eltflow.runtime import arns
from eltflow.runtime.engine import SimulatedCrash

CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"
# A child that waits until the test answers its token (no timer: nothing to poll).
CHILD = {
    "StartAt": "T",
    "States": {
        "T": {
            "Type": "Task",
            "Resource": CALLBACK,
            "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
    },
}


@pytest.fixture
def app(store_url: str) -> Iterator[App]:
    app = build_app(state_url=store_url)
    yield app
    app.close()


class Tokens:
    """The children's task tokens, as the callable integration receives them."""

    def __init__(self, app: App) -> None:
        self.got: list[str] = []
        self.lock = threading.Lock()
        app.register(CALLBACK, self)

    def __call__(self, params: Any) -> Any:
        with self.lock:
            self.got.append(str(params["Payload"]["token"]))
        return {"StatusCode": 200}


def _parent(pattern: str, **task: Any) -> dict[str, Any]:
    return {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": f"{START_EXECUTION}{pattern}",
                "Parameters": {
                    "StateMachineArn": arns.machine_arn("child"),
                    "Input": {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"},
                },
                "End": True,
                **task,
            }
        },
    }


def _machines(app: App, parent: dict[str, Any], child: dict[str, Any] = CHILD) -> None:
    app.service.create_state_machine(name="child", definition=json.dumps(child))
    app.service.create_state_machine(name="parent", definition=json.dumps(parent))


def _start(app: App, name: str = "p") -> str:
    return str(app.service.start_execution(state_machine_arn="parent", name=name)["executionArn"])


def _status(app: App, arn: str) -> str:
    return str(app.service.describe_execution(execution_arn=arn)["status"])


def _children(app: App) -> list[str]:
    listed: Any = app.service.list_executions(state_machine_arn="child")["executions"]
    return [str(e["executionArn"]) for e in listed]


def _parked(app: App, arn: str) -> bool:
    """The parent's .sync task waits for its child's end: parked, and the parent let go."""
    row = app.store.get_execution_by_arn(arn)
    assert row is not None
    tasks = app.store.tasks(row.id)
    return row.lease_owner is None and [t.awaits is not None for t in tasks] == [True]


class Background:
    """A worker running in a thread until stopped."""

    def __init__(self, app: App, **options: Any) -> None:
        self.worker = app.worker(**options)
        self.thread = threading.Thread(target=self.worker.run)

    def __enter__(self) -> Background:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.worker.stop()  # ends its wait at once, not at its poll (30 s in some tests)
        self.thread.join()


def _until(condition: Callable[[], bool], seconds: float = 30.0) -> float:
    """Wait until ``condition()``; how long it took."""
    t0 = time.monotonic()
    while not condition():
        assert time.monotonic() - t0 < seconds, "timed out"
        time.sleep(0.005)
    return time.monotonic() - t0


def _wait_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("eltflow-wait")]


@pytest.mark.parametrize("pattern", [".sync", ".sync:2"])
def test_a_parent_waits_with_no_thread_and_completes_from_its_childs_end(
    app: App, pattern: str
) -> None:
    tokens = Tokens(app)
    _machines(app, _parent(pattern))
    parents = [_start(app, f"p{i}") for i in range(3)]
    # Polls far apart: only the child's end can complete the parents quickly.
    with Background(app, poll_seconds=30.0, idle_seconds=30.0):
        _until(lambda: len(tokens.got) == 3 and all(_parked(app, p) for p in parents))
        assert _wait_threads() == []  # no thread waits for a child
        assert all(_status(app, p) == "RUNNING" for p in parents)
        t0 = time.monotonic()
        for token in tokens.got:
            app.service.send_task_success(task_token=token, output='{"n": 42}')
        _until(lambda: all(_status(app, p) == "SUCCEEDED" for p in parents))
        took = time.monotonic() - t0
    assert took < 10.0  # not a poll's 30 s
    assert _wait_threads() == []
    out = json.loads(str(app.service.describe_execution(execution_arn=parents[0])["output"]))
    assert out["Status"] == "SUCCEEDED"
    assert out["Output"] == ({"n": 42} if pattern == ".sync:2" else '{"n":42}')
    events: Any = app.service.get_execution_history(execution_arn=parents[0])["events"]
    assert [e["type"] for e in events if str(e["type"]).startswith("Task")] == [
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
    ]


def _as_the_poll_answers(app: App, child: str, pattern: str) -> tuple[str, str]:
    """What the integration's own answer for the ended ``child`` is (the poll's path)."""
    integration = StartExecutionIntegration(app.service)
    request = TaskRequest(
        resource=f"{START_EXECUTION}{pattern}",
        parameters={"StateMachineArn": arns.machine_arn("child")},
        recorded=child,
    )
    with pytest.raises(Exception) as failed:
        integration(request)
    error = getattr(failed.value, "error", None)
    cause = getattr(failed.value, "cause", None)
    assert isinstance(error, str) and isinstance(cause, str), failed.value
    return error, cause


@pytest.mark.parametrize(
    ("ending", "status"),
    [("fail", "FAILED"), ("stop", "ABORTED"), ("timeout", "TIMED_OUT")],
)
def test_a_child_that_does_not_succeed_fails_the_task_as_before(
    app: App, ending: str, status: str
) -> None:
    """FAILED (SendTaskFailure), ABORTED (StopExecution) and TIMED_OUT (the child's own
    TimeoutSeconds) children fail the parent's task with the error and cause the integration
    gives for a child it finds so ended (the poll's answer)."""
    tokens = Tokens(app)
    child = dict(CHILD, TimeoutSeconds=1) if ending == "timeout" else CHILD
    _machines(app, _parent(".sync:2"), child)
    parent = _start(app)
    with Background(app, poll_seconds=0.05):
        _until(lambda: len(tokens.got) == 1 and _parked(app, parent))
        [child_arn] = _children(app)
        if ending == "fail":
            app.service.send_task_failure(task_token=tokens.got[0], error="Bad", cause="why")
        elif ending == "stop":
            app.service.stop_execution(execution_arn=child_arn, error="E", cause="stopped")
        _until(lambda: _status(app, parent) != "RUNNING")
    assert _status(app, child_arn) == status
    assert _status(app, parent) == "FAILED"
    events: Any = app.service.get_execution_history(execution_arn=parent)["events"]
    [failed] = [e for e in events if e["type"] == "TaskFailed"]
    details = failed["taskFailedEventDetails"]
    assert (details["error"], details["cause"]) == _as_the_poll_answers(app, child_arn, ".sync:2")
    assert json.loads(details["cause"])["Status"] == status


def test_stopping_a_waiting_parent_stops_its_child(app: App) -> None:
    tokens = Tokens(app)
    _machines(app, _parent(".sync"))
    parent = _start(app)
    with Background(app, poll_seconds=0.05):
        _until(lambda: len(tokens.got) == 1 and _parked(app, parent))
        [child] = _children(app)
        app.service.stop_execution(execution_arn=parent)
        _until(lambda: _status(app, child) != "RUNNING")
    described = app.service.describe_execution(execution_arn=child)
    assert (described["status"], described["error"]) == ("ABORTED", "States.Aborted")
    assert described["cause"] == f"Stopped because its parent {parent} stopped"


def test_a_waiting_task_that_times_out_stops_its_child(app: App) -> None:
    tokens = Tokens(app)
    _machines(app, _parent(".sync:2", TimeoutSeconds=1))
    parent = _start(app)
    with Background(app, poll_seconds=0.05):
        _until(lambda: len(tokens.got) == 1)
        _until(lambda: _status(app, parent) != "RUNNING")
        [child] = _children(app)
        _until(lambda: _status(app, child) != "RUNNING")
    assert _status(app, parent) == "FAILED"
    events: Any = app.service.get_execution_history(execution_arn=parent)["events"]
    assert "TaskTimedOut" in [e["type"] for e in events]
    described = app.service.describe_execution(execution_arn=child)
    assert (described["status"], described["error"]) == ("ABORTED", "States.Timeout")
    assert described["cause"] == f"Stopped because its parent {parent} timed out"


def test_a_crash_between_the_childs_end_and_the_parents_step_loses_nothing(
    store_url: str,
) -> None:
    """The child's last step commits, then the process dies (the engine's crash hook) before
    any parent step: a worker started afterwards, in a new app on the same store, completes
    the parent from the child's record."""
    first = build_app(state_url=store_url)
    tokens = Tokens(first)
    _machines(first, _parent(".sync:2"))
    parent = _start(first)
    first.worker(poll_seconds=0.01).run(
        until=lambda: len(tokens.got) == 1 and _parked(first, parent)
    )
    # The child ends in this step; the hook then "kills" the process right after its COMMIT.
    first.engine.crash_after_events = first.engine.events_recorded + 1
    with pytest.raises(SimulatedCrash):
        first.service.send_task_success(task_token=tokens.got[0], output='{"n": 1}')
    [child] = _children(first)
    assert (_status(first, child), _status(first, parent)) == ("SUCCEEDED", "RUNNING")
    first.close()

    second = build_app(state_url=store_url)
    try:
        second.worker(poll_seconds=0.01).run(until=lambda: _status(second, parent) != "RUNNING")
        out = json.loads(str(second.service.describe_execution(execution_arn=parent)["output"]))
        assert (out["ExecutionArn"], out["Output"]) == (child, {"n": 1})
    finally:
        second.close()


def test_a_parent_left_waiting_by_a_dead_worker_completes_under_the_next(store_url: str) -> None:
    """The worker goes away while the child runs (the parent parked); the child ends with no
    worker running; a new app's worker completes the parent."""
    first = build_app(state_url=store_url)
    tokens = Tokens(first)
    _machines(first, _parent(".sync"))
    parent = _start(first)
    first.worker(poll_seconds=0.01).run(
        until=lambda: len(tokens.got) == 1 and _parked(first, parent)
    )
    first.service.send_task_success(task_token=tokens.got[0], output='{"n": 2}')
    first.close()

    second = build_app(state_url=store_url)
    try:
        second.worker(poll_seconds=0.01).run(until_idle=True)
        out = json.loads(str(second.service.describe_execution(execution_arn=parent)["output"]))
        assert out["Output"] == '{"n":2}'
    finally:
        second.close()


def test_a_link_that_fails_on_the_store_reattaches_to_the_child_started(app: App) -> None:
    """The link to the child (SyncWaitStore.watch) fails on the store after the child was
    started and checkpointed (PostgreSQL: a deadlock between its foreign-key check on the
    parent's row and a grouped step's guard locking the parent, then the child); the task's
    next try re-attaches to that child instead of starting a second one. Fails without: two
    children, two task tokens (the test of the parents' wait then never saw its 3 tokens)."""
    tokens = Tokens(app)
    _machines(app, _parent(".sync:2"))
    waits = app.store.sync_waits
    real = waits.watch
    failed: list[str] = []

    def fails_once(child_arn: str, *, parent_id: str, task_id: str) -> str | None:
        if not failed:
            failed.append(child_arn)
            raise StoreError("deadlock detected")
        return real(child_arn, parent_id=parent_id, task_id=task_id)

    waits.watch = fails_once  # type: ignore[method-assign]
    parent = _start(app)
    with Background(app, poll_seconds=0.05):
        _until(lambda: len(tokens.got) >= 1 and _parked(app, parent))
        assert _children(app) == failed  # the one started before the failure, no other
        assert len(tokens.got) == 1
        app.service.send_task_success(task_token=tokens.got[0], output='{"n": 1}')
        _until(lambda: _status(app, parent) != "RUNNING")
    assert _status(app, parent) == "SUCCEEDED"
    assert _children(app) == failed and len(tokens.got) == 1


def test_linking_a_child_does_not_wait_for_a_step_holding_its_parent(pg_url: str) -> None:
    """PostgreSQL: watch's insert into sfn_sync_waits checks its foreign key on the parent's
    row (KEY SHARE) while it holds the child's row; a step's lock on the parent must not hold
    it up, or a grouped step that locked the parent, then the child, deadlocked with it (the
    server aborted one of them after deadlock_timeout; the flaky .sync test's cause). Fails
    with the guard's FOR UPDATE: the link waits for the step's transaction."""
    app = build_app(state_url=pg_url)
    try:
        Tokens(app)
        _machines(app, _parent(".sync"))
        parent = app.store.get_execution_by_arn(_start(app))
        child_arn = str(
            app.service.start_execution(state_machine_arn="child", name="c")["executionArn"]
        )
        assert parent is not None
        linked: list[str | None] = []

        def link() -> None:
            linked.append(app.store.sync_waits.watch(child_arn, parent_id=parent.id, task_id="t"))

        with app.store.transaction() as conn:
            guard = app.store.guard_execution_txn(conn, parent.id, lambda current: True)
            assert guard.holds()  # the parent's row is locked as a step's guard locks it
            linker = threading.Thread(target=link)
            linker.start()
            linker.join(timeout=20)
            done = not linker.is_alive()
        linker.join()
        assert done, "the link waited for the step holding the parent"
        assert linked and linked[0] is not None
    finally:
        app.close()


def test_a_child_linked_after_its_parent_stopped_is_stopped(app: App) -> None:
    """The parent is stopped while its task starts the child, before the child is recorded
    as the task's (no checkpoint), and the worker lets the parent go (recording the task's
    submission finds it ended) before the child is linked: the parent's end did not know the
    child, so the worker stops it when the task's run reports the link (Engine.unwait).
    Fails without: the child runs on."""
    Tokens(app)
    _machines(app, _parent(".sync"))
    real = StartExecutionIntegration(app.service)
    background = Background(app, poll_seconds=0.05)

    def stop_first(request: TaskRequest) -> Any:
        report, link = request.submitted, request.await_execution
        assert report is not None and link is not None
        row = app.store.get_execution_by_arn(request.execution_arn)
        assert row is not None

        def stop_then_report(response: Any) -> None:
            app.service.stop_execution(execution_arn=request.execution_arn)
            report(response)

        def link_once_let_go(child: str) -> bool:
            # The worker records the reported submission, sees the parent ended, lets it go.
            _until(lambda: row.id not in background.worker._held)
            return link(child)

        return real(
            replace(
                request,
                checkpoint=None,
                submitted=stop_then_report,
                await_execution=link_once_let_go,
            )
        )

    app.registry.add_prefix(START_EXECUTION, stop_first)
    parent = _start(app)
    with background:
        _until(lambda: _status(app, parent) == "ABORTED" and len(_children(app)) == 1)
        [child] = _children(app)
        _until(lambda: _status(app, child) != "RUNNING")
    described = app.service.describe_execution(execution_arn=child)
    assert (described["status"], described["error"]) == ("ABORTED", "States.Aborted")


def test_only_an_awaited_childs_end_wakes_parents(app: App, monkeypatch: Any) -> None:
    """The wake-up statement runs at the end of an execution a .sync task linked itself to
    (awaited), not at every execution's end (issue 16: ~5 us per durable execution)."""
    tokens = Tokens(app)
    _machines(app, _parent(".sync"))
    woken: list[str] = []
    real = app.store.sync_waits.wake_parents_txn

    def wake(conn: Any, child_id: str, now_us: int) -> bool:
        woken.append(child_id)
        return real(conn, child_id, now_us)

    monkeypatch.setattr(app.store.sync_waits, "wake_parents_txn", wake)
    alone = str(app.service.start_execution(state_machine_arn="child")["executionArn"])
    parent = _start(app)
    with Background(app, poll_seconds=0.05):
        _until(lambda: len(tokens.got) == 2 and _parked(app, parent))
        for token in tokens.got:
            app.service.send_task_success(task_token=token, output="{}")
        _until(lambda: _status(app, parent) != "RUNNING" and _status(app, alone) != "RUNNING")
    [child] = [c for c in _children(app) if c != alone]
    rows = {arn: app.store.get_execution_by_arn(arn) for arn in (alone, child, parent)}
    assert {arn: row is not None and row.awaited for arn, row in rows.items()} == {
        alone: False,
        child: True,
        parent: False,
    }
    child_row = rows[child]
    assert child_row is not None and woken == [child_row.id]
    assert _status(app, parent) == "SUCCEEDED"


def test_a_childs_last_step_read_before_its_link_wakes_the_parent(
    app: App, monkeypatch: Any
) -> None:
    """The child's last step is evaluated from a row read before the parent's task linked
    itself (not awaited yet), and written after the parent was parked: its guard sees the row
    changed (awaited), so the step is evaluated again and wakes the parent. Fails without
    awaited in the guard: the parent sleeps until a poll (none here within the test)."""
    tokens = Tokens(app)
    _machines(app, _parent(".sync:2"))
    real = StartExecutionIntegration(app.service)
    evaluated = threading.Event()

    def link_late(request: TaskRequest) -> Any:
        link = request.await_execution
        assert link is not None

        def link_once_evaluated(child: str) -> bool:
            assert evaluated.wait(30.0)
            return link(child)

        return real(replace(request, await_execution=link_once_evaluated))

    app.registry.add_prefix(START_EXECUTION, link_late)
    parent = _start(app)
    engine: Any = app.engine
    real_write = engine._write
    writes: list[str] = []

    def write_once_parked(write: Any) -> bool:
        if write.execution_id == child_id and not writes:
            writes.append(write.execution_id)
            evaluated.set()  # the link is made now, and the parent parked
            _until(lambda: _parked(app, parent))
        return bool(real_write(write))

    # Polls often (the worker must claim the child while the parent's task waits in it): a
    # parent with no wake-up is never claimed, however often it polls.
    with Background(app, poll_seconds=0.05):
        _until(lambda: len(tokens.got) == 1)
        [child] = _children(app)
        row = app.store.get_execution_by_arn(child)
        assert row is not None and not row.awaited
        child_id = row.id

        def let_go() -> bool:  # the worker lets the child go while it waits for its token
            got = app.store.get_execution(child_id)
            return got is not None and got.lease_owner is None

        _until(let_go)  # (so nothing else changes it while its last step is in flight)
        monkeypatch.setattr(engine, "_write", write_once_parked)
        app.service.send_task_success(task_token=tokens.got[0], output='{"n": 5}')
        assert _status(app, child) == "SUCCEEDED"
        _until(lambda: _status(app, parent) != "RUNNING", seconds=10.0)
    out = json.loads(str(app.service.describe_execution(execution_arn=parent)["output"]))
    assert (out["ExecutionArn"], out["Output"]) == (child, {"n": 5})
