"""Schedule handlers: the schedules service (:mod:`eltflow.scheduler.schedules`) over HTTP.

Bodies and responses use EventBridge Scheduler's field names, as the service takes and gives
them; these handlers only read the path and query. Firing itself is the scheduler loop's job
(``eltflow serve``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from eltflow.api.handlers import Call, int_param
from eltflow.errors import AwsApiError
from eltflow.scheduler.model import FireJson, FireStatus, ScheduleState
from eltflow.scheduler.schedules import ScheduleView
from eltflow.types import JSON

if TYPE_CHECKING:
    from eltflow.app import App


class ScheduleList(TypedDict):
    Schedules: list[dict[str, Any]]


def outcome(app: App, fire: FireJson) -> str:
    """A fire's one status, as the console shows it: the status of the execution it started
    (RUNNING, SUCCEEDED, FAILED...), else the fire's own (SKIPPED, BUFFERED, FAILED, PENDING);
    STARTED only when the started execution no longer exists."""
    arn = fire["ExecutionArn"]
    if fire["Status"] != FireStatus.STARTED or not arn:
        return fire["Status"]
    try:
        return str(app.service.describe_execution(execution_arn=arn)["status"])
    except AwsApiError:
        return fire["Status"]


def _with_outcomes(app: App, view: ScheduleView) -> dict[str, Any]:
    """The view with each fire's ``Outcome`` (:func:`outcome`): eltflow's own field, this API
    is the console's, not EventBridge Scheduler's."""
    fires = [{**fire, "Outcome": outcome(app, fire)} for fire in view["LastFires"]]
    return {**view, "LastFires": fires}


def list_schedules(app: App, call: Call) -> ScheduleList:
    nxt = int_param(call, "next", 3, lo=0, hi=50)
    last = int_param(call, "fires", 5, lo=0, hi=100)
    views = app.schedules.list_schedules(nxt, last)
    return {"Schedules": [_with_outcomes(app, v) for v in views]}


def describe_schedule(app: App, call: Call) -> dict[str, Any]:
    view = app.schedules.describe(
        call.path["name"],
        int_param(call, "next", 5, lo=0, hi=50),
        int_param(call, "fires", 20, lo=0, hi=100),
    )
    return _with_outcomes(app, view)


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
