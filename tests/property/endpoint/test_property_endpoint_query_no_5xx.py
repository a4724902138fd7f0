"""No form drawn from botocore's SNS input shapes gets a 5xx from the query protocol.

Keys are the dotted names the query protocol flattens each input shape into (lists as
``.member.1``, maps as ``.entry.1.key`` / ``.value``), values short strings or names that
exist; the answer must be XML: a ``<...Response>`` or an ``<ErrorResponse>`` with a code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from botocore.model import Shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.endpoint import Endpoint
from eltflow.endpoint.contract import service_model
from eltflow.endpoint.table import QUERY_APIS

TOPIC = "arn:aws:sns:us-east-1:123456789012:fuzz"
VALUES = st.one_of(
    st.text(max_size=10),
    st.sampled_from([TOPIC, "fuzz", "log", "file", "http", "true", "1", "String", "Number"]),
)


def _keys(shape: Shape, prefix: str = "", depth: int = 0) -> Iterator[str]:
    if depth > 4:
        return
    kind = shape.type_name
    if kind == "structure":
        for name, member in shape.members.items():  # type: ignore[attr-defined]
            key = str(member.serialization.get("name", name))
            yield from _keys(member, f"{prefix}.{key}" if prefix else key, depth + 1)
    elif kind == "list":
        yield from _keys(shape.member, f"{prefix}.member.1", depth + 1)  # type: ignore[attr-defined]
    elif kind == "map":
        key_shape, value_shape = shape.key, shape.value  # type: ignore[attr-defined]
        base = f"{prefix}.entry.1"
        yield f"{base}.{key_shape.serialization.get('name', 'key')}"
        yield from _keys(value_shape, f"{base}.{value_shape.serialization.get('name', 'value')}")
    else:
        yield prefix


CASES = sorted((service, op) for service, api in QUERY_APIS.items() for op in api.operations)


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("query-fuzz")
    app: App = build_app(load_settings(folder, environ={}))
    assert app.topics is not None
    app.topics.call("CreateTopic", {"Name": "fuzz"})
    with TestClient(Endpoint(app), raise_server_exceptions=False) as client:
        yield client
    app.close()


@pytest.mark.parametrize(("service", "operation"), CASES)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_5xx(http: TestClient, service: str, operation: str, data: st.DataObject) -> None:
    shape = service_model(QUERY_APIS[service].model).operation_model(operation).input_shape
    keys = sorted(set(_keys(shape))) if shape is not None else []
    form = data.draw(st.dictionaries(st.sampled_from(keys), VALUES, max_size=8)) if keys else {}
    body = urlencode({"Action": operation, "Version": "2010-03-31", **form})
    response = http.post(
        "/", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code < 500, (form, response.text)
    if response.status_code >= 400:
        assert "<ErrorResponse" in response.text and "<Code>" in response.text, response.text
    else:
        assert f"<{operation}Response" in response.text
