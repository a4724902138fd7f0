"""How the endpoint answers when a service fails rather than the request: a busy or lost state
store is a 503 the SDKs retry; a bug is an AWS-shaped 500 with no traceback."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from eltflow.endpoint import Endpoint
from eltflow.errors import StoreError


class _Failing:
    """Stands in for the StatesService with one failure to raise (the real ones cannot be
    made to fail on demand)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def list_state_machines(self, **_: Any) -> Any:
        raise self.error


class _App:
    def __init__(self, error: Exception) -> None:
        self.service = _Failing(error)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (StoreError("database is locked"), 503, "ServiceUnavailable"),
        (RuntimeError("a bug"), 500, "InternalFailure"),
    ],
)
def test_service_failures(error: Exception, status: int, code: str) -> None:
    with TestClient(Endpoint(_App(error)), raise_server_exceptions=False) as http:  # type: ignore[arg-type]
        r = http.post(
            "/",
            content=b"{}",
            headers={
                "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
                "Content-Type": "application/x-amz-json-1.0",
            },
        )
    assert r.status_code == status
    assert r.json()["__type"] == code
    assert "Traceback" not in r.text
