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
