"""A scheduler process killed between starting an execution and recording the fire.

The fire stays PENDING; after its lease another scheduler takes it over and starts it again
under the same deterministic name, which the runtime absorbs: one execution, fire STARTED.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

from eltflow.app import build_app
from eltflow.clock import VirtualClock
from eltflow.scheduler.model import FireStatus, Schedule

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SLOW = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}

CHILD = textwrap.dedent(
    """
    import os, sys
    from datetime import datetime
    from eltflow.app import build_app
    from eltflow.clock import VirtualClock
    from eltflow.scheduler.service import SchedulerService
    from eltflow.scheduler.target import StatesTarget

    now = datetime.fromisoformat(sys.argv[2])
    app = build_app(state_url=sys.argv[1], clock=VirtualClock(now))
    target = StatesTarget(app.service)

    def start_then_die(machine, input, name):
        target.start_execution(machine, input, name)
        os._exit(9)  # killed before the fire is recorded as STARTED

    SchedulerService(app.db, start_then_die, clock=app.clock).tick(now)
    """
)


def test_a_killed_scheduler_fire_is_taken_over_without_a_second_execution(
    store_url: str,
) -> None:
    app = build_app(state_url=store_url, clock=VirtualClock(T0))
    try:
        app.service.create_state_machine(name="etl", definition=SLOW)
        svc = app.schedules.scheduler(lease=timedelta(minutes=2))
        svc.store.create(Schedule(name="job", expression="rate(1 hour)", state_machine="etl"), T0)
        child = subprocess.run(
            [sys.executable, "-c", CHILD, store_url, T0.isoformat()],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert child.returncode == 9, child.stderr
        [pending] = svc.store.fires("job")
        assert pending.status is FireStatus.PENDING and pending.execution_arn is None

        assert svc.tick(T0 + timedelta(minutes=1)) == []  # its lease still holds
        [taken] = svc.tick(T0 + timedelta(minutes=3))
        assert taken.status is FireStatus.STARTED and taken.fire_time == T0
        assert taken.execution_arn is not None
        assert taken.execution_arn.endswith(":etl:sched-job-20260601T120000Z")
        executions = app.service.list_executions(state_machine_arn="etl")["executions"]
        assert len(executions) == 1  # type: ignore[arg-type]
        assert [f.status for f in svc.store.fires("job")] == [FireStatus.STARTED]
    finally:
        app.close()
