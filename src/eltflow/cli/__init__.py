"""The ``eltflow`` command: a thin layer over the services, a function of argv.

Subcommands live in small modules, each with ``register(subparsers)``; the list below is
explicit (no import side effects). Heavy libraries are imported inside command functions so
``eltflow --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from eltflow.errors import EltflowError

COMMAND_MODULES: tuple[str, ...] = (
    "eltflow.cli.asl_commands",
    "eltflow.cli.runtime_commands",
    "eltflow.cli.sql_commands",
    "eltflow.cli.schedule_commands",
    "eltflow.cli.serve_commands",
    "eltflow.cli.items_commands",
    "eltflow.cli.pipeline_commands",
    "eltflow.cli.stack_commands",
    "eltflow.cli.export_commands",
)

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eltflow",
        description="Run ELT pipelines written in Amazon States Language.",
    )
    parser.add_argument(
        "--project-dir", default=None, help="folder holding eltflow.toml (env: ELTFLOW_HOME)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except EltflowError as e:
        print(f"error: {e}", file=sys.stderr)
        cause = e.__cause__
        while cause is not None:
            print(f"  caused by: {cause}", file=sys.stderr)
            cause = cause.__cause__
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
