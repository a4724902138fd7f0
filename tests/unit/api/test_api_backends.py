"""The HTTP API on both state stores (SQLite and a fresh PostgreSQL database): versions, the
definition an execution runs, stop, redrive after fixing a failing task, paging."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from eltflow.api.app import create_app
from eltflow.app import App, build_app
from eltflow.types import JSON

FLAKY = "arn:aws:lambda:us-east-1:123456789012:function:flaky"


def _machine(result: str) -> dict[str, object]:
    return {
        "StartAt": "Load",
        "States": {
            "Load": {"Type": "Task", "Resource": FLAKY, "ResultPath": "$.load", "Next": "Done"},
            "Done": {"Type": "Pass", "Result": result, "ResultPath": "$.tag", "End": True},
        },
    }


WAITING = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}


@pytest.fixture
def app(store_url: str) -> Iterator[App]:
    built = build_app(state_url=store_url)
    yield built
    built.close()


@pytest.fixture
def client(app: App) -> TestClient:
    return TestClient(create_app(app), base_url="http://localhost")


def _ok(r: object) -> dict[str, Any]:
    from httpx2 import Response

    assert isinstance(r, Response)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_redrive_after_fixing_the_task(app: App, client: TestClient) -> None:
    broken = {"on": True}

    def flaky(params: JSON) -> JSON:
        if broken["on"]:
            raise RuntimeError("warehouse unavailable")
        return {"rows": 7}

    app.register(FLAKY, flaky)
    _ok(client.post("/api/state-machines", json={"name": "load", "definition": _machine("v1")}))
    arn = _ok(client.post("/api/state-machines/load/executions", json={"input": "{}"}))[
        "executionArn"
    ]
    assert isinstance(arn, str)
    app.worker().run(until_idle=True)
    failed = _ok(client.get(f"/api/executions/{arn}"))
    assert failed["status"] == "FAILED" and failed["error"] == "RuntimeError"
    assert failed["redriveStatus"] == "REDRIVABLE"

    # A new version does not change what the execution runs.
    _ok(client.post("/api/state-machines", json={"name": "load", "definition": _machine("v1")}))
    app.service.update_state_machine(
        state_machine_arn="load", definition=json.dumps(_machine("v2"))
    )
    described = _ok(client.get("/api/state-machines/load"))
    versions = described["versions"]
    assert isinstance(versions, list)
    assert [v["version"] for v in versions if isinstance(v, dict)] == [2, 1]
    ran = _ok(client.get(f"/api/executions/{arn}/definition"))
    assert ran["stateMachineVersionArn"] == f"{described['stateMachineArn']}:1"
    assert isinstance(ran["definition"], dict)
    assert ran["definition"]["States"]["Done"]["Result"] == "v1"

    broken["on"] = False
    _ok(client.post(f"/api/executions/{arn}/redrive", json={}))
    app.worker().run(until_idle=True)
    done = _ok(client.get(f"/api/executions/{arn}"))
    assert done["status"] == "SUCCEEDED" and done["redriveCount"] == 1
    assert json.loads(str(done["output"])) == {"load": {"rows": 7}, "tag": "v1"}

    again = client.post(f"/api/executions/{arn}/redrive", json={})
    assert again.status_code == 400 and again.json()["code"] == "ExecutionNotRedrivable"


def test_stop_a_waiting_execution(app: App, client: TestClient) -> None:
    _ok(client.post("/api/state-machines", json={"name": "wait", "definition": WAITING}))
    arn = _ok(client.post("/api/state-machines/wait/executions", json={"name": "w1"}))[
        "executionArn"
    ]
    # Starting runs the machine up to its first wait: the execution now sleeps on a timer.
    assert _ok(client.get(f"/api/executions/{arn}"))["status"] == "RUNNING"
    running = _ok(client.get("/api/executions", params={"statusFilter": "RUNNING"}))
    assert [e["name"] for e in running["executions"]] == ["w1"]
    _ok(client.post(f"/api/executions/{arn}/stop", json={"error": "Manual", "cause": "by test"}))
    stopped = _ok(client.get(f"/api/executions/{arn}"))
    assert stopped["status"] == "ABORTED"
    types = [e["type"] for e in _ok(client.get(f"/api/executions/{arn}/history"))["events"]]
    assert types[-1] == "ExecutionAborted"


def test_paging_executions(app: App, client: TestClient) -> None:
    _ok(client.post("/api/state-machines", json={"name": "wait", "definition": WAITING}))
    for i in range(5):
        _ok(client.post("/api/state-machines/wait/executions", json={"name": f"e{i}"}))
    seen: list[str] = []
    token: str | None = None
    while True:
        params = {"maxResults": "2", **({"nextToken": token} if token else {})}
        page = _ok(client.get("/api/executions", params=params))
        seen += [str(e["name"]) for e in page["executions"]]
        token = page.get("nextToken")
        if not token:
            break
    assert sorted(seen) == [f"e{i}" for i in range(5)]
    bad = client.get("/api/executions", params={"nextToken": "!!!"})
    assert bad.status_code == 400 and bad.json()["code"] == "InvalidToken"
