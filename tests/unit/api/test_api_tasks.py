"""Task tokens and nested workflows over the HTTP API (what the console's execution page
reads and its Send success / Send failure buttons call), on a real SQLite-backed app."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from eltflow.api.app import create_app
from eltflow.app import App, build_app
from eltflow.runtime import arns

WAIT_FOR_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken"
# Parallel > Map > waiting Task: the task is found inside nested frames, with its index.
WAITING = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "StartAt": "Approve",
                "States": {
                    "Approve": {
                        "Type": "Task",
                        "Resource": WAIT_FOR_TOKEN,
                        "Parameters": {"FunctionName": "f", "Payload.$": "$$.Task.Token"},
                        "HeartbeatSeconds": 60,
                        "TimeoutSeconds": 600,
                        "End": True,
                    }
                },
            },
            "End": True,
        }
    },
}
CHILD = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def _parent(pattern: str) -> dict[str, Any]:
    return {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": f"arn:aws:states:::states:startExecution{pattern}",
                "Parameters": {
                    "StateMachineArn": arns.machine_arn("child"),
                    "Input": {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"},
                },
                "End": True,
            }
        },
    }


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    built = build_app(state_url=f"sqlite:///{tmp_path / 'state.db'}")
    built.register(WAIT_FOR_TOKEN, lambda params: {})  # the call is made; the token is awaited
    yield built
    built.close()


@pytest.fixture
def client(app: App) -> TestClient:
    return TestClient(create_app(app), base_url="http://localhost")


def _work_until(app: App, done: Callable[[], bool]) -> None:
    """Run a worker until ``done()`` (until_idle would also wait out the heartbeat timers)."""
    app.worker(poll_seconds=0.01).run(until=done)


def _waiting(app: App, client: TestClient) -> tuple[str, list[dict[str, Any]]]:
    app.service.create_state_machine(name="waiting", definition=WAITING)
    arn = str(
        app.service.start_execution(state_machine_arn="waiting", input='{"items": [1, 2]}')[
            "executionArn"
        ]
    )
    _work_until(app, lambda: sum(t["started"] for t in app.waiting_tasks.of(arn)) == 2)
    r = client.get(f"/api/executions/{arn}/tasks")
    assert r.status_code == 200, r.text
    tasks: list[dict[str, Any]] = r.json()["tasks"]
    return arn, tasks


def test_waiting_tasks_list_token_and_deadlines_then_answer_each(
    app: App, client: TestClient
) -> None:
    arn, tasks = _waiting(app, client)
    assert sorted(t["mapIndex"] for t in tasks) == [0, 1]
    for t in tasks:
        assert t["stateName"] == "Approve" and t["resource"] == WAIT_FOR_TOKEN and t["started"]
        entered = datetime.fromisoformat(t["enteredTime"])
        beat = datetime.fromisoformat(t["heartbeatDeadline"]) - entered
        assert timedelta(seconds=59) < beat <= timedelta(seconds=61), t
        assert datetime.fromisoformat(t["timeoutDeadline"]) - entered == timedelta(seconds=600)
    # The token is the one the task was called with ($$.Task.Token in its parameters).
    history = json.dumps(app.service.get_execution_history(execution_arn=arn))
    assert all(t["taskToken"] in history for t in tasks)

    first, second = tasks
    r = client.post("/api/tasks/heartbeat", json={"taskToken": first["taskToken"]})
    assert r.status_code == 200, r.text
    r = client.post(
        "/api/tasks/success", json={"taskToken": first["taskToken"], "output": {"ok": 1}}
    )
    assert r.status_code == 200, r.text
    _work_until(app, lambda: len(app.waiting_tasks.of(arn)) == 1)
    left = client.get(f"/api/executions/{arn}/tasks").json()["tasks"]
    assert [t["taskToken"] for t in left] == [second["taskToken"]]
    # Answering a task twice is AWS's TaskTimedOut (it no longer waits).
    r = client.post("/api/tasks/success", json={"taskToken": first["taskToken"]})
    assert (r.status_code, r.json()["code"]) == (400, "TaskTimedOut")

    r = client.post(
        "/api/tasks/failure",
        json={"taskToken": second["taskToken"], "error": "Rejected", "cause": "by a person"},
    )
    assert r.status_code == 200, r.text
    _work_until(
        app, lambda: app.service.describe_execution(execution_arn=arn)["status"] != "RUNNING"
    )
    described = app.service.describe_execution(execution_arn=arn)
    assert (described["status"], described["error"]) == ("FAILED", "Rejected")
    assert client.get(f"/api/executions/{arn}/tasks").json() == {"tasks": []}


def test_task_answers_refuse_bad_requests_with_typed_errors(app: App, client: TestClient) -> None:
    r = client.post("/api/tasks/success", json={"output": "{}"})
    assert (r.status_code, r.json()["code"]) == (400, "BadRequest")
    assert "taskToken" in r.json()["message"]
    r = client.post("/api/tasks/failure", json={"taskToken": "not-a-token"})
    assert (r.status_code, r.json()["code"]) == (400, "InvalidToken")
    _, tasks = _waiting(app, client)
    bad = {"taskToken": tasks[0]["taskToken"], "output": "{not json"}
    r = client.post("/api/tasks/success", json=bad)
    assert (r.status_code, r.json()["code"]) == (400, "InvalidOutput")
    missing = client.get(f"/api/executions/{arns.PREFIX}:execution:nope:x/tasks")
    assert (missing.status_code, missing.json()["code"]) == (404, "ExecutionDoesNotExist")


@pytest.mark.parametrize("pattern", ["", ".sync", ".sync:2"])
def test_links_name_the_parent_and_the_children(app: App, client: TestClient, pattern: str) -> None:
    app.service.create_state_machine(name="child", definition=CHILD)
    app.service.create_state_machine(name="parent", definition=_parent(pattern))
    parent = str(app.service.start_execution(state_machine_arn="parent")["executionArn"])
    app.worker(poll_seconds=0.01).run(until_idle=True)
    links = client.get(f"/api/executions/{parent}/links").json()
    assert links["parent"] is None
    [child] = links["children"]
    assert child["stateName"] == "Call" and child["status"] == "SUCCEEDED"
    back = client.get(f"/api/executions/{child['executionArn']}/links").json()
    assert back["parent"]["executionArn"] == parent and back["children"] == []


def test_a_failed_sync_child_is_linked_from_the_failure(app: App, client: TestClient) -> None:
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Bad", "Cause": "no"}}}
    app.service.create_state_machine(name="child", definition=failing)
    app.service.create_state_machine(name="parent", definition=_parent(".sync"))
    parent = str(app.service.start_execution(state_machine_arn="parent")["executionArn"])
    app.worker(poll_seconds=0.01).run(until_idle=True)
    [child] = client.get(f"/api/executions/{parent}/links").json()["children"]
    assert child["status"] == "FAILED" and ":execution:child:" in child["executionArn"]
