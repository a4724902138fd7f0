"""The Map Run driver: runs a Distributed Map's items as child executions.

The interpreter hands a Map Run over as one task (``interpreter.distributed.MAP_RUN_RESOURCE``);
the worker runs it here, on one of its task threads, as it runs a polling ``.sync`` task:

1. record the Map Run (``sfn_map_runs``, idempotent by its ARN) and the child state machine
   ``MACHINE/LABEL`` (the ItemProcessor's definition, a new version when it changed);
2. read the items (inline, or the ItemReader's from the local S3), select each one
   (ItemSelector) and group them (ItemBatcher);
3. start children, at most ``MaxConcurrency`` RUNNING at once, each an execution of its own
   started exactly as StartExecution starts one (the engine records its first step in the same
   transaction that inserts its row; a child of Pass states ends right there), a few hundred
   per transaction; workers run the children that wait on tasks or timers like any other
   execution (``root_id`` lets ``eltflow start --wait`` run them too);
4. until every child has ended: count failures against ``ToleratedFailureCount/Percentage``
   (exceeded: stop the running children, ``States.ExceedToleratedFailureThreshold``), watch the
   parent (stopped, failed, timed out, or its Map state left without the Map Run, e.g. a
   sibling Parallel branch failed: stop the children, the Map Run is ABORTED);
5. the result: the children's outputs in item order, or what the ResultWriter exported. A
   ResultWriter exports however the Map Run ends: SUCCEEDED, FAILED (tolerated failures
   exceeded: the children it stopped are ABORTED records under FAILED, the items never started
   PENDING) or ABORTED (the parent ended; the same files, written before the Map Run is
   recorded ABORTED). See :mod:`eltflow.runtime.result_writer` for what of this is verified.

A crash resumes the same Map Run: the task is dispatched again with the same parameters, the
children already started are kept (``item_index`` is unique per Map Run) and the next index
is started from. A redrive of the parent redrives this Map Run: its failed, aborted or timed
out children are redriven, the items never started are started.

Children's ARNs are AWS's: ``arn:aws:states:R:A:execution:MACHINE/LABEL:UUID`` for STANDARD,
``arn:aws:states:R:A:express:MACHINE/LABEL:MAP_RUN_UUID:UUID`` for EXPRESS. An EXPRESS child
is recorded like a STANDARD one here (history and all; AWS keeps no history for it). Limits:
the driver holds a thread while its Map Run lasts (one of the worker's waiting threads, not a
task thread: the children's tasks need those) and polls (every ``poll_seconds``) only while
children wait on tasks or timers (in memory the wait ends as soon as a child ends). On a
virtual clock the worker moves time on to the children's next timer once every Map Run in
flight waits for its children and no other task runs (:meth:`MapRunDriver.waiting`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from eltflow.asl import errors as asl_errors
from eltflow.asl import limits
from eltflow.asl.model import MapState, StateMachine
from eltflow.clock import Clock
from eltflow.errors import ConflictError, StatesError, StoreError
from eltflow.interpreter import distributed
from eltflow.interpreter.context import rng_for
from eltflow.interpreter.protocol import (
    ExecutionContext,
    StopRequested,
    TaskFailed,
    TaskSucceeded,
)
from eltflow.runtime import arns, item_reader, result_writer
from eltflow.runtime.engine import Engine, FirstStep
from eltflow.runtime.machines import insert_machine_txn, machine_at
from eltflow.runtime.tasks import STORE_ATTEMPTS, store_backoff
from eltflow.s3.service import S3Service
from eltflow.store.interface import StateStore
from eltflow.store.map_runs import ChildRow, MapRunRow, all_children
from eltflow.store.rows import ExecutionRow, to_us
from eltflow.store.runtime_store import dumps
from eltflow.types import JSON, JSONObject

log = logging.getLogger(__name__)

CHILDREN_PER_TRANSACTION = 200
POLL_SECONDS = 0.02
UNSUCCESSFUL = ("FAILED", "TIMED_OUT", "ABORTED")
FAILURES = ("FAILED", "TIMED_OUT")  # what the tolerated failure threshold counts


@dataclass(frozen=True, slots=True)
class _Child:
    """What the driver needs to start one child: its index, input and item count."""

    index: int
    input: JSON
    items: int


class MapRunDriver:
    def __init__(
        self,
        store: StateStore,
        engine: Engine,
        clock: Clock,
        objects: S3Service | None = None,
        *,
        poll_seconds: float = POLL_SECONDS,
        pause: Callable[[float], Any] | None = None,
        wake: Callable[[], Any] | None = None,
    ) -> None:
        """``wake()`` is called after children were started that wait on tasks or timers:
        the worker running this Map Run claims them at once instead of at its next poll."""
        self.store = store
        self.engine = engine
        self.clock = clock
        self.objects = objects
        self.poll_seconds = poll_seconds
        # A real pause between polls, whatever the clock (as states:startExecution.sync).
        self.pause = pause or threading.Event().wait
        self.wake = wake
        self._lock = threading.Lock()
        self._running = 0  # Map Runs under way in this driver
        self._waiting = 0  # of which waiting for their children
        self._arns: set[str] = set()  # their ARNs

    def run(self, execution_id: str, task_id: str, parameters: str) -> TaskSucceeded | TaskFailed:
        """Run (or resume, or redrive) the Map Run ``parameters`` describe to its end."""
        arn = str(json.loads(parameters)["MapRunArn"])
        with self._lock:
            self._running += 1
            self._arns.add(arn)
        try:
            return self._attempts(execution_id, task_id, parameters, arn)
        finally:
            with self._lock:
                self._running -= 1
                self._arns.discard(arn)

    def _attempts(
        self, execution_id: str, task_id: str, parameters: str, arn: str
    ) -> TaskSucceeded | TaskFailed:
        """A store that fails (busy, disconnected) does not end the Map Run: it is resumed,
        which is idempotent, after a pause. A bug fails the Map state visibly (redrivable)."""
        attempt = 1
        while True:
            try:
                output = self._run(execution_id, task_id, parameters, resumed=attempt > 1)
                return TaskSucceeded(task_id=task_id, output=output)
            except StatesError as e:
                return TaskFailed(task_id=task_id, error=e.error, cause=e.cause)
            except StoreError as e:
                if attempt >= STORE_ATTEMPTS:
                    cause = f"The state store failed {attempt} times in a row: {e}"
                    return TaskFailed(task_id=task_id, error=asl_errors.RUNTIME, cause=cause)
                log.warning("Map Run %s: the state store failed, resuming: %s", arn, e)
                self.pause(store_backoff(attempt))
                attempt += 1
            except Exception as e:
                log.exception("Map Run %s failed", arn)
                cause = f"Internal error in Map Run {arn}: {type(e).__name__}: {e}"
                return TaskFailed(task_id=task_id, error=asl_errors.RUNTIME, cause=cause)

    def next_timer(self) -> int | None:
        """The earliest timer of the children of the Map Runs under way (None: none)."""
        with self._lock:
            arns_ = list(self._arns)
        due = [t for t in map(self.store.map_runs.next_timer, arns_) if t is not None]
        return min(due) if due else None

    def waiting(self) -> bool:
        """Whether every Map Run this driver runs is waiting for its children (none is
        reading items, starting children or writing results): on a virtual clock the worker
        may then move time on to the children's next timer."""
        with self._lock:
            return self._running > 0 and self._waiting == self._running

    def _wait(self, map_run_arn: str) -> None:
        """Until one of the Map Run's children ends, at most ``poll_seconds`` (the parent's
        and UpdateMapRun's changes are seen then), on a store that tells (memory); else a
        pause of ``poll_seconds``."""
        with self._lock:
            self._waiting += 1
        try:
            if not self.store.map_runs.wait_child_end(map_run_arn, self.poll_seconds):
                self.pause(self.poll_seconds)
        finally:
            with self._lock:
                self._waiting -= 1

    # -- the run -------------------------------------------------------------------------------
    def _run(
        self, execution_id: str, task_id: str, parameters: str, *, resumed: bool = False
    ) -> JSON:
        params = cast(JSONObject, json.loads(parameters))
        map_runs = self.store.map_runs
        arn = str(params["MapRunArn"])
        redrive = bool(params.get("Redrive"))
        now_us = to_us(self.clock.now())
        if redrive:
            row = map_runs.get_map_run(arn)
            if row is None:
                raise StatesError(asl_errors.RUNTIME, f"Map Run {arn} is not recorded")
            config = cast(JSONObject, json.loads(row.config))
        else:
            config = params
            with self.store.transaction() as conn:
                map_runs.insert_map_run_txn(
                    conn,
                    arn=arn,
                    execution_id=execution_id,
                    state_name=str(cast(list[str], config["StatePath"])[-1]),
                    start_us=now_us,
                    max_concurrency=int(cast(int, config["MaxConcurrency"])),
                    tolerated_failure_count=int(cast(int, config["ToleratedFailureCount"] or 0)),
                    tolerated_failure_percentage=float(
                        cast(float, config["ToleratedFailurePercentage"] or 0.0)
                    ),
                    config=parameters,
                )
            row = map_runs.get_map_run(arn)
            assert row is not None
        parent = self.store.get_execution(execution_id)
        if parent is None:
            raise StatesError(asl_errors.RUNTIME, f"execution {execution_id} is not recorded")
        state, processor = self._map_state(parent.version_id, config)
        machine_name, version_id = self._child_machine(parent, config, processor)
        try:
            children = self._children(state, config)
        except StatesError as e:
            self._finish(row, "FAILED", e.error, e.cause, None, 0)
            raise
        map_runs.set_total(arn, sum(c.items for c in children))
        if redrive:
            if not resumed:  # a resumed redrive (the store failed) is the same redrive
                map_runs.redrive_map_run(arn, now_us)
            for status in UNSUCCESSFUL:
                for child in list(all_children(map_runs, arn, status=status)):
                    self.engine.redrive(child.id)
        link = map_runs.link(execution_id)
        root_id = link.root_id if link is not None and link.root_id else execution_id
        run = _Run(
            driver=self,
            row=row,
            config=config,
            children=children,
            machine_name=machine_name,
            version_id=version_id,
            processor=processor,
            root_id=root_id,
            execution_id=execution_id,
            task_id=task_id,
        )
        del children  # the Map Run's own list drops each child once started
        outcome = run.until_done()
        # The items a failed or aborted Map Run never started are its ResultWriter's PENDING
        # records (a Map Run that succeeded started them all).
        pending = [c.input for c in run.children[run.next :] if c is not None]
        return self._result(row, config, machine_name, outcome, pending)

    def _map_state(self, version_id: int, config: JSONObject) -> tuple[MapState, StateMachine]:
        with self.store.transaction() as conn:
            machine = self.engine.machines.get_txn(conn, version_id)
        path = cast(list[str], config["StatePath"])
        state = machine_at(machine, path[:-1]).states[path[-1]]
        assert isinstance(state, MapState) and state.item_processor is not None
        return state, state.item_processor

    def _child_machine(
        self, parent: Any, config: JSONObject, processor: StateMachine
    ) -> tuple[str, int]:
        """The ``MACHINE/LABEL`` state machine the children run (its current version is the
        ItemProcessor's definition; a changed definition is published as a new version)."""
        path = cast(list[str], config["StatePath"])
        with self.store.transaction() as conn:
            version = self.store.get_version_txn(conn, parent.version_id)
            assert version is not None
            definition = _processor_definition(version.definition, path)
            parent_machine = self.store.get_machine_txn(conn, parent.machine_name)
            role = parent_machine.role_arn if parent_machine is not None else arns.DEFAULT_ROLE_ARN
            label = str(config["MapRunArn"]).rsplit(":", 1)[0].rsplit("/", 1)[-1]
            name = f"{parent.machine_name}/{label}"
            now_us = to_us(self.clock.now())
            existing = self.store.get_machine_txn(conn, name)
            current = (
                None
                if existing is None
                else self.store.get_version_txn(conn, existing.current_version_id)
            )
            if current is not None and current.definition == definition:
                self.engine.machines.put(current.id, processor)
                return name, current.id
            number = (current.version if current is not None else 0) + 1
            vid = self.store.insert_version_txn(
                conn,
                machine_name=name,
                version=number,
                definition=definition,
                description="",
                created_us=now_us,
            )
            if existing is None:
                # Another Map Run may have created it meanwhile: it publishes next time.
                with contextlib.suppress(ConflictError):
                    insert_machine_txn(
                        self.store,
                        conn,
                        name=name,
                        arn=arns.machine_arn(name),
                        version_id=vid,
                        role_arn=role,
                        machine_type=str(config.get("ExecutionType") or "STANDARD"),
                        now_us=now_us,
                    )
            else:
                self.store.update_machine_txn(
                    conn, name=name, current_version_id=vid, role_arn=role, now_us=now_us
                )
        self.engine.machines.put(vid, processor)
        return name, vid

    def _children(self, state: MapState, config: JSONObject) -> list[_Child]:
        """Each child's input: the items read, selected and batched."""
        items = config.get("Items")
        reader = config.get("ItemReader")
        if isinstance(reader, dict):
            items = item_reader.read_items(reader, self.objects)
        if not isinstance(items, list):
            items = []
        effective = config.get("Input")
        context = cast(JSONObject, config.get("Context") or {})
        variables = cast(dict[str, JSON], config.get("Variables") or {})
        seed = ExecutionContext(
            execution_arn=str(config["MapRunArn"]),
            execution_name="",
            state_machine_arn="",
            state_machine_name="",
            start_time=self.clock.now(),
            seed=str(config["MapRunArn"]),
        )
        selected = [
            distributed.item_input(state, effective, context, variables, rng_for(seed, i), i, value)
            for i, value in enumerate(items)
        ]
        batcher = config.get("ItemBatcher")
        if not isinstance(batcher, dict):
            return [_Child(index=i, input=v, items=1) for i, v in enumerate(selected)]
        return _batches(selected, batcher)

    def _finish(
        self,
        row: MapRunRow,
        status: str,
        error: str | None,
        cause: str | None,
        total: int | None,
        written: int,
    ) -> None:
        self.store.map_runs.finish_map_run(
            row.arn,
            status=status,
            stop_us=to_us(self.clock.now()),
            error=error,
            cause=cause,
            total_items=total,
            results_written=written,
        )

    def _result(
        self,
        row: MapRunRow,
        config: JSONObject,
        machine_name: str,
        outcome: str,
        pending: list[JSON],
    ) -> JSON:
        map_runs = self.store.map_runs
        arn = row.arn
        machine_arn = arns.machine_arn(machine_name)
        total = map_runs.get_map_run(arn)
        total_items = total.total_items if total is not None else None
        writer = config.get("ResultWriter")
        exporting = isinstance(writer, dict) and writer.get("Resource") is not None
        if outcome == "ABORTED":
            # The parent ended (stopped, failed, timed out): the Map Run is ABORTED whatever
            # the export does, so a failed export is only logged (the parent has no state left
            # to fail).
            written = 0
            if exporting:
                try:
                    _, written = self._export(
                        cast(dict[str, Any], writer), arn, machine_arn, pending
                    )
                except StatesError as e:
                    log.warning("Map Run %s: aborted, its results not written: %s", arn, e.cause)
            self._finish(row, "ABORTED", None, None, total_items, written)
            raise StatesError(asl_errors.RUNTIME, f"Map Run {arn} was aborted")
        written = 0
        output: JSON = None
        try:
            if exporting:
                output, written = self._export(
                    cast(dict[str, Any], writer), arn, machine_arn, pending
                )
            elif isinstance(writer, dict):
                output = result_writer.inline(
                    writer, all_children(map_runs, arn, status="SUCCEEDED"), machine_arn
                )
            else:
                output = [
                    json.loads(c.output) if c.output is not None else None
                    for c in all_children(map_runs, arn, status="SUCCEEDED")
                ]
        except StatesError as e:
            self._finish(row, "FAILED", e.error, e.cause, total_items, written)
            raise
        if outcome == "EXCEEDED":
            error = asl_errors.EXCEED_TOLERATED_FAILURE_THRESHOLD
            self._finish(row, "FAILED", error, distributed.EXCEEDED_CAUSE, total_items, written)
            raise StatesError(error, distributed.EXCEEDED_CAUSE)
        self._finish(row, "SUCCEEDED", None, None, total_items, written)
        return output

    def _export(
        self, writer: dict[str, Any], arn: str, machine_arn: str, pending: list[JSON]
    ) -> tuple[JSONObject, int]:
        """The ResultWriter's files for the Map Run as it ended: its children by status (failed,
        timed out and aborted ones under FAILED) and the items it never started (PENDING)."""
        map_runs = self.store.map_runs
        by_status: dict[str, Iterable[ChildRow]] = {
            "SUCCEEDED": all_children(map_runs, arn, status="SUCCEEDED"),
            "FAILED": _unsuccessful(map_runs, arn),
        }
        return result_writer.export(writer, self.objects, arn, machine_arn, by_status, pending)


class _Run:
    """One pass of a Map Run: start children under MaxConcurrency, watch them end."""

    def __init__(
        self,
        *,
        driver: MapRunDriver,
        row: MapRunRow,
        config: JSONObject,
        children: list[_Child],
        machine_name: str,
        version_id: int,
        processor: StateMachine,
        root_id: str,
        execution_id: str,
        task_id: str,
    ) -> None:
        self.d = driver
        self.row = row
        self.config = config
        # Each child until it is started: then its input is its row's, and its entry is
        # dropped (None), so a Map Run keeps only the items it has still to start (issue 16).
        self.children: list[_Child | None] = list(children)
        self.machine_name = machine_name
        self.version_id = version_id
        self.processor = processor
        self.root_id = root_id
        self.execution_id = execution_id
        self.task_id = task_id
        self.limit = int(cast(int, config["MaxConcurrency"])) or distributed.MAX_CONCURRENCY
        self.count = cast("int | None", config.get("ToleratedFailureCount"))
        self.pct = cast("float | None", config.get("ToleratedFailurePercentage"))
        self.express = config.get("ExecutionType") == "EXPRESS"
        last = driver.store.map_runs.last_index(row.arn)
        self.next = 0 if last is None else last + 1
        # Whether a child may still be RUNNING (one that did not end within its first step,
        # or any, on a resume or redrive) and failures seen: the store is asked only then.
        self.open = self.next > 0
        self.failures = 0

    def until_done(self) -> str:
        """SUCCEEDED, EXCEEDED (tolerated failures exceeded) or ABORTED (the parent ended)."""
        map_runs = self.d.store.map_runs
        total = len(self.children)
        # AWS's thresholds count items: the failed or timed out ones over all items read.
        items = sum(c.items for c in self.children if c is not None)
        running = 0
        while True:
            if self.open or self.failures:
                counts = map_runs.counts(self.row.arn)
                running = counts.executions.get("RUNNING", 0)
                self.failures = sum(counts.items.get(s, 0) for s in FAILURES)
                self.open = running > 0
            if distributed.exceeded(self.failures, items, self.count, self.pct):
                self._stop_children("States.ExceedToleratedFailureThreshold")
                return "EXCEEDED"
            if not self._parent_waits():
                self._stop_children("States.Aborted")
                return "ABORTED"
            if self.next >= total and running == 0:
                return "SUCCEEDED"
            room = self.limit - running
            if self.next < total and room > 0:
                running += self._start(min(room, CHILDREN_PER_TRANSACTION))
                continue
            self.d._wait(self.row.arn)
            self._settings()

    def _settings(self) -> None:
        """MaxConcurrency and tolerated failures as recorded now (UpdateMapRun changes them
        while the Map Run waits). The row records an unset threshold as 0, as DescribeMapRun
        reports it, so a recorded 0 leaves a threshold this Map Run did not set unset: read
        back as a threshold, an unset ToleratedFailurePercentage became 0% once the Map Run
        first waited, and a ToleratedFailureCount of 1 then failed at the first failure.
        (That UpdateMapRun setting a threshold to 0 where the other one is set leaves it
        unset, rather than failing at the first failure, is unverified.)"""
        row = self.d.store.map_runs.get_map_run(self.row.arn)
        if row is not None:
            self.limit = row.max_concurrency or distributed.MAX_CONCURRENCY
            count, pct = row.tolerated_failure_count, row.tolerated_failure_percentage
            self.count = None if count == 0 and self.count is None else count
            self.pct = None if pct == 0 and self.pct is None else pct

    def _parent_waits(self) -> bool:
        """Whether the parent still waits for this Map Run: it runs, and its Map state still
        has the Map Run's task. A Map state the parent left without it (a sibling Parallel
        branch failed, say) cancelled the task (its row is gone): the Map Run is then
        aborted rather than left starting children for a state that has ended (that AWS
        records it ABORTED there, rather than some other status, is unverified)."""
        store = self.d.store
        # One read that takes no write lock: asked between every batch of children started.
        with store.read_transaction() as conn:
            parent = store.get_execution_txn(conn, self.execution_id)
            if parent is None or parent.status != "RUNNING":
                return False
            tasks = store.tasks_txn(conn, self.execution_id)
        return any(t.task_id == self.task_id for t in tasks)

    def _start(self, n: int) -> int:
        """Start the next ``n`` children in one transaction; returns how many still run."""
        d = self.d
        store, engine = d.store, d.engine
        map_runs = store.map_runs
        now = d.clock.now()
        now_us = to_us(now)
        still_running = 0
        run_id = self.row.arn.rsplit(":", 1)[-1]
        machine_arn = arns.machine_arn(self.machine_name)
        # Each child's first step is evaluated and its row projected and encoded before the
        # transaction opens (no user expression runs while a store write transaction is open:
        # see runtime.engine), as StartExecution does: the transaction inserts each row once
        # and writes its events and work, no UPDATE of the row after.
        firsts: list[tuple[_Child, FirstStep]] = []
        batch = self.children[self.next : self.next + n]
        for child in batch:
            assert child is not None  # only children already started are dropped
            name = str(uuid.uuid4())
            if self.express:
                arn = f"{arns.PREFIX}:express:{self.machine_name}:{run_id}:{name}"
            else:
                arn = arns.execution_arn(self.machine_name, name)
            text = dumps(child.input)
            if len(text) > limits.MAX_PAYLOAD_BYTES // 4:
                limits.check_payload(child.input, what=f"item {child.index}")
            context = ExecutionContext(
                execution_arn=arn,
                execution_name=name,
                state_machine_arn=machine_arn,
                state_machine_name=self.machine_name,
                start_time=now,
                seed=arn,
            )
            step = engine.begin(self.processor, child.input, context, now)
            started = ExecutionRow.started(
                id=uuid.uuid4().hex,
                arn=arn,
                machine_name=self.machine_name,
                version_id=self.version_id,
                name=name,
                input=text,
                start_us=now_us,
            )
            firsts.append((child, engine.first_step(started, step)))
        with store.transaction() as conn:
            for child, first in firsts:
                map_runs.insert_child_txn(
                    conn,
                    first.row,
                    map_run_arn=self.row.arn,
                    item_index=child.index,
                    item_count=child.items,
                    root_id=self.root_id,
                )
                engine.record_first_txn(conn, first)
                status = first.row.status
                if status == "RUNNING":
                    still_running += 1
                elif status in FAILURES:
                    self.failures += child.items
        self.children[self.next : self.next + n] = [None] * len(batch)
        self.next += n
        for _, first in firsts:
            engine.first_committed(first)
        if still_running:
            self.open = True
            if d.wake is not None:
                d.wake()
        return still_running

    def _stop_children(self, error: str) -> None:
        map_runs = self.d.store.map_runs
        for child in list(all_children(map_runs, self.row.arn, status="RUNNING")):
            self.d.engine.apply(
                child.id,
                [StopRequested(error=error, cause=f"Map Run {self.row.arn} stopped")],
            )


def _batches(selected: list[JSON], batcher: dict[str, Any]) -> list[_Child]:
    """ItemBatcher: at most MaxItemsPerBatch items and MaxInputBytesPerBatch bytes a batch
    (the batch input's JSON size, ``BatchInput`` included); a single item over the byte limit
    is a batch of its own (AWS fails it then: unverified)."""
    max_items = batcher.get("MaxItemsPerBatch")
    max_bytes = batcher.get("MaxInputBytesPerBatch")
    batch_input = batcher.get("BatchInput")
    if max_items is None and max_bytes is None:
        raise StatesError(
            asl_errors.RUNTIME, "ItemBatcher needs MaxItemsPerBatch or MaxInputBytesPerBatch"
        )
    for value, name in ((max_items, "MaxItemsPerBatch"), (max_bytes, "MaxInputBytesPerBatch")):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            raise StatesError(asl_errors.RUNTIME, f"{name} must be a positive integer: {value!r}")
    base = len(dumps(distributed.batch_input(batch_input, [])).encode())
    out: list[_Child] = []
    current: list[JSON] = []
    size = base
    for value in selected:
        item_bytes = len(dumps(value).encode()) + (1 if current else 0)
        full = (max_items is not None and len(current) >= max_items) or (
            max_bytes is not None and current and size + item_bytes > max_bytes
        )
        if full:
            out.append(_batch(len(out), batch_input, current))
            current, size = [], base
            item_bytes -= 1
        current.append(value)
        size += item_bytes
    if current:
        out.append(_batch(len(out), batch_input, current))
    return out


def _batch(index: int, batch_input: JSON, items: list[JSON]) -> _Child:
    return _Child(index=index, input=distributed.batch_input(batch_input, items), items=len(items))


def _unsuccessful(map_runs: Any, arn: str) -> Iterable[ChildRow]:
    for status in UNSUCCESSFUL:
        yield from all_children(map_runs, arn, status=status)


def _processor_definition(definition: str, path: list[str]) -> str:
    """The ItemProcessor of the Map state at ``path`` as a definition of its own."""
    top = json.loads(definition)
    machine: Any = top
    for i in range(0, len(path) - 1, 2):
        outer = machine["States"][path[i]]
        if path[i + 1] == "*":
            machine = outer.get("ItemProcessor") or outer.get("Iterator")
        else:
            machine = outer["Branches"][int(path[i + 1])]
    state = machine["States"][path[-1]]
    processor = dict(state.get("ItemProcessor") or state.get("Iterator"))
    processor.pop("ProcessorConfig", None)
    if "QueryLanguage" in top and "QueryLanguage" not in processor:
        processor["QueryLanguage"] = top["QueryLanguage"]
    return json.dumps(processor, indent=2)
