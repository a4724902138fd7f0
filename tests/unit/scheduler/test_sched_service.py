"""The scheduler loop on a virtual clock against a real SQLite store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eltflow.clock import VirtualClock
from eltflow.errors import ConflictError, NotFoundError, ScheduleError
from eltflow.scheduler.model import FireStatus, FlexibleTimeWindow, Schedule, ScheduleState
from eltflow.scheduler.planning import execution_name
from eltflow.scheduler.service import SchedulerService
from eltflow.scheduler.store import ScheduleStore
from eltflow.store.db import Database
from eltflow.store.migrate import migrate

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Target:
    """Stands in for the runtime behind the scheduler's callback protocol.

    Like StartExecution: a name already started returns the same ARN and starts nothing new.
    ``calls`` counts every call (a duplicate start shows up there, not in ``started``).
    """

    def __init__(self, machines: tuple[str, ...] = ("etl",)) -> None:
        self.machines = set(machines)
        self.started: dict[str, tuple[str, str]] = {}  # name -> (machine, input)
        self.order: list[str] = []
        self.calls = 0
        self.status: dict[str, str] = {}
        self.default_status = "SUCCEEDED"
        self.fail_next: Exception | None = None
        self._lock = threading.Lock()

    def start_execution(self, state_machine: str, input: str, name: str) -> str:
        with self._lock:
            self.calls += 1
            if self.fail_next is not None:
                error, self.fail_next = self.fail_next, None
                raise error
            if state_machine not in self.machines:
                raise NotFoundError(f"State Machine Does Not Exist: '{state_machine}'")
            if name not in self.started:
                self.started[name] = (state_machine, input)
                self.order.append(name)
            return f"arn:exec:{state_machine}:{name}"

    def execution_status(self, arn: str) -> str:
        return self.status.get(arn, self.default_status)


@contextmanager
def sqlite_db(path: str) -> Iterator[Database]:
    db = Database(f"sqlite:///{path}")
    migrate(db)
    try:
        yield db
    finally:
        db.close()


def add(db: Database, now: datetime = T0, **fields: object) -> Schedule:
    options: dict[str, object] = {
        "name": "s",
        "expression": "rate(5 minutes)",
        "state_machine": "etl",
    }
    options.update(fields)
    return ScheduleStore(db).create(Schedule(**options), now)  # type: ignore[arg-type]


MIN = timedelta(minutes=1)


def service(db: Database, target: Target, clock: VirtualClock, **kw: object) -> SchedulerService:
    return SchedulerService(
        db,
        target.start_execution,
        target.execution_status,
        clock=clock,
        **kw,  # type: ignore[arg-type]
    )


def run_for(svc: SchedulerService, clock: VirtualClock, span: timedelta, step: timedelta) -> int:
    """Tick every ``step`` over ``[now, now + span)``; return how many fires started."""
    end = clock.now() + span
    started = 0
    while clock.now() < end:
        started += sum(f.status is FireStatus.STARTED for f in svc.tick(clock.now()))
        clock.advance(step.total_seconds())
    return started


def test_24_hours_of_rate_5_minutes_fire_288_times(tmp_path: Path) -> None:
    with sqlite_db(str(tmp_path / "s.db")) as db:
        add(db, expression="rate(5 minutes)", input='{"JobID": "101"}')
        target, clock = Target(), VirtualClock(T0)
        svc = service(db, target, clock)
        assert run_for(svc, clock, timedelta(hours=24), step=MIN) == 288
        assert target.calls == 288 and len(target.started) == 288
        first = execution_name("s", T0)
        assert target.order[0] == first == "sched-s-20260601T120000Z"  # rate fires at creation
        assert target.started[first] == ("etl", '{"JobID": "101"}')
        assert target.order[-1] == execution_name("s", T0 + timedelta(hours=23, minutes=55))


def test_ticking_twice_or_restarting_never_fires_twice(tmp_path: Path) -> None:
    with sqlite_db(str(tmp_path / "s.db")) as db:
        add(db, expression="cron(0/10 * * * ? *)")
        target, clock = Target(), VirtualClock(T0 + timedelta(seconds=5))
        first = service(db, target, clock).tick()
        assert [f.status for f in first] == [FireStatus.STARTED]
        assert service(db, target, clock).tick() == []  # a restarted scheduler
        assert service(db, target, clock).tick(clock.now() + timedelta(seconds=30)) == []
        assert target.calls == 1


def test_cron_fires_at_the_documented_minutes_in_its_zone(tmp_path: Path) -> None:
    with sqlite_db(str(tmp_path / "s.db")) as db:
        add(db, expression="cron(0 9 ? * MON-FRI *)", timezone="Europe/London")
        target, clock = Target(), VirtualClock(T0)  # Monday 2026-06-01 13:00 BST
        svc = service(db, target, clock)
        assert run_for(svc, clock, timedelta(days=7), step=timedelta(minutes=15)) == 5
        # 09:00 BST is 08:00 UTC, Tuesday to Friday, then Monday
        assert target.order[0] == "sched-s-20260602T080000Z"
        assert target.order[-1] == "sched-s-20260608T080000Z"


@pytest.mark.parametrize(
    ("catchup", "max_catchup", "back_at", "expected"),
    [
        # back at 12:55:20: the 12:55 fire is on time; 12:05-12:50 were missed
        ("skip", 10, "12:55:20", ["12:55"]),
        ("last", 10, "12:55:20", ["12:55"]),  # the on-time fire is the most recent run
        ("all", 3, "12:55:20", ["12:40", "12:45", "12:50", "12:55"]),  # bounded
        ("all", 100, "12:55:20", [f"12:{m:02d}" for m in range(5, 60, 5)]),
        ("all", 0, "12:55:20", ["12:55"]),
        # back at 12:57:30: every fire since 12:00 was missed
        ("skip", 10, "12:57:30", []),
        ("last", 10, "12:57:30", ["12:55"]),
        ("last", 0, "12:57:30", []),
        ("all", 2, "12:57:30", ["12:50", "12:55"]),
    ],
)
def test_missed_fires_after_downtime_follow_the_catch_up_policy(
    tmp_path: Path, catchup: str, max_catchup: int, back_at: str, expected: list[str]
) -> None:
    with sqlite_db(str(tmp_path / "s.db")) as db:
        add(db, catchup=catchup, max_catchup=max_catchup)
        target, clock = Target(), VirtualClock(T0)
        svc = service(db, target, clock)
        svc.tick()  # fires 12:00, then the scheduler is down
        target.order.clear()
        hh, mm, ss = (int(x) for x in back_at.split(":"))
        clock.advance_to(T0.replace(hour=hh, minute=mm, second=ss))
        svc.tick()
        assert [n[-7:-3] for n in target.order] == [e.replace(":", "") for e in expected]
        clock.advance(60)
        assert [f for f in svc.tick() if f.fire_time < clock.now() - MIN] == []  # decided once


def test_overlap_skip_and_buffer_one(tmp_path: Path) -> None:
    with sqlite_db(str(tmp_path / "s.db")) as db:
        add(db, name="skipper", overlap="skip")
        add(db, name="buffered", overlap="buffer_one")
        target, clock = Target(), VirtualClock(T0)
        target.default_status = "RUNNING"  # nothing ever finishes...
        svc = service(db, target, clock)
        assert {f.schedule: f.status for f in svc.tick()} == {
            "skipper": FireStatus.STARTED,
            "buffered": FireStatus.STARTED,
        }
        clock.advance(300)
        second = {f.schedule: f for f in svc.tick()}
        assert second["skipper"].status is FireStatus.SKIPPED
        assert "still RUNNING" in second["skipper"].reason
        assert second["buffered"].status is FireStatus.BUFFERED
        clock.advance(300)
        third = {f.schedule: f for f in svc.tick()}
        assert third["buffered"].status is FireStatus.SKIPPED  # only one fire is buffered
        assert "already buffered" in third["buffered"].reason
        target.default_status = "SUCCEEDED"  # ...until it does
        clock.advance(30)
        released = svc.tick()
        assert [(f.schedule, f.status, f.fire_time) for f in released] == [
            ("buffered", FireStatus.STARTED, T0 + timedelta(minutes=5))
        ]
        fires = svc.store.fires("buffered")
        assert [f.status for f in fires] == [
            FireStatus.SKIPPED,
            FireStatus.STARTED,
            FireStatus.STARTED,
        ]


def test_paused_schedules_dont_fire_and_resume_doesnt_catch_up(tmp_path: Path) -> None:
    with sqlite_db(str(tmp_path / "s.db")) as db:
        add(db, catchup="all", max_catchup=100)
        target, clock = Target(), VirtualClock(T0)
        svc = service(db, target, clock)
        svc.tick()
        svc.store.set_state("s", ScheduleState.DISABLED, clock.now())
        assert run_for(svc, clock, timedelta(hours=1), step=MIN) == 0
        svc.store.set_state("s", ScheduleState.ENABLED, clock.now())  # 13:00
        assert run_for(svc, clock, timedelta(minutes=4), step=MIN) == 1
        assert target.order == ["sched-s-20260601T120000Z", "sched-s-20260601T130000Z"]


def test_start_and_end_dates_bound_the_fires(tmp_path: Path) -> None:
    with sqlite_db(str(tmp_path / "s.db")) as db:
        add(
            db,
            expression="rate(10 minutes)",
            start_date=T0 + timedelta(minutes=3),
            end_date=T0 + timedelta(minutes=33),
        )
        target, clock = Target(), VirtualClock(T0)
        assert run_for(service(db, target, clock), clock, timedelta(hours=2), step=MIN) == 3
        assert [n[-7:-1] for n in target.order] == ["120300", "121300", "122300"]


def test_at_fires_once(tmp_path: Path) -> None:
    with sqlite_db(str(tmp_path / "s.db")) as db:
        add(db, expression="at(2026-06-01T08:30:00)", timezone="America/New_York")
        target, clock = Target(), VirtualClock(T0)
        assert run_for(service(db, target, clock), clock, timedelta(days=2), step=MIN) == 1
        assert target.order == ["sched-s-20260601T123000Z"]


def test_flexible_window_delays_each_fire_deterministically_within_the_window(
    tmp_path: Path,
) -> None:
    with sqlite_db(str(tmp_path / "s.db")) as db:
        add(db, expression="cron(0 * * * ? *)", flexible_window=FlexibleTimeWindow("FLEXIBLE", 15))
        target, clock = Target(), VirtualClock(T0)
        svc = service(db, target, clock)
        fires = []
        end = T0 + timedelta(hours=6)
        while clock.now() < end:
            fires += [(f, clock.now()) for f in svc.tick()]
            clock.advance(20)
        assert len(fires) == 6
        offsets = set()
        for fire, seen_at in fires:
            offset = fire.due_at - fire.fire_time
            assert timedelta(0) <= offset < timedelta(minutes=15)
            assert fire.due_at <= seen_at < fire.due_at + timedelta(seconds=20)
            offsets.add(offset)
        assert len(offsets) > 1  # spread, not one fixed delay


def test_backfill_runs_the_missed_window_once(tmp_path: Path) -> None:
    with sqlite_db(str(tmp_path / "s.db")) as db:
        add(db, expression="cron(0 * * * ? *)", catchup="skip")
        target, clock = Target(), VirtualClock(T0 + timedelta(hours=5, minutes=30))
        svc = service(db, target, clock)
        assert svc.tick() == []  # 13:00-17:00 were missed and skipped
        got = svc.backfill("s", T0, T0 + timedelta(hours=5))
        assert [f.status for f in got] == [FireStatus.STARTED] * 6
        assert all(f.backfill for f in got)
        assert len(target.started) == 6
        again = svc.backfill("s", T0, T0 + timedelta(hours=5))
        assert [f.status for f in again] == [FireStatus.STARTED] * 6
        assert target.calls == 6  # nothing started twice
        with pytest.raises(ScheduleError, match="more than 3 fires"):
            svc.backfill("s", T0, T0 + timedelta(hours=5), limit=3)
        with pytest.raises(NotFoundError):
            svc.backfill("nope", T0, T0)


def test_rejected_start_is_failed_and_unknown_errors_retry_after_the_lease(
    tmp_path: Path,
) -> None:
    with sqlite_db(str(tmp_path / "s.db")) as db:
        add(db, name="ghost", state_machine="missing")
        add(db, name="flaky")
        target, clock = Target(), VirtualClock(T0)
        svc = service(db, target, clock, lease=timedelta(minutes=2))
        target.fail_next = RuntimeError("database is locked")
        by_name = {f.schedule: f for f in svc.tick()}
        assert by_name["ghost"].status is FireStatus.FAILED
        assert "does not exist" in by_name["ghost"].reason.lower()
        flaky = by_name["flaky"] if by_name["flaky"].status is FireStatus.PENDING else None
        assert flaky is not None, by_name
        clock.advance(60)
        assert [f for f in svc.tick() if f.schedule == "flaky"] == []  # lease not expired
        clock.advance(90)
        retried = [f for f in svc.tick() if f.fire_time == T0 and f.schedule == "flaky"]
        assert [f.status for f in retried] == [FireStatus.STARTED]


def test_crud_round_trip_and_errors(tmp_path: Path) -> None:
    with sqlite_db(str(tmp_path / "s.db")) as db:
        created = add(db, input='{"a": 1}', description="nightly")
        assert created.created_at == T0 and created.updated_at == T0
        with pytest.raises(ConflictError, match="already exists"):
            add(db)
        svc = service(db, Target(), VirtualClock(T0))
        later = T0 + timedelta(hours=1)
        updated = svc.store.update(created.with_changes(expression="rate(1 hour)"), later)
        assert updated.expression == "rate(1 hour)" and updated.updated_at == later
        assert updated.created_at == T0
        assert [s.name for s in svc.store.list_schedules()] == ["s"]
        svc.store.delete("s")
        with pytest.raises(NotFoundError, match="schedule 's' does not exist"):
            svc.store.get("s")


def test_execution_names_are_valid_and_unique_per_fire() -> None:
    t = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert execution_name("nightly", t) == "sched-nightly-20260102T030405Z"
    long = execution_name("x" * 64, t)
    assert len(long) <= 80 and long.endswith("-20260102T030405Z")
    assert execution_name("x" * 64, t) != execution_name("x" * 63 + "y", t)


def test_new_york_fall_back_night_fires_the_repeated_half_hours_once(tmp_path: Path) -> None:
    with sqlite_db(str(tmp_path / "s.db")) as db:
        start = datetime(2026, 11, 1, 3, 59, tzinfo=UTC)  # 23:59 EDT on Oct 31
        add(db, start, expression="cron(0/30 * * * ? *)", timezone="America/New_York")
        target, clock = Target(), VirtualClock(start)
        svc = service(db, target, clock)
        # 5 real hours: 00:00-01:59 EDT, then 01:00-03:59 EST
        assert run_for(svc, clock, timedelta(hours=5), step=MIN) == 8
        assert [n[-7:-3] for n in target.order] == [
            "0400", "0430", "0500", "0530",  # 00:00, 00:30, 01:00, 01:30 EDT
            "0700", "0730", "0800", "0830",  # 02:00 ... 03:30 EST (01:xx EST not repeated)
        ]  # fmt: skip


def test_london_spring_forward_skips_the_missing_hour(tmp_path: Path) -> None:
    with sqlite_db(str(tmp_path / "s.db")) as db:
        start = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
        add(db, start, expression="cron(30 1 * * ? *)", timezone="Europe/London")
        target, clock = Target(), VirtualClock(start)
        assert run_for(service(db, target, clock), clock, timedelta(days=2), step=MIN) == 1
        assert target.order == ["sched-s-20260330T003000Z"]  # no 01:30 on the 29th


def test_run_loop_ticks_on_its_clock_until_stopped(tmp_path: Path) -> None:
    with sqlite_db(str(tmp_path / "s.db")) as db:
        add(db, expression="rate(1 minute)")
        target, clock = Target(), VirtualClock(T0)
        svc = service(db, target, clock, poll_seconds=1.0)
        stop = threading.Event()

        def watch() -> None:
            while len(target.started) < 5:
                stop.wait(0.01)
            stop.set()

        watcher = threading.Thread(target=watch)
        watcher.start()
        svc.run(stop)
        watcher.join()
        assert len(target.started) >= 5
        assert len(target.started) == target.calls  # every fire once
        assert clock.now() >= T0 + timedelta(minutes=4)
