"""Step Functions' ``TestState`` on the wire: the request's members decoded into a
:class:`~eltflow.runtime.teststate.TestStateRequest`, the result as AWS's response members.

What TestState does is :mod:`eltflow.runtime.teststate`'s; this module only translates. The
wire passes ``roleArn`` through as the client sent it (AWS requires one to test a Task without
a mock); Tasks call the app's integrations.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from eltflow.errors import AwsApiError
from eltflow.runtime.teststate import (
    MockError,
    MockResult,
    StateConfiguration,
    TestStateRequest,
    run_test_state,
)
from eltflow.types import JSON


def test_state(app: Any, p: dict[str, Any]) -> Mapping[str, Any]:
    request = TestStateRequest(
        definition=p["definition"],
        input=_json(p.get("input"), "input", "InvalidExecutionInput", default={}),
        state_name=p.get("stateName"),
        inspection_level=p.get("inspectionLevel") or "INFO",
        role_arn=p.get("roleArn"),
        reveal_secrets=bool(p.get("revealSecrets")),
        variables=_variables(p.get("variables")),
        mock=_mock(p.get("mock")),
        field_validation_mode=(p.get("mock") or {}).get("fieldValidationMode") or "STRICT",
        context=_object(p.get("context"), "context"),
        configuration=_configuration(p.get("stateConfiguration") or {}),
    )
    return run_test_state(request, registry=app.registry, clock=app.clock).to_aws()


test_state.__test__ = False  # type: ignore[attr-defined]  # pytest must not collect it


def _json(text: str | None, member: str, code: str, default: JSON = None) -> JSON:
    if text is None:
        return default
    try:
        return json.loads(text)  # type: ignore[no-any-return]
    except ValueError as e:
        raise AwsApiError(code, f"Invalid {member}: {e}") from None


def _object(text: str | None, member: str) -> dict[str, JSON] | None:
    value = _json(text, member, "ValidationException")
    if value is not None and not isinstance(value, dict):
        raise AwsApiError("ValidationException", f"{member} must be a JSON object")
    return value


def _variables(text: str | None) -> dict[str, JSON] | None:
    return _object(text, "variables")


def _mock(mock: Mapping[str, Any] | None) -> MockResult | MockError | None:
    if not mock:
        return None
    has_result, error = "result" in mock, mock.get("errorOutput")
    if has_result and error is not None:
        raise AwsApiError(
            "ValidationException",
            "A test mock should have only one of the following fields: [result, errorOutput].",
        )
    if has_result:
        try:
            return MockResult(value=json.loads(mock["result"]))
        except ValueError:  # AWS's words, recorded (even with fieldValidationMode NONE)
            raise AwsApiError("ValidationException", "Mocked result must be valid JSON") from None
    if error is not None:
        return MockError(error=str(error.get("error", "")), cause=str(error.get("cause", "")))
    return None


def _configuration(c: Mapping[str, Any]) -> StateConfiguration:
    data = c.get("mapItemReaderData")
    return StateConfiguration(
        retrier_retry_count=int(c.get("retrierRetryCount") or 0),
        error_caused_by_state=c.get("errorCausedByState"),
        map_iteration_failure_count=c.get("mapIterationFailureCount"),
        map_item_reader_data=None
        if data is None
        else _json(data, "mapItemReaderData", "ValidationException"),
    )
