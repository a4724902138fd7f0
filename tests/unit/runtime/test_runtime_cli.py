"""The runtime CLI end to end (in process), on both stores via ELTFLOW_STATE."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eltflow.cli import main

ADD_ONE = {
    "StartAt": "W",
    "States": {
        "W": {"Type": "Wait", "Seconds": 0, "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "End": True},
    },
}


@pytest.fixture
def project(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ELTFLOW_STATE", store_url)
    monkeypatch.delenv("ELTFLOW_HOME", raising=False)
    (tmp_path / "add.json").write_text(json.dumps(ADD_ONE), encoding="utf-8")
    return tmp_path


def _cli(project: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--project-dir", str(project), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_machines_start_wait_describe_history(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = str(project / "add.json")
    code, out, _ = _cli(project, capsys, "machines", "create", "add", "--definition", definition)
    assert code == 0 and out.strip().endswith(":stateMachine:add")
    code, out, _ = _cli(project, capsys, "machines", "list", "--json")
    assert [m["name"] for m in json.loads(out)["stateMachines"]] == ["add"]
    code, out, _ = _cli(project, capsys, "machines", "update", "add", "--definition", definition)
    assert code == 0 and out.strip().endswith(":add:2")

    code, out, _ = _cli(project, capsys, "start", "add", "--input", '{"n": 41}', "--wait")
    arn, result = out.strip().splitlines()
    assert code == 0 and ":execution:add:" in arn and json.loads(result) == {"n": 42}

    code, out, _ = _cli(project, capsys, "executions", "describe", arn, "--json")
    desc = json.loads(out)
    assert desc["status"] == "SUCCEEDED" and desc["redriveCount"] == 0
    code, out, _ = _cli(project, capsys, "executions", "history", arn, "--json")
    types = [e["type"] for e in json.loads(out)["events"]]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    code, out, _ = _cli(project, capsys, "executions", "list", "--json", "--status", "SUCCEEDED")
    assert [e["executionArn"] for e in json.loads(out)["executions"]] == [arn]


def test_start_without_worker_says_how_to_run_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _cli(project, capsys, "machines", "create", "add", "--definition", str(project / "add.json"))
    code, out, err = _cli(project, capsys, "start", "add", "--name", "later", "--input", '{"n":1}')
    assert code == 0 and out.strip().endswith(":execution:add:later")
    assert "eltflow worker" in err
    code, _, err = _cli(project, capsys, "worker", "--until-idle")
    assert code == 0 and "claimed 1 executions" in err
    code, out, _ = _cli(project, capsys, "executions", "describe", out.strip())
    assert "status: SUCCEEDED" in out


def test_stop_redrive_and_errors(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wait = project / "wait.json"
    wait.write_text(
        json.dumps(
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}
        ),
        encoding="utf-8",
    )
    _cli(project, capsys, "machines", "create", "w", "--definition", str(wait))
    _, out, _ = _cli(project, capsys, "start", "w", "--name", "x")
    arn = out.strip()
    code, out, _ = _cli(project, capsys, "stop", arn, "--error", "E", "--cause", "C")
    assert code == 0 and out.startswith("stopped at")
    _, out, _ = _cli(project, capsys, "executions", "describe", arn, "--json")
    assert json.loads(out)["status"] == "ABORTED"
    code, out, _ = _cli(project, capsys, "redrive", arn)
    assert code == 0 and out.startswith("redriven at")
    _, out, _ = _cli(project, capsys, "executions", "describe", arn, "--json")
    assert json.loads(out)["status"] == "RUNNING" and json.loads(out)["redriveCount"] == 1
    code, _, err = _cli(project, capsys, "start", "w", "--name", "x", "--input", '{"other": 1}')
    assert code == 1 and "ExecutionAlreadyExists" in err
    code, _, err = _cli(project, capsys, "executions", "describe", arn + "nope")
    assert code == 1 and "ExecutionDoesNotExist" in err
    bad = project / "bad.json"
    bad.write_text('{"StartAt": "Nope", "States": {}}', encoding="utf-8")
    code, _, err = _cli(project, capsys, "machines", "create", "bad", "--definition", str(bad))
    assert code == 1 and "Invalid state machine definition" in err
    code, _, _ = _cli(project, capsys, "machines", "delete", "w")
    assert code == 0


def test_machines_create_fills_placeholders(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = project / "tmpl.json"
    template.write_text(
        '{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "${Greeting}", "End": true}}}',
        encoding="utf-8",
    )
    code, _, err = _cli(project, capsys, "machines", "create", "t", "--definition", str(template))
    assert code == 1 and "UNRESOLVED_SUBSTITUTION at /States/P/Result" in err
    code, out, _ = _cli(
        project,
        capsys,
        "machines",
        "create",
        "t",
        "--definition",
        str(template),
        "--substitution",
        "Greeting=hi",
    )
    assert code == 0
    code, out, _ = _cli(project, capsys, "machines", "describe", "t", "--json")
    assert json.loads(json.loads(out)["definition"])["States"]["P"]["Result"] == "hi"


def test_task_token_round_trip_from_the_cli(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A real local Lambda function (the project's eltflow.toml) that keeps the token it gets.
    (project / "cb_handlers.py").write_text(
        "from pathlib import Path\n\n"
        "def keep(event, context):\n"
        "    Path(event['out']).write_text(event['token'])\n"
        "    return {'kept': True}\n",
        encoding="utf-8",
    )
    (project / "eltflow.toml").write_text(
        '[lambda.functions]\nKeepToken = "cb_handlers:keep"\n', encoding="utf-8"
    )
    token_file = project / "token.txt"
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {
                    "FunctionName": "KeepToken",
                    "Payload": {"token.$": "$$.Task.Token", "out": str(token_file)},
                },
                "End": True,
            }
        },
    }
    (project / "cb.json").write_text(json.dumps(definition), encoding="utf-8")
    assert (
        _cli(project, capsys, "machines", "create", "cb", "--definition", str(project / "cb.json"))[
            0
        ]
        == 0
    )
    code, out, _ = _cli(project, capsys, "start", "cb")
    arn = out.strip()
    assert code == 0
    # The worker makes the call and leaves the task waiting for its token.
    _cli(project, capsys, "worker", "--until-idle")
    token = token_file.read_text(encoding="utf-8")
    code, out, _ = _cli(project, capsys, "executions", "describe", arn, "--json")
    assert json.loads(out)["status"] == "RUNNING"

    assert _cli(project, capsys, "tasks", "heartbeat", token)[0] == 0
    code, out, _ = _cli(project, capsys, "tasks", "success", token, "--output", '{"n": 1}')
    assert (code, out.strip()) == (0, "task succeeded")
    _cli(project, capsys, "worker", "--until-idle")
    code, out, _ = _cli(project, capsys, "executions", "describe", arn, "--json")
    desc = json.loads(out)
    assert desc["status"] == "SUCCEEDED" and json.loads(desc["output"]) == {"n": 1}
    code, _, err = _cli(project, capsys, "tasks", "failure", token, "--error", "E")
    assert code == 1 and "TaskTimedOut" in err


def test_map_runs_from_the_cli(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fan = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "P",
                    "States": {"P": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }
    (project / "fan.json").write_text(json.dumps(fan), encoding="utf-8")
    _cli(project, capsys, "machines", "create", "fan", "--definition", str(project / "fan.json"))
    code, out, _ = _cli(project, capsys, "start", "fan", "--input", "[1, 2, 3]", "--wait")
    parent, result = out.strip().splitlines()
    assert code == 0 and json.loads(result) == [1, 2, 3]
    code, out, _ = _cli(project, capsys, "map-runs", "list", parent, "--json")
    (run,) = json.loads(out)["mapRuns"]
    code, out, _ = _cli(project, capsys, "map-runs", "describe", run["mapRunArn"])
    assert code == 0 and "status: SUCCEEDED" in out and "succeeded 3" in out
    code, out, _ = _cli(
        project, capsys, "executions", "list", "--map-run-arn", run["mapRunArn"], "--json"
    )
    children = json.loads(out)["executions"]
    assert len(children) == 3 and {c["status"] for c in children} == {"SUCCEEDED"}
    # Listed by their Map Run only: the executions list shows the parent alone.
    code, out, _ = _cli(project, capsys, "executions", "list", "--json")
    assert [e["executionArn"] for e in json.loads(out)["executions"]] == [parent]
    code, _, err = _cli(project, capsys, "map-runs", "describe", "arn:aws:states:x")
    assert code != 0 and "InvalidArn" in err


def test_express_machine_from_the_cli(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    definition = str(project / "add.json")
    code, _, _ = _cli(
        project,
        capsys,
        "machines",
        "create",
        "fast",
        "--definition",
        definition,
        "--type",
        "EXPRESS",
    )
    assert code == 0
    code, out, _ = _cli(project, capsys, "start-sync", "fast", "--input", '{"n": 1}', "--json")
    answer = json.loads(out)
    assert (
        code == 0 and answer["status"] == "SUCCEEDED" and json.loads(answer["output"]) == {"n": 2}
    )
    assert ":express:fast:" in answer["executionArn"]
    code, out, _ = _cli(project, capsys, "start", "fast", "--input", '{"n": 5}', "--wait")
    assert code == 0 and json.loads(out) == {"n": 6}
    # Without --wait it runs here (nothing records it for a worker) and ends with the command.
    code, out, err = _cli(project, capsys, "start", "fast", "--input", '{"n": 5}')
    assert code == 0 and ":express:fast:" in out and "no worker" not in err
