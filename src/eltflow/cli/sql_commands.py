"""``eltflow sql "..."``: run one statement through the Data API and show its result.

The statement goes through the project's ``App.client("redshift-data")``, the client
``eltflow.aws.client("redshift-data")`` gives a handler — the local service, or real Redshift
when ``[aws] mode = "aws"`` — so what the CLI shows is what a pipeline would get.
Prints a table, or with ``--json`` the DescribeStatement response and the GetStatementResult
pages merged (``{"Statement": ..., "Result": ...}``). ``--file`` runs a whole script (split on
``;`` outside quotes and ``$$`` bodies) as one BatchExecuteStatement.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

_FINAL = {"FINISHED", "FAILED", "ABORTED"}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "sql",
        help="run a SQL statement through the Redshift Data API",
        description="Run Redshift SQL on a warehouse through the (local) Redshift Data API.",
    )
    p.add_argument("sql", nargs="?", help="the SQL statement (Redshift dialect)")
    p.add_argument(
        "-f",
        "--file",
        default=None,
        help="run a script instead ('-' reads stdin): its statements go as one "
        "BatchExecuteStatement (one transaction); the last result is shown",
    )
    p.add_argument("--cluster", default=None, help="ClusterIdentifier (default: the only one)")
    p.add_argument("--workgroup", default=None, help="WorkgroupName instead of --cluster")
    p.add_argument("--database", default=None, help="Database")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a named parameter for :NAME (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print the Data API responses as JSON")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds to wait (default 600)")
    p.set_defaults(handler=_sql)


def _target(args: argparse.Namespace, settings: Any) -> dict[str, str]:
    from eltflow.errors import ConfigError

    if args.workgroup:
        return {"WorkgroupName": args.workgroup}
    if args.cluster:
        return {"ClusterIdentifier": args.cluster}
    names = sorted(settings.section("warehouses"))
    if not names:
        return {"ClusterIdentifier": "default"}
    if len(names) == 1:
        return {"ClusterIdentifier": names[0]}
    raise ConfigError(f"several warehouses are configured; pass --cluster (one of: {names})")


def _params(items: list[str]) -> list[dict[str, str]]:
    from eltflow.errors import ConfigError

    out = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--param {item!r}: expected NAME=VALUE")
        out.append({"name": name, "value": value})
    return out


def _sql(args: argparse.Namespace) -> int:
    from eltflow.app import build_app
    from eltflow.config import load_settings
    from eltflow.errors import EltflowError

    settings = load_settings(args.project_dir)
    sqls = _statements(args)
    app = build_app(settings)
    rd = app.client("redshift-data")
    try:
        request: dict[str, Any] = _target(args, settings)
        if args.database:
            request["Database"] = args.database
        if args.param:
            request["Parameters"] = _params(args.param)
        try:
            if len(sqls) == 1:
                sid = rd.execute_statement(Sql=sqls[0], **request)["Id"]
            else:
                sid = rd.batch_execute_statement(Sqls=sqls, **request)["Id"]
            desc = _wait(rd, sid, args.timeout)
            shown = _shown(desc)
            done = desc["Status"] == "FINISHED"
            result = _result(rd, shown["Id"]) if done and shown.get("HasResultSet") else None
        except Exception as e:
            code = getattr(e, "response", {}).get("Error", {})
            if code:
                raise EltflowError(f"{code.get('Code')}: {code.get('Message')}") from None
            raise
    finally:
        rd.close()
        app.close()
    if args.json:
        print(json.dumps({"Statement": desc, "Result": result}, indent=2, default=str))
    elif desc["Status"] == "FINISHED":
        if result is not None:
            _print_table(result)
        else:
            rows = _shown(desc).get("ResultRows", 0)
            print(f"{desc['Status']} ({rows} rows affected)")
    if desc["Status"] != "FINISHED":
        print(f"{desc['Status']}: {desc.get('Error', '')}", file=sys.stderr)
        return 1
    return 0


def _statements(args: argparse.Namespace) -> list[str]:
    from eltflow.errors import ConfigError
    from eltflow.warehouse.translate import split_script

    if (args.sql is None) == (args.file is None):
        raise ConfigError("eltflow sql: give either a SQL statement or --file (not both)")
    if args.file is None:
        return [str(args.sql)]
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8")
    except OSError as e:
        raise ConfigError(f"eltflow sql: cannot read {args.file}: {e.strerror}") from e
    sqls = split_script(text)
    if not sqls:
        raise ConfigError(f"eltflow sql: {args.file} holds no SQL statement")
    return sqls


def _shown(desc: dict[str, Any]) -> dict[str, Any]:
    """The statement whose result to show: the last sub-statement with a result set."""
    subs = [s for s in desc.get("SubStatements", []) if s.get("HasResultSet")]
    return subs[-1] if subs else desc


def _wait(rd: Any, sid: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        desc: dict[str, Any] = rd.describe_statement(Id=sid)
        desc.pop("ResponseMetadata", None)
        if desc["Status"] in _FINAL:
            return desc
        if time.monotonic() > deadline:
            rd.cancel_statement(Id=sid)
            return dict(rd.describe_statement(Id=sid), Error="timed out waiting; cancelled")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def _result(rd: Any, sid: str) -> dict[str, Any]:
    merged: dict[str, Any] = {"Records": [], "ColumnMetadata": [], "TotalNumRows": 0}
    token: str | None = None
    while True:
        page = rd.get_statement_result(Id=sid, **({"NextToken": token} if token else {}))
        merged["Records"].extend(page["Records"])
        merged["ColumnMetadata"] = page.get("ColumnMetadata", [])
        merged["TotalNumRows"] = page.get("TotalNumRows", len(merged["Records"]))
        token = page.get("NextToken")
        if not token:
            return merged


def _cell(field: dict[str, Any]) -> str:
    if field.get("isNull"):
        return "NULL"
    for key in ("stringValue", "longValue", "doubleValue", "booleanValue", "blobValue"):
        if key in field:
            return str(field[key])
    return ""


def _print_table(result: dict[str, Any]) -> None:
    names = [c.get("name", "") for c in result["ColumnMetadata"]]
    rows = [[_cell(f) for f in rec] for rec in result["Records"]]
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    print(" | ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
