"""``eltflow serve``: the scheduler, a worker, the HTTP API and the console in one process."""

from __future__ import annotations

import argparse
from typing import Any


def _serve(args: argparse.Namespace) -> int:
    import os

    from eltflow.app import build_app
    from eltflow.config import load_settings
    from eltflow.errors import ConfigError
    from eltflow.serve import read_token_file, required_token, serve

    # Refuse an exposed bind before touching the state store.
    if args.token and args.token_file:
        raise ConfigError("give the token once: --token or --token-file, not both")
    given = read_token_file(args.token_file) if args.token_file else args.token
    token = required_token(args.host, given, os.environ)
    settings = load_settings(args.project_dir)
    app = build_app(settings)
    try:
        # eltflow.toml's [schedules.*] tables, applied like `eltflow schedules` does.
        app.schedules.sync_declared()
        return serve(
            app,
            host=args.host,
            port=args.port,
            token=token,
            allow_hosts=args.allow_host,
            max_body=int(args.max_body_mb * (1 << 20)) if args.max_body_mb else None,
            console=args.console,
        )
    finally:
        app.close()


def _options(p: Any) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8642, help="port to listen on (8642; 0: any)")
    p.add_argument(
        "--token", default=None, help="require this token (env: ELTFLOW_TOKEN; needed off loopback)"
    )
    p.add_argument(
        "--token-file",
        default=None,
        metavar="PATH",
        help="read the token from this file (unlike --token, not shown in the process list)",
    )
    p.add_argument(
        "--max-body-mb",
        type=float,
        default=None,
        metavar="MB",
        help="largest request body the AWS endpoint takes (64; the JSON API takes 2)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this host name (repeatable; loopback names and the "
        "bound address always work; others are refused against DNS rebinding)",
    )


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the scheduler, a worker, the HTTP API and the web console",
        description=(
            "One process: scheduler + worker + HTTP API + console. Binding to an address "
            "other than loopback requires a token, which the API and console then demand. "
            "SIGTERM/SIGINT shut down cleanly; running executions resume on the next start."
        ),
    )
    _options(p)
    p.set_defaults(handler=_serve, console=True)
    e = subparsers.add_parser(
        "endpoint",
        help="serve the AWS endpoint (boto3, the AWS CLI) with a worker and the scheduler",
        description=(
            "Like `serve` without the console: the AWS wire protocols (Step Functions, "
            "Redshift Data API, DynamoDB, SNS, Lambda Invoke) for "
            "`aws --endpoint-url http://HOST:PORT` and boto3's endpoint_url. With a token, "
            "clients send it as their access key id."
        ),
    )
    _options(e)
    e.set_defaults(handler=_serve, console=False)
