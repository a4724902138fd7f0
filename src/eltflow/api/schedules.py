"""Schedule handlers: the scheduler's store (:mod:`eltflow.scheduler.store`) over HTTP.

Shapes follow EventBridge Scheduler's field names (``Name``, ``ScheduleExpression``,
``Target``...) as :meth:`Schedule.to_json` prints them, plus ``NextFires`` (computed from the
schedule's cursor, so paused or finished schedules show none) and ``LastFires`` (the fire
ledger, newest first). Firing itself is the scheduler loop's job (``eltflow serve``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from eltflow.api.handlers import Call, InvalidRequest, int_param
from eltflow.errors import ScheduleError
from eltflow.scheduler.model import (
    FlexibleTimeWindow,
    Schedule,
    ScheduleState,
    parse_datetime,
)
from eltflow.scheduler.planning import upcoming
from eltflow.scheduler.store import ScheduleStore
from eltflow.types import JSON, JSONObject


def _store(app: Any) -> ScheduleStore:
    return ScheduleStore(app.db)


def _next_fires(schedule: Schedule, cursor: datetime | None, now: datetime, n: int) -> list[str]:
    if not schedule.enabled or n == 0:
        return []
    after = max(now, cursor) if cursor is not None else now
    if schedule.created_at is not None and after < schedule.created_at:
        after = schedule.created_at
    if cursor is None or cursor < after:
        # A fire due at this very instant hasn't been handled yet (the cursor is the last
        # handled fire time), so it is still "next": ``upcoming`` counts strictly after.
        after -= timedelta(microseconds=1)
    return [f.astimezone(schedule.tz).isoformat() for f in upcoming(schedule, after, n)]


def _view(app: Any, store: ScheduleStore, schedule: Schedule, nxt: int, last: int) -> JSONObject:
    out: JSONObject = schedule.to_json()
    cursor = store.cursor(schedule.name)
    out["NextFires"] = list(_next_fires(schedule, cursor, app.clock.now(), nxt))
    out["LastFires"] = [f.to_json() for f in store.fires(schedule.name, limit=last)] if last else []
    return out


def list_schedules(app: Any, call: Call) -> JSON:
    store = _store(app)
    nxt = int_param(call, "next", 3, lo=0, hi=50)
    last = int_param(call, "fires", 5, lo=0, hi=100)
    return {"Schedules": [_view(app, store, s, nxt, last) for s in store.list_schedules()]}


def describe_schedule(app: Any, call: Call) -> JSON:
    store = _store(app)
    schedule = store.get(call.path["name"])
    return _view(
        app,
        store,
        schedule,
        int_param(call, "next", 5, lo=0, hi=50),
        int_param(call, "fires", 20, lo=0, hi=100),
    )


def _text(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"body field {key!r} must be a string")
    return value


def _fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """Schedule fields from an EventBridge-Scheduler-shaped body (only those given)."""
    out: dict[str, Any] = {}
    simple = {
        "ScheduleExpression": "expression",
        "ScheduleExpressionTimezone": "timezone",
        "State": "state",
        "Description": "description",
        "CatchUp": "catchup",
        "Overlap": "overlap",
    }
    for key, attr in simple.items():
        value = _text(body, key)
        if value is not None:
            out[attr] = value
    if "MaxCatchUp" in body:
        value = body["MaxCatchUp"]
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidRequest("body field 'MaxCatchUp' must be an integer")
        out["max_catchup"] = value
    for key, attr in (("StartDate", "start_date"), ("EndDate", "end_date")):
        text = _text(body, key)
        if text is not None:
            out[attr] = parse_datetime(text, key)
    target = body.get("Target")
    if target is not None:
        if not isinstance(target, Mapping):
            raise InvalidRequest("body field 'Target' must be an object")
        machine = _text(target, "StateMachine")
        if machine is not None:
            out["state_machine"] = machine
        raw_input = target.get("Input")
        if raw_input is not None:
            out["input"] = raw_input if isinstance(raw_input, str) else json.dumps(raw_input)
    window = body.get("FlexibleTimeWindow")
    if window is not None:
        if not isinstance(window, Mapping):
            raise InvalidRequest("body field 'FlexibleTimeWindow' must be an object")
        mode = _text(window, "Mode") or "OFF"
        minutes = window.get("MaximumWindowInMinutes")
        if minutes is not None and (not isinstance(minutes, int) or isinstance(minutes, bool)):
            raise InvalidRequest("FlexibleTimeWindow.MaximumWindowInMinutes must be an integer")
        out["flexible_window"] = FlexibleTimeWindow(mode, minutes)
    return out


def create_schedule(app: Any, call: Call) -> JSON:
    name = _text(call.body, "Name")
    if name is None:
        raise InvalidRequest("body field 'Name' is required")
    fields = _fields(call.body)
    for attr, key in (("expression", "ScheduleExpression"), ("state_machine", "Target")):
        if attr not in fields:
            raise InvalidRequest(f"body field {key!r} is required")
    schedule = Schedule(name=name, **fields)
    store = _store(app)
    created = store.create(schedule, app.clock.now())
    return _view(app, store, created, 5, 0)


def update_schedule(app: Any, call: Call) -> JSON:
    store = _store(app)
    current = store.get(call.path["name"])
    try:
        changed = current.with_changes(**_fields(call.body))
    except TypeError as e:  # pragma: no cover - _fields only yields known attributes
        raise ScheduleError(str(e)) from e
    updated = store.update(changed, app.clock.now())
    return _view(app, store, updated, 5, 0)


def delete_schedule(app: Any, call: Call) -> JSON:
    _store(app).delete(call.path["name"])
    return {}


def pause_schedule(app: Any, call: Call) -> JSON:
    store = _store(app)
    paused = store.set_state(call.path["name"], ScheduleState.DISABLED, app.clock.now())
    return _view(app, store, paused, 0, 0)


def resume_schedule(app: Any, call: Call) -> JSON:
    store = _store(app)
    resumed = store.set_state(call.path["name"], ScheduleState.ENABLED, app.clock.now())
    return _view(app, store, resumed, 5, 0)
