"""Schedule expressions against the examples and rules of AWS's documentation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from eltflow.errors import ScheduleError
from eltflow.scheduler.cron import CronExpr
from eltflow.scheduler.expressions import (
    AtExpr,
    RateExpr,
    fires_between,
    next_fire,
    parse_expression,
)

UTCZ = ZoneInfo("UTC")
NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, sec: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, sec, tzinfo=UTC)


def iso(expr: str, start: datetime, n: int, tz: ZoneInfo = UTCZ) -> list[str]:
    fires = fires_between(parse_expression(expr), start, start + timedelta(days=3000), tz, limit=n)
    return [f.isoformat() for f in fires]


# Friday 2026-11-27 09:03 UTC: a weekday, not on any example's boundary.
START = utc(2026, 11, 27, 9, 3)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # 10:00 am (UTC+0) every day
        ("cron(0 10 * * ? *)", ["2026-11-27T10:00", "2026-11-28T10:00", "2026-11-29T10:00"]),
        # 12:15 pm every day
        ("cron(15 12 * * ? *)", ["2026-11-27T12:15", "2026-11-28T12:15", "2026-11-29T12:15"]),
        # 6:00 pm Monday through Friday (Fri 27th, then Mon 30th, Tue 1st)
        ("cron(0 18 ? * MON-FRI *)", ["2026-11-27T18:00", "2026-11-30T18:00", "2026-12-01T18:00"]),
        # 8:00 am every first day of the month
        ("cron(0 8 1 * ? *)", ["2026-12-01T08:00", "2027-01-01T08:00", "2027-02-01T08:00"]),
        # every 15 minutes
        ("cron(0/15 * * * ? *)", ["2026-11-27T09:15", "2026-11-27T09:30", "2026-11-27T09:45"]),
        # every 10 minutes Monday through Friday
        (
            "cron(0/10 * ? * MON-FRI *)",
            ["2026-11-27T09:10", "2026-11-27T09:20", "2026-11-27T09:30"],
        ),
        # 9:00 am on the first Monday of each month
        ("cron(0 9 ? * 2#1 *)", ["2026-12-07T09:00", "2027-01-04T09:00", "2027-02-01T09:00"]),
        # '1/10' in minutes: the 1st, 11th, 21st ... minute
        ("cron(1/10 * * * ? *)", ["2026-11-27T09:11", "2026-11-27T09:21", "2026-11-27T09:31"]),
        # last day of the month
        ("cron(0 12 L * ? *)", ["2026-11-30T12:00", "2026-12-31T12:00", "2027-01-31T12:00"]),
        # last weekday of the month (Jan 31 2027 is a Sunday -> Friday 29th)
        ("cron(0 12 LW * ? *)", ["2026-11-30T12:00", "2026-12-31T12:00", "2027-01-29T12:00"]),
        # weekday nearest the 3rd: Jan 3 2027 is a Sunday -> Monday 4th; Apr 3 is a Saturday -> 2nd
        ("cron(0 12 3W 1,4 ? *)", ["2027-01-04T12:00", "2027-04-02T12:00", "2028-01-03T12:00"]),
        # 1W on a Saturday doesn't leave the month: May 1 2027 is a Saturday -> Monday 3rd
        ("cron(0 12 1W 5 ? *)", ["2027-05-03T12:00", "2028-05-01T12:00", "2029-05-01T12:00"]),
        # last Friday of the month (6L)
        ("cron(0 12 ? * 6L *)", ["2026-11-27T12:00", "2026-12-25T12:00", "2027-01-29T12:00"]),
        # 'L' alone in day-of-week is Saturday
        ("cron(0 12 ? * L *)", ["2026-11-28T12:00", "2026-12-05T12:00", "2026-12-12T12:00"]),
        # second Tuesday (3#2), names in months, a year list
        ("cron(0 0 ? JAN,JUL 3#2 2027)", ["2027-01-12T00:00", "2027-07-13T00:00"]),
        # a year range with a step
        ("cron(0 0 1 1 ? 2030/5)", ["2030-01-01T00:00", "2035-01-01T00:00"]),
        # a range that wraps around midnight (Quartz-style)
        ("cron(0 22-1 * * ? *)", ["2026-11-27T22:00", "2026-11-27T23:00", "2026-11-28T00:00"]),
        # Feb 29 only in leap years
        ("cron(0 0 29 2 ? *)", ["2028-02-29T00:00", "2032-02-29T00:00"]),
    ],
)
def test_aws_cron_examples_give_the_documented_times(expr: str, expected: list[str]) -> None:
    assert iso(expr, START, len(expected)) == [e + ":00+00:00" for e in expected]


def test_business_hours_every_five_minutes_stops_at_1755() -> None:
    # cron(0/5 8-17 ? * MON-FRI *): every 5 minutes between 8:00 am and 5:55 pm, weekdays
    expr = parse_expression("cron(0/5 8-17 ? * MON-FRI *)")
    day = fires_between(expr, utc(2026, 11, 27), utc(2026, 11, 27, 23, 59), UTCZ)
    assert len(day) == 10 * 12
    assert day[0] == utc(2026, 11, 27, 8, 0)
    assert day[-1] == utc(2026, 11, 27, 17, 55)
    weekend = fires_between(expr, utc(2026, 11, 28), utc(2026, 11, 29, 23, 59), UTCZ)
    assert weekend == []


def test_a_never_matching_date_has_no_next_fire() -> None:
    assert next_fire(parse_expression("cron(0 0 30 2 ? *)"), START, UTCZ) is None
    assert next_fire(parse_expression("cron(0 0 * * ? 2020)"), START, UTCZ) is None


def test_rate_counts_from_its_anchor() -> None:
    expr = parse_expression("rate(5 minutes)")
    assert expr == RateExpr("rate(5 minutes)", 5, "minute")
    anchor = utc(2026, 1, 1, 0, 2, 30)
    assert next_fire(expr, anchor - timedelta(days=1), UTCZ, anchor=anchor) == anchor
    assert next_fire(expr, anchor, UTCZ, anchor=anchor) == anchor + timedelta(minutes=5)
    day = fires_between(
        expr, anchor, anchor + timedelta(days=1) - timedelta(seconds=1), UTCZ, anchor=anchor
    )
    assert len(day) == 288
    assert parse_expression("rate(1 hour)") == RateExpr("rate(1 hour)", 1, "hour")


def test_rate_days_are_24_elapsed_hours_across_dst() -> None:
    expr = parse_expression("rate(1 day)")
    anchor = datetime(2026, 3, 7, 9, 0, tzinfo=NY)  # EST, the day before spring forward
    nxt = next_fire(expr, anchor, NY, anchor=anchor)
    # (aware + timedelta is wall-clock arithmetic in Python, so compare in UTC)
    assert nxt == anchor.astimezone(UTC) + timedelta(hours=24)
    assert nxt is not None and nxt.hour == 10  # wall clock drifts by the lost hour


def test_at_fires_once_in_its_zone() -> None:
    expr = parse_expression("at(2027-03-01T10:30:00)")
    assert isinstance(expr, AtExpr)
    when = next_fire(expr, START, NY)
    assert when == datetime(2027, 3, 1, 15, 30, tzinfo=UTC)
    assert when is not None and next_fire(expr, when, NY) is None


class TestDaylightSaving:
    def test_new_york_spring_forward_skips_the_missing_hour(self) -> None:
        expr = parse_expression("cron(0/30 * * * ? *)")
        got = fires_between(expr, utc(2026, 3, 8, 6), utc(2026, 3, 8, 7, 30), NY)
        local = [f.strftime("%H:%M%z") for f in got]
        # 1:00 and 1:30 EST, then the clock jumps to 3:00 EDT: 2:00 and 2:30 don't exist
        assert local == ["01:00-0500", "01:30-0500", "03:00-0400", "03:30-0400"]

    def test_new_york_daily_job_in_the_gap_is_skipped_that_day(self) -> None:
        expr = parse_expression("cron(30 2 * * ? *)")
        got = fires_between(expr, utc(2026, 3, 7), utc(2026, 3, 10), NY)
        assert [f.date().isoformat() for f in got] == ["2026-03-07", "2026-03-09"]
        assert all(f.strftime("%H:%M") == "02:30" for f in got)

    def test_new_york_fall_back_fires_the_repeated_hour_once(self) -> None:
        expr = parse_expression("cron(0/30 * * * ? *)")
        got = fires_between(expr, utc(2026, 11, 1, 4), utc(2026, 11, 1, 8, 30), NY)
        local = [f.strftime("%H:%M%z") for f in got]
        assert local == [
            "00:00-0400",
            "00:30-0400",
            "01:00-0400",
            "01:30-0400",  # first pass, EDT
            "02:00-0500",
            "02:30-0500",
            "03:00-0500",
            "03:30-0500",  # 1:xx EST not repeated
        ]

    def test_new_york_daily_job_in_the_repeated_hour_fires_once(self) -> None:
        expr = parse_expression("cron(30 1 * * ? *)")
        got = fires_between(expr, utc(2026, 10, 31), utc(2026, 11, 3), NY)
        assert [f.isoformat() for f in got] == [
            "2026-10-31T01:30:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-02T01:30:00-05:00",
        ]

    def test_next_fire_from_inside_the_second_pass_of_the_repeated_hour(self) -> None:
        expr = parse_expression("cron(0/15 * * * ? *)")
        after = datetime(2026, 11, 1, 1, 20, tzinfo=NY, fold=1)  # 1:20 EST, second pass
        assert next_fire(expr, after, NY) == datetime(2026, 11, 1, 7, 0, tzinfo=UTC)  # 2:00 EST

    def test_london_spring_forward_and_fall_back(self) -> None:
        expr = parse_expression("cron(30 1 * * ? *)")
        spring = fires_between(expr, utc(2026, 3, 28), utc(2026, 3, 31), LONDON)
        # 2026-03-29 01:00 GMT -> 02:00 BST: 01:30 doesn't exist that day
        assert [f.isoformat() for f in spring] == [
            "2026-03-28T01:30:00+00:00",
            "2026-03-30T01:30:00+01:00",
        ]
        autumn = fires_between(expr, utc(2026, 10, 24), utc(2026, 10, 27), LONDON)
        # 2026-10-25 02:00 BST -> 01:00 GMT: 01:30 happens twice and fires once (the first)
        assert [f.isoformat() for f in autumn] == [
            "2026-10-24T01:30:00+01:00",
            "2026-10-25T01:30:00+01:00",
            "2026-10-26T01:30:00+00:00",
        ]

    def test_hourly_job_across_london_fall_back_runs_once_per_wall_clock_hour(self) -> None:
        expr = parse_expression("cron(0 * * * ? *)")
        got = fires_between(expr, utc(2026, 10, 24, 23), utc(2026, 10, 25, 3), LONDON)
        assert [f.strftime("%H:%M%z") for f in got] == [
            "00:00+0100",
            "01:00+0100",
            "02:00+0000",
            "03:00+0000",
        ]

    def test_at_in_a_gap_never_fires(self) -> None:
        expr = parse_expression("at(2026-03-08T02:30:00)")
        assert next_fire(expr, utc(2026, 1, 1), NY) is None


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("cron(0 18 ? * 8 *)", "day-of-week field '8' is out of range 1-7 (SUN-SAT)"),
        ("cron(60 10 * * ? *)", "minutes field '60' is out of range 0-59"),
        ("cron(0 24 * * ? *)", "hours field '24' is out of range 0-23"),
        ("cron(0 10 32 * ? *)", "day-of-month field '32' is out of range 1-31"),
        ("cron(0 10 0 * ? *)", "day-of-month field '0' is out of range 1-31"),
        ("cron(0 10 * 13 ? *)", "month field '13' is out of range 1-12 (JAN-DEC)"),
        ("cron(0 10 * FOO ? *)", "month field 'FOO' is not a number or a name JAN-DEC"),
        ("cron(0 10 * * ? 1969)", "year field '1969' is out of range 1970-2199"),
        ("cron(0 10 * * ? 2200)", "year field '2200' is out of range 1970-2199"),
        ("cron(0 10 ? * MON-XYZ *)", "day-of-week field 'MON-XYZ' has 'XYZ'"),
        ("cron(0 10 ? * 2#6 *)", "day-of-week field '2#6': the number after '#' must be 1-5"),
        ("cron(0 10 ? * 2#1,3#2 *)", "day-of-week field '2#1,3#2': only one '#' expression"),
        ("cron(0 10 ? * 1-3L *)", "day-of-week field '1-3L'"),
        ("cron(0/0 10 * * ? *)", "minutes field '0/0' has step '/0'"),
        ("cron(L 10 * * ? *)", "minutes field 'L' uses 'L'"),
        ("cron(0 ? * * ? *)", "hours field '?' uses '?'"),
        ("cron(0 10 * * 2#1 *)", "day-of-month '*' and day-of-week '2#1' are both set"),
        ("cron(0 10 * * * *)", "one of them must be '?'"),
        ("cron(0 10 1 * MON *)", "day-of-month '1' and day-of-week 'MON' are both set"),
        ("cron(0 10 ? * ? *)", "day-of-month and day-of-week are both '?'"),
        ("cron(0 10 1-L * ? *)", "day-of-month field '1-L'"),
        ("cron(0 10 L-2 * ? *)", "day-of-month field 'L-2': offsets from the last day"),
        ("cron(0 10 W * ? *)", "day-of-month field 'W': W needs one day before it"),
        ("cron(0 10 * * ?)", "expected 6 fields"),
        ("cron(0 0 10 * * ? *)", "got 7"),
        ("cron(0 10 1,,2 * ? *)", "day-of-month field '1,,2' has an empty list item"),
        ("cron(0 10 20-3 * ? 2030-2020)", "year field '2030-2020' is a range that runs backwards"),
        ("rate(5)", "expected 'value unit'"),
        ("rate(0 minutes)", "value '0' must be a positive whole number"),
        ("rate(-5 minutes)", "value '-5' must be a positive whole number"),
        ("rate(5 weeks)", "unit 'weeks' must be one of minute, minutes"),
        ("rate(1 hours)", "with value 1 the unit must be singular ('hour')"),
        ("rate(5 hour)", "with value 5 the unit must be plural ('hours')"),
        ("at(2026-02-30T10:00:00)", "at(2026-02-30T10:00:00): day is out of range"),
        ("at(2026-02-01 10:00)", "the time must look like yyyy-mm-ddThh:mm:ss"),
        ("every 5 minutes", "is not a schedule expression"),
    ],
)
def test_invalid_expressions_say_which_field_and_why(expr: str, message: str) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_expression(expr)
    assert message in str(info.value)
    if expr.startswith("cron("):
        assert str(info.value).startswith(expr + ":")


def test_names_are_case_insensitive_and_equal_to_numbers() -> None:
    a = parse_expression("cron(0 9 ? jan-mar mon,fri *)")
    b = parse_expression("cron(0 9 ? 1-3 2,6 *)")
    assert isinstance(a, CronExpr) and isinstance(b, CronExpr)
    assert (a.months, a.dow) == (b.months, b.dow)
