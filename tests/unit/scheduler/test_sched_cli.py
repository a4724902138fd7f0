"""``eltflow schedules ...`` end to end through the CLI entry point, on a real SQLite store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eltflow.app import build_app
from eltflow.cli import main

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def run(project: Path, *argv: str) -> int:
    return main(["--project-dir", str(project), *argv])


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("ELTFLOW_HOME", "ELTFLOW_STATE", "ELTFLOW_WAREHOUSE"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "eltflow.toml").write_text(
        f'state = "sqlite:///{tmp_path / "state.db"}"\n'
        "\n[schedules.refresh]\n"
        'expression = "rate(5 minutes)"\n'
        'state_machine = "etl"\n'
        'input = { JobID = "101" }\n'
        'overlap = "skip"\n'
        "start_date = 2026-01-01T00:00:00Z\n",
        encoding="utf-8",
    )
    app = build_app(state_url=f"sqlite:///{tmp_path / 'state.db'}")
    app.service.create_state_machine(name="etl", definition=PASS)
    app.close()
    return tmp_path


def test_next_prints_iso_timestamps_with_offsets(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "schedules", "next", "cron(30 2 * * ? *)",
            "--from", "2026-03-07T00:00:00", "--tz", "America/New_York", "-n", "3",
        ]
    )  # fmt: skip
    assert code == 0
    # 2:30 doesn't exist on 2026-03-08 in New York: skipped
    assert capsys.readouterr().out.splitlines() == [
        "2026-03-07T02:30:00-05:00",
        "2026-03-09T02:30:00-04:00",
        "2026-03-10T02:30:00-04:00",
    ]


def test_next_of_a_rate_starts_at_from(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["schedules", "next", "rate(1 day)", "--from", "2026-01-01T06:00:00Z", "-n", "2"]) == 0
    )
    assert capsys.readouterr().out.split() == [
        "2026-01-01T06:00:00+00:00",
        "2026-01-02T06:00:00+00:00",
    ]


def test_next_without_from_starts_now(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedules", "next", "cron(* * * * ? *)", "-n", "2"]) == 0
    first, second = (datetime.fromisoformat(s) for s in capsys.readouterr().out.split())
    assert second - first == timedelta(minutes=1)
    assert abs(first - datetime.now(UTC)) < timedelta(minutes=2)


def test_an_invalid_expression_names_the_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedules", "next", "cron(0 10 ? * MON-FRI)"]) == 1
    assert "expected 6 fields" in capsys.readouterr().err
    assert main(["schedules", "next", "cron(0 25 ? * MON-FRI *)"]) == 1
    assert "hours field '25' is out of range 0-23" in capsys.readouterr().err


def test_schedule_lifecycle(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    create = ["schedules", "create", "hourly", "-e", "cron(0 * * * ? *)", "-t", "etl",
              "--tz", "Europe/London", "--input", '{"JobID": "7"}', "--flexible-window", "10",
              "--catchup", "all", "--max-catchup", "3"]  # fmt: skip
    assert run(project, *create) == 0
    capsys.readouterr()
    assert run(project, "schedules", "list", "--json") == 0
    listed = {s["Name"]: s for s in json.loads(capsys.readouterr().out)["Schedules"]}
    assert set(listed) == {"hourly", "refresh"}  # refresh comes from eltflow.toml
    hourly = listed["hourly"]
    assert hourly["ScheduleExpressionTimezone"] == "Europe/London"
    assert hourly["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10}
    assert hourly["Target"] == {"StateMachine": "etl", "Input": '{"JobID": "7"}'}
    assert hourly["NextFire"].endswith((":00:00+00:00", ":00:00+01:00"))
    assert json.loads(listed["refresh"]["Target"]["Input"]) == {"JobID": "101"}
    assert listed["refresh"]["Overlap"] == "skip"

    assert run(project, "schedules", "update", "hourly", "-e", "rate(2 hours)") == 0
    capsys.readouterr()
    assert run(project, "schedules", "pause", "hourly") == 0
    assert run(project, "schedules", "describe", "hourly", "--json", "-n", "2") == 0
    out = capsys.readouterr().out
    described = json.loads(out[out.index("{") :])
    assert described["ScheduleExpression"] == "rate(2 hours)"
    assert described["State"] == "DISABLED"
    assert described["CatchUp"] == "all" and described["MaxCatchUp"] == 3
    # Paused: nothing will fire (the CLI shows what the API shows: one schedules service).
    assert described["NextFires"] == [] and described["LastFires"] == []
    assert run(project, "schedules", "resume", "hourly") == 0
    assert run(project, "schedules", "describe", "hourly", "-n", "2") == 0
    out = capsys.readouterr().out
    assert "State: ENABLED" in out
    assert len(out[out.index("NextFires:") : out.index("LastFires:")].split()) == 3
    assert run(project, "schedules", "delete", "hourly") == 0
    capsys.readouterr()
    assert run(project, "schedules", "describe", "hourly") == 1
    assert "schedule 'hourly' does not exist" in capsys.readouterr().err


def test_pausing_a_declared_schedule_sticks_until_the_toml_changes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "schedules", "pause", "refresh") == 0
    assert run(project, "schedules", "list") == 0
    assert "refresh\tDISABLED" in capsys.readouterr().out
    toml = project / "eltflow.toml"
    toml.write_text(toml.read_text().replace("rate(5 minutes)", "rate(10 minutes)"))
    assert run(project, "schedules", "list") == 0
    assert "refresh\tENABLED\trate(10 minutes)" in capsys.readouterr().out


def test_bad_input_is_refused_with_the_reason(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "schedules", "create", "x", "-e", "rate(5 minutes)", "-t", "etl",
               "--input", "{not json") == 1  # fmt: skip
    assert "schedule 'x': input is not valid JSON" in capsys.readouterr().err
    assert run(project, "schedules", "create", "x", "-e", "rate(5 minutes)", "-t", "etl",
               "--flexible-window", "2000") == 1  # fmt: skip
    assert "MaximumWindowInMinutes must be a whole number 1-1440" in capsys.readouterr().err
    assert run(project, "schedules", "create", "x", "-e", "rate(5 minutes)", "-t", "etl",
               "--tz", "Mars/Olympus") == 1  # fmt: skip
    assert "unknown time zone 'Mars/Olympus'" in capsys.readouterr().err
    assert run(project, "schedules", "create", "x", "-e", "rate(5 minutes)") == 1
    assert "needs --target" in capsys.readouterr().err
    assert run(project, "schedules", "create", "x", "-e", "rate(5 minutes)", "-t", "nosuch") == 1
    err = capsys.readouterr().err
    assert "ResourceNotFoundException: Target state machine" in err
    assert ":stateMachine:nosuch does not exist" in err
    assert run(project, "schedules", "list", "--json") == 0
    assert "x" not in {s["Name"] for s in json.loads(capsys.readouterr().out)["Schedules"]}
    assert run(project, "schedules", "update", "refresh", "-t", "nosuch") == 1
    assert "nosuch does not exist" in capsys.readouterr().err
    toml = project / "eltflow.toml"
    toml.write_text(toml.read_text() + 'expresion = "x"\n')
    assert run(project, "schedules", "list") == 2  # configuration: like a usage error
    err = capsys.readouterr().err
    assert "[schedules.refresh]: unknown key 'expresion'; did you mean 'expression'?" in err


def test_backfill_starts_real_executions_once(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["schedules", "backfill", "refresh", "--from", "2026-01-01T00:00:00Z",
            "--to", "2026-01-01T00:20:00Z", "--json"]  # fmt: skip
    assert run(project, *args) == 0
    fires = json.loads(capsys.readouterr().out)["Fires"]
    assert [f["ExecutionName"] for f in fires] == [
        f"sched-refresh-20260101T00{m:02d}00Z" for m in (0, 5, 10, 15, 20)
    ]
    assert {f["Status"] for f in fires} == {"STARTED"}
    assert run(project, *args) == 0  # again: nothing new
    assert [f["Status"] for f in json.loads(capsys.readouterr().out)["Fires"]] == ["STARTED"] * 5
    app = build_app(state_url=f"sqlite:///{project / 'state.db'}")
    listed = app.service.list_executions(state_machine_arn="etl")
    app.close()
    assert len(listed["executions"]) == 5  # type: ignore[arg-type]


def test_run_once_fires_a_new_rate_schedule_immediately(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "schedules", "create", "now", "-e", "rate(1 hour)", "-t", "etl") == 0
    capsys.readouterr()
    assert run(project, "schedules", "run", "--once", "--json") == 0
    fires = json.loads(capsys.readouterr().out)["Fires"]
    assert [(f["Schedule"], f["Status"]) for f in fires] == [("now", "STARTED")]
    assert run(project, "schedules", "run", "--once", "--json") == 0
    assert json.loads(capsys.readouterr().out)["Fires"] == []
    assert run(project, "schedules", "describe", "now", "--json") == 0
    out = capsys.readouterr().out
    last = json.loads(out[out.index("{") :])["LastFires"]
    assert [f["Status"] for f in last] == ["STARTED"]
