"""A durable execution's snapshot names its large payloads and its finished children's outputs
as parts written once beside it (issue 16): a Map's snapshot stays small however many items it
has, and an engine that did not write it (another process, a redrive) reads the parts back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.support.engines import two_apps

from eltflow.app import App, build_app
from eltflow.clock import VirtualClock
from eltflow.interpreter.state import PART_MIN_CHARS, ExecutionState
from eltflow.runtime import engine as engine_module
from eltflow.runtime.engine import SimulatedCrash

WORK = "arn:aws:lambda:us-east-1:123456789012:function:work"
ITEMS = [{"id": i, "pad": "x" * 20} for i in range(120)]
MAP = json.dumps(
    {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "MaxConcurrency": 1,
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "T",
                    "States": {"T": {"Type": "Task", "Resource": WORK, "End": True}},
                },
                "End": True,
            }
        },
    }
)


@pytest.fixture
def apps(store_url: str) -> Iterator[tuple[App, App]]:
    with two_apps(store_url, "map", MAP) as pair:
        yield pair


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The executions whose snapshot an engine decoded, in order."""
    seen: list[str] = []
    real = engine_module._decode

    def counting(row: Any, parts: Any) -> ExecutionState:
        seen.append(row.id)
        return real(row, parts)

    monkeypatch.setattr(engine_module, "_decode", counting)
    return seen


def _item_id(item: Any) -> Any:
    return item["id"]


def _start(app: App, name: str) -> tuple[str, str]:
    out = app.service.start_execution(
        state_machine_arn="map", name=name, input=json.dumps({"items": ITEMS})
    )
    arn = str(out["executionArn"])
    row = app.store.get_execution_by_arn(arn)
    assert row is not None
    return arn, row.id


def _parts(app: App, execution_id: str) -> dict[str, str]:
    with app.store.read_transaction() as conn:
        return app.store.snapshot_parts_txn(conn, execution_id)


def _snapshots(app: App) -> list[int]:
    """The length of every snapshot ``app``'s store writes from now on."""
    lengths: list[int] = []
    store: Any = app.store
    real = store.update_execution_txn

    def update(conn: Any, **kwargs: Any) -> None:
        lengths.append(len(kwargs["snapshot"] or ""))
        real(conn, **kwargs)

    store.update_execution_txn = update
    return lengths


def test_a_maps_snapshot_stays_small_and_its_input_and_results_are_written_once(
    apps: tuple[App, App],
) -> None:
    app, _ = apps
    app.register(WORK, _item_id)
    lengths = _snapshots(app)
    arn, execution_id = _start(app, "small")
    app.worker().run(until_idle=True)
    desc = app.service.describe_execution(execution_arn=arn)
    assert desc["status"] == "SUCCEEDED", desc
    assert json.loads(str(desc["output"])) == list(range(len(ITEMS)))
    items_text = json.dumps(ITEMS, separators=(",", ":"))
    assert len(items_text) > 3 * PART_MIN_CHARS
    # One step per item, each snapshot without the items or the results so far (written
    # whole, the last ones held both: ~4 KB of items, ~1 KB of results).
    assert len(lengths) >= len(ITEMS)
    assert max(lengths) < len(items_text) / 2
    parts = _parts(app, execution_id)
    payloads = [body for name, body in parts.items() if name.startswith("p:")]
    results = sorted(int(name.rsplit(":", 1)[1]) for name in parts if name.startswith("r:"))
    # The input once (the execution's and the Map state's: one object), the items once.
    assert sorted(payloads, key=len) == [
        items_text,
        json.dumps({"items": ITEMS}, separators=(",", ":")),
    ]
    # Each result once, in the order the iterations finished (the last one ended the Map).
    assert results == list(range(len(ITEMS) - 1))
    assert parts[f"r:0:{len(ITEMS) - 2}"] == f'"{len(ITEMS) - 2}":{len(ITEMS) - 2}'


def test_a_killed_worker_loses_no_result_and_its_rescuer_reads_the_parts_back(
    store_url: str, decodes: list[str]
) -> None:
    clock = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))
    calls: list[int] = []

    def work(item: Any) -> Any:
        calls.append(item["id"])
        return item["id"]

    # About 7 events an item: killed some 35 items into the Map.
    crashing = build_app(state_url=store_url, clock=clock, crash_after_events=250)
    crashing.register(WORK, work)
    crashing.service.create_state_machine(name="map", definition=MAP)
    arn, execution_id = _start(crashing, "moved")
    with pytest.raises(SimulatedCrash):
        crashing.worker(lease_seconds=30).run(until_idle=True)
    assert decodes == []  # it stepped from the states it kept
    done = len(calls)
    assert len([p for p in _parts(crashing, execution_id) if p.startswith("r:")]) >= done - 2
    crashing.close()

    rescuer = build_app(state_url=store_url, clock=clock)
    rescuer.register(WORK, work)
    clock.advance(31)  # the dead worker's lease lapses
    rescuer.worker().run(until_idle=True)
    # The rescuer read the snapshot and its parts back and went on from there: no item that
    # was recorded ran again (the one running when the worker died may have).
    assert decodes and set(decodes) == {execution_id}
    assert len(calls) <= len(ITEMS) + 1 and sorted(set(calls)) == list(range(len(ITEMS)))
    desc = rescuer.service.describe_execution(execution_arn=arn)
    assert desc["status"] == "SUCCEEDED", desc
    assert json.loads(str(desc["output"])) == list(range(len(ITEMS)))
    history: Any = rescuer.service.get_execution_history(execution_arn=arn)["events"]
    assert [e["type"] for e in history].count("MapIterationSucceeded") == len(ITEMS)
    rescuer.close()


def test_a_redrive_by_another_engine_reruns_only_the_failed_iterations(
    apps: tuple[App, App], decodes: list[str]
) -> None:
    app, other = apps
    calls: list[int] = []
    failing = {7}

    def work(item: Any) -> Any:
        calls.append(item["id"])
        if item["id"] in failing:
            raise ValueError(f"item {item['id']} failed")
        return item["id"]

    for each in apps:
        each.register(WORK, work)
    definition = json.loads(MAP)
    definition["States"]["M"]["MaxConcurrency"] = 10
    app.service.create_state_machine(name="fails", definition=json.dumps(definition))
    out = app.service.start_execution(
        state_machine_arn="fails", name="r", input=json.dumps({"items": ITEMS})
    )
    arn = str(out["executionArn"])
    app.worker().run(until_idle=True)
    assert app.service.describe_execution(execution_arn=arn)["status"] == "FAILED"
    assert 7 in calls
    row = app.store.get_execution_by_arn(arn)
    assert row is not None
    # The iterations that succeeded before the Map failed: their outputs are parts.
    bodies = [body for name, body in _parts(app, row.id).items() if name.startswith("r:")]
    succeeded = {int(k) for k in json.loads("{" + ",".join(bodies) + "}")}
    assert succeeded and 7 not in succeeded
    failing.clear()
    calls.clear()
    other.service.redrive_execution(execution_arn=arn)
    other.worker().run(until_idle=True)
    desc = other.service.describe_execution(execution_arn=arn)
    assert desc["status"] == "SUCCEEDED", desc
    # Only what had not succeeded ran again: the failed and the aborted iterations.
    assert 7 in calls and not set(calls) & succeeded
    assert set(calls) | succeeded == set(range(len(ITEMS)))
    assert json.loads(str(desc["output"])) == list(range(len(ITEMS)))
    assert row.id in decodes


def test_an_execution_failed_from_its_record_keeps_its_parts_for_a_redrive(
    store_url: str, decodes: list[str]
) -> None:
    """``Engine.fail`` decodes the snapshot inside its own transaction (the parts are read
    beside it) and writes the failed one; a redrive goes on from there."""
    clock = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))
    calls: list[int] = []

    def work(item: Any) -> Any:
        calls.append(item["id"])
        return item["id"]

    crashing = build_app(state_url=store_url, clock=clock, crash_after_events=250)
    crashing.register(WORK, work)
    crashing.service.create_state_machine(name="map", definition=MAP)
    arn, execution_id = _start(crashing, "failed")
    with pytest.raises(SimulatedCrash):
        crashing.worker(lease_seconds=30).run(until_idle=True)
    crashing.close()
    other = build_app(state_url=store_url, clock=clock)
    other.register(WORK, work)
    # Another engine, which holds no state of it, fails it (the interpreter raised, say).
    other.engine.fail(execution_id, "Broken", "the interpreter raised")
    assert decodes == [execution_id]
    assert other.service.describe_execution(execution_arn=arn)["status"] == "FAILED"
    done = set(calls)
    calls.clear()
    other.service.redrive_execution(execution_arn=arn)
    other.worker().run(until_idle=True)
    desc = other.service.describe_execution(execution_arn=arn)
    assert desc["status"] == "SUCCEEDED", desc
    assert json.loads(str(desc["output"])) == list(range(len(ITEMS)))
    # The iterations that had succeeded did not run again (the one running may have).
    assert len(set(calls) & done) <= 1 and set(calls) | done == set(range(len(ITEMS)))
    other.close()
