"""Schedules that start state machines, through the scheduler's store (the same schedules
``eltflow schedules`` and the scheduler loop use).

``AWS::Scheduler::Schedule``: Name, ScheduleExpression (``rate``/``cron``/``at``),
ScheduleExpressionTimezone, FlexibleTimeWindow, State, StartDate/EndDate, Description, and a
Target whose Arn is a state machine (Input passed verbatim). ``Ref`` is the name;
``Fn::GetAtt``: Arn. ``AWS::Events::Rule`` with a ScheduleExpression becomes one schedule per
state-machine target (UTC, as EventBridge rules are); targets of such a rule that are not state
machines are recorded with a warning. A rule with an ``EventPattern`` is stored with its targets
(state machines and Lambda functions, ``Input``/``InputPath``/``InputTransformer``) and receives
the events eltflow emits: Step Functions' "Execution Status Change" (see
:mod:`eltflow.scheduler.rules`).
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import datetime

from eltflow.errors import AwsApiError, NotFoundError, ScheduleError
from eltflow.scheduler.model import FlexibleTimeWindow, Schedule, ScheduleState
from eltflow.scheduler.rules import checked_rule, rule_arn
from eltflow.stacks.resources.base import Outcome, Request, Services, physical_name, text
from eltflow.types import JSON, JSONObject


def _store(services: Services) -> None:
    if services.schedules is None:
        raise AwsApiError("ValidationError", "no local scheduler store in this project")


def _date(value: JSON, key: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise AwsApiError("ValidationException", f"{key} must be an ISO-8601 date") from None


def _state_machine(target: JSON, where: str) -> str:
    arn = target.get("Arn") if isinstance(target, dict) else None
    if not isinstance(arn, str) or ":states:" not in arn or ":stateMachine:" not in arn:
        raise AwsApiError(
            "ValidationException",
            f"{where}: only state machine targets (arn:aws:states:...:stateMachine:NAME) run "
            "locally",
        )
    return arn


def _input(target: JSON) -> str:
    value = target.get("Input") if isinstance(target, dict) else None
    return value if isinstance(value, str) else "{}"


def _save(services: Services, schedule: Schedule, stack: str, *, update: bool) -> None:
    store = services.schedules
    assert store is not None
    now = services.clock.now()
    if update:
        store.update(schedule, now, source=f"stack:{stack}")
    else:
        store.create(schedule, now, source=f"stack:{stack}")


def _delete(services: Services, name: str) -> None:
    if services.schedules is None:
        return
    with contextlib.suppress(NotFoundError):  # deleted already: deleting is idempotent
        services.schedules.delete(name)


class ScheduleProvider:
    replace_on = frozenset({"Name", "GroupName"})
    name_property = "Name"

    def _schedule(self, request: Request, name: str) -> Schedule:
        props = request.properties
        window = props.get("FlexibleTimeWindow") or {"Mode": "OFF"}
        if not isinstance(window, dict):
            raise AwsApiError("ValidationException", "FlexibleTimeWindow must be an object")
        minutes = window.get("MaximumWindowInMinutes")
        try:
            return Schedule(
                name=name,
                expression=text(props, "ScheduleExpression"),
                timezone=text(props, "ScheduleExpressionTimezone", "UTC"),
                state_machine=_state_machine(props.get("Target"), "Target"),
                input=_input(props.get("Target")),
                state=ScheduleState(text(props, "State", "ENABLED")),
                start_date=_date(props.get("StartDate"), "StartDate"),
                end_date=_date(props.get("EndDate"), "EndDate"),
                flexible_window=FlexibleTimeWindow(
                    mode=str(window.get("Mode", "OFF")),
                    maximum_window_minutes=int(str(minutes)) if minutes is not None else None,
                ),
                description=text(props, "Description"),
            )
        except (ScheduleError, ValueError) as e:
            raise AwsApiError("ValidationException", str(e)) from None

    def _outcome(self, services: Services, name: str) -> Outcome:
        arn = f"arn:aws:scheduler:{services.region}:{services.account}:schedule/default/{name}"
        attributes: JSONObject = {"Arn": arn}
        return Outcome(physical_id=name, attributes=attributes)

    def create(self, services: Services, request: Request) -> Outcome:
        _store(services)
        name = text(request.properties, "Name") or physical_name(request, 64)
        _save(services, self._schedule(request, name), request.stack_name, update=False)
        return self._outcome(services, name)

    def update(self, services: Services, request: Request) -> Outcome:
        _store(services)
        schedule = self._schedule(request, request.physical_id)
        _save(services, schedule, request.stack_name, update=True)
        return self._outcome(services, request.physical_id)

    def delete(self, services: Services, request: Request) -> None:
        _delete(services, request.physical_id)


class RuleProvider:
    """An EventBridge rule: its schedule targets become schedules named ``<rule>-<target Id>``
    (the physical id is the rule name; the schedules are found again from the properties)."""

    replace_on = frozenset({"Name", "EventBusName"})
    name_property = "Name"

    def _event_rule(self, services: Services, request: Request, name: str) -> list[str]:
        """Store (or replace) the rule's event pattern and targets; warnings to show."""
        props = request.properties
        if props.get("EventPattern") is None:
            return []
        if services.rules is None:
            raise AwsApiError("ValidationError", "no local rule store in this project")
        rule = checked_rule(
            name,
            props.get("EventPattern"),
            props.get("Targets") or [],
            enabled=text(props, "State", "ENABLED") == "ENABLED",
            description=text(props, "Description"),
        )
        services.rules.put(rule, services.clock.now(), source=f"stack:{request.stack_name}")
        bus = text(props, "EventBusName", "default")
        if bus not in ("default", "") and not bus.endswith(":event-bus/default"):
            return [f"event bus {bus}: eltflow's events go to the default bus only"]
        return []

    def _schedules(self, request: Request, name: str) -> tuple[list[Schedule], list[str]]:
        props = request.properties
        expression = text(props, "ScheduleExpression")
        if not expression:
            return [], []
        targets = props.get("Targets") or []
        if not isinstance(targets, list):
            raise AwsApiError("ValidationException", "Targets must be a list")
        state = (
            ScheduleState.DISABLED
            if text(props, "State") == "DISABLED"
            else (ScheduleState.ENABLED)
        )
        out: list[Schedule] = []
        warnings: list[str] = []
        for i, target in enumerate(targets):
            arn = target.get("Arn") if isinstance(target, dict) else None
            if not isinstance(arn, str) or ":stateMachine:" not in arn:
                warnings.append(f"Targets[{i}] is not a state machine: recorded only")
                continue
            target_id = str(target.get("Id") or i) if isinstance(target, dict) else str(i)
            try:
                out.append(
                    Schedule(
                        name=f"{name}-{target_id}"[:64],
                        expression=expression,
                        state_machine=arn,
                        input=_input(target),
                        state=state,
                        description=text(props, "Description"),
                    )
                )
            except ScheduleError as e:
                raise AwsApiError("ValidationException", str(e)) from None
        return out, warnings

    def _outcome(self, services: Services, name: str, warnings: list[str]) -> Outcome:
        attributes: JSONObject = {"Arn": rule_arn(services.region, services.account, name)}
        return Outcome(physical_id=name, attributes=attributes, warnings=tuple(warnings))

    def create(self, services: Services, request: Request) -> Outcome:
        name = text(request.properties, "Name") or physical_name(request, 64)
        schedules, warnings = self._schedules(request, name)
        warnings += self._event_rule(services, request, name)
        if schedules:
            _store(services)
        for schedule in schedules:
            _save(services, schedule, request.stack_name, update=False)
        return self._outcome(services, name, warnings)

    def update(self, services: Services, request: Request) -> Outcome:
        name = request.physical_id
        old, _ = self._schedules(replace_request(request), name)
        new, warnings = self._schedules(request, name)
        if request.properties.get("EventPattern") is None and services.rules is not None:
            services.rules.delete(name)  # the pattern was removed
        warnings += self._event_rule(services, request, name)
        kept = {s.name for s in new}
        for schedule in old:
            if schedule.name not in kept:
                _delete(services, schedule.name)
        existing = {s.name for s in old}
        for schedule in new:
            _save(services, schedule, request.stack_name, update=schedule.name in existing)
        return self._outcome(services, name, warnings)

    def delete(self, services: Services, request: Request) -> None:
        schedules, _ = self._schedules(request, request.physical_id)
        for schedule in schedules:
            _delete(services, schedule.name)
        if services.rules is not None:
            services.rules.delete(request.physical_id)


def replace_request(request: Request) -> Request:
    """The request as it was before this update (its old properties)."""
    return replace(request, properties=request.old_properties)
