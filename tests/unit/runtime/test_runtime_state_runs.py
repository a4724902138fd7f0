"""Per-state runs folded from a real durable execution's history (``App.state_runs``), and the
same fold through the HTTP API and the CLI: a retried task, a caught failure, an uncaught one."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from eltflow.api.app import create_app
from eltflow.app import App, build_app
from eltflow.cli import main
from eltflow.clock import VirtualClock
from eltflow.runtime.run import run_to_end
from eltflow.runtime.state_runs import fold
from eltflow.types import JSON

FLAKY = "arn:aws:lambda:us-east-1:123456789012:function:flaky"
BROKEN = "arn:aws:lambda:us-east-1:123456789012:function:broken"
DEFINITION = {
    "StartAt": "Flaky",
    "States": {
        "Flaky": {
            "Type": "Task",
            "Resource": FLAKY,
            "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 1, "MaxAttempts": 1}],
            "Next": "Broken",
        },
        "Broken": {
            "Type": "Task",
            "Resource": BROKEN,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}],
            "End": True,
        },
        "Done": {"Type": "Pass", "End": True},
    },
}
UNCAUGHT = {
    "StartAt": "Broken",
    "States": {"Broken": {"Type": "Task", "Resource": BROKEN, "End": True}},
}


class Boom(Exception):
    pass


class Broke(Exception):
    pass


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    built = build_app(state_url=f"sqlite:///{tmp_path / 'state.db'}", clock=VirtualClock())
    calls: list[JSON] = []

    def flaky(params: JSON) -> JSON:
        calls.append(params)
        if len(calls) == 1:
            raise Boom("first call fails")
        return {"ok": True}

    def broken(params: JSON) -> JSON:
        raise Broke("always")

    built.register(FLAKY, flaky)
    built.register(BROKEN, broken)
    yield built
    built.close()


def _time(value: JSON) -> datetime:
    return datetime.fromisoformat(str(value))


def _run(app: App, name: str, definition: Mapping[str, Any]) -> str:
    app.service.create_state_machine(name=name, definition=definition)
    arn = str(app.service.start_execution(state_machine_arn=name, input='{"x": 1}')["executionArn"])
    run_to_end(app, arn)
    return arn


def test_a_retry_and_a_catch(app: App) -> None:
    arn = _run(app, "m", DEFINITION)
    states = app.state_runs.of(arn)
    assert states["status"] == {"Flaky": "SUCCEEDED", "Broken": "CAUGHT", "Done": "SUCCEEDED"}
    flaky, broken, done = states["runs"]
    assert (flaky["name"], flaky["type"], flaky["retries"]) == ("Flaky", "Task", 1)
    assert flaky["error"] == "Boom"  # the failure the retry recovered from stays visible
    assert json.loads(str(flaky["input"])) == {"x": 1}
    assert json.loads(str(flaky["output"])) == {"ok": True}
    assert (broken["status"], broken["error"]) == ("CAUGHT", "Broke")
    assert broken["end"] is not None and done["type"] == "Pass"
    # One attempt per try, the Retry interval (1 s) between Flaky's two; Done does no work.
    assert [(a["status"], a["error"]) for a in flaky["attempts"]] == [
        ("FAILED", "Boom"),
        ("SUCCEEDED", None),
    ]
    first, second = flaky["attempts"]
    gap = _time(second["start"]) - _time(first["end"])
    assert gap.total_seconds() == pytest.approx(1.0, abs=0.05), gap
    assert _time(flaky["start"]) <= _time(first["start"])
    assert _time(second["end"]) <= _time(flaky["end"])
    assert [a["status"] for a in broken["attempts"]] == ["FAILED"] and done["attempts"] == []
    # The transitions taken: the retry stays inside Flaky, the Catch leads from Broken.
    assert [r["previous"] for r in states["runs"]] == [None, "Flaky", "Broken"]
    history = app.state_runs.history(arn)
    ids = [e["id"] for e in history]
    assert all(i in ids for run in states["runs"] for i in run["eventIds"])


def test_an_uncaught_failure_ends_the_run_with_the_execution(app: App) -> None:
    arn = _run(app, "u", UNCAUGHT)
    states = app.state_runs.of(arn)
    [run] = states["runs"]
    assert (run["status"], run["error"], run["cause"]) == ("FAILED", "Broke", run["cause"])
    assert run["end"] is not None
    assert [(a["status"], a["end"] is not None) for a in run["attempts"]] == [("FAILED", True)]
    assert states["status"] == {"Broken": "FAILED"}


def test_an_open_run_is_running_and_no_history_is_no_runs() -> None:
    entered: dict[str, JSON] = {
        "id": 2,
        "previousEventId": 1,
        "type": "TaskStateEntered",
        "timestamp": "t",
        "stateEnteredEventDetails": {"name": "A", "input": "{}"},
    }
    assert fold([entered])["status"] == {"A": "RUNNING"}
    assert fold([]) == {"status": {}, "runs": [], "iterations": []}


def test_the_api_and_the_cli_show_the_same_fold(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = _run(app, "m", DEFINITION)
    expected = json.loads(json.dumps(app.state_runs.of(arn)))
    client = TestClient(create_app(app), base_url="http://localhost")
    r = client.get(f"/api/executions/{arn}/states")
    assert r.status_code == 200 and r.json() == expected
    assert client.get("/api/executions/arn:nope/states").status_code in (400, 404)

    for var in ("ELTFLOW_HOME", "ELTFLOW_STATE", "ELTFLOW_WAREHOUSE"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "eltflow.toml").write_text(f'state = "{app.db.url}"\n', "utf-8")
    argv = ["--project-dir", str(tmp_path), "executions", "states", arn]
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == expected
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["SUCCEEDED", "CAUGHT", "SUCCEEDED"]
    assert "1 retry" in lines[0] and "Broke" in lines[1]


NESTED = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Each",
                    "States": {
                        "Each": {
                            "Type": "Map",
                            "ItemsPath": "$.items",
                            "ItemProcessor": {
                                "StartAt": "One",
                                "States": {
                                    "One": {"Type": "Pass", "Next": "Two"},
                                    "Two": {"Type": "Pass", "End": True},
                                },
                            },
                            "End": True,
                        }
                    },
                },
                {"StartAt": "Side", "States": {"Side": {"Type": "Pass", "End": True}}},
            ],
            "End": True,
        }
    },
}


def test_runs_inside_a_map_in_a_parallel_follow_their_event_chains(app: App) -> None:
    app.service.create_state_machine(name="n", definition=NESTED)
    arn = str(
        app.service.start_execution(state_machine_arn="n", input='{"items": [1, 2, 3]}')[
            "executionArn"
        ]
    )
    run_to_end(app, arn)
    states = app.state_runs.of(arn)
    runs = states["runs"]
    assert (
        sorted(r["name"] for r in runs)
        == ["Each", "Fan", "One", "One", "One", "Side"] + ["Two"] * 3
    )
    assert all(r["status"] == "SUCCEEDED" and r["end"] is not None for r in runs)
    # Each iteration's Two follows that iteration's One (its own input), never another's.
    for two in (r for r in runs if r["name"] == "Two"):
        assert two["previous"] == "One"
        one = next(
            r
            for r in runs
            if r["name"] == "One"
            and r["eventIds"][-1] < two["eventIds"][0]
            and r["output"] == two["input"]
        )
        assert one is not None
    firsts = [r["previous"] for r in runs if r["name"] in {"Fan", "Each", "One", "Side"}]
    assert firsts == [None] * len(firsts)  # the first of a (sub)machine follows no state
    # Each run knows its iteration; each iteration its status.
    each = next(i for i, r in enumerate(runs) if r["name"] == "Each")
    ones = [r["iteration"] for r in runs if r["name"] == "One"]
    assert sorted(k[0]["index"] for k in ones) == [0, 1, 2]
    assert all(k == [{"map": "Each", "run": each, "index": k[0]["index"]}] for k in ones)
    assert [r["iteration"] for r in runs if r["name"] in {"Fan", "Each", "Side"}] == [[]] * 3
    assert [(i["map"], i["run"], i["index"], i["status"]) for i in states["iterations"]] == [
        ("Each", each, n, "SUCCEEDED") for n in range(3)
    ]


ITERATED = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 1,
            "ItemProcessor": {
                "StartAt": "Check",
                "States": {
                    "Check": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Good"}],
                        "Default": "Bad",
                    },
                    "Good": {"Type": "Pass", "End": True},
                    "Bad": {"Type": "Fail", "Error": "BadItem"},
                },
            },
            "End": True,
        }
    },
}


def test_a_failed_map_iteration_is_listed_with_its_states(app: App) -> None:
    app.service.create_state_machine(name="it", definition=ITERATED)
    started = app.service.start_execution(
        state_machine_arn="it", input='{"items": [{"ok": true}, {"ok": false}]}'
    )
    arn = str(started["executionArn"])
    run_to_end(app, arn)
    states = app.state_runs.of(arn)
    shown = [(r["name"], r["status"], [k["index"] for k in r["iteration"]]) for r in states["runs"]]
    assert shown == [
        ("Each", "FAILED", []),
        ("Check", "SUCCEEDED", [0]),
        ("Good", "SUCCEEDED", [0]),
        ("Check", "SUCCEEDED", [1]),
        ("Bad", "FAILED", [1]),
    ]
    iterations = [(i["index"], i["status"], i["end"] is not None) for i in states["iterations"]]
    assert iterations == [(0, "SUCCEEDED", True), (1, "FAILED", True)]
