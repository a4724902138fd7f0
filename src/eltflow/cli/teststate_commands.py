"""``eltflow test-state``: Step Functions' TestState from the command line.

Thin: read the definition and the JSON arguments, call :func:`eltflow.runtime.teststate.
run_test_state`, print. A Task without a mock calls the project's integrations (eltflow.toml),
so the project is opened only then. Exit codes: 0 the state SUCCEEDED, was CAUGHT_ERROR or is
RETRIABLE (the test ran and says what the state does); 1 it FAILED, or TestState refused the
request (AWS's error code and message); 2 unusable arguments.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from eltflow.cli import substitution_args
from eltflow.errors import ConfigError
from eltflow.types import JSON

_LEVELS = ("INFO", "DEBUG", "TRACE")
_MODES = ("STRICT", "PRESENT", "NONE")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "test-state",
        help="test one state on an input, as AWS's TestState (mocks, inspection data)",
        description="Run one state (a state's JSON, or --state-name of a whole definition) "
        "on an input and print its status, output and next state, as Step Functions' "
        "TestState API. JSON arguments take the JSON text or @FILE.",
    )
    p.add_argument("definition", metavar="FILE", help="a state's or a state machine's JSON")
    substitution_args.add_arguments(p)
    p.add_argument("--state-name", default=None, help="the state of a whole definition to test")
    p.add_argument("--input", default="{}", metavar="JSON", help="the state's input (default {})")
    p.add_argument(
        "--inspection-level",
        default="INFO",
        choices=_LEVELS,
        type=str.upper,
        help="DEBUG/TRACE add inspectionData: each data-flow step's value",
    )
    mock = p.add_mutually_exclusive_group()
    mock.add_argument(
        "--mock-result", default=None, metavar="JSON", help="the state's mocked result"
    )
    mock.add_argument("--mock-error", default=None, metavar="ERROR", help="a mocked error name")
    p.add_argument("--mock-cause", default="", metavar="TEXT", help="the mocked error's cause")
    p.add_argument(
        "--field-validation-mode",
        default="STRICT",
        choices=_MODES,
        type=str.upper,
        help="how --mock-result is checked against the API's response shape (default STRICT)",
    )
    p.add_argument("--variables", default=None, metavar="JSON", help="workflow variables")
    p.add_argument(
        "--context", default=None, metavar="JSON", help="the context object (with a mock)"
    )
    p.add_argument("--role-arn", default=None, help="execution role (default: eltflow's)")
    p.add_argument(
        "--retrier-retry-count",
        type=int,
        default=0,
        metavar="N",
        help="retries already used by the retrier matching the error (RETRIABLE or not)",
    )
    p.add_argument(
        "--error-caused-by-state",
        default=None,
        metavar="STATE",
        help="the state inside a Map or Parallel a mocked error comes from",
    )
    p.add_argument(
        "--map-iteration-failure-count",
        type=int,
        default=None,
        metavar="N",
        help="failed iterations of a mocked Map, checked against its tolerated failures",
    )
    p.add_argument(
        "--map-item-reader-data",
        default=None,
        metavar="JSON",
        help="what a Distributed Map's ItemReader read",
    )
    p.add_argument("--json", action="store_true", help="print TestState's response object")
    p.set_defaults(handler=cmd_test_state)


class _ProjectRegistry:
    """The project's integrations (eltflow.toml), opened only if the state calls one: a
    mocked or a non-Task state runs without touching the project."""

    def __init__(self, project_dir: str | None) -> None:
        self.project_dir = project_dir
        self.app: Any = None

    def resolve(self, resource: str) -> Any:
        if self.app is None:
            from eltflow.app import build_app
            from eltflow.config import load_settings
            from eltflow.serve import serving_handlers

            self.app = build_app(load_settings(self.project_dir))
            # As `start --wait` does: process-isolated handlers call the local services with
            # plain boto3, so they need the AWS endpoint served while the state runs.
            serving_handlers(self.app)
        return self.app.registry.resolve(resource)

    def close(self) -> None:
        if self.app is not None:
            self.app.close()  # its first closer stops the endpoint


def _json_arg(option: str, text: str | None) -> JSON:
    if text is None:
        return None
    source = text
    if text.startswith("@"):
        try:
            source = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"{option}: cannot read {text[1:]}: {e.strerror or e}") from e
    try:
        return json.loads(source)  # type: ignore[no-any-return]
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"{option} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}"
        ) from e


def _object_arg(option: str, text: str | None) -> dict[str, JSON] | None:
    value = _json_arg(option, text)
    if value is not None and not isinstance(value, dict):
        raise ConfigError(f"{option} must be a JSON object")
    return value


def cmd_test_state(args: argparse.Namespace) -> int:
    from eltflow.runtime import arns
    from eltflow.runtime.teststate import (
        MockError,
        MockResult,
        StateConfiguration,
        TestStateRequest,
        run_test_state,
    )

    try:
        text = Path(args.definition).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read {args.definition}: {e.strerror or e}") from e
    text = substitution_args.apply(args, text)
    mock: MockResult | MockError | None = None
    if args.mock_result is not None:
        mock = MockResult(value=_json_arg("--mock-result", args.mock_result))
    elif args.mock_error is not None:
        mock = MockError(error=args.mock_error, cause=args.mock_cause)
    request = TestStateRequest(
        definition=text,
        input=_json_arg("--input", args.input),
        state_name=args.state_name,
        inspection_level=args.inspection_level,
        role_arn=args.role_arn or arns.DEFAULT_ROLE_ARN,
        variables=_object_arg("--variables", args.variables),
        mock=mock,
        field_validation_mode=args.field_validation_mode,
        context=_object_arg("--context", args.context),
        configuration=StateConfiguration(
            retrier_retry_count=args.retrier_retry_count,
            error_caused_by_state=args.error_caused_by_state,
            map_iteration_failure_count=args.map_iteration_failure_count,
            map_item_reader_data=_json_arg("--map-item-reader-data", args.map_item_reader_data),
        ),
    )
    registry = _ProjectRegistry(args.project_dir)
    try:
        result = run_test_state(request, registry=registry)
    finally:
        registry.close()
    if args.json:
        print(json.dumps(result.to_aws(), ensure_ascii=False))
    else:
        _print(result)
    return 1 if result.status == "FAILED" else 0


def _print(result: Any) -> None:
    print(f"status: {result.status}")
    if result.next_state is not None:
        print(f"next state: {result.next_state}")
    if result.output is not None:
        print(f"output: {result.output}")
    if result.error is not None:
        print(f"error: {result.error}")
        print(f"cause: {result.cause or ''}")
    for key, value in (result.inspection_data or {}).items():
        shown = value if isinstance(value, str) else json.dumps(value)
        print(f"  {key}: {shown}")
