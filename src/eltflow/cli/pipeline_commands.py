"""``eltflow demo`` and ``eltflow jobs``: the reference pipeline and its audit items."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eltflow.pipelines.jobs import JobsService


def _demo(args: argparse.Namespace) -> int:
    from eltflow.app import build_app
    from eltflow.pipelines.reference.demo import DemoOptions, run_demo

    project = Path(args.project_dir or ".")
    return run_demo(
        DemoOptions(project_dir=project, scale_factor=args.scale_factor, fail_at=args.fail_at),
        build_app,
    )


def _with_jobs(args: argparse.Namespace) -> tuple[Any, JobsService]:
    from eltflow.app import build_app
    from eltflow.config import load_settings

    app = build_app(load_settings(args.project_dir))
    assert app.jobs is not None  # a project always has its item tables
    return app, app.jobs


def _jobs_list(args: argparse.Namespace) -> int:
    app, jobs = _with_jobs(args)
    try:
        rows = jobs.jobs()
    finally:
        app.close()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no jobs: no item table keyed by JobID has items")
    for r in rows:
        lease = f" lease until {r['LeaseUntil']}" if r.get("LeaseUntil") else ""
        error = f" error: {r['JobError']}" if r.get("JobError") else ""
        print(f"{r['table']}  JobID {r.get('JobID')}  {r.get('JobState')}{lease}{error}")
    return 0


def _jobs_reset(args: argparse.Namespace) -> int:
    from eltflow.pipelines.reference import settings_for

    app, jobs = _with_jobs(args)
    try:
        table = args.table or settings_for(app.settings).audit_table
        row = jobs.reset(table, args.job_id)
    finally:
        app.close()
    print(json.dumps(row, indent=2) if args.json else f"{table}: JobID {args.job_id} is Ready")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="set up and run the reference ELT pipeline on this machine, narrated",
        description="Generates TPC-H staging data, loads it, creates the audit table and the "
        "state machine, runs one execution and shows validation counts. Writes eltflow.toml "
        "into the project folder if there is none.",
    )
    p.add_argument("--scale-factor", type=float, default=0.1, help="TPC-H scale (default 0.1)")
    p.add_argument(
        "--fail-at",
        choices=["fact"],
        default=None,
        help="break the fact load to show the failure path, the repair and the redrive",
    )
    p.set_defaults(handler=_demo)

    jobs = sub.add_parser("jobs", help="job audit items (the lock of each JobID)")
    jsub = jobs.add_subparsers(dest="jobs_command", metavar="COMMAND", required=True)
    p = jsub.add_parser("list", help="audit items of every table keyed by JobID")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_jobs_list)
    p = jsub.add_parser("reset", help="force a job back to Ready (the manual repair)")
    p.add_argument("job_id", metavar="JOB_ID")
    p.add_argument("--table", default=None, help="audit table (default: the pipeline's)")
    p.add_argument("--json", action="store_true", help="print the item as JSON")
    p.set_defaults(handler=_jobs_reset)
