"""The schedule store on SQLite and PostgreSQL: the same behaviour from the same queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from eltflow.errors import ConflictError, NotFoundError
from eltflow.scheduler.model import (
    FlexibleTimeWindow,
    Overlap,
    Schedule,
    ScheduleState,
    schedules_from_config,
)
from eltflow.scheduler.store import ScheduleStore, queries, to_us
from eltflow.store.db import Database
from eltflow.store.migrate import migrate

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[ScheduleStore]:
    db = Database(store_url)
    migrate(db)
    yield ScheduleStore(db)
    db.close()


def test_both_dialects_define_the_same_queries() -> None:
    assert queries("sqlite").keys() == queries("postgres").keys()


def test_a_schedule_round_trips_every_field(store: ScheduleStore) -> None:
    schedule = Schedule(
        name="full.name-1_x",
        expression="cron(0/5 8-17 ? * MON-FRI *)",
        state_machine="arn:aws:states:us-east-1:123456789012:stateMachine:etl",
        timezone="Europe/London",
        input='{"JobID": "101", "n": [1, 2]}',
        state=ScheduleState.DISABLED,
        start_date=T0,
        end_date=T0 + timedelta(days=30),
        flexible_window=FlexibleTimeWindow("FLEXIBLE", 15),
        max_catchup=7,
        overlap=Overlap.BUFFER_ONE,
        description="weekday refresh",
    )
    stored = store.create(schedule, T0)
    assert stored == schedule.with_changes(created_at=T0, updated_at=T0)
    assert store.get("full.name-1_x") == stored
    with pytest.raises(ConflictError):
        store.create(schedule, T0)
    store.delete("full.name-1_x")
    with pytest.raises(NotFoundError):
        store.delete("full.name-1_x")


def test_the_fire_key_is_unique_and_one_fire_is_buffered_per_schedule(
    store: ScheduleStore,
) -> None:
    store.create(Schedule(name="s", expression="rate(1 minute)", state_machine="m"), T0)
    q = store.q
    row = {
        "schedule_name": "s",
        "due_us": to_us(T0),
        "execution_name": "e",
        "backfill": 0,
        "claimed_by": "a",
        "now_us": to_us(T0),
    }
    with store.db.transaction() as conn:
        assert conn.execute(q["insert_fire"], {**row, "fire_us": 1})
        assert conn.execute(q["insert_fire"], {**row, "fire_us": 1}) == []  # no-op
        assert conn.execute(q["insert_fire"], {**row, "fire_us": 2})
    buffer = {"schedule_name": "s", "claimed_by": "a", "reason": "r"}
    with store.db.transaction() as conn:
        assert conn.execute(q["buffer_fire"], {**buffer, "fire_us": 1})
    with pytest.raises(ConflictError), store.db.transaction() as conn:
        conn.execute(q["buffer_fire"], {**buffer, "fire_us": 2})


def test_the_cursor_only_moves_forward(store: ScheduleStore) -> None:
    store.create(Schedule(name="s", expression="rate(1 minute)", state_machine="m"), T0)
    with store.db.transaction() as conn:
        conn.execute(store.q["advance_cursor"], {"name": "s", "cursor_us": to_us(T0)})
        conn.execute(store.q["advance_cursor"], {"name": "s", "cursor_us": to_us(T0) - 10})
    assert store.cursor("s") == T0
    later = T0 + timedelta(hours=1)
    store.set_state("s", ScheduleState.DISABLED, later)  # a timing change: cursor to now
    assert store.cursor("s") == later - timedelta(microseconds=1)


def test_config_sync_creates_then_only_reapplies_changed_declarations(
    store: ScheduleStore,
) -> None:
    section = {
        "refresh": {
            "expression": "rate(5 minutes)",
            "state_machine": "etl",
            "input": {"JobID": "101"},
            "start_date": T0,
            "flexible_window_minutes": 3,
        }
    }
    assert store.sync(schedules_from_config(section), T0) == ["refresh"]
    assert store.sync(schedules_from_config(section), T0) == []
    store.set_state("refresh", ScheduleState.DISABLED, T0)
    assert store.sync(schedules_from_config(section), T0) == []
    assert store.get("refresh").state is ScheduleState.DISABLED
    section["refresh"]["expression"] = "rate(10 minutes)"
    assert store.sync(schedules_from_config(section), T0) == ["refresh"]
    got = store.get("refresh")
    assert (got.expression, got.state) == ("rate(10 minutes)", ScheduleState.ENABLED)
    assert got.flexible_window == FlexibleTimeWindow("FLEXIBLE", 3)
