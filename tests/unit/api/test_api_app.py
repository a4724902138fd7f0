"""The HTTP API over a real SQLite-backed app: AWS shapes in, AWS shapes out, errors as 4xx."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from eltflow.api.app import create_app
from eltflow.app import App, build_app

PASS_CHAIN = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.a", "Next": "B"},
        "B": {"Type": "Pass", "End": True},
    },
}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    built = build_app(state_url=f"sqlite:///{tmp_path / 'state.db'}")
    yield built
    built.close()


@pytest.fixture
def client(app: App) -> TestClient:
    return TestClient(create_app(app), base_url="http://localhost")


def test_machine_execution_round_trip(app: App, client: TestClient) -> None:
    r = client.post("/api/state-machines", json={"name": "m1", "definition": PASS_CHAIN})
    assert r.status_code == 200, r.text
    assert r.json()["stateMachineArn"].endswith(":stateMachine:m1")

    r = client.post("/api/state-machines/m1/executions", json={"input": '{"k": 2}', "name": "e1"})
    assert r.status_code == 200, r.text
    arn = r.json()["executionArn"]
    app.worker().run(until_idle=True)

    desc = client.get(f"/api/executions/{arn}").json()
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"]) == {"k": 2, "a": {"x": 1}}

    events = client.get(f"/api/executions/{arn}/history").json()["events"]
    types = [e["type"] for e in events]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert "PassStateEntered" in types

    listed = client.get("/api/executions", params={"stateMachine": "m1"}).json()
    assert [e["name"] for e in listed["executions"]] == ["e1"]
    filtered = client.get("/api/executions", params={"statusFilter": "FAILED"}).json()
    assert filtered["executions"] == []

    d = client.get(f"/api/executions/{arn}/definition").json()
    assert d["definition"]["StartAt"] == "A"


def test_invalid_definition_gives_diagnostics(client: TestClient) -> None:
    bad = {"StartAt": "Missing", "States": {"A": {"Type": "Pass", "End": True}}}
    r = client.post("/api/state-machines", json={"name": "bad", "definition": bad})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "InvalidDefinition"
    assert body["diagnostics"] and all(d["path"] is not None for d in body["diagnostics"])


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/api/executions/not-an-arn", None, 400),
        ("get", "/api/state-machines/nope", None, 404),
        ("post", "/api/state-machines/nope/executions", {"input": "{}"}, 404),
        ("get", "/api/executions", {"maxResults": "x"}, 400),
    ],
)
def test_bad_requests_are_4xx(
    client: TestClient, method: str, path: str, body: dict[str, str] | None, status: int
) -> None:
    r = client.get(path, params=body) if method == "get" else client.post(path, json=body)
    assert r.status_code == status, r.text
    assert r.json()["code"]


def test_malformed_json_body(client: TestClient) -> None:
    r = client.post(
        "/api/state-machines", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert "not valid JSON" in r.json()["message"]


def test_token_required_when_set(app: App) -> None:
    c = TestClient(create_app(app, token="s3cret"), base_url="http://localhost")
    assert c.get("/api/state-machines").status_code == 401
    assert (
        c.get("/api/state-machines", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    )
    assert c.get("/api/state-machines?token=s3cret").status_code == 200


def test_console_is_served_from_the_package(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and "eltflow console" in r.text
    scripts = re.findall(r'<script src="([^"]+)"', r.text)
    # The graph's layout library is vendored, loaded before the graph code: no CDN.
    assert scripts[:2] == ["/static/vendor/elk.bundled.js", "/static/graph.js"], scripts
    for src in scripts:
        assert src.startswith("/static/"), src
        served = client.get(src)
        assert served.status_code == 200 and "javascript" in served.headers["content-type"], src
    licence = client.get("/static/vendor/elkjs-LICENSE.md")
    assert licence.status_code == 200 and "Eclipse Public License - v 2.0" in licence.text


def test_every_console_file_is_package_data() -> None:
    """A non-editable install ships the console (vendored libraries and their licences too):
    every file under web/static matches a [tool.setuptools.package-data] pattern, expanded as
    setuptools expands them (glob relative to the package)."""
    root = Path(__file__).resolve().parents[3]
    config = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["eltflow"]
    package = root / "src" / "eltflow"
    shipped = {path for pattern in patterns for path in package.glob(pattern)}
    static = {p for p in (package / "web" / "static").rglob("*") if p.is_file()}
    assert package / "web" / "static" / "vendor" / "elk.bundled.js" in static
    assert static <= shipped, sorted(str(p) for p in static - shipped)


def test_every_route_and_method_is_in_openapi(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    # A valid OpenAPI 3 document (what schemathesis and code generators rely on), not merely
    # the constant it is served from.
    validate(spec)
    app = client.app
    assert isinstance(app, Starlette)
    served = {
        (route.path, method.lower())
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/api/")
        for method in (route.methods or set()) - {"HEAD"}
    }
    served.discard(("/api/openapi.json", "get"))
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert served == documented


def test_executions_filter_by_start_time_range(tmp_path: Path) -> None:
    from eltflow.clock import VirtualClock

    clock = VirtualClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    timed = build_app(state_url=f"sqlite:///{tmp_path / 'state.db'}", clock=clock)
    client = TestClient(create_app(timed), base_url="http://localhost")
    timed.service.create_state_machine(name="hourly", definition=PASS_CHAIN)
    for hour in range(5):  # runs at 12:00, 13:00 ... 16:00
        timed.service.start_execution(
            state_machine_arn="hourly", input="{}", name=f"run-{12 + hour}"
        )
        clock.advance(3600)

    def names(**query: str) -> list[str]:
        r = client.get("/api/executions", params={"stateMachine": "hourly", **query})
        assert r.status_code == 200, r.text
        return [e["name"] for e in r.json()["executions"]]

    # Inclusive bounds, newest first; a time without an offset is UTC, Z and offsets work.
    assert names(startedAfter="2026-03-01T13:00:00Z", startedBefore="2026-03-01T15:00:00") == [
        "run-15",
        "run-14",
        "run-13",
    ]
    assert names(startedAfter="2026-03-01T16:00:00+02:00") == ["run-16", "run-15", "run-14"]
    assert names(startedBefore="2026-03-01T12:30:00Z") == ["run-12"]
    assert names(startedAfter="2026-03-01T13:30:00Z", name="RUN-1") == [
        "run-16",
        "run-15",
        "run-14",
    ]
    # A page of a range search resumes after the last row it read.
    first = client.get(
        "/api/executions",
        params={"stateMachine": "hourly", "startedBefore": "2026-03-01T15:00:00Z", "maxResults": 2},
    ).json()
    assert [e["name"] for e in first["executions"]] == ["run-15", "run-14"]
    rest = client.get(
        "/api/executions",
        params={"stateMachine": "hourly", "startedBefore": "2026-03-01T15:00:00Z",
                "nextToken": first["nextToken"]},
    ).json()  # fmt: skip
    assert [e["name"] for e in rest["executions"]] == ["run-13", "run-12"]
    for bad in (
        {"startedAfter": "yesterday"},
        {"startedAfter": "2026-03-02", "startedBefore": "2026-03-01"},
    ):
        r = client.get("/api/executions", params=bad)
        assert r.status_code == 400 and "started" in r.json()["message"], r.text
    timed.close()
