"""EventBridge Scheduler expressions: ``rate()``, ``cron()``, ``at()`` — parsing and fire times.

Pure and clock-free: every function takes the instants it needs. Semantics follow the
EventBridge Scheduler user guide ("Schedule types"):

- ``rate(value unit)`` fires every ``value`` minutes/hours/days of *elapsed* time from an anchor
  (the schedule's StartDate, else its creation time: the first fire is the anchor itself). A
  day is 24 hours, so the wall-clock time drifts across DST changes, as on AWS.
- ``cron(...)`` is evaluated on the wall clock of the schedule's IANA time zone. A local time
  that doesn't exist (spring forward) is skipped; a local time that happens twice (fall back)
  fires once, at its first occurrence.
- ``at(yyyy-mm-ddThh:mm:ss)`` fires once at that wall-clock time (skipped if it doesn't exist).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eltflow.errors import ScheduleError
from eltflow.scheduler.cron import CronExpr, next_local_match, parse_cron

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_OUTER = re.compile(r"^\s*(rate|cron|at)\((.*)\)\s*$", re.S)
_AT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class RateExpr:
    text: str
    value: int
    unit: str  # "minute" | "hour" | "day" (singular, whatever the spelling)

    @property
    def interval(self) -> timedelta:
        return timedelta(seconds=self.value * _UNIT_SECONDS[self.unit])

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class AtExpr:
    text: str
    local: datetime  # naive wall-clock time in the schedule's zone

    def __str__(self) -> str:
        return self.text


Expression = RateExpr | CronExpr | AtExpr


def parse_expression(text: str) -> Expression:
    """Parse a schedule expression; :class:`ScheduleError` says which part is wrong and why."""
    if not isinstance(text, str):
        raise ScheduleError(f"a schedule expression must be a string, not {type(text).__name__}")
    return _parse_cached(text)


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Expression:
    # Results are frozen, so sharing them is safe; a scheduler re-reads the same few
    # expressions every tick.
    if not isinstance(text, str):
        raise ScheduleError(f"a schedule expression must be a string, not {type(text).__name__}")
    m = _OUTER.match(text)
    if m is None:
        raise ScheduleError(
            f"{text!r} is not a schedule expression; use rate(value unit), "
            "cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)"
        )
    kind, body = m.group(1), m.group(2).strip()
    text = f"{kind}({body})"
    if kind == "rate":
        return _parse_rate(text, body)
    if kind == "at":
        return _parse_at(text, body)
    return parse_cron(text, body)


def _parse_rate(text: str, body: str) -> RateExpr:
    parts = body.split()
    if len(parts) != 2:
        raise ScheduleError(f"{text}: expected 'value unit', like rate(5 minutes)")
    value_text, unit = parts
    if not value_text.isdigit() or int(value_text) < 1:
        raise ScheduleError(f"{text}: value '{value_text}' must be a positive whole number")
    value = int(value_text)
    singular = unit.rstrip("s") if unit.endswith("s") else unit
    if singular not in _UNIT_SECONDS or unit not in (singular, singular + "s"):
        raise ScheduleError(
            f"{text}: unit '{unit}' must be one of minute, minutes, hour, hours, day, days"
        )
    # AWS's rule: a value of 1 takes the singular unit, any other value the plural.
    if value == 1 and unit != singular:
        raise ScheduleError(f"{text}: with value 1 the unit must be singular ('{singular}')")
    if value != 1 and unit == singular:
        raise ScheduleError(f"{text}: with value {value} the unit must be plural ('{unit}s')")
    return RateExpr(text, value, singular)


def _parse_at(text: str, body: str) -> AtExpr:
    m = _AT.match(body)
    if m is None:
        raise ScheduleError(f"{text}: the time must look like yyyy-mm-ddThh:mm:ss")
    try:
        y, mo, d, h, mi, sec = (int(g) for g in m.groups())
        local = datetime(y, mo, d, h, mi, sec)
    except ValueError as e:
        raise ScheduleError(f"{text}: {e}") from None
    return AtExpr(text, local)


def zone(name: str) -> ZoneInfo:
    """An IANA time zone by name, or a ScheduleError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {name!r}; use an IANA name like 'UTC'") from None


def resolve_local(local: datetime, tz: ZoneInfo) -> datetime | None:
    """The instant of a naive wall-clock time: its first occurrence, or None in a DST gap."""
    aware = local.replace(tzinfo=tz, fold=0)
    utc = aware.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local:
        return None  # spring forward: this wall-clock time never happens
    return utc.astimezone(tz)


def next_fire(
    expr: Expression, after: datetime, tz: ZoneInfo, *, anchor: datetime | None = None
) -> datetime | None:
    """The first fire strictly after ``after`` (aware), in ``tz``; None if there is none.

    ``anchor`` is where a rate starts (StartDate or creation time); without one, rates are
    aligned to the Unix epoch. Cron and at ignore it.
    """
    if after.tzinfo is None:
        raise ValueError("next_fire needs an aware datetime")
    if isinstance(expr, RateExpr):
        # In UTC: Python adds timedeltas to zoned datetimes on the wall clock, but a rate
        # counts elapsed time (rate(1 day) is 24 hours even across a DST change).
        base = (anchor or EPOCH).astimezone(UTC)
        step = expr.interval
        if after < base:
            return base.astimezone(tz)
        k = (after.astimezone(UTC) - base) // step + 1
        return (base + k * step).astimezone(tz)
    if isinstance(expr, AtExpr):
        when = resolve_local(expr.local, tz)
        return when if when is not None and when > after else None
    after_utc = after.astimezone(UTC)
    cand: datetime | None = after_utc.astimezone(tz).replace(tzinfo=None)
    while True:
        assert cand is not None
        cand = next_local_match(expr, cand)
        if cand is None:
            return None
        when = resolve_local(cand, tz)
        # A skipped local time (None) doesn't fire. In a repeated hour the wall clock runs
        # backwards, so a candidate's first occurrence can precede ``after``: it already fired.
        if when is not None and when > after_utc:
            return when


def fires_between(
    expr: Expression,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    *,
    limit: int = 10_000,
    anchor: datetime | None = None,
) -> list[datetime]:
    """Fire times ``t`` with ``start <= t <= end``, at most ``limit`` of them (the earliest)."""
    out: list[datetime] = []
    cursor = start - timedelta(microseconds=1)
    while len(out) < limit:
        nxt = next_fire(expr, cursor, tz, anchor=anchor)
        if nxt is None or nxt > end:
            break
        out.append(nxt)
        cursor = nxt
    return out
