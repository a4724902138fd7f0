"""Schedule handlers: the schedules service (:mod:`eltflow.scheduler.schedules`) over HTTP.

Bodies and responses use EventBridge Scheduler's field names, as the service takes and gives
them; these handlers only read the path and query. Firing itself is the scheduler loop's job
(``eltflow serve``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from eltflow.api.handlers import Call, int_param
from eltflow.scheduler.model import ScheduleState
from eltflow.scheduler.schedules import ScheduleView
from eltflow.types import JSON

if TYPE_CHECKING:
    from eltflow.app import App


class ScheduleList(TypedDict):
    Schedules: list[dict[str, Any]]


def list_schedules(app: App, call: Call) -> ScheduleList:
    nxt = int_param(call, "next", 3, lo=0, hi=50)
    last = int_param(call, "fires", 5, lo=0, hi=100)
    return {"Schedules": app.schedules.list_with_outcomes(nxt, last)}


def describe_schedule(app: App, call: Call) -> dict[str, Any]:
    return app.schedules.describe_with_outcomes(
        call.path["name"],
        int_param(call, "next", 5, lo=0, hi=50),
        int_param(call, "fires", 20, lo=0, hi=100),
    )


def create_schedule(app: App, call: Call) -> ScheduleView:
    return app.schedules.create(call.body)


def update_schedule(app: App, call: Call) -> ScheduleView:
    return app.schedules.update(call.path["name"], call.body)


def delete_schedule(app: App, call: Call) -> JSON:
    app.schedules.delete(call.path["name"])
    return {}


def pause_schedule(app: App, call: Call) -> ScheduleView:
    return app.schedules.set_state(call.path["name"], ScheduleState.DISABLED)


def resume_schedule(app: App, call: Call) -> ScheduleView:
    return app.schedules.set_state(call.path["name"], ScheduleState.ENABLED)
