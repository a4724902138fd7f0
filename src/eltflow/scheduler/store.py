"""Schedules and fires in the state store (SQLite or PostgreSQL, through eltflow.store.db).

Queries live in ``sql/common.sql`` plus one small file per dialect. Times are stored as epoch
microseconds (UTC), like the runtime's tables, so both dialects sort and compare them alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from eltflow.errors import ConflictError, NotFoundError
from eltflow.scheduler.model import (
    Fire,
    FireStatus,
    FlexibleTimeWindow,
    Schedule,
    ScheduleState,
)
from eltflow.store.db import Connection, Database, Row
from eltflow.store.queries import load_queries

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_us(value: datetime) -> int:
    return (value - EPOCH) // _US


def from_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def _opt_us(value: datetime | None) -> int | None:
    return None if value is None else to_us(value)


def _opt_dt(value: int | None) -> datetime | None:
    return None if value is None else from_us(value)


def declaration_digest(schedule: Schedule) -> str:
    declared = schedule.with_changes(created_at=None, updated_at=None).to_json()
    return hashlib.sha256(json.dumps(declared, sort_keys=True).encode()).hexdigest()[:16]


def queries(dialect: str) -> dict[str, str]:
    return load_queries("eltflow.scheduler", dialect)


def schedule_params(schedule: Schedule, now: datetime, *, source: str = "api") -> dict[str, Any]:
    return {
        "name": schedule.name,
        "expression": schedule.expression,
        "timezone": schedule.timezone,
        "state_machine": schedule.state_machine,
        "input": schedule.input,
        "state": schedule.state.value,
        "start_us": _opt_us(schedule.start_date),
        "end_us": _opt_us(schedule.end_date),
        "flexible_mode": schedule.flexible_window.mode,
        "flexible_window_minutes": schedule.flexible_window.maximum_window_minutes,
        "catchup": schedule.catchup.value,
        "max_catchup": schedule.max_catchup,
        "overlap": schedule.overlap.value,
        "description": schedule.description,
        "source": source,
        "cursor_us": None,
        "created_us": to_us(now),
        "updated_us": to_us(now),
    }


def schedule_from_row(row: Row) -> Schedule:
    return Schedule(
        name=row["name"],
        expression=row["expression"],
        timezone=row["timezone"],
        state_machine=row["state_machine"],
        input=row["input"],
        state=ScheduleState(row["state"]),
        start_date=_opt_dt(row["start_us"]),
        end_date=_opt_dt(row["end_us"]),
        flexible_window=FlexibleTimeWindow(
            row["flexible_mode"],
            None if row["flexible_window_minutes"] is None else int(row["flexible_window_minutes"]),
        ),
        catchup=row["catchup"],
        max_catchup=int(row["max_catchup"]),
        overlap=row["overlap"],
        description=row["description"],
        created_at=from_us(row["created_us"]),
        updated_at=from_us(row["updated_us"]),
    )


def fire_from_row(row: Row) -> Fire:
    return Fire(
        schedule=row["schedule_name"],
        fire_time=from_us(row["fire_us"]),
        due_at=from_us(row["due_us"]),
        execution_name=row["execution_name"],
        status=FireStatus(row["status"]),
        execution_arn=row["execution_arn"],
        reason=row["reason"],
        backfill=bool(row["backfill"]),
    )


class ScheduleStore:
    """CRUD for schedules and the fire ledger. ``*_txn`` methods run in the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.q = queries(db.dialect)

    # -- schedules -----------------------------------------------------------------------------
    def create(self, schedule: Schedule, now: datetime, *, source: str = "api") -> Schedule:
        with self.db.transaction() as conn:
            params = schedule_params(schedule, now, source=source)
            if not conn.execute(self.q["insert_schedule"], params):
                raise ConflictError(f"schedule '{schedule.name}' already exists")
            return schedule_from_row(self._get_txn(conn, schedule.name))

    def update(self, schedule: Schedule, now: datetime, *, source: str | None = None) -> Schedule:
        """Replace a schedule's settings; fires before ``now`` of a changed timing aren't run.

        ``source`` is kept unless given, so pausing a schedule declared in eltflow.toml doesn't
        make the next config sync think its declaration changed.
        """
        with self.db.transaction() as conn:
            row = self._get_txn(conn, schedule.name)
            old = schedule_from_row(row)
            params = schedule_params(schedule, now, source=source or row["source"])
            timing = ("expression", "timezone", "start_date", "state")
            if any(getattr(old, k) != getattr(schedule, k) for k in timing):
                # A new timing (or a resume) starts from now: no catch-up of fires that the old
                # settings (or the pause) never intended.
                params["cursor_us"] = to_us(now) - 1  # a fire at exactly ``now`` still runs
            conn.execute(self.q["update_schedule"], params)
            return schedule_from_row(self._get_txn(conn, schedule.name))

    def set_state(self, name: str, state: ScheduleState, now: datetime) -> Schedule:
        return self.update(self.get(name).with_changes(state=state), now)

    def get(self, name: str) -> Schedule:
        with self.db.transaction() as conn:
            return schedule_from_row(self._get_txn(conn, name))

    def _get_txn(self, conn: Connection, name: str) -> Row:
        rows = conn.execute(self.q["get_schedule"], {"name": name})
        if not rows:
            raise NotFoundError(f"schedule '{name}' does not exist")
        return rows[0]

    def list_schedules(self) -> list[Schedule]:
        with self.db.transaction() as conn:
            return [schedule_from_row(r) for r in conn.execute(self.q["list_schedules"])]

    def delete(self, name: str) -> None:
        with self.db.transaction() as conn:
            if not conn.execute(self.q["delete_schedule"], {"name": name}):
                raise NotFoundError(f"schedule '{name}' does not exist")
            conn.execute(self.q["delete_fires"], {"name": name})

    def sync(self, schedules: Iterable[Schedule], now: datetime) -> list[str]:
        """Create or update the schedules declared in eltflow.toml; return the names changed.

        A declaration is applied when it is new or *its text changed* (tracked by a digest in
        ``source``), not whenever the stored schedule differs: so ``schedules pause`` on a
        declared schedule sticks until someone edits its table in eltflow.toml.
        """
        changed = []
        for schedule in schedules:
            source = f"config:{declaration_digest(schedule)}"
            with self.db.transaction() as conn:
                rows = conn.execute(self.q["get_schedule"], {"name": schedule.name})
            if not rows:
                self.create(schedule, now, source=source)
            elif rows[0]["source"] != source:
                self.update(schedule, now, source=source)
            else:
                continue
            changed.append(schedule.name)
        return changed

    def cursor(self, name: str) -> datetime | None:
        with self.db.transaction() as conn:
            return _opt_dt(self._get_txn(conn, name)["cursor_us"])

    # -- fires ---------------------------------------------------------------------------------
    def fires(self, name: str, limit: int = 50) -> list[Fire]:
        with self.db.transaction() as conn:
            rows = conn.execute(self.q["list_fires"], {"schedule_name": name, "limit": limit})
            return [fire_from_row(r) for r in rows]

    def get_fire(self, name: str, fire_time: datetime) -> Fire | None:
        with self.db.transaction() as conn:
            rows = conn.execute(
                self.q["get_fire"], {"schedule_name": name, "fire_us": to_us(fire_time)}
            )
            return fire_from_row(rows[0]) if rows else None

    def enabled_with_cursors(self) -> list[tuple[Schedule, datetime | None]]:
        with self.db.transaction() as conn:
            rows = conn.execute(self.q["list_enabled"])
        return [(schedule_from_row(r), _opt_dt(r["cursor_us"])) for r in rows]
