"""A fire's outcome: the one status the console shows per fire — the status of the execution
it started (RUNNING, SUCCEEDED, FAILED...), else the fire's own (SKIPPED, BUFFERED, FAILED,
PENDING); STARTED only when the started execution no longer exists.

``Outcome`` is eltflow's own field, next to EventBridge Scheduler's; the execution's status is
looked up through a callable, so the rule is tested without a store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eltflow.scheduler.model import FireJson, FireStatus

if TYPE_CHECKING:
    from eltflow.scheduler.schedules import ScheduleView

# An execution ARN -> its status, or None when it cannot be described (deleted, unknown).
StatusOf = Callable[[str], str | None]


def outcome(fire: FireJson, status_of: StatusOf) -> str:
    """The fire's one status (see the module docstring)."""
    arn = fire["ExecutionArn"]
    if fire["Status"] != FireStatus.STARTED or not arn:
        return fire["Status"]
    status = status_of(arn)
    return fire["Status"] if status is None else status


def with_outcomes(view: ScheduleView, status_of: StatusOf) -> dict[str, Any]:
    """The view with each of its ``LastFires`` given its ``Outcome``."""
    fires = [{**fire, "Outcome": outcome(fire, status_of)} for fire in view["LastFires"]]
    return {**view, "LastFires": fires}
