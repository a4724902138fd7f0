"""The schedules service: what the CLI (``eltflow schedules``) and the HTTP API
(``/api/schedules``) both call, so neither maps fields or reaches the scheduler's store itself.

Requests use EventBridge Scheduler's field names (``ScheduleExpression``, ``Target``,
``FlexibleTimeWindow``...) plus eltflow's ``CatchUp``, ``MaxCatchUp`` and ``Overlap``; a view
is :meth:`Schedule.to_json` plus ``NextFires`` (computed from the schedule's cursor, so paused
or finished schedules show none) and ``LastFires`` (the fire ledger, newest first).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from eltflow.clock import Clock
from eltflow.errors import AwsApiError, ScheduleError
from eltflow.runtime import arns
from eltflow.runtime.service import StatesService
from eltflow.scheduler import fire_outcomes, planning
from eltflow.scheduler.model import (
    Fire,
    FireJson,
    Schedule,
    ScheduleJson,
    ScheduleState,
    check_request_keys,
    schedule_fields,
    schedules_from_config,
)
from eltflow.scheduler.service import SchedulerService
from eltflow.scheduler.store import ScheduleStore
from eltflow.scheduler.target import StatesTarget
from eltflow.store.db import Database


def next_fires(schedule: Schedule, cursor: datetime | None, now: datetime, n: int) -> list[str]:
    """The next ``n`` fires the scheduler will start (ISO-8601 in the schedule's zone): the
    due ones it has not handled yet first (see :func:`planning.next_fires`)."""
    if not schedule.enabled or n == 0:
        return []
    fires = planning.next_fires(schedule, cursor, now, n)
    return [f.astimezone(schedule.tz).isoformat() for f in fires]


class ScheduleView(ScheduleJson):
    """A schedule with its next fire times (ISO-8601 in its zone) and its last fires."""

    NextFires: list[str]
    LastFires: list[FireJson]


class Schedules:
    """Schedules of one project: CRUD, views with next/last fires, backfill, and the
    scheduler loop that fires them (``scheduler()``), over the state store and the app's
    Step Functions service."""

    def __init__(
        self,
        db: Database,
        states: StatesService,
        clock: Clock,
        declared: Mapping[str, Any] | None = None,
    ) -> None:
        self.db = db
        self.states = states
        self.clock = clock
        self.store = ScheduleStore(db)
        self._declared = declared or {}

    def sync_declared(self) -> list[str]:
        """Apply eltflow.toml's ``[schedules.*]`` tables to the store (a schedule whose
        declaration did not change is left alone, paused or not)."""
        if not self._declared:
            return []
        return self.store.sync(schedules_from_config(self._declared), self.clock.now())

    # -- views -----------------------------------------------------------------------------
    def view(self, schedule: Schedule, next_count: int = 5, last_count: int = 0) -> ScheduleView:
        cursor = self.store.cursor(schedule.name)
        fires = self.store.fires(schedule.name, limit=last_count) if last_count else []
        return ScheduleView(
            **schedule.to_json(),
            NextFires=next_fires(schedule, cursor, self.clock.now(), next_count),
            LastFires=[f.to_json() for f in fires],
        )

    def list_schedules(self, next_count: int = 3, last_count: int = 5) -> list[ScheduleView]:
        return [self.view(s, next_count, last_count) for s in self.store.list_schedules()]

    def describe(self, name: str, next_count: int = 5, last_count: int = 20) -> ScheduleView:
        return self.view(self.store.get(name), next_count, last_count)

    def list_with_outcomes(self, next_count: int = 3, last_count: int = 5) -> list[dict[str, Any]]:
        """:meth:`list_schedules`, each last fire with its ``Outcome`` (the console's view)."""
        return [
            fire_outcomes.with_outcomes(v, self.execution_status)
            for v in self.list_schedules(next_count, last_count)
        ]

    def describe_with_outcomes(
        self, name: str, next_count: int = 5, last_count: int = 20
    ) -> dict[str, Any]:
        """:meth:`describe`, each last fire with its ``Outcome`` (the console's view)."""
        view = self.describe(name, next_count, last_count)
        return fire_outcomes.with_outcomes(view, self.execution_status)

    def execution_status(self, execution_arn: str) -> str | None:
        """A fire's execution's status; None when it cannot be described (deleted)."""
        try:
            return str(self.states.describe_execution(execution_arn=execution_arn)["status"])
        except AwsApiError:
            return None

    def get(self, name: str) -> Schedule:
        return self.store.get(name)

    # -- changes ---------------------------------------------------------------------------
    def create(self, request: Mapping[str, Any]) -> ScheduleView:
        """CreateSchedule: ``Name``, ``ScheduleExpression`` and ``Target.StateMachine`` are
        required."""
        check_request_keys(request)
        name = request.get("Name")
        if not isinstance(name, str):
            raise ScheduleError("field 'Name' is required (a string)")
        fields = schedule_fields(request)
        for attr, key in (("expression", "ScheduleExpression"), ("state_machine", "Target")):
            if attr not in fields:
                raise ScheduleError(f"field {key!r} is required")
        schedule = Schedule(name=name, **fields)  # checks the fields first
        self.require_target(schedule.state_machine)
        created = self.store.create(schedule, self.clock.now())
        return self.view(created)

    def update(self, name: str, request: Mapping[str, Any]) -> ScheduleView:
        """UpdateSchedule: the fields given replace the schedule's, the rest are kept."""
        check_request_keys(request)
        current = self.store.get(name)
        fields = schedule_fields(request)
        changed = current.with_changes(**fields)
        if "state_machine" in fields:
            self.require_target(changed.state_machine)
        updated = self.store.update(changed, self.clock.now())
        return self.view(updated)

    def require_target(self, state_machine: str) -> None:
        """Refuse a target state machine that does not exist (AWS's
        ``ResourceNotFoundException``), so a typo is reported at create time instead of as a
        failed fire every five minutes.

        Unverified: EventBridge Scheduler may accept a well-formed ARN of a missing state
        machine and fail at invocation; this check is stricter on purpose. Schedules declared
        in eltflow.toml are not checked (the machine may be created after the file)."""
        machine = arns.machine_name(state_machine)
        try:
            self.states.describe_state_machine(state_machine_arn=arns.machine_arn(machine))
        except AwsApiError as e:
            if e.code != "StateMachineDoesNotExist":
                raise
            raise AwsApiError(
                "ResourceNotFoundException",
                f"Target state machine {arns.machine_arn(machine)} does not exist; create it "
                f"first (eltflow machines create {machine} --definition FILE)",
            ) from None

    def set_state(self, name: str, state: ScheduleState) -> ScheduleView:
        changed = self.store.set_state(name, state, self.clock.now())
        return self.view(changed, 5 if state is ScheduleState.ENABLED else 0)

    def delete(self, name: str) -> None:
        self.store.delete(name)

    # -- firing ----------------------------------------------------------------------------
    def scheduler(self, **options: Any) -> SchedulerService:
        """The loop that starts due fires as executions of this app's state machines."""
        target = StatesTarget(self.states)
        return SchedulerService(
            self.db, target.start_execution, target.execution_status, clock=self.clock, **options
        )

    def backfill(
        self, name: str, start: datetime, end: datetime, *, limit: int = 1000
    ) -> list[Fire]:
        """Run the schedule's fires in ``[start, end]`` that haven't run."""
        return self.scheduler().backfill(name, start, end, limit=limit)
