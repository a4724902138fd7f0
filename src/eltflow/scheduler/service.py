"""The durable scheduler: a loop around :meth:`SchedulerService.tick`, driven by a Clock.

A tick does, for each enabled schedule with something due:

1. In one transaction (PostgreSQL: the schedule row locked ``FOR UPDATE SKIP LOCKED``, so
   another scheduler passes over it): plan the due fires (:mod:`~eltflow.scheduler.planning`),
   insert one row per fire with ``ON CONFLICT DO NOTHING`` — only the inserter owns the fire —
   and move the schedule's cursor.
2. Outside any transaction (the runtime writes to the same store; holding SQLite's write lock
   while calling it would deadlock): apply the overlap policy, start the execution under a
   name derived from the fire (so a repeated start is a no-op), and record the outcome.

A scheduler that dies between 1 and 2 leaves its fire PENDING; after ``lease`` any scheduler
takes it over and starts it (again, harmlessly). Starting executions goes through a callback,
so this layer knows nothing about the runtime.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from eltflow.clock import Clock
from eltflow.errors import AwsApiError, ConflictError, NotFoundError, ScheduleError
from eltflow.scheduler.model import Fire, FireStatus, Overlap, Schedule
from eltflow.scheduler.planning import (
    DEFAULT_GRACE,
    execution_name,
    flex_offset,
    next_due,
    plan,
    schedule_fires,
)
from eltflow.scheduler.store import ScheduleStore, from_us, schedule_from_row, to_us
from eltflow.store.db import Connection, Database

log = logging.getLogger(__name__)

RUNNING = "RUNNING"


class StartExecution(Protocol):
    def __call__(self, state_machine: str, input: str, name: str) -> str:
        """Start ``state_machine`` with JSON ``input`` under execution ``name``; return its ARN.

        Starting the same name with the same input again must return the same ARN (Step
        Functions' idempotency), which is what makes a retried fire harmless.
        """
        ...


ExecutionStatus = Callable[[str], str]
"""``execution_status(execution_arn) -> "RUNNING" | "SUCCEEDED" | ...`` (for overlap policies)."""

# Errors that mean "the target won't accept this start": recorded as FAILED, not retried.
_REJECTED = (NotFoundError, AwsApiError, ScheduleError)


@dataclass(frozen=True)
class _Claim:
    schedule: Schedule
    fire_time: datetime
    due_at: datetime
    backfill: bool = False


class SchedulerService:
    def __init__(
        self,
        db: Database,
        start_execution: StartExecution,
        execution_status: ExecutionStatus | None = None,
        *,
        clock: Clock,
        owner: str | None = None,
        grace: timedelta = DEFAULT_GRACE,
        lease: timedelta = timedelta(minutes=2),
        poll_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.store = ScheduleStore(db)
        self.q = self.store.q
        self.start_execution = start_execution
        self.execution_status = execution_status
        self.clock = clock
        self.owner = owner or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.grace = grace
        self.lease = lease
        self.poll_seconds = poll_seconds
        self._due_cache: dict[str, tuple[object, datetime | None]] = {}

    # -- the loop ------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Tick until ``stop`` is set. A failing tick is logged and the next one tries again:
        fires it claimed stay PENDING and are taken over after their lease, so nothing is lost,
        and a scheduler thread that died silently inside ``eltflow serve`` would be worse."""
        while not stop.is_set():
            try:
                self.tick(self.clock.now())
            except Exception:
                log.exception("scheduler tick failed; retrying on the next tick")
            waited = 0.0
            while waited < self.poll_seconds and not stop.is_set():
                step = min(0.25, self.poll_seconds - waited)
                self.clock.sleep(step)
                waited += step

    def tick(self, now: datetime | None = None) -> list[Fire]:
        """Handle everything due at ``now``; return the fires this scheduler dealt with."""
        now = (now or self.clock.now()).astimezone(UTC)
        out = self._release_buffered(now)
        out += self._recover_stale(now)
        for schedule, cursor in self.store.enabled_with_cursors():
            # Most ticks have nothing due: skip them without planning, and without a
            # transaction (on SQLite that takes the write lock). The cache is only a shortcut;
            # any change to the schedule or its cursor makes a new key.
            key = (schedule.name, schedule.updated_at, cursor)
            cached = self._due_cache.get(schedule.name)
            if cached is None or cached[0] != key:
                cached = (key, next_due(schedule, cursor))
                self._due_cache[schedule.name] = cached
            if cached[1] is None or now < cached[1]:
                continue
            for claim in self._claim_due(schedule.name, now):
                out.append(self._dispatch(claim, now, check_overlap=True))
        return out

    # -- phase 1: claim ------------------------------------------------------------------------
    def _claim_due(self, name: str, now: datetime) -> list[_Claim]:
        claims: list[_Claim] = []
        with self.db.transaction() as conn:
            rows = conn.execute(self.q["lock_schedule"], {"name": name})
            if not rows:
                return []  # deleted, or another scheduler holds it right now
            schedule = schedule_from_row(rows[0])
            if not schedule.enabled:
                return []
            cursor = None if rows[0]["cursor_us"] is None else from_us(rows[0]["cursor_us"])
            decided = plan(schedule, cursor, now, grace=self.grace)
            for fire_time in decided.fire:
                due = fire_time + flex_offset(schedule, fire_time)
                if self._insert_fire(conn, schedule, fire_time, due, now, backfill=False):
                    claims.append(_Claim(schedule, fire_time, due))
            if decided.missed_count:
                log.info(
                    "schedule %s: %d missed fire(s) dropped by catch-up policy %s",
                    name,
                    decided.missed_count,
                    schedule.catchup.value,
                )
            if decided.cursor is not None and decided.cursor != cursor:
                conn.execute(
                    self.q["advance_cursor"], {"name": name, "cursor_us": to_us(decided.cursor)}
                )
        return claims

    def _insert_fire(
        self,
        conn: Connection,
        schedule: Schedule,
        fire_time: datetime,
        due: datetime,
        now: datetime,
        *,
        backfill: bool,
    ) -> bool:
        rows = conn.execute(
            self.q["insert_fire"],
            {
                "schedule_name": schedule.name,
                "fire_us": to_us(fire_time),
                "due_us": to_us(due),
                "execution_name": execution_name(schedule.name, fire_time),
                "backfill": int(backfill),
                "claimed_by": self.owner,
                "now_us": to_us(now),
            },
        )
        return bool(rows)

    # -- phase 2: start ------------------------------------------------------------------------
    def _dispatch(self, claim: _Claim, now: datetime, *, check_overlap: bool) -> Fire:
        schedule, fire_time = claim.schedule, claim.fire_time
        name = execution_name(schedule.name, fire_time)
        if check_overlap and schedule.overlap is not Overlap.ALLOW:
            running = self._previous_running(schedule.name, fire_time)
            if running is not None:
                reason = f"overlap: previous execution {running} is still RUNNING"
                if schedule.overlap is Overlap.BUFFER_ONE and self._buffer(claim, reason):
                    return self._fire(claim, FireStatus.BUFFERED, None, reason)
                if schedule.overlap is Overlap.BUFFER_ONE:
                    reason += " and another fire is already buffered"
                return self._finish(claim, FireStatus.SKIPPED, None, reason, now)
        try:
            arn = self.start_execution(schedule.state_machine, schedule.input, name)
        except _REJECTED as e:
            return self._finish(claim, FireStatus.FAILED, None, str(e), now)
        except Exception as e:
            # Unknown trouble (store busy, runtime down): leave the fire PENDING so that after
            # the lease this or another scheduler starts it again under the same name.
            log.exception("schedule %s: starting %s failed; will retry", schedule.name, name)
            return self._fire(claim, FireStatus.PENDING, None, f"start failed, will retry: {e}")
        return self._finish(claim, FireStatus.STARTED, arn, "", now)

    def _previous_running(self, name: str, fire_time: datetime) -> str | None:
        """The ARN of this schedule's previous execution if it is still RUNNING."""
        if self.execution_status is None:
            return None  # no way to know: behave like AWS (allow)
        with self.db.transaction() as conn:
            rows = conn.execute(
                self.q["previous_started"],
                {"schedule_name": name, "fire_us": to_us(fire_time)},
            )
        if not rows or not rows[0]["execution_arn"]:
            return None
        arn: str = rows[0]["execution_arn"]
        try:
            status = self.execution_status(arn)
        except NotFoundError:
            return None
        return arn if status == RUNNING else None

    def _buffer(self, claim: _Claim, reason: str) -> bool:
        try:
            with self.db.transaction() as conn:
                rows = conn.execute(
                    self.q["buffer_fire"],
                    {
                        "schedule_name": claim.schedule.name,
                        "fire_us": to_us(claim.fire_time),
                        "claimed_by": self.owner,
                        "reason": reason,
                    },
                )
        except ConflictError:
            return False  # the partial unique index: one fire is already buffered
        return bool(rows)

    def _finish(
        self, claim: _Claim, status: FireStatus, arn: str | None, reason: str, now: datetime
    ) -> Fire:
        with self.db.transaction() as conn:
            conn.execute(
                self.q["finish_fire"],
                {
                    "schedule_name": claim.schedule.name,
                    "fire_us": to_us(claim.fire_time),
                    "status": status.value,
                    "execution_arn": arn,
                    "reason": reason,
                    "started_us": to_us(now) if status is FireStatus.STARTED else None,
                    "claimed_by": self.owner,
                },
            )
        return self._fire(claim, status, arn, reason)

    def _fire(self, claim: _Claim, status: FireStatus, arn: str | None, reason: str) -> Fire:
        return Fire(
            schedule=claim.schedule.name,
            fire_time=claim.fire_time,
            due_at=claim.due_at,
            execution_name=execution_name(claim.schedule.name, claim.fire_time),
            status=status,
            execution_arn=arn,
            reason=reason,
            backfill=claim.backfill,
        )

    # -- buffered and abandoned fires ----------------------------------------------------------
    def _release_buffered(self, now: datetime) -> list[Fire]:
        out: list[Fire] = []
        with self.db.transaction() as conn:
            waiting = conn.execute(self.q["buffered_fires"])
        for row in waiting:
            name, fire_time = row["schedule_name"], from_us(row["fire_us"])
            if self._previous_running(name, fire_time) is not None:
                continue
            claim = self._reclaim("release_buffered", name, fire_time, now)
            if claim is not None:
                out.append(self._dispatch(claim, now, check_overlap=False))
        return out

    def _recover_stale(self, now: datetime) -> list[Fire]:
        out: list[Fire] = []
        stale_us = to_us(now - self.lease)
        with self.db.transaction() as conn:
            stale = conn.execute(self.q["stale_pending"], {"stale_us": stale_us})
        for row in stale:
            name, fire_time = row["schedule_name"], from_us(row["fire_us"])
            claim = self._reclaim("reclaim_stale", name, fire_time, now)
            if claim is not None:
                log.warning("schedule %s: taking over abandoned fire %s", name, fire_time)
                out.append(self._dispatch(claim, now, check_overlap=False))
        return out

    def _reclaim(self, query: str, name: str, fire_time: datetime, now: datetime) -> _Claim | None:
        with self.db.transaction() as conn:
            rows = conn.execute(
                self.q[query],
                {
                    "schedule_name": name,
                    "fire_us": to_us(fire_time),
                    "claimed_by": self.owner,
                    "now_us": to_us(now),
                    "stale_us": to_us(now - self.lease),
                },
            )
            if not rows:
                return None
            schedule_rows = conn.execute(self.q["get_schedule"], {"name": name})
            fire_rows = conn.execute(
                self.q["get_fire"], {"schedule_name": name, "fire_us": to_us(fire_time)}
            )
        if not schedule_rows:
            return None
        return _Claim(
            schedule_from_row(schedule_rows[0]),
            fire_time,
            from_us(fire_rows[0]["due_us"]),
            backfill=bool(fire_rows[0]["backfill"]),
        )

    # -- backfill ------------------------------------------------------------------------------
    def backfill(
        self, name: str, start: datetime, end: datetime, *, limit: int = 1000
    ) -> list[Fire]:
        """Run the schedule's fires in ``[start, end]`` that haven't run.

        Fires already started (or starting) are left alone and returned as they are; fires the
        overlap policy skipped or the target rejected run now. The overlap policy is not applied
        to a backfill: the user asked for these runs (the audit lock still guards the job).
        """
        if end < start:
            raise ScheduleError(f"backfill of '{name}': --to is before --from")
        schedule = self.store.get(name)
        times = schedule_fires(schedule, start, end, limit=limit + 1, extend_rate_back=True)
        if len(times) > limit:
            raise ScheduleError(
                f"backfill of '{name}' from {start.isoformat()} to {end.isoformat()} covers "
                f"more than {limit} fires; narrow the window or raise the limit"
            )
        now = self.clock.now().astimezone(UTC)
        out: list[Fire] = []
        for fire_time in times:
            with self.db.transaction() as conn:
                claimed = self._insert_fire(
                    conn, schedule, fire_time, fire_time, now, backfill=True
                )
            claim = (
                _Claim(schedule, fire_time, fire_time, backfill=True)
                if claimed
                else self._reclaim("reclaim_for_backfill", name, fire_time, now)
            )
            if claim is not None:
                out.append(self._dispatch(claim, now, check_overlap=False))
            else:
                existing = self.store.get_fire(name, fire_time)
                if existing is not None:
                    out.append(existing)
        return out
