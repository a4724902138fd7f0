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
    options = DemoOptions(
        project_dir=project,
        scale_factor=args.scale_factor,
        fail_at=args.fail_at,
        from_template=args.from_template,
    )
    if not args.from_template:
        return run_demo(options, build_app)
    return run_demo(options, _app_serving_handlers, deploy=_deploy_stack)


def _app_serving_handlers(settings: Any) -> Any:
    """The app, with the AWS endpoint served to its process-isolated handlers until it closes
    (the stack's SQL function is plain boto3, as ``eltflow worker`` runs it)."""
    from eltflow.app import build_app
    from eltflow.serve import serving_handlers

    return serving_handlers(build_app(settings))


def _deploy_stack(
    app: Any, template: Path, parameters: dict[str, str], uploads: dict[tuple[str, str], bytes]
) -> str:
    """Upload the artifacts to the local S3, then create or update the reference stack."""
    from eltflow.errors import AwsApiError, EltflowError
    from eltflow.pipelines.reference.stack import STACK_NAME
    from eltflow.stacks.template import read_template
    from eltflow.stacks.wiring import stacks_for

    for (bucket, key), body in uploads.items():
        try:
            app.s3.create_bucket(bucket, app.clock.now())
        except AwsApiError as e:
            if e.code != "BucketAlreadyOwnedByYou":
                raise
        app.s3.put_object(bucket, key, body)
    result = stacks_for(app).deploy(STACK_NAME, read_template(template), parameters)
    status = result.stack.status
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        raise EltflowError(f"stack {STACK_NAME} is {status}: {result.stack.reason}")
    if result.unchanged:
        return f"{status}, up to date"
    return f"{status}, " + ", ".join(f"{c.action} {c.logical_id}" for c in result.changes)


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
    p.add_argument(
        "--from-template",
        action="store_true",
        help="deploy the pipeline from its own CloudFormation template (eltflow stack "
        "deploy of pipelines/reference/template.yaml) instead of registering it directly",
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
