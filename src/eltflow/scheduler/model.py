"""A schedule: EventBridge Scheduler's fields plus the catch-up and overlap policies it lacks.

AWS names are kept where they exist (``State`` ENABLED/DISABLED, ``StartDate``/``EndDate``,
``FlexibleTimeWindow`` OFF|FLEXIBLE with ``MaximumWindowInMinutes`` 1-1440). Validation happens
at construction so an invalid schedule can't be stored, and every message says which field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Required, TypedDict
from zoneinfo import ZoneInfo

from eltflow.config import SCHEDULE_KEYS, unknown_key
from eltflow.errors import ConfigError, ScheduleError
from eltflow.scheduler.expressions import Expression, parse_expression, zone

_NAME = re.compile(r"^[0-9A-Za-z_.\-]{1,64}$")  # AWS's schedule-name pattern
MAX_CATCHUP_LIMIT = 1000


class ScheduleState(StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class CatchUp(StrEnum):
    """What to do with fires missed while no scheduler was running."""

    SKIP = "skip"  # drop them; wait for the next on-time fire
    LAST = "last"  # run only the most recent missed fire (none if one is on time anyway)
    ALL = "all"  # run the missed fires, at most max_catchup (the most recent ones)


class Overlap(StrEnum):
    """What to do when a fire comes while this schedule's previous execution still runs."""

    ALLOW = "allow"  # start anyway (AWS's behaviour; the audit lock still guards the job)
    SKIP = "skip"  # record the fire as skipped
    BUFFER_ONE = "buffer_one"  # keep one fire and start it when the running one ends


@dataclass(frozen=True)
class FlexibleTimeWindow:
    mode: str = "OFF"  # "OFF" | "FLEXIBLE"
    maximum_window_minutes: int | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("OFF", "FLEXIBLE"):
            raise ScheduleError(f"FlexibleTimeWindow.Mode '{self.mode}' must be OFF or FLEXIBLE")
        minutes = self.maximum_window_minutes
        if self.mode == "FLEXIBLE":
            whole = isinstance(minutes, int) and not isinstance(minutes, bool)
            if not whole or not 1 <= minutes <= 1440:  # type: ignore[operator]
                raise ScheduleError(
                    "FlexibleTimeWindow.MaximumWindowInMinutes must be a whole number 1-1440 "
                    f"when Mode is FLEXIBLE (got {minutes!r})"
                )
        elif minutes is not None:
            raise ScheduleError(
                "FlexibleTimeWindow.MaximumWindowInMinutes can only be set when Mode is FLEXIBLE"
            )


class TargetJson(TypedDict):
    StateMachine: str
    Input: str  # JSON text


class WindowJson(TypedDict, total=False):
    Mode: Required[str]  # OFF | FLEXIBLE
    MaximumWindowInMinutes: int


class ScheduleJson(TypedDict):
    """A schedule as the API and ``--json`` show it (EventBridge Scheduler's names)."""

    Name: str
    ScheduleExpression: str
    ScheduleExpressionTimezone: str
    State: str
    Target: TargetJson
    StartDate: str | None
    EndDate: str | None
    FlexibleTimeWindow: WindowJson
    CatchUp: str
    MaxCatchUp: int
    Overlap: str
    Description: str
    CreationDate: str | None
    LastModificationDate: str | None


class FireJson(TypedDict):
    """One fire of a schedule (the fire ledger)."""

    Schedule: str
    FireTime: str
    DueAt: str
    ExecutionName: str
    Status: str
    ExecutionArn: str | None
    Reason: str
    Backfill: bool


@dataclass(frozen=True, kw_only=True)
class Schedule:
    name: str
    expression: str
    state_machine: str  # target state machine name (or ARN)
    timezone: str = "UTC"
    input: str = "{}"  # JSON text handed verbatim to StartExecution, as AWS's target Input
    state: ScheduleState = ScheduleState.ENABLED
    start_date: datetime | None = None
    end_date: datetime | None = None
    flexible_window: FlexibleTimeWindow = field(default_factory=FlexibleTimeWindow)
    catchup: CatchUp = CatchUp.LAST
    max_catchup: int = 10
    overlap: Overlap = Overlap.ALLOW
    description: str = ""
    created_at: datetime | None = None  # set by the store
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ScheduleError(
                f"schedule name {self.name!r} must be 1-64 characters of letters, digits, - _ ."
            )
        where = f"schedule '{self.name}'"
        _with_where(where, parse_expression, self.expression)
        _with_where(where, zone, self.timezone)
        if not isinstance(self.state_machine, str) or not self.state_machine:
            raise ScheduleError(f"{where}: state_machine (the target) is required")
        try:
            json.loads(self.input)
        except (TypeError, ValueError) as e:
            raise ScheduleError(f"{where}: input is not valid JSON: {e}") from None
        for label, value in (("start_date", self.start_date), ("end_date", self.end_date)):
            if value is not None and value.tzinfo is None:
                raise ScheduleError(f"{where}: {label} must include a time zone offset")
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            raise ScheduleError(f"{where}: end_date must be after start_date")
        object.__setattr__(self, "state", _enum(ScheduleState, self.state, where, "state"))
        object.__setattr__(self, "catchup", _enum(CatchUp, self.catchup, where, "catchup"))
        object.__setattr__(self, "overlap", _enum(Overlap, self.overlap, where, "overlap"))
        mc = self.max_catchup
        if not isinstance(mc, int) or isinstance(mc, bool) or not 0 <= mc <= MAX_CATCHUP_LIMIT:
            raise ScheduleError(f"{where}: max_catchup must be 0-{MAX_CATCHUP_LIMIT}, got {mc!r}")

    @property
    def parsed(self) -> Expression:
        return parse_expression(self.expression)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    @property
    def enabled(self) -> bool:
        return self.state is ScheduleState.ENABLED

    def with_changes(self, **changes: Any) -> Schedule:
        return replace(self, **changes)

    def to_json(self) -> ScheduleJson:
        """AWS-like field names for ``--json`` output and the HTTP API."""
        window: WindowJson = {"Mode": self.flexible_window.mode}
        if self.flexible_window.maximum_window_minutes is not None:
            window["MaximumWindowInMinutes"] = self.flexible_window.maximum_window_minutes
        return {
            "Name": self.name,
            "ScheduleExpression": self.expression,
            "ScheduleExpressionTimezone": self.timezone,
            "State": self.state.value,
            "Target": {"StateMachine": self.state_machine, "Input": self.input},
            "StartDate": _iso(self.start_date),
            "EndDate": _iso(self.end_date),
            "FlexibleTimeWindow": window,
            "CatchUp": self.catchup.value,
            "MaxCatchUp": self.max_catchup,
            "Overlap": self.overlap.value,
            "Description": self.description,
            "CreationDate": _iso(self.created_at),
            "LastModificationDate": _iso(self.updated_at),
        }


def _with_where(where: str, fn: Any, value: Any) -> Any:
    try:
        return fn(value)
    except ScheduleError as e:
        raise ScheduleError(f"{where}: {e}") from None


def _enum(kind: Any, value: Any, where: str, label: str) -> Any:
    try:
        return kind(value.lower() if kind is not ScheduleState else value.upper())
    except (ValueError, AttributeError):
        allowed = ", ".join(m.value for m in kind)
        raise ScheduleError(f"{where}: {label} {value!r} must be one of {allowed}") from None


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def parse_datetime(text: str, label: str) -> datetime:
    """An ISO-8601 instant; a value without an offset is read as UTC (as AWS's API does)."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise ScheduleError(f"{label} {text!r} is not an ISO-8601 date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def schedules_from_config(section: Mapping[str, Any]) -> list[Schedule]:
    """Schedules from ``eltflow.toml``'s ``[schedules.<name>]`` tables.

    ``input`` may be a TOML table (serialised to JSON) or a JSON string;
    ``flexible_window_minutes`` turns on a FLEXIBLE window; dates are TOML date-times or strings.
    """
    out = []
    for name, raw in section.items():
        where = f"eltflow.toml [schedules.{name}]"
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where} must be a table")
        for key in raw:
            if key not in SCHEDULE_KEYS:
                raise unknown_key(where, str(key), SCHEDULE_KEYS)
        for key in ("expression", "state_machine"):
            if key not in raw:
                raise ConfigError(f"{where}: '{key}' is required")
        try:
            kwargs: dict[str, Any] = {k: raw[k] for k in raw if k not in _SPECIAL_KEYS}
            if "input" in raw:
                value = raw["input"]
                kwargs["input"] = value if isinstance(value, str) else json.dumps(value)
            for key in ("start_date", "end_date"):
                if key in raw:
                    kwargs[key] = _config_datetime(raw[key], key)
            if "flexible_window_minutes" in raw:
                kwargs["flexible_window"] = FlexibleTimeWindow(
                    "FLEXIBLE", raw["flexible_window_minutes"]
                )
            out.append(Schedule(name=name, **kwargs))
        except ScheduleError as e:
            raise ConfigError(f"{where}: {e}") from None
        except TypeError as e:
            raise ConfigError(f"{where}: {e}") from None
    return out


_SPECIAL_KEYS = {"input", "start_date", "end_date", "flexible_window_minutes"}


def _config_datetime(value: Any, label: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        return parse_datetime(value, label)
    raise ScheduleError(f"{label} must be a date-time, got {value!r}")


class FireStatus(StrEnum):
    PENDING = "PENDING"  # claimed by a scheduler that is starting it
    STARTED = "STARTED"  # the execution was started (execution_arn is set)
    SKIPPED = "SKIPPED"  # the overlap policy dropped it (reason says why)
    BUFFERED = "BUFFERED"  # buffer_one: waits for the running execution to end
    FAILED = "FAILED"  # the target rejected the start (reason has the error)


@dataclass(frozen=True)
class Fire:
    """One fire of a schedule, keyed by (schedule, nominal fire time)."""

    schedule: str
    fire_time: datetime  # nominal, UTC
    due_at: datetime  # nominal + flexible-window offset, UTC
    execution_name: str
    status: FireStatus
    execution_arn: str | None = None
    reason: str = ""
    backfill: bool = False

    def to_json(self) -> FireJson:
        return {
            "Schedule": self.schedule,
            "FireTime": self.fire_time.isoformat(),
            "DueAt": self.due_at.isoformat(),
            "ExecutionName": self.execution_name,
            "Status": self.status.value,
            "ExecutionArn": self.execution_arn,
            "Reason": self.reason,
            "Backfill": self.backfill,
        }


_JSON_KEYS = {
    "Name",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "State",
    "Target",
    "StartDate",
    "EndDate",
    "FlexibleTimeWindow",
    "CatchUp",
    "MaxCatchUp",
    "Overlap",
    "Description",
    "CreationDate",
    "LastModificationDate",
    "NextFire",
    "NextFires",
    "LastFires",
}


# Request field -> Schedule attribute, for the fields that are plain strings.
_TEXT_FIELDS = {
    "ScheduleExpression": "expression",
    "ScheduleExpressionTimezone": "timezone",
    "State": "state",
    "Description": "description",
    "CatchUp": "catchup",
    "Overlap": "overlap",
}


def _text(body: Mapping[str, Any], key: str, where: str = "") -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ScheduleError(f"field {where}{key!r} must be a string")
    return value


def _whole(value: object, label: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ScheduleError(f"field {label!r} must be an integer")
    return value


def schedule_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """Schedule attributes from an EventBridge-Scheduler-shaped request (only those given).

    ``StartDate``/``EndDate`` given as null clear the date (an update keeps what is absent).
    """
    out: dict[str, Any] = {}
    for key, attr in _TEXT_FIELDS.items():
        value = _text(body, key)
        if value is not None:
            out[attr] = value
    if "MaxCatchUp" in body:
        out["max_catchup"] = _whole(body["MaxCatchUp"], "MaxCatchUp")
    for key, attr in (("StartDate", "start_date"), ("EndDate", "end_date")):
        if key in body:
            text = _text(body, key)
            out[attr] = None if text is None else parse_datetime(text, key)
    target = body.get("Target")
    if target is not None:
        if not isinstance(target, Mapping):
            raise ScheduleError("field 'Target' must be an object")
        # ``Arn`` is accepted for ``StateMachine``, as in AWS's target.
        machine = _text(target, "StateMachine", "Target.") or _text(target, "Arn", "Target.")
        if machine is not None:
            out["state_machine"] = machine
        raw_input = target.get("Input")
        if raw_input is not None:
            out["input"] = raw_input if isinstance(raw_input, str) else json.dumps(raw_input)
    window = body.get("FlexibleTimeWindow")
    if window is not None:
        if not isinstance(window, Mapping):
            raise ScheduleError("field 'FlexibleTimeWindow' must be an object")
        mode = _text(window, "Mode", "FlexibleTimeWindow.") or "OFF"
        minutes = window.get("MaximumWindowInMinutes")
        if minutes is not None:
            minutes = _whole(minutes, "FlexibleTimeWindow.MaximumWindowInMinutes")
        out["flexible_window"] = FlexibleTimeWindow(mode, minutes)
    return out


def check_request_keys(body: Mapping[str, Any]) -> None:
    """Refuse keys a schedule does not have (read-only keys of a view are allowed, so a view
    can be sent back)."""
    if not isinstance(body, Mapping):
        raise ScheduleError("a schedule must be a JSON object")
    unknown = sorted(set(body) - _JSON_KEYS)
    if unknown:
        raise ScheduleError(f"unknown schedule field(s): {', '.join(unknown)}")


def schedule_from_json(body: Mapping[str, Any], name: str | None = None) -> Schedule:
    """The inverse of :meth:`Schedule.to_json` (CreateSchedule-like keys; absent fields take
    their defaults, read-only keys are ignored)."""
    check_request_keys(body)
    if "ScheduleExpression" not in body:
        raise ScheduleError("ScheduleExpression is required")
    fields = schedule_fields(body)
    fields.setdefault("state_machine", "")  # Schedule names the missing target
    return Schedule(name=str(name or body.get("Name") or ""), **fields)
