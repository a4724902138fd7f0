"""``eltflow validate`` / ``execute`` / ``example`` as functions of argv."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eltflow.cli import main

GOOD = {
    "StartAt": "P",
    "States": {
        "P": {"Type": "Pass", "Parameters": {"v.$": "$.x"}, "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 600, "End": True},
    },
}
FAILING = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Oops", "Cause": "why"}}}
BAD = {"StartAt": "Missing", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}


def _write(tmp_path: Path, name: str, value: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(value), encoding="utf-8")
    return str(path)


def test_validate_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", _write(tmp_path, "good.json", GOOD)]) == 0
    assert "valid" in capsys.readouterr().out


def test_validate_reports_every_problem_with_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", _write(tmp_path, "bad.json", BAD)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) >= 2
    assert any("/StartAt" in line for line in lines)
    assert any("/States/A/Next" in line for line in lines)


def test_validate_unreadable_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "/nonexistent/def.json"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_execute_json_prints_exactly_one_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "good.json", GOOD)
    code = main(
        ["execute", "--definition", path, "--input", '{"x": 5}', "--json", "--virtual-time"]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert json.loads(out) == {
        "status": "SUCCEEDED",
        "output": {"v": 5},
        "error": None,
        "cause": None,
    }
    assert out.count("\n") == 1


def test_execute_failed_execution_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "fail.json", FAILING)
    assert main(["execute", "--definition", path, "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == {
        "status": "FAILED",
        "output": None,
        "error": "Oops",
        "cause": "why",
    }


def test_execute_summary_lists_states_with_timings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "good.json", GOOD)
    assert main(["execute", "--definition", path, "--input", '{"x": 1}', "--virtual-time"]) == 0
    out = capsys.readouterr().out
    assert "Pass" in out and "Wait" in out
    assert "600000.0 ms" in out
    assert "status: SUCCEEDED" in out


def test_execute_bad_json_input_names_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "good.json", GOOD)
    assert main(["execute", "--definition", path, "--input", "{x: 1}"]) == 2
    err = capsys.readouterr().err
    assert "--input is not valid JSON" in err
    assert "line 1 column 2" in err


def test_execute_invalid_definition_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["execute", "--definition", _write(tmp_path, "bad.json", BAD)]) == 1
    assert "/States/A/Next" in capsys.readouterr().err


def test_example_prints_the_history(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["example"]) == 0
    out = capsys.readouterr().out
    assert "ExecutionStarted" in out
    assert "MapIterationStarted" in out
    assert "ExecutionSucceeded" in out
    assert "Hello, world!" in out


# --- execute --store: the run is recorded in the project's state store ------------------------

STORED = {
    "StartAt": "Greet",
    "States": {
        "Greet": {
            "Type": "Pass",
            "Parameters": {"greeting.$": "States.Format('Hello, {}!', $.who)"},
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$$.Execution.Input.items",
            "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}},
            "ResultPath": "$.items",
            "End": True,
        },
    },
}
STORED_INPUT = '{"who": "Ada", "items": [1, 2]}'


@pytest.fixture
def project(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ELTFLOW_STATE", store_url)
    monkeypatch.delenv("ELTFLOW_HOME", raising=False)
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_execute_store_json_matches_in_memory_and_is_recorded(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(project, "greet.asl.json", STORED)
    base = ["execute", "--definition", path, "--input", STORED_INPUT, "--json"]
    code, memory, _ = _run(capsys, *base)
    assert code == 0
    code, out, err = _run(capsys, "--project-dir", str(project), *base, "--store")
    assert code == 0
    assert out.count("\n") == 1  # exactly one object on stdout...
    assert (
        json.loads(out)
        == json.loads(memory)
        == {
            "status": "SUCCEEDED",
            "output": {"greeting": "Hello, Ada!", "items": [1, 2]},
            "error": None,
            "cause": None,
        }
    )
    arn = err.strip()  # ...and the ARN on stderr
    assert ":execution:greet:" in arn

    code, out, _ = _run(
        capsys, "--project-dir", str(project), "executions", "describe", arn, "--json"
    )
    desc = json.loads(out)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["input"]) == json.loads(STORED_INPUT)
    assert desc["stateMachineArn"].endswith(":stateMachine:greet")


def test_execute_store_summary_prints_the_arn_then_the_states(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(project, "greet.json", STORED)
    argv = ["--project-dir", str(project), "execute", "--definition", path, "--store"]
    code, out, _ = _run(capsys, *argv, "--input", STORED_INPUT, "--name", "first")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].endswith(":execution:greet:first")
    visited = [line.split()[2:4] for line in lines[1:] if line.startswith("  +")]
    assert visited == [["Pass", "Greet"], ["Map", "Each"], ["Pass", "Item"], ["Pass", "Item"]]
    assert "status: SUCCEEDED" in lines
    assert 'output: {"greeting": "Hello, Ada!", "items": [1, 2]}' in lines

    # A changed definition under the same --machine publishes version 2 and runs that.
    other = _write(project, "other.json", FAILING)
    code, out, _ = _run(
        capsys,
        *argv[:4],
        other,
        "--store",
        "--machine",
        "greet",
        "--json",
    )
    assert code == 1
    assert json.loads(out) == {"status": "FAILED", "output": None, "error": "Oops", "cause": "why"}
    code, out, _ = _run(capsys, "--project-dir", str(project), "executions", "list", "--json")
    listed = json.loads(out)["executions"]
    assert sorted(e["status"] for e in listed) == ["FAILED", "SUCCEEDED"]


def test_execute_store_refuses_virtual_time_and_machine_without_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "greet.json", STORED)
    code, _, err = _run(capsys, "execute", "--definition", path, "--store", "--virtual-time")
    assert code == 2 and "--virtual-time" in err
    code, _, err = _run(capsys, "execute", "--definition", path, "--machine", "m")
    assert code == 2 and "--store" in err


def test_machine_name_for_definition_files() -> None:
    from eltflow.cli.asl_commands import machine_name_for

    assert machine_name_for("etl/load.asl.json") == "load"
    assert machine_name_for("/tmp/my job!.json") == "my-job"
    assert machine_name_for(".json") == "adhoc"


def test_execute_without_store_says_how_to_get_the_integrations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    task = {
        "StartAt": "Load",
        "States": {
            "Load": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "run-sql"},
                "End": True,
            }
        },
    }
    assert main(["execute", "--definition", _write(tmp_path, "task.json", task)]) == 1
    captured = capsys.readouterr()
    assert "error:  States.Runtime" in captured.out
    assert "add --store to run it with the project's" in captured.err
    # A failure that has nothing to do with integrations gets no such hint.
    assert main(["execute", "--definition", _write(tmp_path, "fail.json", FAILING)]) == 1
    assert "--store" not in capsys.readouterr().err
