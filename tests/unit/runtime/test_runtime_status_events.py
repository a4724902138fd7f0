"""Step Functions' status-change events (runtime/status_events.py): a step's events are not
even queued when every subscriber is known not to want them, and are delivered otherwise."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from eltflow.interpreter.protocol import HistoryEvent
from eltflow.runtime.status_events import ExecutionStatusEvents
from eltflow.store.rows import ExecutionRow

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ROW = ExecutionRow.started(
    id="e1",
    arn="arn:aws:states:us-east-1:123456789012:execution:m:e1",
    machine_name="m",
    version_id=1,
    name="e1",
    input="{}",
    start_us=0,
)
STARTED = [HistoryEvent(id=1, previous_event_id=0, timestamp=T0, type="ExecutionStarted")]


class _Store:
    """The one read the events' thread makes: the execution, committed with its event."""

    def get_execution(self, execution_id: str) -> ExecutionRow:
        return ExecutionRow(**{**vars_of(ROW), "event_count": 1})


def vars_of(row: ExecutionRow) -> dict[str, Any]:
    return {k: getattr(row, k) for k in row.__dataclass_fields__}


def test_events_nobody_is_known_to_want_are_not_queued() -> None:
    events = ExecutionStatusEvents(_Store())  # type: ignore[arg-type]
    got: list[list[dict[str, Any]]] = []
    events.subscribe(got.append, lambda: True, lambda: False)
    events.observe("e1", STARTED)
    assert events._thread is None and events._queue.empty() and not got
    events.close()


def test_events_are_delivered_unless_every_subscriber_is_known_not_to_want_them() -> None:
    events = ExecutionStatusEvents(_Store())  # type: ignore[arg-type]
    delivered = threading.Event()
    got: list[list[dict[str, Any]]] = []

    def record(batch: list[dict[str, Any]]) -> None:
        got.append(batch)
        delivered.set()

    events.subscribe(lambda batch: None, lambda: False, lambda: False)
    # Its interest not known without a read (None): queued, asked on the thread, delivered.
    events.subscribe(record, lambda: True, lambda: None)
    events.observe("e1", STARTED)
    assert delivered.wait(10), "the events were not delivered"
    assert [e["detail"]["status"] for e in got[0]] == ["RUNNING"]
    assert got[0][0]["detail"]["executionArn"] == ROW.arn
    events.close()
