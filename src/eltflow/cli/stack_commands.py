"""``eltflow stack deploy|list|describe|events|delete``: CloudFormation stacks created locally.

``deploy`` creates the stack, or updates it when it exists (changed resources only; a table
that did not change keeps its items) and prints the changes like ``aws cloudformation deploy``.
``describe --json`` prints AWS's DescribeStacks response with DescribeStackResources'
``StackResources`` beside ``Stacks``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eltflow.stacks.deploy import Stacks


def register(subparsers: Any) -> None:
    stack = subparsers.add_parser("stack", help="CloudFormation stacks, deployed locally")
    sub = stack.add_subparsers(dest="stack_command", metavar="ACTION", required=True)
    p = sub.add_parser("deploy", help="create or update a stack from a template (YAML or JSON)")
    p.add_argument("template", help="template file")
    p.add_argument("--stack-name", required=True)
    p.add_argument(
        "--parameters",
        "--parameter-overrides",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="parameter values (others keep their previous value, or the default)",
    )
    p.add_argument("--json", action="store_true", help="print DescribeStacks' response")
    p.add_argument(
        "--no-execute-changeset",
        action="store_true",
        help="only show the changes the deploy would make",
    )
    p.add_argument(
        "--disable-rollback",
        action="store_true",
        help="on failure keep what was made: the stack stays CREATE_FAILED / UPDATE_FAILED "
        "(deploy again to resume, or delete it)",
    )
    p.add_argument(
        "--skip-unsupported",
        action="store_true",
        help="record resource types eltflow cannot create (with a warning) instead of "
        "stopping the deploy",
    )
    p.set_defaults(handler=cmd_deploy)
    p = sub.add_parser("list", help="list stacks")
    p.add_argument("--json", action="store_true", help="print ListStacks' response")
    p.set_defaults(handler=cmd_list)
    p = sub.add_parser("describe", help="a stack's status, parameters, outputs and resources")
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="DescribeStacks + StackResources")
    p.set_defaults(handler=cmd_describe)
    p = sub.add_parser("events", help="what happened to a stack and its resources, newest first")
    p.add_argument("name", help="stack name (or a stack id, for a deleted stack)")
    p.add_argument("--json", action="store_true", help="print DescribeStackEvents' response")
    p.set_defaults(handler=cmd_events)
    p = sub.add_parser("delete", help="delete a stack and its resources")
    p.add_argument("name")
    p.set_defaults(handler=cmd_delete)


@contextmanager
def _stacks(args: argparse.Namespace) -> Iterator[Stacks]:
    from eltflow.app import build_app
    from eltflow.config import load_settings
    from eltflow.stacks.wiring import stacks_for

    app = build_app(load_settings(args.project_dir))
    try:
        yield stacks_for(app)
    finally:
        app.close()


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def parse_parameters(items: list[str]) -> dict[str, str]:
    """``K=V`` pairs (also AWS CLI's ``ParameterKey=K,ParameterValue=V``)."""
    from eltflow.errors import AwsApiError

    out: dict[str, str] = {}
    for item in items:
        if item.startswith("ParameterKey="):
            fields = dict(f.split("=", 1) for f in item.split(",", 1) if "=" in f)
            key, value = fields.get("ParameterKey", ""), fields.get("ParameterValue")
        else:
            key, eq, value = item.partition("=")
            value = value if eq else None
        if not key or value is None:
            raise AwsApiError("ValidationError", f"--parameters expects KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def cmd_deploy(args: argparse.Namespace) -> int:
    from eltflow.stacks.describe import describe_stacks
    from eltflow.stacks.template import read_template

    template = read_template(args.template)
    parameters = parse_parameters(args.parameters)
    if args.no_execute_changeset:
        with _stacks(args) as stacks:
            changes = stacks.preview(args.stack_name, template, parameters)
        if not changes:
            print(f"No changes to deploy. Stack {args.stack_name} is up to date")
        for c in changes:
            replacement = f"  Replacement: {c.replacement}" if c.replacement else ""
            print(f"{c.action:<8} {c.logical_id:<28} {c.type:<36} {c.physical_id}{replacement}")
        return 0
    with _stacks(args) as stacks:
        result = stacks.deploy(
            args.stack_name,
            template,
            parameters,
            disable_rollback=args.disable_rollback,
            skip_unsupported=args.skip_unsupported,
        )
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        _print_json(describe_stacks([result.stack]))
        return 0
    if result.unchanged:
        print(f"No changes to deploy. Stack {args.stack_name} is up to date")
        return 0
    for change in result.changes:
        print(f"{change.action:<8} {change.logical_id:<28} {change.type:<36} {change.physical_id}")
    verb = "created" if result.created else "updated"
    print(f"Successfully {verb} stack - {args.stack_name}")
    for output in result.stack.outputs:
        print(f"  {output.key} = {output.value}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from eltflow.stacks.describe import stack_summary

    with _stacks(args) as stacks:
        records = stacks.store.all()
    if args.json:
        _print_json({"StackSummaries": [stack_summary(s) for s in records]})
        return 0
    for s in records:
        print(f"{s.name:<32} {s.status:<26} {len(s.resources):>3} resources")
    return 0


def cmd_describe(args: argparse.Namespace) -> int:
    from eltflow.stacks.describe import describe_stacks, stack_resources
    from eltflow.stacks.errors import stack_missing
    from eltflow.stacks.parameters import MASK

    with _stacks(args) as stacks:
        stack = stacks.store.get(args.name)
    if stack is None:
        raise stack_missing(args.name)
    if args.json:
        _print_json({**describe_stacks([stack]), **stack_resources(stack)})
        return 0
    print(f"{stack.name}  {stack.status}")
    if stack.reason:
        print(f"  reason: {stack.reason}")
    for p in stack.parameters:
        print(f"  parameter {p.key} = {MASK if p.no_echo else p.value}")
    for o in stack.outputs:
        export = f"  (export {o.export_name})" if o.export_name else ""
        print(f"  output {o.key} = {o.value}{export}")
    for r in stack.resources:
        reason = f"  {r.reason}" if r.reason else ""
        print(f"  {r.logical_id:<28} {r.type:<36} {r.status:<18} {r.physical_id}{reason}")
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    from eltflow.stacks.describe import stack_events
    from eltflow.stacks.errors import stack_missing

    with _stacks(args) as stacks:
        stack_id = stacks.store.stack_id_of(args.name)
        if stack_id is None:
            raise stack_missing(args.name)
        events = stacks.store.events(stack_id)
    if args.json:
        _print_json(stack_events(events))
        return 0
    from datetime import UTC, datetime

    for e in events:
        when = datetime.fromtimestamp(e.timestamp_us / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S")
        reason = f"  {e.reason}" if e.reason else ""
        print(f"{when}  {e.status:<36} {e.type:<36} {e.logical_id}{reason}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with _stacks(args) as stacks:
        existed = stacks.delete(args.name)
    print(f"Deleted stack - {args.name}" if existed else f"Stack {args.name} does not exist")
    return 0
