"""The scheduler starting real executions in the local Step Functions runtime, on both stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from eltflow.app import App, build_app
from eltflow.clock import VirtualClock
from eltflow.scheduler.model import FireStatus, Overlap, Schedule
from eltflow.scheduler.service import SchedulerService
from eltflow.scheduler.target import StatesTarget

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
# A job that takes an hour: its execution stays RUNNING (no worker fires the timer here).
SLOW = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}


@pytest.fixture
def app(store_url: str) -> Iterator[App]:
    app = build_app(state_url=store_url, clock=VirtualClock(T0))
    app.service.create_state_machine(name="etl", definition=SLOW)
    yield app
    app.close()


def scheduler(app: App) -> SchedulerService:
    target = StatesTarget(app.service)
    return SchedulerService(
        app.db, target.start_execution, target.execution_status, clock=app.clock
    )


def test_a_fire_starts_a_named_execution_with_the_schedule_input(app: App) -> None:
    svc = scheduler(app)
    svc.store.create(
        Schedule(
            name="nightly",
            expression="rate(5 minutes)",
            state_machine="etl",
            input=json.dumps({"JobID": "101"}),
        ),
        T0,
    )
    [fire] = svc.tick(T0)
    assert fire.status is FireStatus.STARTED
    assert fire.execution_arn is not None and fire.execution_arn.endswith(
        ":execution:etl:sched-nightly-20260601T120000Z"
    )
    described = app.service.describe_execution(execution_arn=fire.execution_arn)
    assert described["status"] == "RUNNING"
    assert json.loads(str(described["input"])) == {"JobID": "101"}
    # The same fire started again (a scheduler that crashed before recording it) is a no-op.
    target = StatesTarget(app.service)
    again = target.start_execution("etl", json.dumps({"JobID": "101"}), fire.execution_name)
    assert again == fire.execution_arn
    listed = app.service.list_executions(state_machine_arn="etl")
    assert len(listed["executions"]) == 1  # type: ignore[arg-type]


def test_overlap_skip_reads_the_real_execution_status(app: App) -> None:
    svc = scheduler(app)
    svc.store.create(
        Schedule(
            name="job", expression="rate(5 minutes)", state_machine="etl", overlap=Overlap.SKIP
        ),
        T0,
    )
    assert [f.status for f in svc.tick(T0)] == [FireStatus.STARTED]
    second = svc.tick(T0 + timedelta(minutes=5))
    assert [f.status for f in second] == [FireStatus.SKIPPED]
    assert "is still RUNNING" in second[0].reason


def test_a_missing_state_machine_fails_the_fire_with_aws_error(app: App) -> None:
    svc = scheduler(app)
    svc.store.create(Schedule(name="orphan", expression="rate(1 hour)", state_machine="gone"), T0)
    [fire] = svc.tick(T0)
    assert fire.status is FireStatus.FAILED
    assert "StateMachineDoesNotExist" in fire.reason
    assert svc.store.fires("orphan")[0].status is FireStatus.FAILED
