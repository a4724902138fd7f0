"""What a pipeline uses of the application it is handed (:class:`eltflow.app.App` has it).

Pipelines sit below the composition root and use eltflow as user code does, so they name what
they need here as protocols instead of importing ``App`` or the runtime (contract
``pipelines-are-user-code``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from eltflow.clock import Clock
from eltflow.config import Settings
from eltflow.errors import ConfigError
from eltflow.types import AwsApi, JSONObject


class StepFunctions(Protocol):
    """The Step Functions API calls the pipelines make (AWS's names and shapes)."""

    def create_state_machine(self, *, name: str, definition: str) -> JSONObject: ...

    def update_state_machine(self, *, state_machine_arn: str, definition: str) -> JSONObject: ...

    def describe_state_machine(self, *, state_machine_arn: str) -> JSONObject: ...

    def start_execution(
        self, *, state_machine_arn: str, input: str | None = ..., name: str | None = ...
    ) -> JSONObject: ...

    def describe_execution(self, *, execution_arn: str) -> JSONObject: ...

    def get_execution_history(
        self, *, execution_arn: str, max_results: int = ...
    ) -> JSONObject: ...

    def redrive_execution(self, *, execution_arn: str) -> JSONObject: ...


class Runner(Protocol):
    def run(self, *, until: Callable[[], bool]) -> object: ...


class PipelineHost(Protocol):
    """An open project: its Step Functions service, AWS-shaped services and clock."""

    @property
    def service(self) -> StepFunctions: ...

    @property
    def dataapi(self) -> AwsApi | None: ...

    @property
    def items(self) -> AwsApi | None: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def settings(self) -> Settings | None: ...

    def worker(self) -> Runner: ...

    def close(self) -> None: ...


T = TypeVar("T")


def needed(service: T | None, name: str) -> T:
    """``service``, or a clear error naming what the project lacks."""
    if service is None:
        raise ConfigError(f"this pipeline needs the {name} service, which the project lacks")
    return service
