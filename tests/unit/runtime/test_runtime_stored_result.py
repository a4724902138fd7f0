"""A stored execution as an ExecutionResult (runtime/stored_result.py): what
``eltflow execute --store`` prints, alike to the in-memory ``execute``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from eltflow.app import App, build_app
from eltflow.clock import VirtualClock
from eltflow.interpreter.protocol import HistoryEvent
from eltflow.runtime.local import execute
from eltflow.runtime.run import execute_stored
from eltflow.runtime.stored_result import execution_result, history_event, stored_result
from eltflow.types import JSON

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ITEMS = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}


def test_a_history_event_reads_back_what_to_aws_wrote() -> None:
    event = HistoryEvent(
        id=3,
        previous_event_id=2,
        timestamp=T0,
        type="TaskFailed",
        details={"taskFailedEventDetails": {"error": "Boom", "cause": "x"}},
    )
    assert history_event(event.to_aws()) == event


def test_the_result_takes_its_dates_from_the_history() -> None:
    first = HistoryEvent(id=1, previous_event_id=0, timestamp=T0, type="ExecutionStarted")
    last = HistoryEvent(
        id=2, previous_event_id=1, timestamp=T0.replace(minute=5), type="ExecutionFailed"
    )
    described = {"executionArn": "arn", "status": "FAILED", "error": "E", "cause": "C"}
    result = execution_result(described, [first, last])
    assert (result.status, result.output, result.error, result.cause) == ("FAILED", None, "E", "C")
    assert (result.start_date, result.stop_date) == (T0, last.timestamp)
    assert result.history == [first, last] and result.execution_arn == "arn"
    succeeded = execution_result({"executionArn": "a", "status": "SUCCEEDED", "output": "[1]"}, [])
    assert succeeded.output == [1] and succeeded.start_date is None


@pytest.fixture
def app(store_url: str) -> Iterator[App]:
    built = build_app(state_url=store_url, clock=VirtualClock(T0))
    yield built
    built.close()


def test_a_stored_run_reads_as_the_in_memory_one(app: App) -> None:
    items: list[JSON] = list(range(400))
    value: JSON = {"items": items}  # a history over one GetExecutionHistory page (1000)
    described = execute_stored(app, machine_name="each", definition=ITEMS, input=json.dumps(value))
    stored = stored_result(app.service, described)
    memory = execute(ITEMS, value, virtual_time=True)
    assert stored.status == memory.status == "SUCCEEDED"
    assert stored.output == memory.output
    assert [e.type for e in stored.history] == [e.type for e in memory.history]
    assert len(stored.history) > 1000
    assert [e.id for e in stored.history] == list(range(1, len(stored.history) + 1))
