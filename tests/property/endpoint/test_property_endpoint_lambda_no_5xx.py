"""No Lambda REST request, however odd its function name, body or invocation type, gets a
5xx from the endpoint: it is a 2xx/204/202 or an AWS-shaped 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.endpoint import Endpoint

HERE = Path(__file__).resolve().parents[2] / "e2e" / "endpoint"
TOML = """
[lambda]
isolation = "thread"

[lambda.functions]
Echo = "endpoint_handlers:echo"
Fail = "endpoint_handlers:fail"
"""


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("lambda-fuzz")
    (folder / "eltflow.toml").write_text(TOML, "utf-8")
    mp = pytest.MonkeyPatch()
    mp.syspath_prepend(str(HERE))
    app: App = build_app(load_settings(folder, environ={}))
    with TestClient(Endpoint(app), raise_server_exceptions=False) as client:
        yield client
    app.close()
    mp.undo()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.one_of(st.sampled_from(["Echo", "Fail", "Echo:$LATEST", "Nope"]), st.text(max_size=8)),
    body=st.one_of(st.binary(max_size=40), st.sampled_from([b"{}", b'{"a": 1}', b"[1]", b""])),
    kind=st.sampled_from(["RequestResponse", "Event", "DryRun", "Sideways", None]),
    method=st.sampled_from(["POST", "GET", "DELETE"]),
    suffix=st.sampled_from(["/invocations", "", "/x"]),
)
def test_no_5xx(
    http: TestClient, name: str, body: bytes, kind: str | None, method: str, suffix: str
) -> None:
    headers = {"X-Amz-Invocation-Type": kind} if kind else {}
    path = f"/2015-03-31/functions/{quote(name, safe='')}{suffix}"
    response = http.request(method, path, content=body, headers=headers)
    assert response.status_code < 500, (path, body, response.text)
    if response.status_code >= 400:
        assert "__type" in response.json()
