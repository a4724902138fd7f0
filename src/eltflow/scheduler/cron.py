"""AWS six-field cron: ``cron(minutes hours day-of-month month day-of-week year)``.

The syntax is EventBridge's (eb-cron-expressions), which descends from Quartz but is *not* what
croniter or APScheduler read: there is no seconds field, day-of-week counts 1=SUN..7=SAT, and
``? L W #`` are allowed only where AWS allows them:

======================  ===========================  ===============
field                   values                       wildcards
======================  ===========================  ===============
minutes                 0-59                         ``, - * /``
hours                   0-23                         ``, - * /``
day-of-month            1-31                         ``, - * ? / L W``
month                   1-12 or JAN-DEC              ``, - * /``
day-of-week             1-7 or SUN-SAT               ``, - * ? L #``
year                    1970-2199                    ``, - * /``
======================  ===========================  ===============

One of day-of-month / day-of-week must be ``?`` (so ``*`` can't be in both). This module is pure:
parsing builds a frozen :class:`CronExpr`; :func:`next_local_match` searches naive wall-clock
minutes. Time-zone handling (DST gaps and folds) lives in :mod:`eltflow.scheduler.expressions`.
"""

from __future__ import annotations

import calendar
import functools
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta

from eltflow.errors import ScheduleError

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _Field:
    """How one plain field is read: its name in messages, its range and its value names."""

    label: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    wraps: bool = True  # Quartz-style ranges like 22-2 wrap around (not for years)

    @property
    def range_text(self) -> str:
        text = f"{self.low}-{self.high}"
        if self.names:
            text += f" ({self.names[0]}-{self.names[-1]})"
        return text


MINUTES = _Field("minutes", 0, 59)
HOURS = _Field("hours", 0, 23)
DAY_OF_MONTH = _Field("day-of-month", 1, 31)
MONTH = _Field("month", 1, 12, MONTH_NAMES)
DAY_OF_WEEK = _Field("day-of-week", 1, 7, DAY_NAMES)
YEAR = _Field("year", 1970, 2199, wraps=False)


@dataclass(frozen=True)
class DomSpec:
    """Day-of-month: a set of days, or ``L`` (last day), ``LW`` (last weekday), ``nW``."""

    days: frozenset[int] = frozenset()
    last: bool = False
    last_weekday: bool = False
    nearest_weekday: int | None = None


@dataclass(frozen=True)
class DowSpec:
    """Day-of-week in AWS numbering (1=SUN): a set, ``nL`` (last n of the month) or ``n#k``."""

    days: frozenset[int] = frozenset()
    last_of: int | None = None
    nth: tuple[int, int] | None = None


@dataclass(frozen=True)
class CronExpr:
    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    years: tuple[int, ...]
    dom: DomSpec | None  # None means '?'
    dow: DowSpec | None  # None means '?'

    def __str__(self) -> str:
        return self.text


class _FieldError(Exception):
    """A problem in one field; turned into a ScheduleError naming the whole expression."""


def parse_cron(text: str, body: str) -> CronExpr:
    """Parse the inside of ``cron(...)``; ``text`` is the whole expression, for messages."""
    parts = body.split()
    if len(parts) != 6:
        raise ScheduleError(
            f"{text}: expected 6 fields (minutes hours day-of-month month day-of-week year), "
            f"got {len(parts)}"
        )
    m, h, dom_raw, mon, dow_raw, y = parts
    current = MINUTES
    try:
        minutes = _plain(m, MINUTES)
        current = HOURS
        hours = _plain(h, HOURS)
        current = DAY_OF_MONTH
        dom = _dom(dom_raw)
        current = MONTH
        months = _plain(mon, MONTH)
        current = DAY_OF_WEEK
        dow = _dow(dow_raw)
        current = YEAR
        years = _plain(y, YEAR)
    except _FieldError as e:
        raise ScheduleError(f"{text}: {current.label} field {e}") from None
    if dom_raw == "?" and dow_raw == "?":
        raise ScheduleError(
            f"{text}: day-of-month and day-of-week are both '?'; exactly one of them must be '?'"
        )
    if dom_raw != "?" and dow_raw != "?":
        raise ScheduleError(
            f"{text}: day-of-month '{dom_raw}' and day-of-week '{dow_raw}' are both set; "
            "one of them must be '?' (and '*' can't be used in both)"
        )
    return CronExpr(text, minutes, hours, months, years, dom, dow)


def _value(token: str, field: _Field, whole: str) -> int:
    upper = token.upper()
    if field.names and upper in field.names:
        return field.names.index(upper) + field.low
    where = f"'{whole}'" if token == whole else f"'{whole}' has '{token}', which"
    for special in "?LW#":
        if special in upper and (upper == special or upper[:-1].isdigit() or upper == "LW"):
            raise _FieldError(f"'{whole}' uses '{special}', which is not allowed in this field")
    if not token.isdigit():
        allowed = f" or a name {field.names[0]}-{field.names[-1]}" if field.names else ""
        raise _FieldError(f"{where} is not a number{allowed}")
    number = int(token)
    if not field.low <= number <= field.high:
        raise _FieldError(f"{where} is out of range {field.range_text}")
    return number


def _plain(raw: str, field: _Field) -> tuple[int, ...]:
    """A list of ``*``, ``a``, ``a-b``, with an optional ``/step``; returns the sorted values."""
    values: set[int] = set()
    for item in raw.split(","):
        if not item:
            raise _FieldError(f"'{raw}' has an empty list item")
        values.update(_item(item, field, raw))
    return tuple(sorted(values))


def _item(item: str, field: _Field, whole: str) -> list[int]:
    for special in "?#":
        if special in item:
            raise _FieldError(f"'{whole}' uses '{special}', which is not allowed in this field")
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) == 0:
            raise _FieldError(f"'{whole}' has step '/{step_text}'; a step must be 1 or more")
        step = int(step_text)
    if base == "*":
        start, end = field.low, field.high
    elif "-" in base:
        a, _, b = base.partition("-")
        start, end = _value(a, field, whole), _value(b, field, whole)
    else:
        start = _value(base, field, whole)
        # 'a/step' runs from a to the end of the range; a bare value is just itself
        end = field.high if slash else start
    if start <= end:
        return list(range(start, end + 1, step))
    if not field.wraps:
        raise _FieldError(f"'{whole}' is a range that runs backwards ({start} > {end})")
    span = field.high - field.low + 1
    count = (end - field.low) + (field.high - start) + 1
    return [field.low + (start - field.low + k) % span for k in range(0, count + 1, step)]


def _dom(raw: str) -> DomSpec | None:
    upper = raw.upper()
    if upper == "?":
        return None
    if upper == "L":
        return DomSpec(last=True)
    if upper == "LW":
        return DomSpec(last_weekday=True)
    if upper.endswith("W"):
        day = upper[:-1]
        if not day.isdigit():
            raise _FieldError(f"'{raw}': W needs one day before it, like 15W (or LW)")
        number = int(day)
        if not 1 <= number <= 31:
            raise _FieldError(f"'{raw}' is out of range 1-31")
        return DomSpec(nearest_weekday=number)
    if upper.startswith("L-"):
        raise _FieldError(f"'{raw}': offsets from the last day (L-n) are not supported")
    if "L" in upper or "W" in upper:
        raise _FieldError(f"'{raw}': L and W can't be combined with lists or ranges")
    return DomSpec(days=frozenset(_plain(raw, DAY_OF_MONTH)))


def _dow(raw: str) -> DowSpec | None:
    upper = raw.upper()
    if upper == "?":
        return None
    if "#" in upper:
        if "," in upper or "-" in upper or "/" in upper:
            raise _FieldError(f"'{raw}': only one '#' expression is allowed, without lists")
        day, _, nth = upper.partition("#")
        weekday = _value(day, DAY_OF_WEEK, raw)
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise _FieldError(f"'{raw}': the number after '#' must be 1-5")
        return DowSpec(nth=(weekday, int(nth)))
    if upper == "L":
        return DowSpec(days=frozenset({7}))  # 'L' alone is the last day of the week: SAT
    if upper.endswith("L"):
        if "," in upper or "-" in upper or "/" in upper:
            raise _FieldError(f"'{raw}': 'L' can't be combined with lists or ranges")
        return DowSpec(last_of=_value(upper[:-1], DAY_OF_WEEK, raw))
    return DowSpec(days=frozenset(_plain(raw, DAY_OF_WEEK)))


def aws_weekday(year: int, month: int, day: int) -> int:
    """AWS numbering: 1=SUN .. 7=SAT (Python's weekday() is 0=MON .. 6=SUN)."""
    return (calendar.weekday(year, month, day) + 1) % 7 + 1


def _nearest_weekday(year: int, month: int, day: int, length: int) -> int | None:
    """Quartz's ``nW``: the weekday nearest ``day`` without leaving the month."""
    if day > length:
        return None
    wd = aws_weekday(year, month, day)
    if wd == 7:  # Saturday -> Friday, unless that leaves the month
        return day - 1 if day > 1 else day + 2
    if wd == 1:  # Sunday -> Monday, unless that leaves the month
        return day + 1 if day < length else day - 2
    return day


@functools.lru_cache(maxsize=4096)
def month_days(dom: DomSpec | None, dow: DowSpec | None, year: int, month: int) -> tuple[int, ...]:
    """The days of ``year-month`` that match (cached: schedules ask about the same months)."""
    length = calendar.monthrange(year, month)[1]
    if dom is not None:
        if dom.last:
            return (length,)
        if dom.last_weekday:
            day = length
            while aws_weekday(year, month, day) in (1, 7):
                day -= 1
            return (day,)
        if dom.nearest_weekday is not None:
            found = _nearest_weekday(year, month, dom.nearest_weekday, length)
            return () if found is None else (found,)
        return tuple(d for d in sorted(dom.days) if d <= length)
    assert dow is not None  # parse_cron guarantees one of the two is set
    if dow.nth is not None:
        weekday, nth = dow.nth
        first = next(d for d in range(1, 8) if aws_weekday(year, month, d) == weekday)
        day = first + 7 * (nth - 1)
        return (day,) if day <= length else ()
    if dow.last_of is not None:
        day = length
        while aws_weekday(year, month, day) != dow.last_of:
            day -= 1
        return (day,)
    return tuple(d for d in range(1, length + 1) if aws_weekday(year, month, d) in dow.days)


def matches_local(expr: CronExpr, t: datetime) -> bool:
    """Whether the wall-clock minute ``t`` (naive) matches; the brute-force oracle for tests."""
    return (
        t.second == 0
        and t.microsecond == 0
        and t.minute in expr.minutes
        and t.hour in expr.hours
        and t.month in expr.months
        and t.year in expr.years
        and t.day in month_days(expr.dom, expr.dow, t.year, t.month)
    )


def next_local_match(expr: CronExpr, after: datetime) -> datetime | None:
    """The first naive wall-clock minute strictly after ``after`` that matches, or None.

    Walks field by field (year, month, day, hour, minute), jumping to the next allowed value
    with bisect, so each call costs a handful of steps rather than a minute-by-minute scan.
    """
    t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    y, mo, d, h, mi = t.year, t.month, t.day, t.hour, t.minute
    while True:
        i = bisect_left(expr.years, y)
        if i == len(expr.years):
            return None
        if expr.years[i] != y:
            y, mo, d, h, mi = expr.years[i], 1, 1, 0, 0
        i = bisect_left(expr.months, mo)
        if i == len(expr.months):
            y, mo, d, h, mi = y + 1, 1, 1, 0, 0
            continue
        if expr.months[i] != mo:
            mo, d, h, mi = expr.months[i], 1, 0, 0
        days = month_days(expr.dom, expr.dow, y, mo)
        i = bisect_left(days, d)
        if i == len(days):
            mo, d, h, mi = mo + 1, 1, 0, 0
            continue
        if days[i] != d:
            d, h, mi = days[i], 0, 0
        i = bisect_left(expr.hours, h)
        if i == len(expr.hours):
            d, h, mi = d + 1, 0, 0
            continue
        if expr.hours[i] != h:
            h, mi = expr.hours[i], 0
        i = bisect_left(expr.minutes, mi)
        if i == len(expr.minutes):
            h, mi = h + 1, 0
            continue
        return datetime(y, mo, d, h, expr.minutes[i])
