"""No user expression is evaluated while a store write transaction is open (issue 17, defect 2).

A step is evaluated from a read and written afterwards, so an expression that takes seconds
(a runaway JSONata loop runs until its step budget, seconds on this machine) in one
execution blocks no other command on the SQLite store. The slow evaluation is a gate around
the interpreter's entry points: it holds the evaluation open until the test has done its
work, so the test waits on events rather than on a timed expression. Before the change the
other command queued behind the worker's write lock and failed after the busy timeout.

A step whose execution was changed by another writer while it was evaluated is evaluated
again from the new record: nothing lost, nothing recorded twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import eltflow.interpreter.step as step_module
import eltflow.runtime.engine as engine_module
from eltflow.app import App, build_app
from eltflow.clock import SystemClock
from eltflow.errors import AwsApiError

# The gated step is in the Wait's timer (fired by the worker) or in the first step (start).
SLOW = {
    "QueryLanguage": "JSONata",
    "StartAt": "Nap",
    "States": {
        "Nap": {"Type": "Wait", "Seconds": 0, "Next": "Sum"},
        "Sum": {"Type": "Pass", "Output": "{% $sum([1..100]) %}", "End": True},
    },
}
QUICK = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


class Gate:
    """Wraps an interpreter entry point: the first evaluation for execution ``name`` signals
    ``entered`` and waits for ``go`` before it runs (a slow expression); all others run."""

    def __init__(self, real: Callable[..., Any], name: str) -> None:
        self.real = real
        self.name = name
        self.entered = threading.Event()
        self.go = threading.Event()
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, machine: Any, state_or_input: Any, *rest: Any) -> Any:
        # advance(machine, state, inbound, now) / start_lazy(machine, input, context, now)
        context = getattr(state_or_input, "context", None) or rest[0]
        with self._lock:
            first = context.execution_name == self.name and not self.entered.is_set()
            if first:
                self.entered.set()
        if context.execution_name == self.name:
            self.calls += 1
        if first:
            assert self.go.wait(10), "the test never let the gated evaluation finish"
        return self.real(machine, state_or_input, *rest)


def _other_process(path: Path) -> App:
    """Another eltflow process on the same file, which gives up on the write lock quickly."""
    app = build_app(state_url=f"sqlite:///{path}", clock=SystemClock())
    app.db.busy_timeout = 0.5  # applies to connections opened from now on
    app.db.close()
    return app


@pytest.fixture
def apps(tmp_path: Path) -> Iterator[tuple[App, App, Path]]:
    path = tmp_path / "state.db"
    app = build_app(state_url=f"sqlite:///{path}", clock=SystemClock())
    app.service.create_state_machine(name="slow", definition=SLOW)
    app.service.create_state_machine(name="quick", definition=QUICK)
    other = _other_process(path)
    yield app, other, path
    other.close()
    app.close()


def _run_worker(app: App) -> tuple[threading.Thread, list[BaseException]]:
    failures: list[BaseException] = []

    def run() -> None:
        try:
            app.worker().run(until_idle=True)
        except BaseException as e:  # surfaced by the test
            failures.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, failures


def _status(app: App, arn: str) -> str:
    return str(app.service.describe_execution(execution_arn=arn)["status"])


def _event_ids(app: App, arn: str) -> list[int]:
    events = app.service.get_execution_history(execution_arn=arn)["events"]
    assert isinstance(events, list)
    return [int(str(e["id"])) for e in events if isinstance(e, dict)]


def test_a_slow_step_in_the_worker_blocks_no_other_command(
    apps: tuple[App, App, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, other, _ = apps
    gate = Gate(step_module.advance, "slow")
    monkeypatch.setattr(step_module, "advance", gate)
    slow = str(app.service.start_execution(state_machine_arn="slow", name="slow")["executionArn"])
    worker, failures = _run_worker(app)
    assert gate.entered.wait(10), "the worker never evaluated the slow step"
    try:
        # While the worker evaluates: another process starts, reads and writes.
        quick = other.service.start_execution(state_machine_arn="quick", name="quick")
        assert _status(other, str(quick["executionArn"])) == "SUCCEEDED"  # one step: Pass
        assert _status(other, slow) == "RUNNING"
        other.service.create_state_machine(name="more", definition=QUICK)
    finally:
        gate.go.set()
    worker.join(30)
    assert not worker.is_alive() and not failures
    assert _status(app, slow) == "SUCCEEDED"
    assert app.service.describe_execution(execution_arn=slow)["output"] == "5050"
    assert _status(app, str(quick["executionArn"])) == "SUCCEEDED"


def test_a_slow_first_step_blocks_no_other_start(
    apps: tuple[App, App, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, other, _ = apps
    gate = Gate(engine_module.start_lazy, "slow")  # type: ignore[attr-defined]
    monkeypatch.setattr(engine_module, "start_lazy", gate)
    started: list[dict[str, Any]] = []
    starter = threading.Thread(
        target=lambda: started.append(
            dict(app.service.start_execution(state_machine_arn="slow", name="slow"))
        ),
        daemon=True,
    )
    starter.start()
    assert gate.entered.wait(10), "the start never evaluated its first step"
    try:
        quick = other.service.start_execution(state_machine_arn="quick", name="quick")
    finally:
        gate.go.set()
    starter.join(30)
    assert started and _status(app, str(started[0]["executionArn"])) == "RUNNING"
    assert _status(app, str(quick["executionArn"])) == "SUCCEEDED"


def test_a_step_whose_execution_changed_meanwhile_is_evaluated_again(
    apps: tuple[App, App, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, other, _ = apps
    gate = Gate(step_module.advance, "slow")
    monkeypatch.setattr(step_module, "advance", gate)
    slow = str(app.service.start_execution(state_machine_arn="slow", name="slow")["executionArn"])
    worker, failures = _run_worker(app)
    assert gate.entered.wait(10), "the worker never evaluated the slow step"
    try:
        # Another process stops the execution while the worker's step is being evaluated.
        other.service.stop_execution(execution_arn=slow, error="Halt", cause="by the test")
        assert _status(other, slow) == "ABORTED"
    finally:
        gate.go.set()
    worker.join(30)
    assert not worker.is_alive() and not failures
    # The worker's step found the execution changed, read it again and found it ended: its
    # evaluation (the Wait's end, the Pass) was dropped, not written over the stop.
    assert _status(app, slow) == "ABORTED"
    ids = _event_ids(app, slow)
    assert ids == list(range(1, len(ids) + 1))
    events = app.service.get_execution_history(execution_arn=slow)["events"]
    assert isinstance(events, list)
    types = [str(e["type"]) for e in events if isinstance(e, dict)]
    assert types[-1] == "ExecutionAborted" and "PassStateEntered" not in types
    assert gate.calls >= 2  # the gated evaluation and the stop's own step


WAITS = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}


def _start_gated(
    app: App, machine: str, name: str, text: str
) -> tuple[threading.Thread, list[Any]]:
    """Start ``name`` on a thread; its evaluation waits at the gate."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(
                dict(app.service.start_execution(state_machine_arn=machine, name=name, input=text))
            )
        except BaseException as e:  # surfaced by the test
            out.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_a_start_whose_machine_is_updated_while_it_is_evaluated_runs_the_new_version(
    apps: tuple[App, App, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, other, _ = apps
    app.service.start_execution(state_machine_arn="quick", name="warm")  # machine remembered
    gate = Gate(engine_module.start_lazy, "racer")  # type: ignore[attr-defined]
    monkeypatch.setattr(engine_module, "start_lazy", gate)
    starter, out = _start_gated(app, "quick", "racer", '{"n":1}')
    assert gate.entered.wait(10), "the start never evaluated its first step"
    try:
        other.service.update_state_machine(state_machine_arn="quick", definition=WAITS)
    finally:
        gate.go.set()
    starter.join(30)
    assert out and isinstance(out[0], dict), out
    desc = app.service.describe_execution(execution_arn=str(out[0]["executionArn"]))
    # Decided again with version 2 (a Wait: still running), not recorded with version 1.
    assert desc["status"] == "RUNNING" and str(desc["stateMachineVersionArn"]).endswith(":2")
    assert gate.calls == 2
    events = app.service.get_execution_history(execution_arn=str(desc["executionArn"]))["events"]
    assert isinstance(events, list)
    types = [str(e["type"]) for e in events if isinstance(e, dict)]
    assert types == ["ExecutionStarted", "WaitStateEntered"]


@pytest.mark.parametrize("same_input", [True, False])
def test_a_start_racing_another_of_the_same_name_answers_as_aws(
    apps: tuple[App, App, Path], monkeypatch: pytest.MonkeyPatch, same_input: bool
) -> None:
    app, other, _ = apps
    app.service.create_state_machine(name="waits", definition=WAITS)
    gate = Gate(engine_module.start_lazy, "dup")  # type: ignore[attr-defined]
    monkeypatch.setattr(engine_module, "start_lazy", gate)
    starter, out = _start_gated(app, "waits", "dup", '{"n":1}')
    assert gate.entered.wait(10), "the start never evaluated its first step"
    try:
        won = other.service.start_execution(
            state_machine_arn="waits", name="dup", input='{"n":1}' if same_input else '{"n":2}'
        )
    finally:
        gate.go.set()
    starter.join(30)
    assert out, "the start did not answer"
    if same_input:  # AWS: the same name and input while it runs is the same execution
        assert out[0] == dict(won)
    else:
        assert isinstance(out[0], AwsApiError) and out[0].code == "ExecutionAlreadyExists"
    rows = app.store.list_executions(machine_name="waits")
    assert len(rows) == 1 and len(_event_ids(app, str(won["executionArn"]))) == 2
