"""The scheduler's target: the local Step Functions service (eltflow.runtime).

Adapts :class:`~eltflow.runtime.service.StatesService` to the two callbacks the scheduler
needs. A fire whose execution already exists counts as started: that is exactly the duplicate
start (a retried or taken-over fire) that deterministic execution names are there to absorb —
Step Functions itself only treats same-name starts as idempotent while the execution runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eltflow.clock import Clock
from eltflow.errors import AwsApiError, NotFoundError
from eltflow.runtime import arns
from eltflow.runtime.service import StatesService
from eltflow.scheduler.model import schedules_from_config
from eltflow.scheduler.service import SchedulerService
from eltflow.store.db import Database


class StatesTarget:
    def __init__(self, service: StatesService) -> None:
        self.service = service

    def start_execution(self, state_machine: str, input: str, name: str) -> str:
        machine = arns.machine_name(state_machine)
        try:
            out = self.service.start_execution(
                state_machine_arn=arns.machine_arn(machine), input=input, name=name
            )
        except AwsApiError as e:
            if e.code == "ExecutionAlreadyExists":
                return arns.execution_arn(machine, name)
            raise
        arn = out["executionArn"]
        assert isinstance(arn, str)
        return arn

    def execution_status(self, execution_arn: str) -> str:
        try:
            out = self.service.describe_execution(execution_arn=execution_arn)
        except AwsApiError as e:
            if e.code == "ExecutionDoesNotExist":
                raise NotFoundError(e.message) from e
            raise
        status = out["status"]
        assert isinstance(status, str)
        return status


def build_scheduler(
    db: Database,
    states: StatesService,
    clock: Clock,
    *,
    declared: Mapping[str, Any] | None = None,
    **options: Any,
) -> SchedulerService:
    """A scheduler that starts executions in ``states``, with eltflow.toml's
    ``[schedules.*]`` (``declared``, i.e. ``settings.section("schedules")``) applied first.

    For ``eltflow serve``: ``build_scheduler(app.db, app.service, app.clock,
    declared=settings.section("schedules"))`` then ``.run(stop_event)`` in a thread.
    """
    target = StatesTarget(states)
    service = SchedulerService(
        db, target.start_execution, target.execution_status, clock=clock, **options
    )
    if declared:
        service.store.sync(schedules_from_config(declared), clock.now())
    return service
