"""``eltflow schedules ...``: manage EventBridge-Scheduler-style schedules in the state store.

``create|update|list|describe|pause|resume|delete|backfill`` work on the store named by
eltflow.toml (whose ``[schedules.<name>]`` tables are applied first); ``next`` only evaluates an
expression and needs no store. Read commands take ``--json`` (AWS-like field names).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eltflow.app import App
    from eltflow.scheduler.model import Fire
    from eltflow.scheduler.schedules import ScheduleView


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _now() -> datetime:
    from eltflow.clock import SystemClock

    return SystemClock().now()


@contextmanager
def _opened(args: argparse.Namespace) -> Iterator[App]:
    """The project's app, with eltflow.toml's declared schedules applied first."""
    from eltflow.app import build_app
    from eltflow.config import load_settings

    app = build_app(load_settings(args.project_dir))
    try:
        app.schedules.sync_declared()
        yield app
    finally:
        app.close()


def _instant(text: str | None, label: str, tz: Any = UTC) -> datetime | None:
    """An ISO-8601 date-time; without an offset it is read in ``tz``; 'none' means no value."""
    from eltflow.errors import ScheduleError

    if text is None or text.lower() == "none":
        return None
    try:
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise ScheduleError(f"{label} {text!r} is not an ISO-8601 date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


# -- next -------------------------------------------------------------------------------------
def _next(args: argparse.Namespace) -> int:
    from eltflow.scheduler.expressions import RateExpr, next_fire, parse_expression, zone

    tz = zone(args.tz)
    expr = parse_expression(args.expression)
    start = _instant(args.start, "--from", tz) or _now().replace(microsecond=0)
    if args.count < 1:
        raise _usage("-n must be 1 or more")
    # Like a schedule created at --from: a rate fires at --from itself, cron/at at or after it.
    anchor = start if isinstance(expr, RateExpr) else None
    cursor = start - timedelta(microseconds=1)
    for _ in range(args.count):
        fire = next_fire(expr, cursor, tz, anchor=anchor)
        if fire is None:
            break
        print(fire.astimezone(tz).isoformat())
        cursor = fire
    return 0


def _usage(message: str) -> Exception:
    from eltflow.errors import ScheduleError

    return ScheduleError(message)


# -- create / update --------------------------------------------------------------------------
def _request(args: argparse.Namespace) -> dict[str, Any]:
    """The EventBridge-Scheduler-shaped request for the options given (only those given)."""
    out: dict[str, Any] = {}
    simple = {
        "expression": "ScheduleExpression",
        "timezone": "ScheduleExpressionTimezone",
        "state": "State",
        "catchup": "CatchUp",
        "max_catchup": "MaxCatchUp",
        "overlap": "Overlap",
        "description": "Description",
    }
    for arg, key in simple.items():
        value = getattr(args, arg)
        if value is not None:
            out[key] = value
    target: dict[str, Any] = {}
    if args.target is not None:
        target["StateMachine"] = args.target
    if args.input is not None:
        target["Input"] = _read_input(args.input)
    if target:
        out["Target"] = target
    for arg, key in (("start_date", "StartDate"), ("end_date", "EndDate")):
        text = getattr(args, arg)
        if text is not None:
            when = _instant(text, "--" + arg.replace("_", "-"))
            out[key] = None if when is None else when.isoformat()
    if args.flexible_window is not None:
        minutes = args.flexible_window
        out["FlexibleTimeWindow"] = (
            {"Mode": "OFF"}
            if minutes == 0
            else {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": minutes}
        )
    return out


def _read_input(text: str) -> str:
    """``--input '{...}'`` or ``--input @file.json``."""
    from pathlib import Path

    from eltflow.errors import ScheduleError

    if text.startswith("@"):
        try:
            return Path(text[1:]).read_text(encoding="utf-8")
        except OSError as e:
            raise ScheduleError(f"cannot read --input file {text[1:]}: {e.strerror}") from e
    return text


def _create(args: argparse.Namespace) -> int:
    request = _request(args)
    if "ScheduleExpression" not in request:
        raise _usage("schedules create needs --expression")
    if "StateMachine" not in request.get("Target", {}):
        raise _usage("schedules create needs --target")
    with _opened(args) as app:
        created = app.schedules.create({"Name": args.name, **request})
    _show(created, args)
    return 0


def _update(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        updated = app.schedules.update(args.name, _request(args))
    _show(updated, args)
    return 0


def _set_state(args: argparse.Namespace, state: str) -> int:
    from eltflow.scheduler.model import ScheduleState

    with _opened(args) as app:
        app.schedules.set_state(args.name, ScheduleState(state))
    print(f"{args.name}: {state}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        app.schedules.delete(args.name)
    print(f"deleted {args.name}")
    return 0


# -- list / describe --------------------------------------------------------------------------
def _list(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        views = app.schedules.list_schedules(next_count=1, last_count=0)
    items: list[dict[str, Any]] = []
    for view in views:
        item: dict[str, Any] = {k: v for k, v in view.items() if k not in _FIRE_KEYS}
        item["NextFire"] = view["NextFires"][0] if view["NextFires"] else None
        items.append(item)
    if args.json:
        _print_json({"Schedules": items})
        return 0
    for view, item in zip(views, items, strict=True):
        print(
            f"{view['Name']}\t{view['State']}\t{view['ScheduleExpression']}\t"
            f"{view['ScheduleExpressionTimezone']}\t{view['Target']['StateMachine']}\t"
            f"next: {item['NextFire'] or '-'}"
        )
    return 0


def _describe(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        view = app.schedules.describe(args.name, args.count, args.fires)
    _show(view, args, detailed=True)
    return 0


_FIRE_KEYS = ("NextFires", "LastFires")


def _show(view: ScheduleView, args: argparse.Namespace, *, detailed: bool = False) -> None:
    shown = {k: v for k, v in view.items() if detailed or k not in _FIRE_KEYS}
    if getattr(args, "json", False):
        _print_json(shown)
        return
    for key, value in shown.items():
        if key in _FIRE_KEYS:
            continue
        text = json.dumps(value) if isinstance(value, dict) else value
        print(f"{key}: {text if text is not None else '-'}")
    if detailed:
        print("NextFires:")
        for n in view["NextFires"]:
            print(f"  {n}")
        print("LastFires:")
        for f in view["LastFires"]:
            extra = f["ExecutionArn"] or f["Reason"]
            print(f"  {f['FireTime']}  {f['Status']}  {extra}")


# -- backfill ---------------------------------------------------------------------------------
def _backfill(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        tz = app.schedules.get(args.name).tz
        start = _instant(args.start, "--from", tz)
        end = _instant(args.end, "--to", tz)
        if start is None or end is None:
            raise _usage("backfill needs --from and --to")
        fires = app.schedules.backfill(args.name, start, end, limit=args.limit)
    if args.json:
        _print_json({"Fires": [f.to_json() for f in fires]})
    else:
        for f in fires:
            print(f"{f.fire_time.isoformat()}\t{f.status.value}\t{f.execution_arn or f.reason}")
        started = sum(f.status.value == "STARTED" and f.backfill for f in fires)
        print(f"{len(fires)} fire(s) in the window; {started} started by backfill", file=sys.stderr)
    return 0


# -- run --------------------------------------------------------------------------------------
def _run(args: argparse.Namespace) -> int:
    """The scheduler loop in the foreground (``eltflow serve`` runs it next to a worker)."""
    import signal
    import threading

    with _opened(args) as app:
        svc = app.schedules.scheduler(poll_seconds=args.poll)
        if args.once:
            _print_fires(svc.tick(), args.json)
            return 0
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        print(f"scheduler {svc.owner} running; Ctrl-C to stop", file=sys.stderr)
        try:
            svc.run(stop)
        except KeyboardInterrupt:
            stop.set()
    return 0


def _print_fires(fires: list[Fire], as_json: bool) -> None:
    if as_json:
        _print_json({"Fires": [f.to_json() for f in fires]})
        return
    for f in fires:
        print(
            f"{f.schedule}\t{f.fire_time.isoformat()}\t{f.status.value}\t"
            f"{f.execution_arn or f.reason}"
        )


# -- argparse ---------------------------------------------------------------------------------
def _schedule_options(p: argparse.ArgumentParser, *, create: bool) -> None:
    p.add_argument("name", help="schedule name (letters, digits, - _ .)")
    p.add_argument("--expression", "-e", help="rate(...), cron(...) or at(...)")
    p.add_argument("--target", "-t", help="state machine name or ARN to start")
    p.add_argument("--timezone", "--tz", help="IANA zone the expression is read in (UTC)")
    p.add_argument("--input", help="execution input JSON, or @file.json")
    p.add_argument("--state", choices=["ENABLED", "DISABLED"])
    p.add_argument("--start-date", help="ISO-8601; no fire before it ('none' clears)")
    p.add_argument("--end-date", help="ISO-8601; no fire at or after it ('none' clears)")
    p.add_argument(
        "--flexible-window", type=int, metavar="MINUTES", help="FLEXIBLE window 1-1440 (0: OFF)"
    )
    p.add_argument("--catchup", choices=["skip", "last", "all"], help="missed fires (last)")
    p.add_argument("--max-catchup", type=int, help="at most this many missed fires run (10)")
    p.add_argument("--overlap", choices=["allow", "skip", "buffer_one"], help="(allow)")
    p.add_argument("--description")
    p.add_argument("--json", action="store_true", help="print the schedule as JSON")
    p.set_defaults(handler=_create if create else _update)


def register(subparsers: Any) -> None:
    top = subparsers.add_parser("schedules", help="EventBridge-Scheduler-style schedules")
    sub = top.add_subparsers(dest="schedules_command", metavar="ACTION", required=True)

    _schedule_options(sub.add_parser("create", help="create a schedule"), create=True)
    _schedule_options(sub.add_parser("update", help="change a schedule's settings"), create=False)

    p = sub.add_parser("list", help="list schedules with their next fire")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_list)

    p = sub.add_parser("describe", help="a schedule, its next and last fires")
    p.add_argument("name")
    p.add_argument("-n", dest="count", type=int, default=5, help="next fires to show (5)")
    p.add_argument("--fires", type=int, default=10, help="last fires to show (10)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_describe)

    for action, state in (("pause", "DISABLED"), ("resume", "ENABLED")):
        p = sub.add_parser(action, help=f"set the schedule {state}")
        p.add_argument("name")
        p.set_defaults(handler=lambda a, s=state: _set_state(a, s))

    p = sub.add_parser("delete", help="delete a schedule and its fire records")
    p.add_argument("name")
    p.set_defaults(handler=_delete)

    p = sub.add_parser("backfill", help="run the schedule's fires in a past window")
    p.add_argument("name")
    p.add_argument("--from", dest="start", required=True, help="ISO-8601 (inclusive)")
    p.add_argument("--to", dest="end", required=True, help="ISO-8601 (inclusive)")
    p.add_argument("--limit", type=int, default=1000, help="refuse more fires than this (1000)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_backfill)

    p = sub.add_parser("run", help="run the scheduler loop in the foreground")
    p.add_argument("--once", action="store_true", help="tick once, print the fires and exit")
    p.add_argument("--poll", type=float, default=1.0, help="seconds between ticks (1)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_run)

    p = sub.add_parser("next", help="print the next fire times of an expression")
    p.add_argument("expression", help="rate(...), cron(...) or at(...)")
    p.add_argument("--from", dest="start", help="ISO-8601 start (default: now)")
    p.add_argument("-n", dest="count", type=int, default=5, help="how many (5)")
    p.add_argument("--tz", default="UTC", help="IANA time zone (UTC)")
    p.set_defaults(handler=_next)
