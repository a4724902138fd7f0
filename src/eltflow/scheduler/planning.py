"""Which fires are due now: the pure core of a scheduler tick.

Given a schedule, how far it has been handled (its *cursor*: the nominal time of the last fire
dealt with) and ``now``, :func:`plan` lists the fires to start and moves the cursor. Fires are
handled in nominal order; a fire is *due* at its nominal time plus its flexible-window offset.
A due fire is *on time* if it is at most ``grace`` late, otherwise *missed* (nobody was running
the scheduler), and the schedule's catch-up policy decides which missed fires still run.
Nothing here does I/O, so a virtual clock can drive it through days in milliseconds.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from eltflow.scheduler.expressions import RateExpr, fires_between, next_fire
from eltflow.scheduler.model import CatchUp, Schedule

DEFAULT_GRACE = timedelta(seconds=60)  # AWS invokes within 60 s of the nominal minute
_EXEC_NAME_MAX = 80  # Step Functions' limit on execution names
_UNSAFE = re.compile(r"[^0-9A-Za-z_.\-]")


@dataclass(frozen=True)
class Plan:
    fire: list[datetime]  # nominal fire times to start, oldest first (UTC)
    missed: list[datetime]  # due fires dropped by the catch-up policy (may be a sample)
    missed_count: int  # how many were dropped: exact for recent ones, a lower bound overall
    cursor: datetime | None  # the new cursor (unchanged if nothing became due)


def execution_name(schedule: str, fire_time: datetime) -> str:
    """Deterministic per fire, so starting the same fire twice is a no-op in Step Functions."""
    stamp = fire_time.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = _UNSAFE.sub("_", schedule)
    name = f"sched-{safe}-{stamp}"
    if len(name) <= _EXEC_NAME_MAX and safe == schedule:
        return name
    # Too long or characters changed: keep it unique with a digest of the real name.
    digest = hashlib.sha256(schedule.encode()).hexdigest()[:8]
    room = _EXEC_NAME_MAX - len(f"sched--{digest}-{stamp}")
    return f"sched-{safe[:room]}-{digest}-{stamp}"


def flex_offset(schedule: Schedule, fire_time: datetime) -> timedelta:
    """A deterministic delay within the FLEXIBLE window, the same on every scheduler."""
    minutes = schedule.flexible_window.maximum_window_minutes
    if schedule.flexible_window.mode != "FLEXIBLE" or not minutes:
        return timedelta(0)
    key = f"{schedule.name}|{fire_time.astimezone(UTC).isoformat()}".encode()
    seconds = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % (minutes * 60)
    return timedelta(seconds=seconds)


def _created(schedule: Schedule) -> datetime | None:
    # Whole seconds: a rate's fire times (and execution names) then stay on the second grid.
    return None if schedule.created_at is None else schedule.created_at.replace(microsecond=0)


def anchor_of(schedule: Schedule) -> datetime | None:
    """Where a rate counts from: its StartDate, else its creation time (the first fire)."""
    return schedule.start_date or _created(schedule)


def lower_bound(schedule: Schedule) -> datetime | None:
    """The earliest time a fire may have: not before creation, not before StartDate."""
    bounds = [b for b in (schedule.start_date, _created(schedule)) if b is not None]
    return max(bounds) if bounds else None


def schedule_fires(
    schedule: Schedule,
    start: datetime,
    end: datetime,
    *,
    limit: int = 1_000_000,
    extend_rate_back: bool = False,
) -> list[datetime]:
    """Nominal fires in ``[start, end]`` that the schedule's StartDate/EndDate allow (UTC).

    ``extend_rate_back`` (for backfills) continues a rate's grid before its anchor, so a
    rate schedule created today can backfill last week at the same phase.
    """
    expr = schedule.parsed
    if schedule.start_date is not None:
        start = max(start, schedule.start_date)
    anchor = anchor_of(schedule)
    if extend_rate_back and isinstance(expr, RateExpr) and anchor is not None and start < anchor:
        anchor -= -((start - anchor) // expr.interval) * expr.interval
    out = fires_between(expr, start, end, schedule.tz, limit=limit, anchor=anchor)
    if schedule.end_date is not None:
        out = [f for f in out if f < schedule.end_date]  # EndDate is exclusive, as on AWS
    return [f.astimezone(UTC) for f in out]


def _last_fires(
    schedule: Schedule, lo: datetime, hi: datetime, n: int
) -> tuple[list[datetime], int]:
    """The last ``n`` fires in ``[lo, hi)`` and a lower bound on how many there are in all.

    Looks back from ``hi`` in growing windows so a year of downtime on ``rate(1 minute)`` costs a
    few hundred steps, not half a million.
    """
    if hi <= lo:
        return [], 0
    span = timedelta(hours=1)
    while True:
        s = max(lo, hi - span)
        found = [f for f in schedule_fires(schedule, s, hi) if f < hi]
        if s == lo:
            return found[-n:] if n else [], len(found)
        if len(found) > n:
            return found[-n:] if n else [], len(found)
        span *= 4


def plan(
    schedule: Schedule,
    cursor: datetime | None,
    now: datetime,
    *,
    grace: timedelta = DEFAULT_GRACE,
) -> Plan:
    """Decide which fires to start at ``now`` (see the module docstring)."""
    now = now.astimezone(UTC)
    lo = lower_bound(schedule)
    if cursor is not None:
        lo = cursor + timedelta(microseconds=1)  # strictly after what was handled
    if lo is None or lo > now:
        return Plan([], [], 0, cursor)
    window = timedelta(minutes=schedule.flexible_window.maximum_window_minutes or 0)
    recent_start = max(lo, now - window - grace - timedelta(minutes=1))

    # Recent fires: due, on time or late, in order; stop at the first not yet due.
    on_time: list[datetime] = []
    late_recent: list[datetime] = []
    new_cursor = cursor
    for f in schedule_fires(schedule, recent_start, now):
        due = f + flex_offset(schedule, f)
        if due > now:
            break
        (on_time if now - due <= grace else late_recent).append(f)
        new_cursor = f

    # Older fires are all late: only the most recent ones can matter to the policy.
    need = min(schedule.max_catchup, 1 if schedule.catchup is CatchUp.LAST else 10**9)
    need = 0 if schedule.catchup is CatchUp.SKIP else need
    # One next-fire call tells whether there is anything older at all (usually not).
    any_older = [f for f in schedule_fires(schedule, lo, recent_start, limit=1) if f < recent_start]
    older, older_count = (
        _last_fires(schedule, lo, recent_start, max(need, 1)) if any_older else ([], 0)
    )
    if older and (new_cursor is None or older[-1] > new_cursor):
        new_cursor = older[-1]
    missed = older + late_recent
    missed_total = older_count + len(late_recent)
    keep = missed[-need:] if need else []
    if schedule.catchup is CatchUp.SKIP or schedule.max_catchup == 0:
        keep = []
    if schedule.catchup is CatchUp.LAST and on_time:
        keep = []  # the on-time fire is already the most recent run: one run, not two
    fire = sorted(set(keep) | set(on_time))
    dropped = [f for f in missed if f not in set(keep)]
    return Plan(fire, dropped, missed_total - len(keep), new_cursor)


def next_due(schedule: Schedule, cursor: datetime | None) -> datetime | None:
    """When the next unhandled fire becomes due (None: never), so idle ticks can skip planning."""
    lo = lower_bound(schedule) if cursor is None else cursor + timedelta(microseconds=1)
    if lo is None:
        return None
    first = schedule_fires(schedule, lo, datetime.max.replace(tzinfo=UTC), limit=1)
    return first[0] + flex_offset(schedule, first[0]) if first else None


def upcoming(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` nominal fires strictly after ``after`` that the dates allow (UTC)."""
    expr = schedule.parsed
    out: list[datetime] = []
    cursor = after
    lo = lower_bound(schedule)
    if lo is not None and cursor < lo:
        cursor = lo - timedelta(microseconds=1)
    while len(out) < count:
        nxt = next_fire(expr, cursor, schedule.tz, anchor=anchor_of(schedule))
        if nxt is None or (schedule.end_date is not None and nxt >= schedule.end_date):
            break
        out.append(nxt.astimezone(UTC))
        cursor = nxt
    return out


def next_fires(
    schedule: Schedule,
    cursor: datetime | None,
    now: datetime,
    count: int,
    *,
    grace: timedelta = DEFAULT_GRACE,
) -> list[datetime]:
    """The next ``count`` fires the scheduler will start, as ``schedules list`` shows them.

    The same rule as :func:`plan`: fires that are due but not yet handled come first — a new
    ``rate(5 minutes)`` schedule's first fire is its creation second, which the scheduler
    starts at its next tick, so listing it a moment later must show that fire, not the one
    five minutes on — then the nominal fires after ``now``. (For a paused schedule: what it
    would fire if resumed now.)
    """
    if count <= 0:
        return []
    due = plan(schedule, cursor, now, grace=grace).fire
    after = max([now, *([cursor] if cursor is not None else []), *due[-1:]])
    return (list(due) + upcoming(schedule, after, count))[:count]
