"""A fire's outcome (scheduler/fire_outcomes.py): the started execution's status, else the
fire's own; and the schedules service's views that carry it (what the console shows)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from eltflow.app import build_app
from eltflow.clock import VirtualClock
from eltflow.scheduler.fire_outcomes import outcome, with_outcomes
from eltflow.scheduler.model import FireJson, FireStatus
from eltflow.scheduler.schedules import ScheduleView

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ARN = "arn:aws:states:us-east-1:123456789012:execution:nightly:every5-1"


def _fire(status: FireStatus, arn: str | None = None) -> FireJson:
    return {
        "Schedule": "every5",
        "FireTime": T0.isoformat(),
        "DueAt": T0.isoformat(),
        "ExecutionName": "every5-1",
        "Status": status.value,
        "ExecutionArn": arn,
        "Reason": "",
        "Backfill": False,
    }


def _never(arn: str) -> str | None:
    raise AssertionError(f"looked up {arn} for a fire that started nothing")


@pytest.mark.parametrize(
    "status", [FireStatus.SKIPPED, FireStatus.BUFFERED, FireStatus.FAILED, FireStatus.PENDING]
)
def test_a_fire_that_started_nothing_shows_its_own_status(status: FireStatus) -> None:
    assert outcome(_fire(status), _never) == status.value


def test_a_started_fire_shows_its_execution_status() -> None:
    assert outcome(_fire(FireStatus.STARTED, ARN), {ARN: "FAILED"}.get) == "FAILED"


def test_a_started_fire_whose_execution_is_gone_stays_started() -> None:
    gone: dict[str, str] = {}
    assert outcome(_fire(FireStatus.STARTED, ARN), gone.get) == "STARTED"


def test_a_started_fire_without_an_arn_is_not_looked_up() -> None:
    assert outcome(_fire(FireStatus.STARTED), _never) == "STARTED"


def test_with_outcomes_adds_the_field_and_keeps_the_view() -> None:
    view: ScheduleView = {  # type: ignore[typeddict-item]  # only what the rule reads
        "Name": "every5",
        "NextFires": ["2026-03-01T12:05:00+00:00"],
        "LastFires": [_fire(FireStatus.STARTED, ARN), _fire(FireStatus.SKIPPED)],
    }
    shown = with_outcomes(view, {ARN: "RUNNING"}.get)
    assert [f["Outcome"] for f in shown["LastFires"]] == ["RUNNING", "SKIPPED"]
    assert [f["Status"] for f in shown["LastFires"]] == ["STARTED", "SKIPPED"]
    assert shown["NextFires"] == view["NextFires"] and shown["Name"] == "every5"
    assert "Outcome" not in view["LastFires"][0]  # the service's view is not changed


def test_the_schedules_service_reads_execution_status_or_none(tmp_path: Path) -> None:
    app = build_app(state_url=f"sqlite:///{tmp_path / 'state.db'}", clock=VirtualClock(T0))
    try:
        app.service.create_state_machine(
            name="nightly", definition={"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
        )
        arn = str(
            app.service.start_execution(state_machine_arn="nightly", input="{}")["executionArn"]
        )
        # Already ended: its one state is a Succeed.
        assert app.schedules.execution_status(arn) == "SUCCEEDED"
        assert app.schedules.execution_status(ARN) is None
    finally:
        app.close()
