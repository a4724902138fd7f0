"""Step Functions activities: CreateActivity, DescribeActivity, ListActivities, DeleteActivity
and GetActivityTask, in AWS's vocabulary (responses shaped as AWS's JSON).

A Task state whose Resource is an activity ARN is scheduled like any task (a row of the run
queue) but no runner takes it: a worker program polls ``GetActivityTask`` for the activity,
gets the task's input and its token, and answers with SendTaskSuccess / SendTaskFailure /
SendTaskHeartbeat (:class:`~eltflow.runtime.service.StatesService`). Handing the task over is
one recorded step of its execution (``ActivityStarted``), taken under the execution's row lock,
so two pollers never get the same task.
"""

from __future__ import annotations

from datetime import timedelta

from eltflow.asl import limits
from eltflow.clock import Clock
from eltflow.errors import AwsApiError
from eltflow.runtime import arns
from eltflow.runtime.engine import Engine
from eltflow.store.activities import ActivityRow, ActivityStore
from eltflow.store.rows import TaskRow, from_us, to_us
from eltflow.types import JSONObject

# AWS holds a GetActivityTask request open for up to 60 seconds.
LONG_POLL_SECONDS = 60.0
POLL_INTERVAL_SECONDS = 0.2


def activity_arn(name: str) -> str:
    return f"{arns.PREFIX}:activity:{name}"


class Activities:
    def __init__(self, activities: ActivityStore, engine: Engine, clock: Clock) -> None:
        self.rows = activities
        self.engine = engine
        self.clock = clock

    def create_activity(self, *, name: str) -> JSONObject:
        problem = limits.validate_name(name, "activity")
        if problem is not None:
            raise AwsApiError("InvalidName", f"Invalid activity name: {problem}")
        row = self.rows.create(name, activity_arn(name), to_us(self.clock.now()))
        return {"activityArn": row.arn, "creationDate": from_us(row.created_us).isoformat()}

    def describe_activity(self, *, activity_arn: str) -> JSONObject:
        row = self._get(activity_arn)
        return {
            "activityArn": row.arn,
            "name": row.name,
            "creationDate": from_us(row.created_us).isoformat(),
        }

    def list_activities(
        self, *, max_results: int = 100, next_token: str | None = None
    ) -> JSONObject:
        rows = self.rows.page(after=next_token or "", limit=max_results + 1)
        out: JSONObject = {
            "activities": [
                {
                    "activityArn": r.arn,
                    "name": r.name,
                    "creationDate": from_us(r.created_us).isoformat(),
                }
                for r in rows[:max_results]
            ]
        }
        if len(rows) > max_results:
            out["nextToken"] = rows[max_results - 1].name
        return out

    def delete_activity(self, *, activity_arn: str) -> JSONObject:
        _parse(activity_arn)
        self.rows.delete(activity_arn)
        return {}

    def get_activity_task(
        self,
        *,
        activity_arn: str,
        worker_name: str | None = None,
        wait_seconds: float = LONG_POLL_SECONDS,
    ) -> JSONObject:
        """The oldest task waiting on the activity, as ``{"taskToken", "input"}``; after
        ``wait_seconds`` with none, AWS's empty answer ``{}`` (no token: poll again).
        ``worker_name`` is accepted but not recorded (AWS puts it in ActivityStarted)."""
        self._get(activity_arn)
        deadline = self.clock.now() + timedelta(seconds=wait_seconds)
        while True:
            for waiting in self.rows.waiting_tasks(activity_arn):
                task = self._take(waiting.execution_id, waiting.task_id)
                if task is not None and task.task_token is not None:
                    return {"taskToken": task.task_token, "input": task.parameters}
            left = (deadline - self.clock.now()).total_seconds()
            if left <= 0:
                return {}
            self.clock.sleep(min(POLL_INTERVAL_SECONDS, left))

    def _take(self, execution_id: str, task_id: str) -> TaskRow | None:
        """Hand the task over (one recorded step: ActivityStarted), unless another poller or
        the execution's end got there first."""

        def only_this(task: TaskRow) -> bool:
            return task.task_id == task_id and not task.started

        result = self.engine.apply(execution_id, [], dispatch=only_this)
        return result.dispatch[0] if result.dispatch else None

    def _get(self, arn: str) -> ActivityRow:
        _parse(arn)
        row = self.rows.get(arn)
        if row is None:
            raise AwsApiError("ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'")
        return row


def _parse(arn: str) -> None:
    parts = arn.split(":")
    if len(parts) != 7 or parts[:3] != ["arn", "aws", "states"] or parts[5] != "activity":
        raise AwsApiError("InvalidArn", f"Invalid Arn: '{arn}' is not an activity ARN")
