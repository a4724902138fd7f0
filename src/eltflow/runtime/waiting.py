"""Tasks of an execution that wait for their task token: ``.waitForTaskToken`` integrations and
activities, with the token and when their heartbeat or timeout runs out.

AWS has no API listing these (a token reaches only the worker or the service the task called);
the console shows them so a person can answer a task by hand, through the same
SendTaskSuccess / SendTaskFailure the CLI's ``eltflow tasks`` uses. Read from the execution's
snapshot (which task each frame waits for), its state machine (the task's resource) and its
timer rows (the heartbeat and timeout deadlines); nothing here changes the execution.
"""

from __future__ import annotations

from typing import TypedDict

from eltflow.asl.model import TaskState
from eltflow.interpreter.context import task_token
from eltflow.interpreter.state import TASK
from eltflow.interpreter.states_task import beats
from eltflow.runtime.engine import Engine
from eltflow.runtime.machines import machine_at
from eltflow.runtime.service import execution_by_arn
from eltflow.store.interface import StateStore
from eltflow.store.rows import from_us

# Every timer of an execution is due before this (year 2262 in microseconds).
_ALL_TIMERS_US = 2**63 - 1


class WaitingTask(TypedDict):
    stateName: str
    mapIndex: int | None  # the Map iteration the task runs in (innermost), if any
    resource: str
    taskToken: str
    enteredTime: str | None
    # An activity task not yet handed to a worker by GetActivityTask has started False.
    started: bool
    heartbeatSeconds: float | None
    heartbeatDeadline: str | None  # HeartbeatTimeout unless a heartbeat or answer comes first
    timeoutDeadline: str | None  # the task's TimeoutSeconds runs out


class WaitingTasks:
    def __init__(self, store: StateStore, engine: Engine) -> None:
        self.store = store
        self.engine = engine

    def of(self, execution_arn: str) -> list[WaitingTask]:
        """The execution's tasks waiting for a token, oldest first (none once it ended)."""
        row = execution_by_arn(self.store, execution_arn)
        state = self.engine.state_of_row(row)
        if row.status != "RUNNING" or state is None:
            return []
        frames = [
            f
            for f in state.frames.values()
            if f.status == TASK and f.pending_task is not None and f.pending_task in state.waiting
        ]
        if not frames:
            return []
        with self.store.transaction() as conn:
            machine = self.engine.machines.get_txn(conn, row.version_id)
            due = {
                t.timer_id: t.due_us
                for t in self.store.due_timers_txn(conn, row.id, _ALL_TIMERS_US)
            }
        out: list[WaitingTask] = []
        for frame in frames:
            task = machine_at(machine, frame.path).states.get(frame.state_name)
            if not isinstance(task, TaskState) or not beats(task) or frame.pending_task is None:
                continue
            heartbeat = due.get(frame.heartbeat_timer or "")
            timeout = due.get(frame.timeout_timer or "")
            in_map = len(frame.path) >= 2 and frame.path[-1] == "*"
            out.append(
                WaitingTask(
                    stateName=frame.state_name,
                    mapIndex=frame.index if in_map else None,
                    resource=task.resource,
                    taskToken=task_token(state.context, frame.pending_task),
                    enteredTime=frame.entered_time.isoformat() if frame.entered_time else None,
                    started=frame.task_started,
                    heartbeatSeconds=frame.heartbeat_seconds,
                    heartbeatDeadline=from_us(heartbeat).isoformat() if heartbeat else None,
                    timeoutDeadline=from_us(timeout).isoformat() if timeout else None,
                )
            )
        out.sort(key=lambda t: t["enteredTime"] or "")
        return out
