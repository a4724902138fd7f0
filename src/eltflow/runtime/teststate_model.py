"""TestState's request and response (API_TestState), JSON text fields decoded."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from eltflow.integrations.base import Integration
from eltflow.runtime.mock_shapes import FieldValidationMode
from eltflow.types import JSON, JSONObject

InspectionLevel = Literal["INFO", "DEBUG", "TRACE"]
LEVELS: tuple[InspectionLevel, ...] = ("INFO", "DEBUG", "TRACE")
Status = Literal["SUCCEEDED", "FAILED", "RETRIABLE", "CAUGHT_ERROR"]


class Integrations(Protocol):
    """What resolves a Task's resource (an integrations ``Registry``, or anything that looks
    one up lazily)."""

    def resolve(self, resource: str) -> Integration | None: ...


@dataclass(frozen=True, kw_only=True)
class MockResult:
    """``mock.result``: what the state's invocation returns (a JSON value)."""

    value: JSON


@dataclass(frozen=True, kw_only=True)
class MockError:
    """``mock.errorOutput``: the error the state's invocation raises."""

    error: str
    cause: str = ""


Mock = MockResult | MockError


@dataclass(frozen=True, kw_only=True)
class StateConfiguration:
    """``stateConfiguration`` of the request (API_TestStateConfiguration)."""

    retrier_retry_count: int = 0
    error_caused_by_state: str | None = None
    map_iteration_failure_count: int | None = None
    map_item_reader_data: JSON = None


@dataclass(frozen=True, kw_only=True)
class TestStateRequest:
    """A TestState request with its JSON text fields already decoded."""

    __test__ = False  # not a pytest test class, whatever its name

    definition: str | Mapping[str, Any]
    input: JSON = field(default_factory=dict)
    state_name: str | None = None
    inspection_level: InspectionLevel = "INFO"
    role_arn: str | None = None
    reveal_secrets: bool = False
    variables: Mapping[str, JSON] | None = None
    mock: Mock | None = None
    field_validation_mode: FieldValidationMode = "STRICT"
    context: JSONObject | None = None
    configuration: StateConfiguration = field(default_factory=StateConfiguration)


@dataclass(frozen=True, kw_only=True)
class TestStateResult:
    """The TestState response (API_TestState): JSON fields as JSON text, as AWS returns them."""

    __test__ = False

    status: Status
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    next_state: str | None = None
    inspection_data: JSONObject | None = None

    @property
    def output_value(self) -> JSON:
        """``output`` decoded (None when there is no output)."""
        return None if self.output is None else json.loads(self.output)

    def to_aws(self) -> JSONObject:
        """The response members AWS sends (absent ones left out)."""
        out: JSONObject = {"status": self.status}
        for key, value in (
            ("output", self.output),
            ("error", self.error),
            ("cause", self.cause),
            ("nextState", self.next_state),
            ("inspectionData", self.inspection_data),
        ):
            if value is not None:
                out[key] = value
        return out
