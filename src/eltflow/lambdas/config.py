"""``[lambda]`` and ``[lambda.functions]`` in eltflow.toml.

[lambda]
isolation = "thread"        # or "process": handlers run in a subprocess pool
workers = 4

[lambda.functions]
LoadDimensions = "pipelines.handlers:load_dimensions"
Slow = { handler = "pipelines.handlers:slow", timeout = 30, memory = 512 }
# As AWS runs it: its own code folder (like /var/task), AWS's "file.function" handler,
# environment variables set before the module is imported.
Notify = { code = "functions/notify", handler = "index.handler", environment = { TOPIC = "x" } }
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eltflow.config import CONFIG_FILE, Settings
from eltflow.errors import ConfigError

REGION = "us-east-1"
ACCOUNT = "123456789012"
_HANDLER = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")
_AWS_HANDLER = re.compile(r"[A-Za-z_][\w.]*\.[A-Za-z_]\w*")  # file.function (AWS's form)
_RUNTIME = re.compile(r"python3\.\d+")
# Lambda's reserved environment variables: AWS refuses them in a function's configuration
# (and here they would reach the eltflow process's own environment in thread isolation).
RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_REGION",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "LAMBDA_RUNTIME_DIR",
        "LAMBDA_TASK_ROOT",
    }
)


# Handlers eltflow ships that import nothing of eltflow (plain boto3), by module: the file's
# name at the root of an AWS deployment package. `eltflow export cloudformation` packages the
# file alone (with the project's .sql files, which the handler reads by relative path) instead
# of the eltflow package.
BUNDLED_HANDLERS = {"eltflow.lambdas.redshift_sql": "redshift_sql"}


@dataclass(frozen=True, kw_only=True)
class FunctionSpec:
    name: str
    handler: str  # "package.module:function"
    timeout_seconds: float | None = None  # the function's own timeout (None: no limit)
    memory_mb: int = 128
    # A function with its own code folder (a stack's AWS::Lambda::Function, or code = ... in
    # eltflow.toml): the folder, AWS's "file.function" handler, runtime; environment variables
    # (set before the handler's module is imported) for either kind.
    code_dir: str | None = None
    runtime: str = "python3.12"
    environment: Mapping[str, str] = field(default_factory=dict)

    def arn(self, region: str = REGION, account: str = ACCOUNT) -> str:
        return f"arn:aws:lambda:{region}:{account}:function:{self.name}"


@dataclass(frozen=True, kw_only=True)
class LambdaSettings:
    functions: Mapping[str, FunctionSpec] = field(default_factory=dict)
    isolation: str = "thread"
    workers: int = 4
    region: str = REGION
    account: str = ACCOUNT
    # Folders appended to sys.path before a config function's module is imported: the
    # project folder, so `handler = "handlers:run"` finds its handlers.py with no PYTHONPATH
    # (as Lambda puts the function's code folder on the path).
    search_path: tuple[str, ...] = ()


def lambda_settings(settings: Settings) -> LambdaSettings:
    section = settings.section("lambda")
    where = f"{CONFIG_FILE}: [lambda]"
    isolation = section.get("isolation", "thread")
    if isolation not in ("thread", "process"):
        raise ConfigError(f'{where} isolation must be "thread" or "process" (got {isolation!r})')
    workers = section.get("workers", 4)
    if not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"{where} workers must be a positive integer (got {workers!r})")
    raw = section.get("functions", {})
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{CONFIG_FILE}: [lambda.functions] must be a table")
    aws = settings.section("aws")
    return LambdaSettings(
        functions={name: _function(name, body, settings.project_dir) for name, body in raw.items()},
        isolation=str(isolation),
        workers=workers,
        region=str(aws.get("region", REGION)),
        account=str(aws.get("account", ACCOUNT)),
        search_path=(str(settings.project_dir),),
    )


def _function(name: str, body: Any, project_dir: Path) -> FunctionSpec:
    where = f"{CONFIG_FILE}: [lambda.functions] {name}"
    if isinstance(body, str):
        body = {"handler": body}
    if not isinstance(body, Mapping):
        raise ConfigError(f'{where} must be "module:function" or a table with handler = ...')
    # Unknown keys were refused when the file was read (eltflow.config.SCHEMA).
    handler = body.get("handler")
    code = body.get("code")
    if code is not None:
        if not isinstance(code, str) or not (project_dir / code).is_dir():
            raise ConfigError(
                f"{where}: code must name a folder of the project (got {code!r}; looked for "
                f"{project_dir / str(code)})"
            )
        if not isinstance(handler, str) or not _AWS_HANDLER.fullmatch(handler):
            raise ConfigError(
                f'{where}: with code = ..., handler is AWS\'s "file.function" form, such as '
                f'"index.handler" (got {handler!r})'
            )
    elif not isinstance(handler, str) or not _HANDLER.fullmatch(handler):
        raise ConfigError(
            f'{where}: handler must look like "package.module:function" (got {handler!r})'
        )
    runtime = body.get("runtime", "python3.12")
    if not isinstance(runtime, str) or not _RUNTIME.fullmatch(runtime):
        raise ConfigError(
            f"{where}: runtime {runtime!r} cannot run locally: only python3.x runtimes run, on "
            "this interpreter"
        )
    environment = body.get("environment", {})
    if not isinstance(environment, Mapping) or not all(
        isinstance(v, str) for v in environment.values()
    ):
        raise ConfigError(f"{where}: environment must be a table of strings")
    reserved = sorted(k for k in environment if k in RESERVED_VARIABLES)
    if reserved:
        raise ConfigError(
            f"{where}: environment sets Lambda's reserved variables {', '.join(reserved)}"
        )
    timeout = body.get("timeout")
    if timeout is not None and (not isinstance(timeout, int | float) or timeout <= 0):
        raise ConfigError(f"{where}: timeout must be a positive number of seconds")
    memory = body.get("memory", 128)
    if not isinstance(memory, int) or memory < 128:
        raise ConfigError(f"{where}: memory must be an integer >= 128 (MB)")
    return FunctionSpec(
        name=name,
        handler=handler,
        timeout_seconds=None if timeout is None else float(timeout),
        memory_mb=memory,
        code_dir=None if code is None else str((project_dir / code).resolve()),
        runtime=runtime,
        environment={str(k): str(v) for k, v in environment.items()},
    )


def parse_function_name(value: str) -> tuple[str, str | None]:
    """``name``, ``name:qualifier``, ``ACCOUNT:function:name[:q]`` or the full ARN →
    (name, qualifier)."""
    parts = value.split(":")
    if value.startswith("arn:"):
        # arn:aws:lambda:region:account:function:name[:qualifier]
        if len(parts) < 7 or parts[5] != "function":
            return value, None
        return parts[6], parts[7] if len(parts) > 7 else None
    if len(parts) >= 3 and parts[1] == "function":
        return parts[2], parts[3] if len(parts) > 3 else None
    if len(parts) == 2:
        return parts[0], parts[1]
    return value, None
