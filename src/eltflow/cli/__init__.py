"""The ``eltflow`` command: a thin layer over the services, a function of argv.

Subcommands live in small modules, each with ``register(subparsers)``; the list below is
explicit (no import side effects). Heavy libraries are imported inside command functions so
``eltflow --help`` stays fast.

No path ends in a Python traceback: :func:`main` is the one place errors become a message on
stderr and an exit code — 0 success, 1 a failure (any :class:`~eltflow.errors.EltflowError`),
2 bad usage or configuration (argparse, :class:`~eltflow.errors.ConfigError`), 70 an
unexpected exception (a bug: ``--debug`` or ``ELTFLOW_DEBUG=1`` shows its traceback),
130 interrupted, 141 stdout closed early (``eltflow ... | head``, as a SIGPIPE-killed tool).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from eltflow.errors import ConfigError, EltflowError

COMMAND_MODULES: tuple[str, ...] = (
    "eltflow.cli.init_commands",
    "eltflow.cli.asl_commands",
    "eltflow.cli.runtime_commands",
    "eltflow.cli.sql_commands",
    "eltflow.cli.schedule_commands",
    "eltflow.cli.serve_commands",
    "eltflow.cli.items_commands",
    "eltflow.cli.pipeline_commands",
    "eltflow.cli.stack_commands",
    "eltflow.cli.export_commands",
    "eltflow.cli.s3_commands",
    "eltflow.cli.teststate_commands",
)

Handler = Callable[[argparse.Namespace], int]

DEBUG_ENV = "ELTFLOW_DEBUG"
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_BUG = 70  # sysexits.h EX_SOFTWARE
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what the shell reports for `yes | head`


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eltflow",
        description="Run ELT pipelines written in Amazon States Language.",
    )
    parser.add_argument(
        "--project-dir", default=None, help="folder holding eltflow.toml (env: ELTFLOW_HOME)"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help=f"show the Python traceback of an error (env: {DEBUG_ENV}=1)",
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
        return EXIT_USAGE
    return run(handler, args, debug=bool(args.debug or os.environ.get(DEBUG_ENV)))


def run(handler: Handler, args: argparse.Namespace, *, debug: bool = False) -> int:
    """``handler(args)``, every error turned into a message on stderr and an exit code."""
    try:
        code = handler(args)
        # Flushed here so a reader that went away (`| head`) is seen by the handler below,
        # not by the interpreter's final flush, which would print its own traceback.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except EltflowError as e:
        if debug:
            traceback.print_exc()
        _report(e)
        return EXIT_USAGE if isinstance(e, ConfigError) else EXIT_FAILURE
    except OSError as e:
        # The environment, not eltflow: a file that cannot be read or written, a full disk.
        if debug:
            traceback.print_exc()
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as e:
        if debug:
            traceback.print_exc()
        print(f"error: unexpected {type(e).__name__}: {e}", file=sys.stderr)
        print(
            f"  this is a bug in eltflow; rerun with --debug (or {DEBUG_ENV}=1) "
            "to see the traceback, and report it",
            file=sys.stderr,
        )
        return EXIT_BUG


def _report(error: EltflowError) -> None:
    # eltflow's messages carry what the driver said that matters; the chain of driver
    # exceptions behind them is in the --debug traceback.
    print(f"error: {error}", file=sys.stderr)


def _discard_stdout() -> None:
    """Python's recipe for a closed pipe: point stdout at devnull, so the interpreter's final
    flush of what is still buffered goes nowhere instead of raising again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # stdout replaced by a non-file (tests)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
