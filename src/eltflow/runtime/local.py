"""Run a state machine in memory, start to finish: ``eltflow.execute``.

The in-memory driver of the pure interpreter. Task states call Python callables (keyed by
Resource ARN) or an integrations :class:`~eltflow.integrations.base.Registry`; blocking calls
run on a thread pool so Parallel branches and Map iterations overlap. Timers (Wait, retry
backoff, timeouts) are a heap; with ``virtual_time`` they fire at once while the clock jumps
to their due time, so every timestamp reads as if the time had passed.
"""

from __future__ import annotations

import heapq
import json
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from eltflow.asl.model import StateMachine
from eltflow.asl.parser import parse
from eltflow.clock import Clock, SystemClock, VirtualClock
from eltflow.errors import StatesError
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.interpreter.protocol import (
    CancelTask,
    CancelTimer,
    Effect,
    ExecutionContext,
    ExecutionStatus,
    HistoryEvent,
    Inbound,
    RunTask,
    StartTimer,
    TaskFailed,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
)
from eltflow.interpreter.step import advance, start
from eltflow.types import JSON, JSONObject

TaskFn = Callable[[JSON], JSON]

REGION = "us-east-1"
ACCOUNT = "123456789012"
LOCAL_MACHINE_NAME = "eltflow-local"


@dataclass(frozen=True, kw_only=True)
class ExecutionResult:
    """How an in-memory execution ended, with its full AWS-shaped history."""

    status: ExecutionStatus
    output: JSON
    error: str | None
    cause: str | None
    history: list[HistoryEvent] = field(default_factory=list)
    execution_arn: str = ""
    start_date: datetime | None = None
    stop_date: datetime | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    def to_json(self) -> JSONObject:
        """``{"status", "output", "error", "cause"}`` as the CLI's ``--json`` prints it."""
        return {
            "status": self.status,
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
        }

    def events(self, *types: str) -> list[HistoryEvent]:
        """History events of the given types (all events when none are given)."""
        if not types:
            return list(self.history)
        wanted = set(types)
        return [e for e in self.history if e.type in wanted]

    def event_types(self) -> list[str]:
        return [e.type for e in self.history]

    def states_visited(self) -> list[tuple[str, str, datetime, datetime | None]]:
        """``(name, type, entered, exited)`` per state entry, in history order."""
        visits: list[tuple[str, str, datetime, datetime | None]] = []
        open_: dict[str, int] = {}
        for e in self.history:
            if e.type.endswith("StateEntered"):
                d = e.details["stateEnteredEventDetails"]
                assert isinstance(d, dict)
                name = str(d["name"])
                open_[name] = len(visits)
                visits.append((name, e.type[: -len("StateEntered")], e.timestamp, None))
            elif e.type.endswith("StateExited"):
                d = e.details["stateExitedEventDetails"]
                assert isinstance(d, dict)
                i = open_.pop(str(d["name"]), None)
                if i is not None:
                    name, kind, entered, _ = visits[i]
                    visits[i] = (name, kind, entered, e.timestamp)
        return visits


@lru_cache(maxsize=256)
def _parse_text(text: str) -> StateMachine:
    return parse(text)


def load_machine(definition: str | Mapping[str, Any] | StateMachine) -> StateMachine:
    """Parse (and cache) a definition given as JSON text, a mapping or an already-parsed model."""
    if isinstance(definition, StateMachine):
        return definition
    if isinstance(definition, str):
        return _parse_text(definition)
    # Key order matters (it is the order of payload templates' keys), so it stays in the key.
    return _parse_text(json.dumps(definition))


def execute(
    definition: str | Mapping[str, Any] | StateMachine,
    input: JSON = None,
    *,
    tasks: Mapping[str, TaskFn] | None = None,
    clock: Clock | None = None,
    virtual_time: bool = False,
    name: str | None = None,
    registry: Registry | None = None,
    max_workers: int = 16,
) -> ExecutionResult:
    """Run ``definition`` on ``input`` to completion, in memory, and return the result.

    ``tasks`` maps Task ``Resource`` ARNs to callables of the task's parameters; an exception
    fails the task with the exception's class name as the error (or ``StatesError.error``) and
    its message as the cause. Resources not in ``tasks`` are looked up in ``registry``.
    ``input`` of ``None`` means ``{}``, as ``StartExecution`` without input.
    """
    machine = load_machine(definition)
    if clock is None:
        clock = VirtualClock(SystemClock().now()) if virtual_time else SystemClock()
    elif virtual_time and not isinstance(clock, VirtualClock):
        clock = VirtualClock(clock.now())  # virtual time needs a clock it can move
    name = name or uuid.uuid4().hex
    started = clock.now()
    context = ExecutionContext(
        execution_arn=f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{LOCAL_MACHINE_NAME}:{name}",
        execution_name=name,
        state_machine_arn=f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{LOCAL_MACHINE_NAME}",
        state_machine_name=LOCAL_MACHINE_NAME,
        start_time=started,
        seed=name,
    )
    driver = _Driver(machine, clock, virtual_time, dict(tasks or {}), registry, max_workers)
    return driver.run({} if input is None else input, context)


class _Driver:
    def __init__(
        self,
        machine: StateMachine,
        clock: Clock,
        virtual_time: bool,
        tasks: dict[str, TaskFn],
        registry: Registry | None,
        max_workers: int,
    ) -> None:
        self.machine = machine
        self.clock = clock
        self.virtual = virtual_time
        self.tasks = tasks
        self.registry = registry
        self.max_workers = max_workers
        self.pool: ThreadPoolExecutor | None = None
        self.running: dict[Future[Inbound], str] = {}
        self.timers: list[tuple[datetime, int, str]] = []
        self.cancelled_timers: set[str] = set()
        self.seq = 0
        self.history: list[HistoryEvent] = []

    def run(self, input: JSON, context: ExecutionContext) -> ExecutionResult:
        try:
            state, events, effects = start(self.machine, input, context, self.clock.now())
            self.history += events
            inbox: list[Inbound] = []
            while state.status == "RUNNING":
                inbox += self._carry_out(effects)
                effects = []
                if not inbox:
                    inbox.append(self._next_inbound())
                inbound = inbox.pop(0)
                state, events, more = advance(self.machine, state, inbound, self.clock.now())
                self.history += events
                effects += more
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=False, cancel_futures=True)
        return ExecutionResult(
            status=state.status,
            output=state.output,
            error=state.error,
            cause=state.cause,
            history=self.history,
            execution_arn=context.execution_arn,
            start_date=context.start_time,
            stop_date=self.history[-1].timestamp if self.history else None,
        )

    def _carry_out(self, effects: list[Effect]) -> list[Inbound]:
        """Start tasks and arm timers; returns inbounds to feed at once (TaskStarted)."""
        immediate: list[Inbound] = []
        for effect in effects:
            if isinstance(effect, RunTask):
                if self.pool is None:
                    self.pool = ThreadPoolExecutor(
                        max_workers=self.max_workers, thread_name_prefix="eltflow-task"
                    )
                future = self.pool.submit(self._call, effect)
                self.running[future] = effect.task_id
                immediate.append(TaskStarted(task_id=effect.task_id))
            elif isinstance(effect, StartTimer):
                self.seq += 1
                self.cancelled_timers.discard(effect.timer_id)
                heapq.heappush(self.timers, (effect.due, self.seq, effect.timer_id))
            elif isinstance(effect, CancelTimer):
                self.cancelled_timers.add(effect.timer_id)
            elif isinstance(effect, CancelTask):
                # A Python call can't be interrupted; its late result is ignored by the
                # interpreter (the task id is no longer awaited).
                pass
        return immediate

    def _next_inbound(self) -> Inbound:
        """Block until the next task finishes or timer is due."""
        while True:
            while self.timers and self.timers[0][2] in self.cancelled_timers:
                self.cancelled_timers.discard(heapq.heappop(self.timers)[2])
            now = self.clock.now()
            due = self.timers[0][0] if self.timers else None
            if due is not None and due <= now:
                return TimerFired(timer_id=heapq.heappop(self.timers)[2])
            if self.running:
                # In virtual time a running task takes no time: wait for it before a timer.
                timeout = None
                if due is not None and not self.virtual:
                    timeout = max((due - now).total_seconds(), 0.0)
                done, _ = wait(list(self.running), timeout=timeout, return_when=FIRST_COMPLETED)
                if done:
                    future = next(iter(done))
                    del self.running[future]
                    return future.result()
                continue
            if due is None:
                raise RuntimeError("execution is RUNNING but waits for nothing (interpreter bug)")
            if self.virtual and isinstance(self.clock, VirtualClock):
                self.clock.advance_to(due)
            else:
                self.clock.sleep(max((due - now).total_seconds(), 0.0))

    def _call(self, task: RunTask) -> Inbound:
        """Run one task on a pool thread and turn its outcome into an inbound."""
        try:
            fn = self.tasks.get(task.resource)
            if fn is not None:
                output = fn(task.parameters)
            else:
                integration = self.registry.resolve(task.resource) if self.registry else None
                if integration is None:
                    return TaskFailed(
                        task_id=task.task_id,
                        error="States.Runtime",
                        cause=f"No task handler or integration is registered for resource "
                        f"'{task.resource}'.",
                    )
                deadline = None
                if task.timeout_seconds is not None:
                    deadline = self.clock.now() + timedelta(seconds=task.timeout_seconds)
                output = integration(
                    TaskRequest(
                        resource=task.resource,
                        parameters=task.parameters,
                        state_name=task.state_name,
                        task_token=task.task_token,
                        deadline=deadline,
                        clock=self.clock,
                    )
                )
        except StatesError as e:
            return TaskFailed(task_id=task.task_id, error=e.error, cause=e.cause)
        except Exception as e:  # a handler's own failure, named like Lambda's errorType
            return TaskFailed(task_id=task.task_id, error=type(e).__name__, cause=str(e))
        try:
            json.dumps(output)
        except (TypeError, ValueError) as e:
            return TaskFailed(
                task_id=task.task_id,
                error="States.Runtime",
                cause=f"The task result is not JSON: {e}",
            )
        return TaskSucceeded(task_id=task.task_id, output=output)
