"""What an in-memory run keeps of its finished executions (issue 16: a Distributed Map of
100,000 items kept every child's live state to the end, ~360 MiB).

The engine drops the live state of an execution that SUCCEEDED (nothing reads it: it cannot
be redriven; its row keeps status and output, the store its history) and keeps those that
failed, were aborted or timed out, for their redrive; ``eltflow.execute`` keeps its own
execution's, its result. And an in-memory Map Run's driver learns of its children's ends
from the store (counts kept as they change, a wake-up at each end) instead of its poll.
"""

from __future__ import annotations

import json
import threading
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from tests.support.interp import T0, context, task_machine

from eltflow.clock import VirtualClock
from eltflow.errors import NotFoundError
from eltflow.interpreter.protocol import TaskFailed, TaskSucceeded
from eltflow.runtime import local
from eltflow.runtime.engine import Engine
from eltflow.runtime.local import execute
from eltflow.runtime.machines import insert_machine_txn
from eltflow.runtime.map_runs import MapRunDriver
from eltflow.s3.service import S3Service
from eltflow.store.map_runs import Counts
from eltflow.store.memory import MemoryStore
from eltflow.store.rows import ExecutionRow, to_us

FN = "arn:aws:lambda:us-east-1:123456789012:function:echo"


def _map(child: dict[str, Any], **fields: Any) -> dict[str, Any]:
    processor = {**child, "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}}
    return {
        "StartAt": "Fan",
        "States": {"Fan": {"Type": "Map", "ItemProcessor": processor, "End": True, **fields}},
    }


PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
TASK = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN, "End": True}}}


@pytest.fixture
def engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Engine]]:
    """The engines ``eltflow.execute`` makes, kept to look at once the run ended."""
    made: list[Engine] = []

    class Kept(Engine):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(local, "Engine", Kept)
    yield made


@pytest.mark.parametrize("child", [PASS, TASK], ids=["pass", "task"])
def test_succeeded_children_keep_no_live_state(engines: list[Engine], child: Any) -> None:
    # Pass children end in their first step (recorded as the Map Run starts them), Task
    # children in a worker's step.
    result = execute(_map(child, MaxConcurrency=7), list(range(40)), tasks={FN: lambda v: v})
    assert result.status == "SUCCEEDED" and result.output == list(range(40))
    (engine,) = engines
    assert engine._live is not None
    # Only the run's own execution, whose state is the result; without the change all 41.
    assert list(engine._live) == [result.execution_arn.rsplit(":", 1)[-1]]


def test_failed_children_keep_their_state_for_a_redrive(engines: list[Engine]) -> None:
    small = {"Variable": "$", "NumericLessThan": 2, "Next": "Bad"}
    child = {
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": [small], "Default": "Ok"},
            "Bad": {"Type": "Fail", "Error": "Item.Bad", "Cause": "too small"},
            "Ok": {"Type": "Pass", "End": True},
        },
    }
    result = execute(_map(child, ToleratedFailureCount=2), [0, 1, 5, 6])
    assert result.status == "SUCCEEDED" and result.output == [5, 6]
    (engine,) = engines
    assert engine._live is not None
    kept = [s for eid, s in engine._live.items() if not result.execution_arn.endswith(eid)]
    assert sorted((s.status, s.error, s.input) for s in kept) == [
        ("FAILED", "Item.Bad", 0),
        ("FAILED", "Item.Bad", 1),
    ]


def test_what_a_map_run_keeps_per_child_is_bounded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The memory a Map Run of Pass children (items read from the local S3, as
    bench/distributed_map_bench) still holds when it writes its result, per child: its row
    (id, ARN, name, input and output texts) and its link, ~0.9 KB. It was ~2.9 KB: each
    child's live state, and every item to the end of the run."""
    items = 2000
    s3 = S3Service(tmp_path / "s3")
    s3.create_bucket("data", T0)
    values = [{"id": i, "name": f"item-{i}"} for i in range(items)]
    s3.put_object("data", "items.json", json.dumps(values).encode())
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": "data", "Key": "items.json"},
    }
    held: list[int] = []
    result_of = MapRunDriver._result

    def measured(self: MapRunDriver, *args: Any) -> Any:
        held.append(tracemalloc.get_traced_memory()[0])
        return result_of(self, *args)

    monkeypatch.setattr(MapRunDriver, "_result", measured)
    execute(_map(PASS, ItemReader=reader), {}, s3=s3)  # parsed and imported: not counted
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = execute(_map(PASS, ItemReader=reader), {}, s3=s3)
    finally:
        tracemalloc.stop()
    assert result.status == "SUCCEEDED"
    assert isinstance(result.output, list) and len(result.output) == items
    per_child = (held[-1] - base) / items
    assert per_child < 1300, f"{per_child:.0f} bytes kept per finished child"


def _started(store: MemoryStore, engine: Engine, clock: VirtualClock) -> str:
    """One execution of a Task state on FN, started in ``store``: its id."""
    machine = task_machine(FN)
    now = clock.now()
    ctx = context()
    with store.transaction() as conn:
        vid = store.insert_version_txn(
            conn, machine_name="m", version=1, definition="{}", description="", created_us=0
        )
        insert_machine_txn(
            store,
            conn,
            name="m",
            arn=ctx.state_machine_arn,
            version_id=vid,
            role_arn=ctx.role_arn,
            machine_type="STANDARD",
            now_us=0,
        )
        engine.machines.put(vid, machine)
        row = ExecutionRow.started(
            id="e",
            arn=ctx.execution_arn,
            machine_name="m",
            version_id=vid,
            name="e",
            input="{}",
            start_us=to_us(now),
        )
        first = engine.first_step(row, engine.begin(machine, {"n": 1}, ctx, now))
        store.insert_row_txn(conn, first.row)
        engine.record_first_txn(conn, first)
    engine.first_committed(first)
    return "e"


def _task(store: MemoryStore, execution_id: str) -> str:
    (task,) = store.tasks(execution_id)
    return task.task_id


def test_a_failed_in_memory_execution_is_redriven_then_dropped_once_it_succeeded() -> None:
    store, clock = MemoryStore(), VirtualClock(T0)
    engine = Engine(store, clock)
    eid = _started(store, engine, clock)
    engine.apply(eid, [TaskFailed(task_id=_task(store, eid), error="Boom", cause="once")])
    failed = engine.state_of(eid)
    assert failed is not None and failed.status == "FAILED"  # kept: it may be redriven

    assert engine.redrive(eid).status == "RUNNING"
    engine.apply(eid, [TaskSucceeded(task_id=_task(store, eid), output={"ok": True})])

    # Described from its row and history, with no state left.
    row = store.get_execution(eid)
    assert row is not None and (row.status, row.redrive_count) == ("SUCCEEDED", 1)
    assert row.output is not None and json.loads(row.output) == {"ok": True}
    types = [e.event_type for e in store.history(eid)]
    assert types[-1] == "ExecutionSucceeded" and "ExecutionRedriven" in types
    assert engine.state_of(eid) is None and engine.state_of_row(row) is None
    # Nothing may redrive it now; if asked anyway, a clear error (not the "(live)" text decoded).
    with pytest.raises(NotFoundError, match="ended SUCCEEDED"):
        engine.redrive(eid)


def test_an_in_memory_map_run_starts_the_next_child_when_one_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MaxConcurrency 1 over Task children: each next child starts when the one before ends,
    not at the driver's next poll (made 30 s here: 4 children took 4 polls, 80 ms at the
    default 20 ms; with this poll the run took ~2 minutes)."""
    kwdefaults = MapRunDriver.__init__.__kwdefaults__
    assert kwdefaults is not None
    monkeypatch.setitem(kwdefaults, "poll_seconds", 30.0)
    started = time.monotonic()
    result = execute(_map(TASK, MaxConcurrency=1), [1, 2, 3, 4], tasks={FN: lambda v: v})
    assert result.status == "SUCCEEDED" and result.output == [1, 2, 3, 4]
    assert time.monotonic() - started < 15


def test_memory_map_run_counts_follow_the_children() -> None:
    """Kept as the children change instead of counted over all of them at each look; a
    child's end wakes a waiting driver at once."""
    store = MemoryStore()
    runs = store.map_runs
    with store.transaction() as conn:
        runs.insert_map_run_txn(
            conn,
            arn="run",
            execution_id="parent",
            state_name="Fan",
            start_us=0,
            max_concurrency=0,
            tolerated_failure_count=0,
            tolerated_failure_percentage=0.0,
            config="{}",
        )
        for index, (eid, status) in enumerate([("a", "RUNNING"), ("b", "SUCCEEDED")]):
            row = replace(
                ExecutionRow.started(
                    id=eid, arn=eid, machine_name="m", version_id=1, name=eid, input="1", start_us=0
                ),
                status=status,
            )
            runs.insert_child_txn(
                conn, row, map_run_arn="run", item_index=index, item_count=3, root_id="parent"
            )
    assert runs.counts("run") == Counts(
        executions={"RUNNING": 1, "SUCCEEDED": 1}, items={"RUNNING": 3, "SUCCEEDED": 3}
    )
    assert runs.wait_child_end("run", 0.0)  # nothing ended yet: returns after the timeout

    def end_a() -> None:
        with store.transaction() as conn:
            store.update_execution_txn(
                conn,
                execution_id="a",
                status="FAILED",
                output=None,
                error="E",
                cause="c",
                stop_us=1,
                snapshot=None,
                event_count=2,
                wake_us=None,
            )

    ender = threading.Timer(0.05, end_a)
    ender.start()
    waited = time.monotonic()
    assert runs.wait_child_end("run", 30.0)
    assert time.monotonic() - waited < 10
    ender.join()
    assert runs.counts("run") == Counts(
        executions={"FAILED": 1, "SUCCEEDED": 1}, items={"FAILED": 3, "SUCCEEDED": 3}
    )
