"""Step Functions' EventBridge events: "Step Functions Execution Status Change" for each
execution that starts (RUNNING), is redriven (RUNNING), or ends (SUCCEEDED, FAILED, TIMED_OUT,
ABORTED), in the shape the Step Functions Developer Guide shows ("EventBridge (CloudWatch
Events) for Step Functions execution status changes"; ``detail`` as
``CloudWatchEventsExecutionDataDetails`` and DescribeExecution).

The engine reports each step's history events (:meth:`ExecutionStatusEvents.observe`, called
inside the step's transaction, so it only queues them); a thread of this object waits until the
step has committed (the execution row holds that many events), builds the event from the row and
hands the batch to the subscribers. Delivery is best effort, as AWS documents it for these
events: kept in memory, so a process that dies before handing events on loses them, and each
process reports the steps it ran.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from eltflow.interpreter.history import EventLog
from eltflow.interpreter.protocol import HistoryEvent
from eltflow.runtime import arns
from eltflow.store.interface import StateStore
from eltflow.store.rows import ExecutionRow

log = logging.getLogger(__name__)

DETAIL_TYPE = "Step Functions Execution Status Change"
SOURCE = "aws.states"
_STATUS = {
    "ExecutionStarted": "RUNNING",
    "ExecutionRedriven": "RUNNING",
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}
_COMMIT_WAIT_SECONDS = 5.0  # a step's transaction commits well within this
Subscriber = Callable[[list[dict[str, Any]]], object]


class ExecutionStatusEvents:
    def __init__(
        self, store: StateStore, *, region: str = "us-east-1", account: str = "123456789012"
    ) -> None:
        self.store = store
        self.region = region
        self.account = account
        self._subscribers: list[tuple[Subscriber, Callable[[], bool]]] = []
        # Per subscriber, what its ``interested()`` would answer now without reading the store
        # (None: it would read it). Asked in :meth:`observe`.
        self._known: list[Callable[[], bool | None]] = []
        self._queue: queue.Queue[tuple[str, int, str, str] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def subscribe(
        self,
        subscriber: Subscriber,
        interested: Callable[[], bool] | None = None,
        known: Callable[[], bool | None] | None = None,
    ) -> None:
        """Hand ``subscriber`` each batch of events; ``interested()`` (cheap, asked per batch on
        this object's thread) says whether it wants any now, so a project without rules reads
        no execution rows for them. ``known()``: what ``interested()`` would answer at once,
        from what it last read, or None if it would read the store; when every subscriber
        is known not to want events, a step's are not even queued (issue 16: each start woke
        this thread twice, ~15% of a Pass chain's CPU on SQLite, to drop them)."""
        with self._lock:
            self._subscribers.append((subscriber, interested or (lambda: True)))
            self._known.append(known or (lambda: None))

    def observe(self, execution_id: str, events: Sequence[HistoryEvent]) -> None:
        """The engine's hook (inside the step's transaction): queue status changes only."""
        # No store access here: the step's transaction is open (a failed read would abort it
        # on PostgreSQL); whether anyone wants the events is asked on this object's thread.
        if self._closed or not self._subscribers:
            return
        if all(known() is False for known in self._known):
            return  # what _deliver would find: nobody wants them
        # A start's EventLog finds its status events in its records: reading every event's
        # type would build the events the store wrote without building (issue 16).
        found = (
            events.matching(_STATUS)
            if isinstance(events, EventLog)
            else [(e.id, e.type, e.timestamp) for e in events if e.type in _STATUS]
        )
        for event_id, event_type, timestamp in found:
            when = timestamp.isoformat().replace("+00:00", "Z")
            self._queue.put((execution_id, event_id, _STATUS[event_type], when))
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="eltflow-status-events", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        pause = threading.Event()  # never set: an interruptible sleep
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while not self._queue.empty():
                more = self._queue.get()
                if more is None:
                    stop = True
                    break
                batch.append(more)
            try:
                self._deliver(batch, pause)
            except Exception:  # e.g. the store went away: these events are lost (best effort)
                log.exception("could not deliver %d status events", len(batch))
            if stop:
                return

    def _deliver(self, batch: list[tuple[str, int, str, str]], pause: threading.Event) -> None:
        with self._lock:
            candidates = list(self._subscribers)
        subscribers = [subscriber for subscriber, wants in candidates if wants()]
        if not subscribers:
            return
        events: list[dict[str, Any]] = []
        for execution_id, event_id, status, when in batch:
            row = self._committed(execution_id, event_id, pause)
            if row is not None:
                events.append(self.event(row, status, when))
        for subscriber in subscribers:
            try:
                subscriber(events)
            except Exception:  # one failing subscriber must not stop the others or the thread
                log.exception("a status-event subscriber failed")

    def _committed(
        self, execution_id: str, event_id: int, pause: threading.Event
    ) -> ExecutionRow | None:
        """The execution row once the step that recorded ``event_id`` has committed (None if
        it never does: the step rolled back)."""
        waited = 0.0
        delay = 0.002
        while True:
            row = self.store.get_execution(execution_id)
            if row is not None and row.event_count >= event_id:
                return row
            if waited >= _COMMIT_WAIT_SECONDS:
                return None
            pause.wait(delay)
            waited += delay
            delay = min(delay * 2, 0.1)

    def event(self, row: ExecutionRow, status: str, when: str) -> dict[str, Any]:
        """The EventBridge event for ``row`` reaching ``status`` at ``when``."""
        ended = status != "RUNNING"
        detail: dict[str, Any] = {
            "executionArn": row.arn,
            "stateMachineArn": arns.machine_arn(row.machine_name),
            "name": row.name,
            "status": status,
            "startDate": row.start_us // 1000,
            "stopDate": (row.stop_us // 1000) if ended and row.stop_us is not None else None,
            "input": row.input,
            "output": row.output if status == "SUCCEEDED" else None,
            "inputDetails": {"included": True},
            "outputDetails": {"included": True} if status == "SUCCEEDED" else None,
            "error": row.error if status in ("FAILED", "TIMED_OUT", "ABORTED") else None,
            "cause": row.cause if status in ("FAILED", "TIMED_OUT", "ABORTED") else None,
            "redriveCount": row.redrive_count,
        }
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": DETAIL_TYPE,
            "source": SOURCE,
            "account": self.account,
            "time": when,
            "region": self.region,
            "resources": [row.arn],
            "detail": detail,
        }

    def close(self) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(10)
