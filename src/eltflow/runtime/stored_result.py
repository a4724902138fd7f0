"""A stored execution as an :class:`~eltflow.runtime.local.ExecutionResult`, the value the
in-memory ``execute`` returns, built from DescribeExecution and GetExecutionHistory: so
``eltflow execute --store`` prints, and ``--json`` writes, what ``eltflow execute`` does.

Reading the history pages is :func:`stored_result`; turning AWS's shapes back into the
interpreter's values (:func:`history_event`, :func:`execution_result`) is pure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from eltflow.interpreter.protocol import ExecutionStatus, HistoryEvent
from eltflow.runtime.local import ExecutionResult
from eltflow.runtime.service import StatesService


def history_event(raw: Mapping[str, Any]) -> HistoryEvent:
    """A GetExecutionHistory event back as a :class:`HistoryEvent` (the inverse of
    :meth:`HistoryEvent.to_aws`)."""
    return HistoryEvent(
        id=int(raw["id"]),
        previous_event_id=int(raw["previousEventId"]),
        timestamp=datetime.fromisoformat(raw["timestamp"]),
        type=str(raw["type"]),
        details={k: v for k, v in raw.items() if k.endswith("EventDetails")},
    )


def execution_result(
    described: Mapping[str, Any], history: Sequence[HistoryEvent]
) -> ExecutionResult:
    """DescribeExecution's answer and the history as an ExecutionResult: the output parsed,
    the start and stop dates those of the first and last events."""
    output = described.get("output")
    return ExecutionResult(
        status=cast(ExecutionStatus, described["status"]),
        output=json.loads(output) if isinstance(output, str) else None,
        error=described.get("error"),
        cause=described.get("cause"),
        history=list(history),
        execution_arn=str(described["executionArn"]),
        start_date=history[0].timestamp if history else None,
        stop_date=history[-1].timestamp if history else None,
    )


def stored_result(service: StatesService, described: Mapping[str, Any]) -> ExecutionResult:
    """The execution ``described`` (DescribeExecution's answer) with its whole history."""
    arn = str(described["executionArn"])
    events: list[HistoryEvent] = []
    token: str | None = None
    while True:
        page = service.get_execution_history(execution_arn=arn, next_token=token)
        listed = page["events"]
        assert isinstance(listed, list)
        events += [history_event(raw) for raw in listed if isinstance(raw, dict)]
        nxt = page.get("nextToken")
        token = nxt if isinstance(nxt, str) else None
        if token is None:
            return execution_result(described, events)
