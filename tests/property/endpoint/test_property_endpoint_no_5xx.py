"""No request drawn from botocore's input shapes gets a 5xx from the AWS endpoint.

Bodies are built from each implemented operation's input shape with hypothesis: any subset
of the members, values mostly of the modelled type, sometimes ``null`` or a value of another
JSON type. Whatever arrives, the answer must be a 2xx or an AWS-shaped 4xx (``__type``,
``message``): a 5xx means a service met input it did not check.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.model import Shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.endpoint import Endpoint
from eltflow.endpoint.contract import service_model
from eltflow.endpoint.table import JSON_APIS

_OTHER = st.one_of(
    st.none(), st.integers(), st.text(max_size=5), st.booleans(), st.just([]), st.just({})
)
_NAMES = st.sampled_from(
    [
        "jobs",
        "dw",
        "dev",
        "arn:aws:states:us-east-1:123456789012:stateMachine:m",
        "arn:aws:states:us-east-1:123456789012:execution:m:e",
        "00000000-0000-0000-0000-000000000000",
        "select 1",
        '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}',
    ]
)


def _strategy(shape: Shape, noisy: bool, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values for ``shape``: of the modelled types with every required member when not
    ``noisy``; otherwise any member may be missing, null or of another JSON type."""
    kind = shape.type_name
    if depth > 5:
        return st.none()
    if kind == "structure":
        members = shape.members  # type: ignore[attr-defined]
        required = set() if noisy else set(shape.required_members)
        typed: st.SearchStrategy[Any] = st.fixed_dictionaries(
            {n: _strategy(m, noisy, depth + 1) for n, m in members.items() if n in required},
            optional={
                n: _strategy(m, noisy, depth + 1) for n, m in members.items() if n not in required
            },
        )
    elif kind == "list":
        member = shape.member  # type: ignore[attr-defined]
        typed = st.lists(_strategy(member, noisy, depth + 1), max_size=3)
    elif kind == "map":
        value = shape.value  # type: ignore[attr-defined]
        typed = st.dictionaries(st.text(max_size=6), _strategy(value, noisy, depth + 1), max_size=3)
    elif kind == "string":
        enum: list[str] = getattr(shape, "enum", None) or []
        choices = [st.text(max_size=12), _NAMES]
        if enum:
            choices.append(st.sampled_from(enum))
        typed = st.one_of(*choices)
    elif kind in ("integer", "long"):
        typed = st.integers(min_value=-3, max_value=2000)
    elif kind in ("float", "double", "timestamp"):
        typed = st.floats(allow_nan=False, allow_infinity=False)
    elif kind == "boolean":
        typed = st.booleans()
    elif kind == "blob":
        typed = st.binary(max_size=8).map(lambda b: base64.b64encode(b).decode())
    else:
        typed = st.none()
    return st.one_of(typed, _OTHER) if depth and noisy else typed


CASES = [
    (prefix, name) for prefix, api in sorted(JSON_APIS.items()) for name in sorted(api.operations)
]


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    app: App = build_app(load_settings(folder, environ={}))
    with TestClient(Endpoint(app), raise_server_exceptions=False) as client:
        yield client
    app.close()


@pytest.mark.parametrize(("prefix", "operation"), CASES)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_5xx(http: TestClient, prefix: str, operation: str, data: st.DataObject) -> None:
    model = service_model(JSON_APIS[prefix].model)
    shape = model.operation_model(operation).input_shape
    noisy = data.draw(st.booleans())
    body = data.draw(_strategy(shape, noisy) if shape is not None else st.just({}))
    response = http.post(
        "/",
        content=json.dumps(body).encode(),
        headers={
            "X-Amz-Target": f"{prefix}.{operation}",
            "Content-Type": f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.0')}",
        },
    )
    assert response.status_code < 500, (body, response.text)
    if response.status_code >= 400:
        error = response.json()
        assert set(error) >= {"__type", "message"}, error
