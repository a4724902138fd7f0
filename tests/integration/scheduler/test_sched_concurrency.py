"""Two schedulers on one real PostgreSQL, ticking at the same instants, never double-fire."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from eltflow.scheduler.model import CatchUp, FireStatus, Schedule
from eltflow.scheduler.planning import schedule_fires
from eltflow.scheduler.service import SchedulerService
from eltflow.scheduler.store import ScheduleStore
from eltflow.store.db import Database
from eltflow.store.migrate import migrate

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class CountingTarget:
    """Counts every start call by execution name: a double fire is a count of 2."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()

    def start_execution(self, state_machine: str, input: str, name: str) -> str:
        with self.lock:
            self.calls[name] += 1
        return f"arn:aws:states:local:000000000000:execution:{state_machine}:{name}"

    def execution_status(self, arn: str) -> str:
        return "SUCCEEDED"


class TickClock:
    """A clock the test moves; both schedulers read the same instant."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


SCHEDULES = [
    Schedule(name="every-minute", expression="rate(1 minute)", state_machine="etl"),
    Schedule(name="five", expression="cron(0/5 * * * ? *)", state_machine="etl"),
    Schedule(
        name="ny",
        expression="cron(7,37 * * * ? *)",
        state_machine="etl",
        timezone="America/New_York",
    ),
    Schedule(
        name="catchup-all",
        expression="rate(2 minutes)",
        state_machine="etl",
        catchup=CatchUp.ALL,
        max_catchup=1000,
    ),
]


def test_two_schedulers_on_one_postgres_never_double_fire(pg_url: str) -> None:
    setup = Database(pg_url)
    migrate(setup)
    store = ScheduleStore(setup)
    for schedule in SCHEDULES:
        store.create(schedule, T0)
    target = CountingTarget()
    clock = TickClock(T0)
    steps = [T0 + timedelta(seconds=20 * i) for i in range(2 * 60 * 3)]  # 2 hours, every 20 s
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    per_scheduler: list[int] = [0, 0]

    def run(index: int) -> None:
        db = Database(pg_url)  # each scheduler has its own connections
        svc = SchedulerService(
            db, target.start_execution, target.execution_status, clock=clock, owner=f"s{index}"
        )
        try:
            for when in steps:
                barrier.wait(timeout=30)
                if index == 0:
                    clock.current = when
                barrier.wait(timeout=30)
                per_scheduler[index] += sum(f.status is FireStatus.STARTED for f in svc.tick(when))
        except BaseException as e:
            errors.append(e)
            barrier.abort()
        finally:
            db.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert errors == []
    assert [name for name, n in target.calls.items() if n > 1] == []  # nobody fired twice
    expected = sum(len(schedule_fires(store.get(s.name), T0, steps[-1])) for s in SCHEDULES)
    assert sum(target.calls.values()) == expected  # and nothing was lost
    assert sum(per_scheduler) == expected
    assert min(per_scheduler) > 0, per_scheduler  # both schedulers did real work
    rows = setup.execute("SELECT status, count(*) AS n FROM sched_fires GROUP BY status")
    assert {r["status"]: r["n"] for r in rows} == {"STARTED": expected}
    setup.close()
