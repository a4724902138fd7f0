"""Property tests: the cron search agrees with a brute-force minute-by-minute oracle.

The oracle walks every UTC minute of a window, converts it to the schedule's wall clock, and
keeps the minutes whose wall-clock time matches the fields and is the *first* occurrence of that
wall-clock time (fold=0) — AWS's "a repeated hour fires once". Minutes that don't exist on the
wall clock (spring forward) are never produced by the conversion, so they never fire.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from eltflow.errors import ScheduleError
from eltflow.scheduler.cron import CronExpr, matches_local
from eltflow.scheduler.expressions import RateExpr, fires_between, next_fire, parse_expression
from eltflow.scheduler.model import Schedule
from eltflow.scheduler.planning import plan, schedule_fires

ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata"]
# Instants near DST changes (NY, London, Lord Howe's 30-minute shift) plus ordinary days.
HOTSPOTS = [
    datetime(2026, 3, 8, 5, 0, tzinfo=UTC),
    datetime(2026, 11, 1, 4, 0, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 0, tzinfo=UTC),
    datetime(2026, 4, 4, 14, 0, tzinfo=UTC),
    datetime(2026, 10, 3, 15, 0, tzinfo=UTC),
    datetime(2027, 2, 27, 23, 0, tzinfo=UTC),
    datetime(2028, 2, 28, 22, 0, tzinfo=UTC),
]


def _plain(draw: st.DrawFn, low: int, high: int) -> str:
    a = draw(st.integers(low, high))
    b = draw(st.integers(low, high))
    s = draw(st.integers(1, max(1, (high - low) // 2)))
    form = draw(st.sampled_from(["*", "a", "a-b", "a/s", "*/s", "list", "a-b/s"]))
    if form == "*":
        return "*"
    if form == "a":
        return str(a)
    if form == "a-b":
        return f"{min(a, b)}-{max(a, b)}"
    if form == "a/s":
        return f"{a}/{s}"
    if form == "*/s":
        return f"*/{s}"
    if form == "a-b/s":
        return f"{min(a, b)}-{max(a, b)}/{s}"
    items = draw(st.lists(st.integers(low, high), min_size=1, max_size=4))
    return ",".join(str(i) for i in items)


@st.composite
def cron_texts(draw: st.DrawFn) -> str:
    minutes = _plain(draw, 0, 59)
    hours = _plain(draw, 0, 23)
    plain_dom = _plain(draw, 1, 31)
    if draw(st.booleans()):
        dom = draw(
            st.one_of(
                st.just("*"),
                st.just("L"),
                st.just("LW"),
                st.integers(1, 31).map(lambda d: f"{d}W"),
                st.just(plain_dom),
            )
        )
        dow = "?"
    else:
        dom = "?"
        dow = draw(
            st.one_of(
                st.just("*"),
                st.just("L"),
                st.integers(1, 7).map(lambda d: f"{d}L"),
                st.tuples(st.integers(1, 7), st.integers(1, 5)).map(lambda t: f"{t[0]}#{t[1]}"),
                st.sampled_from(["MON-FRI", "SAT,SUN", "2-4", "1/2"]),
            )
        )
    month = draw(st.sampled_from(["*", "*", "*", "1-6", "FEB,MAR,OCT,NOV", "*/3"]))
    year = draw(st.sampled_from(["*", "*", "2026-2028", "2027"]))
    return f"cron({minutes} {hours} {dom} {month} {dow} {year})"


def oracle(expr: CronExpr, after: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
    out = []
    m = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while m <= end:
        local = m.astimezone(tz)
        if local.fold == 0 and matches_local(expr, local.replace(tzinfo=None, fold=0)):
            out.append(m)
        m += timedelta(minutes=1)
    return out


after_instants = st.one_of(
    st.sampled_from(HOTSPOTS),
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
)


@settings(max_examples=150, deadline=None)
@given(text=cron_texts(), after=after_instants, zone=st.sampled_from(ZONES))
def test_cron_fires_match_a_brute_force_oracle(text: str, after: datetime, zone: str) -> None:
    expr = parse_expression(text)
    assert isinstance(expr, CronExpr)
    tz = ZoneInfo(zone)
    end = after + timedelta(hours=36)
    got = fires_between(expr, after + timedelta(microseconds=1), end, tz)
    assert [f.astimezone(UTC) for f in got] == oracle(expr, after, end, tz)


@settings(max_examples=150, deadline=None)
@given(text=cron_texts(), after=after_instants, zone=st.sampled_from(ZONES))
def test_next_fire_is_strictly_increasing(text: str, after: datetime, zone: str) -> None:
    expr = parse_expression(text)
    tz = ZoneInfo(zone)
    previous = after
    for _ in range(20):
        nxt = next_fire(expr, previous, tz)
        if nxt is None:
            break
        assert nxt > previous
        assert nxt.second == 0 and nxt.microsecond == 0
        previous = nxt


@settings(max_examples=100, deadline=None)
@given(
    value=st.integers(1, 500),
    unit=st.sampled_from(["minute", "hour", "day"]),
    anchor=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
    offset=st.integers(-(10**7), 10**8),
    zone=st.sampled_from(ZONES),
)
def test_rate_fires_are_the_anchor_plus_whole_intervals(
    value: int, unit: str, anchor: datetime, offset: int, zone: str
) -> None:
    text = f"rate({value} {unit}{'s' if value != 1 else ''})"
    expr = parse_expression(text)
    assert isinstance(expr, RateExpr)
    after = anchor + timedelta(seconds=offset)
    fire = next_fire(expr, after, ZoneInfo(zone), anchor=anchor)
    assert fire is not None
    nxt = fire.astimezone(UTC)  # elapsed-time arithmetic must be done in UTC
    assert nxt is not None and nxt > after and nxt >= anchor
    steps = (nxt - anchor) / expr.interval
    assert steps == int(steps)
    assert nxt - expr.interval <= after or nxt == anchor


@settings(max_examples=40, deadline=None)
@given(
    text=cron_texts(),
    start=after_instants,
    zone=st.sampled_from(ZONES),
    steps=st.lists(st.integers(1, 59), min_size=50, max_size=400),
)
def test_ticking_at_any_pace_within_grace_fires_each_fire_exactly_once(
    text: str, start: datetime, zone: str, steps: list[int]
) -> None:
    """Whatever the tick times, continuous ticking starts exactly the expression's fires."""
    schedule = Schedule(
        name="p", expression=text, state_machine="m", timezone=zone,
        created_at=start, updated_at=start,
    )  # fmt: skip
    cursor = None
    now = start
    fired: list[datetime] = []
    for seconds in steps:
        result = plan(schedule, cursor, now)
        assert result.missed_count == 0  # never late: each tick is within the grace period
        fired += result.fire
        cursor = result.cursor
        now += timedelta(seconds=seconds)
    last = now - timedelta(seconds=steps[-1])
    assert fired == schedule_fires(schedule, start.replace(microsecond=0), last)


FIELD_CHARS = "0123456789*/?,-LW#JANFEBMONSUT"
fields_text = st.lists(
    st.text(alphabet=FIELD_CHARS, min_size=1, max_size=8), min_size=5, max_size=7
).map(" ".join)


@settings(max_examples=600, deadline=None)
@given(
    body=st.one_of(fields_text, st.text(alphabet=FIELD_CHARS + " T:", max_size=30)),
    kind=st.sampled_from(["cron", "cron", "rate", "at"]),
)
def test_any_input_parses_or_raises_schedule_error(body: str, kind: str) -> None:
    """Garbage never crashes the parser: it parses, or a ScheduleError says what is wrong."""
    text = f"{kind}({body})"
    try:
        expr = parse_expression(text)
    except ScheduleError as e:
        assert str(e)
        return
    if isinstance(expr, CronExpr):
        next_fire(expr, HOTSPOTS[0], ZoneInfo("Europe/London"))
