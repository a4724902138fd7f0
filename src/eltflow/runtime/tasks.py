"""Running one task: resolve its resource through the integrations registry, call it, and
turn the outcome into the interpreter's inbound (TaskSucceeded / TaskFailed).

Runs on a pool thread. It never touches the execution's state; the only store write is the
task's checkpoint, for integrations that submit-then-poll and re-attach after a crash.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Final

from eltflow.clock import Clock
from eltflow.dataapi.origin import submitted_by
from eltflow.errors import ConflictError, StatesError, StoreError
from eltflow.integrations.base import Integration, Registry, TaskRequest
from eltflow.interpreter.protocol import TaskFailed, TaskSubmitted, TaskSucceeded
from eltflow.runtime.engine import waits_for_token
from eltflow.runtime.sync_waits import TaskAwaiting
from eltflow.store.interface import StateStore
from eltflow.store.rows import TaskRow
from eltflow.types import JSON

NO_INTEGRATION = "No integration is registered for resource"
"""How the cause of a task whose resource nothing answers begins (the CLI hints on it)."""

STORE_ATTEMPTS: Final = 8
"""Tries of a task whose service fails on the state store (0.1 s doubling to 5 s between:
about 11 s in all, well inside a worker's lease)."""
STORE_BACKOFF_FIRST: Final = 0.1
STORE_BACKOFF_CAP: Final = 5.0


def store_backoff(attempt: int) -> float:
    """Seconds to wait after the ``attempt``-th try (from 1) failed on the state store."""
    return min(STORE_BACKOFF_CAP, STORE_BACKOFF_FIRST * 2.0 ** (attempt - 1))


def callable_integration(fn: Callable[[JSON], JSON]) -> Integration:
    """Adapt a plain Python function of the task's parameters (for tests and local handlers)."""

    def integration(request: TaskRequest) -> JSON:
        return fn(request.parameters)

    return integration


TaskOutcome = TaskSucceeded | TaskFailed | TaskSubmitted | TaskAwaiting
"""What running a task ends with (``TaskSubmitted``: a ``.waitForTaskToken`` call made;
``TaskAwaiting``: a ``.sync`` task's child is linked to it, see
:mod:`eltflow.runtime.sync_waits`)."""


def run_task(
    *,
    registry: Registry,
    store: StateStore,
    clock: Clock,
    execution_arn: str,
    task: TaskRow,
    report: Callable[[TaskSubmitted], None] | None = None,
) -> TaskOutcome:
    """The task's outcome; for a ``.waitForTaskToken`` resource whose call went through,
    ``TaskSubmitted`` with the call's response: the task now waits for SendTaskSuccess/Failure
    with its token (the response is recorded in history, not the task's result, as AWS does),
    and the engine takes its row off the run queue.

    ``report`` records a ``.sync`` task's submission while the task runs on: the integration
    calls ``TaskRequest.submitted`` with the service's response once it accepted the request
    (AWS's ``TaskSubmitted``), then waits for the job."""
    integration = registry.resolve(task.resource)
    if integration is None:
        return TaskFailed(
            task_id=task.task_id,
            error="States.Runtime",
            cause=f"{NO_INTEGRATION} '{task.resource}'",
        )

    kept = _Kept(store, task)
    checkpoint = kept.write

    awaiting: list[TaskAwaiting] = []

    def await_execution(child_arn: str) -> bool:
        child_id = store.sync_waits.watch(
            child_arn, parent_id=task.execution_id, task_id=task.task_id
        )
        if child_id is not None:
            awaiting.append(TaskAwaiting(task.task_id, child_arn))
        return child_id is not None

    now = clock.now()
    reported: list[bool] = []  # whether the integration reported its submission itself
    request = TaskRequest(
        resource=task.resource,
        parameters=json.loads(task.parameters),
        execution_arn=execution_arn,
        state_name=task.state_name,
        task_token=task.task_token,
        deadline=now + timedelta(seconds=task.timeout_seconds) if task.timeout_seconds else None,
        clock=clock,
        checkpoint=checkpoint,
        recorded=json.loads(task.checkpoint) if task.checkpoint else None,
        submitted=_reporter(task.task_id, report, reported),
        # Only where the submission is recorded: the task is parked with its TaskSubmitted.
        await_execution=await_execution if report is not None else None,
    )
    attempt = 1
    while True:
        try:
            if kept.has_value:
                # A try after a store failure: what the failed one submitted and checkpointed
                # (its request was built before) is re-attached to, not submitted again (a
                # StartExecution whose link to its child failed started a second child).
                request = replace(request, recorded=kept.rewritten())
            # Statements the task submits name this execution and state (the console shows them).
            with submitted_by(execution_arn, task.state_name):
                output = integration(request)
            break
        except StatesError as e:
            return TaskFailed(task_id=task.task_id, error=e.error, cause=e.cause)
        except ConflictError as e:  # a real conflict: trying again cannot help
            return TaskFailed(task_id=task.task_id, error=type(e).__name__, cause=str(e))
        except StoreError as e:
            # The service's store failed (busy, disconnected), not the task: try again, as
            # AWS's SDKs retry a service's 5xx. Past the last attempt it is a plain task
            # failure that Retry and Catch can match.
            if attempt >= STORE_ATTEMPTS:
                return TaskFailed(
                    task_id=task.task_id,
                    error="States.TaskFailed",
                    cause=f"The state store failed {attempt} times in a row: {e}",
                )
            clock.sleep(store_backoff(attempt))
            attempt += 1
        except Exception as e:  # a handler's own exception: named like Lambda's errorType
            return TaskFailed(task_id=task.task_id, error=type(e).__name__, cause=str(e))
    if awaiting:
        return awaiting[-1]  # completed from the child's end (the engine parks the task)
    # The 256 KiB limit is the interpreter's to check (asl/limits.py), when it takes the result
    # in: the same rule and AWS's cause on every driver. Only "is it JSON at all" is ours.
    try:
        json.dumps(output)
    except (TypeError, ValueError) as e:
        return TaskFailed(
            task_id=task.task_id, error="States.Runtime", cause=f"The task result is not JSON: {e}"
        )
    if waits_for_token(task.resource) and not reported:
        return TaskSubmitted(task_id=task.task_id, output=output)
    # An integration that reported its submission returns the task's outcome; for a
    # .waitForTaskToken task only one that stands in for the token's answer does (a Step
    # Functions Local mock, eltflow.testing.mocks). Its report ended the task's row, so a
    # crash before this outcome is recorded leaves the task waiting for its token: such
    # integrations run in memory only.
    return TaskSucceeded(task_id=task.task_id, output=output)


def _reporter(
    task_id: str, report: Callable[[TaskSubmitted], None] | None, reported: list[bool]
) -> Callable[[JSON], None] | None:
    if report is None:
        return None

    def submitted(response: JSON) -> None:
        json.dumps(response)  # JSON, as a result must be (a TypeError is the integration's bug)
        reported.append(True)
        report(TaskSubmitted(task_id=task_id, output=response))

    return submitted


class _Kept:
    """What a task run checkpointed, kept before it is written: a try after a store failure
    re-attaches to it (the child started, the statement submitted) instead of submitting
    again, and writes it first if its own write was what failed."""

    __slots__ = ("_store", "_task", "has_value", "value", "written")

    def __init__(self, store: StateStore, task: TaskRow) -> None:
        self._store = store
        self._task = task
        self.has_value = False  # a checkpoint may be null: has_value says one was made
        self.value: JSON = None
        self.written = False

    def write(self, value: JSON) -> None:
        self.has_value, self.value, self.written = True, value, False
        self._store.set_checkpoint(self._task.execution_id, self._task.task_id, value)
        self.written = True

    def rewritten(self) -> JSON:
        """The kept value, written first if its write failed."""
        if not self.written:
            self.write(self.value)
        return self.value
