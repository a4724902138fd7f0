"""GetFunction and ListFunctions of the local Lambda functions, in Lambda's shapes.

A function's ``FunctionConfiguration``: the handler as AWS writes it (``module.function``),
``Runtime`` the local interpreter's ``python3.x``, ``Timeout`` the configured one (900,
Lambda's maximum, when none is set: a local handler has no limit), ``PackageType`` Zip with no
code location (the code is a local module). ListFunctions lists the functions of
``[lambda.functions]`` by name, ``MaxItems`` (1 to 50) at a time, resumed after ``Marker``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from eltflow.lambdas.config import FunctionSpec, LambdaSettings

if TYPE_CHECKING:
    from eltflow.lambdas.runner import LambdaRunner

MAX_ITEMS = 50  # ListFunctions' largest page


def configuration(settings: LambdaSettings, spec: FunctionSpec) -> dict[str, Any]:
    """A function's ``FunctionConfiguration`` as Lambda returns it."""
    module, _, function = str(spec.handler).partition(":")
    timeout = spec.timeout_seconds
    return {
        "FunctionName": spec.name,
        "FunctionArn": spec.arn(settings.region, settings.account),
        "Runtime": f"python{sys.version_info.major}.{sys.version_info.minor}",
        "Role": f"arn:aws:iam::{settings.account}:role/eltflow-lambda",
        "Handler": f"{module}.{function}",
        "Timeout": 900 if timeout is None else max(1, round(timeout)),
        "MemorySize": spec.memory_mb,
        "Version": "$LATEST",
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
    }


def get_function(runner: LambdaRunner, name: str) -> dict[str, Any]:
    """GetFunction (``ResourceNotFoundException`` for an unknown function)."""
    return {
        "Configuration": configuration(runner.settings, runner.function(name)),
        "Code": {"RepositoryType": "S3"},
    }


def list_functions(
    runner: LambdaRunner | None, marker: str = "", max_items: int = MAX_ITEMS
) -> dict[str, Any]:
    """ListFunctions: the functions named after ``marker``, at most ``max_items`` (clamped to
    1..50), with ``NextMarker`` when more follow."""
    if runner is None:
        return {"Functions": []}
    specs = sorted(runner.settings.functions.values(), key=lambda s: s.name)
    size = max(1, min(MAX_ITEMS, max_items))
    after = [s for s in specs if s.name > marker]
    out: dict[str, Any] = {"Functions": [configuration(runner.settings, s) for s in after[:size]]}
    if len(after) > size:
        out["NextMarker"] = after[size - 1].name
    return out
