"""The pure planning core: catch-up decisions, flexible offsets, cursors, long downtime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from eltflow.errors import ScheduleError
from eltflow.scheduler.model import CatchUp, FlexibleTimeWindow, Schedule, schedule_from_json
from eltflow.scheduler.planning import (
    flex_offset,
    next_fires,
    plan,
    schedule_fires,
    upcoming,
)

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def sched(**fields: object) -> Schedule:
    options: dict[str, object] = {
        "name": "s",
        "expression": "rate(1 minute)",
        "state_machine": "etl",
        "created_at": T0,
        "updated_at": T0,
    }
    options.update(fields)
    return Schedule(**options)  # type: ignore[arg-type]


def test_a_new_rate_schedule_fires_at_creation() -> None:
    p = plan(sched(), None, T0)
    assert p.fire == [T0] and p.cursor == T0 and p.missed_count == 0


def test_the_listed_next_fire_is_the_one_the_scheduler_starts() -> None:
    # Created at 12:00:00.400 and listed half a second later, before any scheduler tick:
    # the first fire (the creation second) is still to be started, so it is "next" — the
    # listing used to count from the listing time and show 12:05:00, while serve fired 12:00.
    created = T0 + timedelta(milliseconds=400)
    s = sched(expression="rate(5 minutes)", created_at=created, updated_at=created)
    listed_at = created + timedelta(milliseconds=500)
    shown = next_fires(s, None, listed_at, 2)
    p = plan(s, None, listed_at + timedelta(seconds=2))  # the scheduler's next tick
    assert shown == [T0, T0 + timedelta(minutes=5)]
    assert p.fire == shown[:1]
    # Once handled, the next one is five minutes on, whether listed now or later.
    assert next_fires(s, p.cursor, listed_at + timedelta(seconds=3), 1) == [
        T0 + timedelta(minutes=5)
    ]
    assert plan(s, p.cursor, T0 + timedelta(minutes=5)).fire == [T0 + timedelta(minutes=5)]


def test_nothing_due_keeps_the_cursor() -> None:
    p = plan(sched(expression="cron(0 13 * * ? *)"), T0, T0 + timedelta(minutes=30))
    assert p.fire == [] and p.cursor == T0


def test_a_year_of_downtime_is_planned_bounded() -> None:
    """Its speed is measured in bench/planning_bench.py, not asserted here."""
    s = sched(catchup=CatchUp.ALL, max_catchup=5)
    now = T0 + timedelta(days=365, seconds=10)
    p = plan(s, T0, now)
    assert p.fire == [now.replace(second=0) - timedelta(minutes=m) for m in (5, 4, 3, 2, 1, 0)]
    assert p.cursor == now.replace(second=0)
    assert p.missed_count >= 5


def test_skip_drops_every_missed_fire_but_still_moves_the_cursor() -> None:
    s = sched(expression="cron(0 * * * ? *)", catchup=CatchUp.SKIP)
    p = plan(s, T0, T0 + timedelta(hours=5, minutes=30))
    assert p.fire == [] and p.cursor == T0 + timedelta(hours=5)
    assert p.missed == [T0 + timedelta(hours=5)]
    assert 1 <= p.missed_count <= 5  # counted only as far back as the search looked


def test_flexible_offsets_are_deterministic_and_inside_the_window() -> None:
    s = sched(flexible_window=FlexibleTimeWindow("FLEXIBLE", 7))
    fires = schedule_fires(s, T0, T0 + timedelta(hours=3))
    offsets = [flex_offset(s, f) for f in fires]
    assert offsets == [flex_offset(s, f) for f in fires]
    assert all(timedelta(0) <= o < timedelta(minutes=7) for o in offsets)
    assert len(set(offsets)) > 10
    assert flex_offset(sched(), T0) == timedelta(0)


def test_a_fire_is_not_due_before_its_flexible_offset() -> None:
    s = sched(expression="cron(0 13 * * ? *)", flexible_window=FlexibleTimeWindow("FLEXIBLE", 60))
    fire = T0 + timedelta(hours=1)
    due = fire + flex_offset(s, fire)
    assert plan(s, T0, due - timedelta(seconds=1)).fire == []
    assert plan(s, T0, due).fire == [fire]


def test_upcoming_respects_start_and_end_dates() -> None:
    s = sched(
        expression="cron(0 * * * ? *)",
        start_date=T0 + timedelta(hours=2),
        end_date=T0 + timedelta(hours=4),
    )
    assert upcoming(s, T0, 5) == [T0 + timedelta(hours=2), T0 + timedelta(hours=3)]


def test_backfill_grid_of_a_rate_extends_before_its_creation() -> None:
    s = sched(expression="rate(10 minutes)", created_at=T0 + timedelta(seconds=7))
    got = schedule_fires(s, T0 - timedelta(hours=1), T0, extend_rate_back=True)
    assert got[0] == T0 - timedelta(minutes=59, seconds=53)
    assert all(f.second == 7 for f in got) and len(got) == 6
    assert schedule_fires(s, T0 - timedelta(hours=1), T0) == []  # not without asking


def test_json_round_trip_for_the_http_api() -> None:
    s = sched(
        expression="cron(0 9 ? * MON-FRI *)",
        timezone="Europe/London",
        input='{"JobID": "1"}',
        start_date=T0,
        flexible_window=FlexibleTimeWindow("FLEXIBLE", 5),
        catchup=CatchUp.ALL,
        max_catchup=4,
    )
    again = schedule_from_json(s.to_json())
    assert again == s.with_changes(created_at=None, updated_at=None)
    body = {"ScheduleExpression": "rate(1 hour)", "Target": {"Arn": "etl", "Input": {"a": 1}}}
    made = schedule_from_json(body, name="x")
    assert (made.name, made.state_machine, made.input) == ("x", "etl", '{"a": 1}')


def test_json_errors_name_the_field() -> None:
    with pytest.raises(ScheduleError, match="ScheduleExpression is required"):
        schedule_from_json({"Name": "x"})
    with pytest.raises(ScheduleError, match="unknown schedule field"):
        schedule_from_json({"Name": "x", "ScheduleExpression": "rate(1 hour)", "Bogus": 1})
    with pytest.raises(ScheduleError, match="day-of-week field '9'"):
        schedule_from_json(
            {"Name": "x", "ScheduleExpression": "cron(0 1 ? * 9 *)", "Target": {"Arn": "m"}}
        )
