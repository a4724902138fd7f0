"""A ``states:startExecution.sync`` / ``.sync:2`` task completed from its child's end.

AWS completes a parent's ``.sync`` task when the child execution ends; a thread polling the
child (as this runtime did: one per waiting parent, waking every 50 ms) costs a thread and CPU
per waiting parent. Here the task's run ends once the child is linked to it
(:meth:`eltflow.store.sync_waits.SyncWaitStore.watch`): the task runner reports
:class:`TaskAwaiting`, the engine parks the task's row with the step that records its
``TaskSubmitted`` and lets the parent go. The child's last step wakes the parent; the parent's
next step turns the child's row into the task's outcome (:func:`outcome`), in the shape the
integration gives a child it found ended (``StartExecutionIntegration``: ``Output`` as JSON
text for ``.sync``, as JSON for ``.sync:2``; ``States.TaskFailed`` with the child's description
as the cause for a child that did not succeed). Histories are the same as with the poll.

Stopping follows what the poll did: a parent that ends (stopped, failed, timed out) while a
``.sync`` task waits stops the child (``States.Aborted``, "Stopped because its parent ... stopped");
a task whose TimeoutSeconds runs out stops it with ``States.Timeout`` ("... timed out"). A task
cancelled otherwise while its parent runs on leaves its child running, as the poll did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from eltflow.errors import StatesError
from eltflow.integrations.states import START_EXECUTION, sync_result
from eltflow.interpreter.protocol import TaskFailed, TaskSucceeded
from eltflow.runtime.paging import described
from eltflow.store.rows import ExecutionRow, TaskRow

SYNC = START_EXECUTION + ".sync"  # .sync and .sync:2


@dataclass(frozen=True, slots=True)
class TaskAwaiting:
    """A task's run ended with its child linked to it (not an outcome: the task waits on)."""

    task_id: str
    child_arn: str


@dataclass(frozen=True, slots=True)
class ChildStop:
    """A child to stop once the parent's step has committed (what the poll did)."""

    child_arn: str
    error: str
    cause: str


def is_sync(task: TaskRow) -> bool:
    return task.resource.startswith(SYNC)


def child_of(task: TaskRow) -> str | None:
    """The child execution's ARN a ``.sync`` task started: the one it is parked for, else its
    checkpoint, if any yet."""
    if task.awaits is not None:
        return task.awaits
    recorded = json.loads(task.checkpoint) if task.checkpoint else None
    return recorded if isinstance(recorded, str) else None


def stopped(parent_arn: str, child_arn: str) -> ChildStop:
    return ChildStop(
        child_arn, "States.Aborted", f"Stopped because its parent {parent_arn} stopped"
    )


def timed_out(parent_arn: str, child_arn: str) -> ChildStop:
    return ChildStop(
        child_arn, "States.Timeout", f"Stopped because its parent {parent_arn} timed out"
    )


def timeout_timer(task_id: str) -> str:
    """The id of the TimeoutSeconds timer of task ``task_id`` (interpreter/states_task.py:
    ``<key>/task/<n>`` and ``<key>/timeout/<n>``)."""
    key, _, attempt = task_id.rpartition("/task/")
    return f"{key}/timeout/{attempt}"


def outcome(task: TaskRow, child: ExecutionRow) -> TaskSucceeded | TaskFailed:
    """The task's outcome from its ended child."""
    try:
        result = sync_result(described(child), as_json=task.resource.endswith(".sync:2"))
    except StatesError as e:
        return TaskFailed(task_id=task.task_id, error=e.error, cause=e.cause)
    return TaskSucceeded(task_id=task.task_id, output=result)
