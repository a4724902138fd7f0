"""What every integration implements, and how a Task's Resource ARN finds one.

An integration is a callable ``(request) -> JSON`` that raises
:class:`~eltflow.errors.StatesError` with AWS's error name
(``DynamoDB.ConditionalCheckFailedException``, ``RedshiftData.ValidationException``,
``Lambda.Unknown``...) when the call fails. It sees only a :class:`TaskRequest`,
never the store or the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from eltflow.clock import Clock, SystemClock
from eltflow.types import JSON


@dataclass(frozen=True, kw_only=True)
class TaskRequest:
    resource: str
    parameters: JSON
    execution_arn: str = ""
    state_name: str = ""
    task_token: str | None = None
    deadline: datetime | None = None  # from TimeoutSeconds; None = no limit
    clock: Clock = field(default_factory=SystemClock)
    # Durable scratch for integrations that submit-then-poll: what was recorded for this task
    # before a crash (e.g. a Data API statement id), so a resumed task re-attaches.
    checkpoint: Callable[[JSON], None] | None = None
    recorded: JSON = None
    # A ``.sync`` integration calls this with the service's response once the service accepted
    # the request, then waits for the job (AWS records ``TaskSubmitted`` with the response).
    # Calling it again (a resumed task re-attaching) records nothing more.
    submitted: Callable[[JSON], None] | None = None
    # Waits for a child execution without a thread: links the task to the execution (its ARN)
    # and returns True, and the runtime completes the task when the execution ends, whatever
    # the integration returns; False when it has ended already (the integration answers).
    await_execution: Callable[[str], bool] | None = None


class Integration(Protocol):
    def __call__(self, request: TaskRequest) -> JSON: ...


class Registry:
    """Resource ARN → integration, by exact ARN first, then by longest registered prefix."""

    def __init__(self) -> None:
        self._exact: dict[str, Integration] = {}
        self._prefix: dict[str, Integration] = {}

    def add(self, resource: str, integration: Integration) -> None:
        self._exact[resource] = integration

    def add_prefix(self, prefix: str, integration: Integration) -> None:
        self._prefix[prefix] = integration

    def resolve(self, resource: str) -> Integration | None:
        if resource in self._exact:
            return self._exact[resource]
        for prefix in sorted(self._prefix, key=len, reverse=True):
            if resource.startswith(prefix):
                return self._prefix[prefix]
        return None
