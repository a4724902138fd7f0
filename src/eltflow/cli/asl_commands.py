"""``eltflow validate``, ``eltflow execute`` and ``eltflow example`` (the bundled example machine).

Thin: read files and arguments, call :mod:`eltflow.asl.validator` / :func:`eltflow.execute`
(or, with ``execute --store``, :func:`eltflow.runtime.run.execute_stored`), print. Exit codes:
0 success (the execution SUCCEEDED), 1 invalid definition or a failed execution, 2 unusable
arguments (unreadable file, input that is not JSON, options that do not go together).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from eltflow.cli import substitution_args
from eltflow.types import JSON


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "validate",
        help="check a state machine definition the way AWS does",
        description="Validate an Amazon States Language definition; prints every problem "
        "with the JSON path of the offending field and exits 1 if there is any.",
    )
    p.add_argument("file", help="definition file (JSON)")
    substitution_args.add_arguments(p)
    p.add_argument(
        "--severity",
        choices=["ERROR", "WARNING"],
        default="WARNING",
        help="lowest level shown: ERROR hides warnings (default WARNING: both)",
    )
    p.add_argument(
        "--max-results",
        type=int,
        default=0,
        metavar="N",
        help="show at most N diagnostics (1-100; default and 0: 100), as AWS's maxResults",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print ValidateStateMachineDefinition's response: result, diagnostics, truncated",
    )
    p.set_defaults(handler=cmd_validate)

    p = subparsers.add_parser(
        "execute",
        help="run a state machine in memory and print how it ended",
        description="Run a definition in memory and print the states visited, or one JSON "
        "object with --json. In memory there are no integrations: a Task that invokes a "
        "Lambda function, a table, a topic or the Data API needs --store (the project's "
        "integrations from eltflow.toml).",
    )
    p.add_argument("--definition", required=True, metavar="FILE", help="definition file (JSON)")
    substitution_args.add_arguments(p)
    p.add_argument("--input", default="{}", metavar="JSON", help="execution input (default {})")
    p.add_argument(
        "--json",
        action="store_true",
        help='print exactly one object: {"status", "output", "error", "cause"}',
    )
    p.add_argument(
        "--virtual-time",
        action="store_true",
        help="complete Waits and retry backoff instantly while timestamps advance",
    )
    p.add_argument("--name", default=None, help="execution name (default: random)")
    p.add_argument(
        "--store",
        action="store_true",
        help="record the run in the project's state store (see `eltflow executions`) and "
        "run it durably here; prints the execution ARN first",
    )
    p.add_argument(
        "--machine",
        default=None,
        metavar="NAME",
        help="with --store: the state machine to record it under (default: the definition "
        "file's name); a changed definition publishes a new version",
    )
    p.set_defaults(handler=cmd_execute)

    p = subparsers.add_parser(
        "example",
        help="run the bundled example state machine in memory and print its history",
    )
    p.set_defaults(handler=cmd_example)


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        print(f"error: cannot read {path}: {e.strerror or e}", file=sys.stderr)
        return None


def cmd_validate(args: argparse.Namespace) -> int:
    from eltflow.asl.substitutions import substitute, unresolved
    from eltflow.asl.validator import diagnose, report

    text = _read(args.file)
    if text is None:
        return 2
    if not 0 <= args.max_results <= 100:
        print("error: --max-results must be from 0 to 100", file=sys.stderr)
        return 2
    text = substitute(text, substitution_args.values(args))
    # Placeholders left make the text no definition yet: report them (with their JSON path)
    # instead of what the validator would say about '${Name}' values.
    found = unresolved(text) or diagnose(text)
    answer = report(found, severity=args.severity, max_results=args.max_results)
    if args.json:
        print(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
    elif not answer.diagnostics:
        print(f"{args.file}: valid")
    else:
        for d in answer.diagnostics:
            print(_line(args.file, d))
        if answer.truncated:
            print(f"(more than {len(answer.diagnostics)} diagnostics; see --max-results)")
        if answer.result == "OK":
            print(f"{args.file}: valid (warnings only)")
    return 0 if answer.result == "OK" else 1


def _line(file: str, d: Any) -> str:
    hint = f" ({d.hint})" if d.hint else ""
    level = "" if d.severity == "ERROR" else f"{d.severity}: "
    return f"{file}:{d.path or '/'}: {level}{d.code}: {d.message}{hint}"


def _parse_input(text: str) -> tuple[JSON, str | None]:
    try:
        return json.loads(text), None
    except json.JSONDecodeError as e:
        return None, (
            f"error: --input is not valid JSON: {e.msg} at line {e.lineno} column {e.colno} "
            f"(character {e.pos}); got {text[:80]!r}"
        )


def cmd_execute(args: argparse.Namespace) -> int:
    from eltflow.asl.validator import validate
    from eltflow.runtime.local import execute

    text = _read(args.definition)
    if text is None:
        return 2
    text = substitution_args.apply(args, text)
    value, problem = _parse_input(args.input)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    if args.store and args.virtual_time:
        print("error: --virtual-time runs in memory only; drop it or --store", file=sys.stderr)
        return 2
    if args.machine is not None and not args.store:
        print("error: --machine only applies with --store", file=sys.stderr)
        return 2
    diagnostics = validate(text)
    if diagnostics:
        for d in diagnostics:
            print(_line(args.definition, d), file=sys.stderr)
        return 1
    if args.store:
        result = _execute_stored(args, text, value)
    else:
        result = execute(text, value, virtual_time=args.virtual_time, name=args.name)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        _print_summary(result)
    if not args.store and _no_integration(result):
        print(
            "hint: `eltflow execute` runs in memory with no integrations (Lambda functions, "
            "item tables, topics, the Data API); add --store to run it with the project's "
            "(eltflow.toml) and record it",
            file=sys.stderr,
        )
    return 0 if result.succeeded else 1


def _no_integration(result: Any) -> bool:
    # The task runner's cause for a Task resource nothing is registered for.
    from eltflow.runtime.tasks import NO_INTEGRATION

    return result.error == "States.Runtime" and str(result.cause or "").startswith(NO_INTEGRATION)


_MACHINE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]+")


def machine_name_for(definition_path: str) -> str:
    """A valid state machine name from a file name: ``etl/load.asl.json`` → ``load``."""
    stem = Path(definition_path).name.split(".", 1)[0]
    return _MACHINE_NAME_CHARS.sub("-", stem).strip("-")[:80] or "adhoc"


def _execute_stored(args: argparse.Namespace, text: str, value: JSON) -> Any:
    """Record and run the execution in the project's store; return it as an ExecutionResult
    (:mod:`eltflow.runtime.stored_result`) so both modes print the same."""
    from eltflow.app import build_app
    from eltflow.config import load_settings
    from eltflow.runtime.run import execute_stored
    from eltflow.runtime.stored_result import stored_result

    app = build_app(load_settings(args.project_dir))
    try:
        desc = execute_stored(
            app,
            machine_name=args.machine or machine_name_for(args.definition),
            definition=text,
            input=json.dumps(value, ensure_ascii=False),
            execution_name=args.name,
        )
        arn = str(desc["executionArn"])
        # The ARN first; with --json on stderr, so stdout stays exactly one object.
        print(arn, file=sys.stderr if args.json else sys.stdout)
        return stored_result(app.service, desc)
    finally:
        app.close()


def _print_summary(result: Any) -> None:
    start = result.start_date
    for name, kind, entered, exited in result.states_visited():
        offset = (entered - start).total_seconds() if start else 0.0
        took = f"{(exited - entered).total_seconds() * 1000:9.1f} ms" if exited else "  (no exit)"
        print(f"  +{offset:9.3f}s  {kind:<8} {name:<30} {took}")
    print(f"status: {result.status}")
    if result.output is not None:
        print(f"output: {json.dumps(result.output, ensure_ascii=False)}")
    if result.error is not None or result.cause is not None:
        print(f"error:  {result.error}")
        print(f"cause:  {result.cause}")


def cmd_example(args: argparse.Namespace) -> int:
    from eltflow.runtime.local import execute

    text = resources.files("eltflow.examples").joinpath("hello.asl.json").read_text("utf-8")
    result = execute(text, {"name": "world", "items": [1, 2, 3]}, virtual_time=True, name="demo")
    print("eltflow example: the bundled example (src/eltflow/examples/hello.asl.json)\n")
    for event in result.history:
        details = next(iter(event.details.values()), {}) if event.details else {}
        brief = ""
        if isinstance(details, dict):
            if "name" in details:
                brief = str(details["name"])
                if "index" in details:
                    brief += f"[{details['index']}]"
            elif "output" in details:
                brief = str(details["output"])
        when = event.timestamp.isoformat(timespec="seconds")
        print(f"{event.id:>4}  {when}  {event.type:<24} {brief}")
    print()
    _print_summary(result)
    return 0 if result.succeeded else 1
