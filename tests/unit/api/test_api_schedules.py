"""Schedules over HTTP: create, next fires, pause/resume, update, delete, and the fires a real
scheduler tick records — on a real SQLite store with a virtual clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from eltflow.api.app import create_app
from eltflow.app import App, build_app
from eltflow.clock import VirtualClock
from eltflow.scheduler.service import SchedulerService
from eltflow.scheduler.target import StatesTarget

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(T0)


@pytest.fixture
def app(tmp_path: Path, clock: VirtualClock) -> Iterator[App]:
    built = build_app(state_url=f"sqlite:///{tmp_path / 'state.db'}", clock=clock)
    built.service.create_state_machine(name="nightly", definition=PASS)
    yield built
    built.close()


@pytest.fixture
def client(app: App) -> TestClient:
    return TestClient(create_app(app), base_url="http://localhost")


def _create(client: TestClient, **extra: object) -> dict[str, object]:
    body = {
        "Name": "every5",
        "ScheduleExpression": "rate(5 minutes)",
        "Target": {"StateMachine": "nightly", "Input": {"JobID": "101"}},
        **extra,
    }
    r = client.post("/api/schedules", json=body)
    assert r.status_code == 200, r.text
    out: dict[str, object] = r.json()
    return out


def test_create_shows_next_fires_from_the_clock(client: TestClient) -> None:
    created = _create(client)
    assert created["Name"] == "every5"
    assert created["Target"] == {"StateMachine": "nightly", "Input": '{"JobID": "101"}'}
    listed = client.get("/api/schedules", params={"next": 3}).json()["Schedules"]
    assert [s["Name"] for s in listed] == ["every5"]
    # A rate schedule fires at creation, then every 5 minutes.
    assert listed[0]["NextFires"] == [
        "2026-03-01T12:00:00+00:00",
        "2026-03-01T12:05:00+00:00",
        "2026-03-01T12:10:00+00:00",
    ]


def test_pause_resume_and_update(client: TestClient) -> None:
    _create(client)
    paused = client.post("/api/schedules/every5/pause").json()
    assert paused["State"] == "DISABLED" and paused["NextFires"] == []
    assert client.get("/api/schedules/every5").json()["NextFires"] == []
    resumed = client.post("/api/schedules/every5/resume").json()
    assert resumed["State"] == "ENABLED" and resumed["NextFires"]

    r = client.patch(
        "/api/schedules/every5",
        json={"ScheduleExpression": "cron(30 2 * * ? *)", "ScheduleExpressionTimezone": "UTC"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["NextFires"][0] == "2026-03-02T02:30:00+00:00"


def test_a_scheduler_tick_shows_up_as_last_fires(app: App, client: TestClient) -> None:
    _create(client)
    target = StatesTarget(app.service)
    scheduler = SchedulerService(
        app.db, target.start_execution, target.execution_status, clock=app.clock
    )
    fires = scheduler.tick(T0)
    assert len(fires) == 1
    described = client.get("/api/schedules/every5").json()
    last = described["LastFires"]
    assert [f["Status"] for f in last] == ["STARTED"]
    arn = last[0]["ExecutionArn"]
    execution = client.get(f"/api/executions/{arn}").json()
    assert execution["input"] == '{"JobID": "101"}'
    # The console's one status per fire: the started execution's.
    app.worker().run(until_idle=True)
    assert [f["Outcome"] for f in client.get("/api/schedules/every5").json()["LastFires"]] == [
        "SUCCEEDED"
    ]
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom"}}}
    app.service.update_state_machine(state_machine_arn="nightly", definition=failing)
    assert len(scheduler.tick(T0 + timedelta(minutes=5))) == 1
    app.worker().run(until_idle=True)
    listed = client.get("/api/schedules").json()["Schedules"][0]["LastFires"]
    assert [(f["Status"], f["Outcome"]) for f in listed] == [
        ("STARTED", "FAILED"),
        ("STARTED", "SUCCEEDED"),
    ]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"ScheduleExpression": "rate(5 minutes)", "Target": {"StateMachine": "m"}}, 400, "Name"),
        ({"Name": "x", "Target": {"StateMachine": "m"}}, 400, "ScheduleExpression"),
        ({"Name": "x", "ScheduleExpression": "rate(5 minutes)"}, 400, "Target"),
        (
            {
                "Name": "x",
                "ScheduleExpression": "cron(0 25 * * ? *)",
                "Target": {"StateMachine": "m"},
            },
            400,
            "hour",
        ),
        (
            {
                "Name": "bad name!",
                "ScheduleExpression": "rate(1 hour)",
                "Target": {"StateMachine": "m"},
            },
            400,
            "name",
        ),
        (
            {
                "Name": "x",
                "ScheduleExpression": "rate(1 hour)",
                "Target": {"StateMachine": "m", "Input": "{nope"},
            },
            400,
            "JSON",
        ),
        (
            {
                "Name": "x",
                "ScheduleExpression": "rate(1 hour)",
                "Target": {"StateMachine": "m"},
                "FlexibleTimeWindow": {"Mode": "FLEXIBLE"},
            },
            400,
            "MaximumWindowInMinutes",
        ),
    ],
)
def test_bad_schedules_are_400_with_a_reason(
    client: TestClient, body: dict[str, object], status: int, fragment: str
) -> None:
    r = client.post("/api/schedules", json=body)
    assert r.status_code == status, r.text
    assert fragment.lower() in r.json()["message"].lower()


def test_duplicate_is_409_and_unknown_is_404(client: TestClient) -> None:
    _create(client)
    r = client.post(
        "/api/schedules",
        json={
            "Name": "every5",
            "ScheduleExpression": "rate(1 hour)",
            "Target": {"StateMachine": "nightly"},
        },
    )
    assert r.status_code == 409 and "already exists" in r.json()["message"]
    r = client.post(
        "/api/schedules",
        json={"Name": "x", "ScheduleExpression": "rate(1 hour)", "Target": {"StateMachine": "m"}},
    )
    assert r.status_code == 404 and r.json()["code"] == "ResourceNotFoundException"
    assert ":stateMachine:m does not exist" in r.json()["message"]
    for method, path in [
        ("get", "/api/schedules/nope"),
        ("post", "/api/schedules/nope/pause"),
        ("delete", "/api/schedules/nope"),
    ]:
        resp = client.request(method.upper(), path)
        assert resp.status_code == 404, (method, path, resp.text)
    assert client.delete("/api/schedules/every5").status_code == 200
    assert client.get("/api/schedules").json()["Schedules"] == []


def test_an_unknown_field_is_refused_by_name(client: TestClient) -> None:
    body = {"Name": "x", "ScheduleExpression": "rate(5 minutes)", "Target": {"Arn": "nightly"}}
    r = client.post("/api/schedules", json={**body, "ScheduleExpresion": "rate(1 hour)"})
    assert r.status_code == 400 and "ScheduleExpresion" in r.json()["message"]
    created = client.post("/api/schedules", json=body)  # Target.Arn as AWS's target names it
    assert created.status_code == 200 and created.json()["Target"]["StateMachine"] == "nightly"
