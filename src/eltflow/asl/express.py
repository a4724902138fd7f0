"""What an EXPRESS state machine may not hold, checked when it is created or updated.

AWS: "Express Workflows support Request Response, but they do not support Run a Job (.sync)
or Wait for Callback (.waitForTaskToken)" (Step Functions Developer Guide, optimized
integrations), and Express workflows run no activities. CreateStateMachine with
``type=EXPRESS`` refuses such a definition with ``InvalidDefinition``, code
``SCHEMA_VALIDATION_FAILED``: "Express state machine does not support '.sync' service
integration" (the wording as AWS's error is quoted by LocalStack and a public linter; the
'.waitForTaskToken' and "Activity ARN" variants follow it, unverified on AWS).

Every Task state counts, inside Parallel branches and Map item processors too; the location
is the Task's ``Resource`` (``/States/P/Branches/0/States/T/Resource``). The definition is
the decoded JSON of a definition that has already passed :func:`eltflow.asl.validator.validate`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from eltflow.errors import Diagnostic

SCHEMA = "SCHEMA_VALIDATION_FAILED"
EXPRESS_MAX_SECONDS = 300
"""An Express execution runs for at most five minutes (AWS's quota; not adjustable)."""

_SYNC = re.compile(r"\.sync(:\d+)?$")
_CALLBACK = re.compile(r"\.waitForTaskToken$")
_ACTIVITY = re.compile(r"^arn:[^:]+:states:[^:]*:[^:]*:activity:")


def _problem(resource: str) -> str | None:
    if _ACTIVITY.match(resource):
        return "Express state machine does not support Activity ARN"
    if _SYNC.search(resource):
        return "Express state machine does not support '.sync' service integration"
    if _CALLBACK.search(resource):
        return "Express state machine does not support '.waitForTaskToken' service integration"
    return None


def _tasks(machine: Mapping[str, Any], path: str) -> Iterator[tuple[str, str]]:
    """``(location of Resource, resource)`` of every Task state, nested ones included."""
    states = machine.get("States")
    if not isinstance(states, Mapping):
        return
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        here = f"{path}/States/{name}"
        kind = state.get("Type")
        resource = state.get("Resource")
        if kind == "Task" and isinstance(resource, str):
            yield f"{here}/Resource", resource
        elif kind == "Parallel":
            for i, branch in enumerate(state.get("Branches") or ()):
                if isinstance(branch, Mapping):
                    yield from _tasks(branch, f"{here}/Branches/{i}")
        elif kind == "Map":
            for key in ("ItemProcessor", "Iterator"):
                processor = state.get(key)
                if isinstance(processor, Mapping):
                    yield from _tasks(processor, f"{here}/{key}")


def express_diagnostics(definition: Mapping[str, Any]) -> list[Diagnostic]:
    """The diagnostics AWS gives for ``definition`` as an EXPRESS machine (empty if none)."""
    found: list[Diagnostic] = []
    for location, resource in _tasks(definition, ""):
        message = _problem(resource)
        if message is not None:
            found.append(Diagnostic(path=location, code=SCHEMA, message=message))
    return found
