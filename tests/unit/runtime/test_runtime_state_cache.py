"""The engine keeps the state it committed for a durable execution and starts the next step
from it instead of decoding the snapshot (issue 16). The interpreter advances that state in
place, so a step that is evaluated but not written must not leave its advanced state behind,
and a snapshot written by another engine (process) must be decoded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from tests.support.engines import event_types, start, two_apps
from tests.support.interp import T0, context

from eltflow.app import App
from eltflow.asl.parser import parse
from eltflow.errors import ConflictError
from eltflow.interpreter import start as start_state
from eltflow.interpreter.state import ExecutionState
from eltflow.runtime import engine as engine_module
from eltflow.runtime.state_cache import StateCache

NAPS = json.dumps(
    {
        "StartAt": "One",
        "States": {
            "One": {"Type": "Wait", "Seconds": 0, "Next": "Two"},
            "Two": {"Type": "Wait", "Seconds": 0, "Next": "Three"},
            "Three": {"Type": "Wait", "Seconds": 0, "Next": "Done"},
            "Done": {"Type": "Pass", "End": True},
        },
    }
)
EXPECTED = [
    "ExecutionStarted",
    "WaitStateEntered",
    "WaitStateExited",
    "WaitStateEntered",
    "WaitStateExited",
    "WaitStateEntered",
    "WaitStateExited",
    "PassStateEntered",
    "PassStateExited",
    "ExecutionSucceeded",
]
FAR_FUTURE_US = 2**62
LAMBDA = "arn:aws:states:::lambda:invoke"


@pytest.fixture
def apps(store_url: str) -> Iterator[tuple[App, App]]:
    """Two processes' worth of eltflow on one store."""
    with two_apps(store_url, "naps", NAPS) as pair:
        yield pair


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The executions whose snapshot the engine decoded (snapshot ids, in order)."""
    seen: list[str] = []
    real = engine_module._decode

    def counting(row: Any, parts: Any) -> ExecutionState:
        seen.append(row.id)
        return real(row, parts)

    monkeypatch.setattr(engine_module, "_decode", counting)
    return seen


def test_steps_on_one_engine_decode_the_snapshot_once(
    apps: tuple[App, App], decodes: list[str]
) -> None:
    app, _ = apps
    arn, execution_id = start(app, "naps", "one")
    for _ in range(3):
        app.engine.apply(execution_id, [], due_timers=True)
    # The first step starts from the state start_execution committed; the next ones from the
    # state the previous step committed: nothing is decoded.
    assert decodes == []
    assert event_types(app, arn) == EXPECTED


def test_a_step_that_was_not_written_leaves_no_advanced_state(
    apps: tuple[App, App], decodes: list[str]
) -> None:
    app, other = apps
    arn, execution_id = start(app, "naps", "conflict")
    app.engine.apply(execution_id, [], due_timers=True)  # One -> Two, kept
    real_reads = app.store.step_reads_txn
    changed: list[bool] = []

    def reads_then_a_takeover(*args: object, **kwargs: object) -> object:
        found = real_reads(*args, **kwargs)  # type: ignore[arg-type]
        if not changed:
            # Between the step's read and its write another worker takes the lease: the
            # snapshot text stays the same, only the lease owner changes.
            changed.append(True)
            assert other.store.claim(
                owner="other", now_us=FAR_FUTURE_US, lease_us=1, limit=1, only=execution_id
            ) == [execution_id]
        return found

    app.store.step_reads_txn = reads_then_a_takeover  # type: ignore[method-assign,assignment]
    result = app.engine.apply(execution_id, [], due_timers=True)
    # The first evaluation advanced the kept state (Two's timer fired) and was not written;
    # the second started from the stored snapshot again (decoded), so Two is left once.
    assert changed and result.status == "RUNNING"
    assert decodes == [execution_id]
    app.store.step_reads_txn = real_reads  # type: ignore[method-assign]
    app.engine.apply(execution_id, [], due_timers=True)
    assert event_types(app, arn) == EXPECTED


def test_two_engines_on_one_store_see_each_others_steps(
    apps: tuple[App, App], decodes: list[str]
) -> None:
    app, other = apps
    arn, execution_id = start(app, "naps", "two")
    app.engine.apply(execution_id, [], due_timers=True)  # kept by app
    other.engine.apply(execution_id, [], due_timers=True)  # decoded by other, kept by it
    # app's kept state is one step behind the store: it must decode the other's snapshot.
    result = app.engine.apply(execution_id, [], due_timers=True)
    assert result.status == "SUCCEEDED"
    assert decodes == [execution_id] * 2
    assert event_types(app, arn) == EXPECTED


def test_a_rolled_back_group_leaves_no_advanced_state(
    apps: tuple[App, App], decodes: list[str]
) -> None:
    app, other = apps
    first_arn, first = start(app, "naps", "first")
    second_arn, second = start(app, "naps", "second")
    app.engine.apply(first, [], due_timers=True)  # kept
    with pytest.raises(ConflictError), app.engine.group():
        app.engine.apply(first, [], due_timers=True)  # advances the kept state: Two -> Three
        app.engine.apply(second, [], due_timers=True)
        other.service.stop_execution(execution_arn=second_arn, error="Halt", cause="test")
    assert decodes.count(first) == 0  # (the other engine decodes the second to stop it)
    app.engine.apply(first, [], due_timers=True)  # from the stored snapshot: Two -> Three
    assert decodes.count(first) == 1
    app.engine.apply(first, [], due_timers=True)
    assert event_types(app, first_arn) == EXPECTED


def test_a_failed_and_redriven_execution_starts_from_its_record(
    apps: tuple[App, App], decodes: list[str]
) -> None:
    app, _ = apps
    arn, execution_id = start(app, "naps", "redriven")
    app.engine.apply(execution_id, [], due_timers=True)  # kept
    app.engine.fail(execution_id, "Broken", "the interpreter raised")  # takes it, keeps none
    assert app.service.describe_execution(execution_arn=arn)["status"] == "FAILED"
    app.service.redrive_execution(execution_arn=arn)
    result = app.engine.apply(execution_id, [], due_timers=True)
    assert result.status == "RUNNING"
    # Redrive decoded the failed record; the step after it started from the state redrive
    # committed. (The step before fail started from the state the start committed.)
    assert decodes == [execution_id]
    app.engine.apply(execution_id, [], due_timers=True)
    types = event_types(app, arn)
    assert types.count("ExecutionFailed") == 1 and types.count("ExecutionRedriven") == 1
    assert types[-1] == "ExecutionSucceeded"


def test_a_start_then_a_worker_step_decodes_nothing(
    apps: tuple[App, App], decodes: list[str]
) -> None:
    app, other = apps
    arn, execution_id = start(app, "naps", "fresh")
    result = app.engine.apply(execution_id, [], due_timers=True)  # One's timer: -> Two
    assert result.status == "RUNNING" and decodes == []
    # Another process never saw the start: it decodes what the start wrote.
    _, second = start(app, "naps", "elsewhere")
    other.engine.apply(second, [], due_timers=True)
    assert decodes == [second]
    for _ in range(2):
        app.engine.apply(execution_id, [], due_timers=True)
    assert decodes == [second]
    assert event_types(app, arn) == EXPECTED


def test_a_start_that_did_not_commit_keeps_nothing(
    apps: tuple[App, App], decodes: list[str]
) -> None:
    app, _ = apps
    arn, execution_id = start(app, "naps", "taken")
    kept = len(app.engine._states)
    assert kept == 1
    # The same name with other input conflicts with the row already there: not inserted,
    # and its first step (decided before the insert) is not kept.
    with pytest.raises(Exception, match="ExecutionAlreadyExists"):
        app.service.start_execution(state_machine_arn="naps", name="taken", input='{"a": 1}')
    assert len(app.engine._states) == kept
    # A start whose transaction raises after its insert rolls back: nothing kept of it. (Its
    # insert joins the transaction opened around it, which then fails.)
    store = app.store
    real = store.insert_started_execution

    def broken(*args: Any, **kwargs: Any) -> bool:
        with store.transaction():
            assert real(*args, **kwargs)
            raise RuntimeError("the start's transaction failed")

    store.insert_started_execution = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        app.service.start_execution(state_machine_arn="naps", name="rolled-back")
    store.insert_started_execution = real  # type: ignore[method-assign]
    assert len(app.engine._states) == kept
    assert app.store.get_execution_by_arn(arn[: -len("taken")] + "rolled-back") is None
    # The execution that was started is still stepped from its kept state.
    app.engine.apply(execution_id, [], due_timers=True)
    assert decodes == []


def _state() -> ExecutionState:
    return ExecutionState(context=context())


def test_the_cache_hands_a_state_out_once_and_stays_bounded() -> None:
    cache = StateCache(max_entries=2, max_chars=10)
    states = [_state() for _ in range(4)]
    cache.keep("a", "1234", states[0])
    assert cache.take("a", "1235") is None  # another text: not this state
    assert cache.take("a", "1234") is None  # and it is gone
    cache.keep("a", "1234", states[0])
    assert cache.take("a", "1234") is states[0]
    assert cache.take("a", "1234") is None  # handed out once
    cache.keep("a", "aaaa", states[0])
    cache.keep("b", "bbbb", states[1])
    cache.keep("c", "cccc", states[2])  # 3 entries, 12 chars
    assert len(cache) == 2 and cache.take("a", "aaaa") is None
    cache.keep("d", "d" * 11, states[3])  # over the bound alone
    assert cache.take("d", "d" * 11) is None
    assert cache.take("c", "cccc") is states[2]


def _map_state(items: int) -> tuple[ExecutionState, str]:
    """A Map over ``items`` items, its first iteration running, and its snapshot text."""
    machine = parse(
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "MaxConcurrency": 1,
                    "ItemProcessor": {
                        "StartAt": "T",
                        "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": True}},
                    },
                    "ItemsPath": "$.items",
                    "End": True,
                }
            },
        }
    )
    state, _, _ = start_state(machine, {"items": [{"i": i} for i in range(items)]}, context(), T0)
    text, _ = state.to_stored()
    return state, text


def test_the_payload_texts_a_kept_state_holds_count_against_the_bound() -> None:
    """A state keeps the payload texts of its last snapshot for the next one: about as many
    characters again as its snapshot text, counted as its own."""
    state, text = _map_state(100)
    held = state.texts_chars
    # The input (with the items in it) and the items apart: both are held as texts.
    assert held >= 2 * len(json.dumps([{"i": i} for i in range(100)], separators=(",", ":")))
    assert len(text) < len(text) + held <= 2 * len(text)
    bound = len(text) + held
    refused = StateCache(max_chars=bound - 1)  # the text alone would fit
    refused.keep("a", text, state)
    assert len(refused) == 0 and refused.take("a", text) is None
    cache = StateCache(max_chars=bound)
    cache.keep("a", text, state)
    assert cache.take("a", text) is state
    # Two such states do not fit where two texts would: the older one is evicted.
    cache = StateCache(max_chars=bound + len(text))
    other, other_text = _map_state(100)
    cache.keep("a", text, state)
    cache.keep("b", other_text, other)
    assert len(cache) == 1 and cache.take("a", text) is None
    assert cache.take("b", other_text) is other
