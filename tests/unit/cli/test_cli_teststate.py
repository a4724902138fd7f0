"""``eltflow test-state`` as a function of argv: TestState's response, mocks, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eltflow.cli import main

TASK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::states:startExecution",
    "Parameters": {"StateMachineArn.$": "$.arn", "Input.$": "$limit"},
    "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 1}],
    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Handle"}],
    "Next": "Wait",
}
MACHINE = {
    "StartAt": "T",
    "States": {"T": TASK, "Wait": {"Type": "Succeed"}, "Handle": {"Type": "Fail"}},
}
STARTED = '{"ExecutionArn": "x", "StartDate": "2025-11-26T00:00:00Z"}'


def _write(tmp_path: Path, name: str, value: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(value), encoding="utf-8")
    return str(path)


def test_json_prints_the_aws_response(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["test-state", _write(tmp_path, "m.json", MACHINE), "--state-name", "T"]
    args += ["--input", '{"arn": "a"}', "--variables", '{"limit": 3}', "--mock-result", STARTED]
    assert main([*args, "--inspection-level", "debug", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["status"], out["nextState"]) == ("SUCCEEDED", "Wait")
    assert json.loads(out["inspectionData"]["afterParameters"]) == {
        "StateMachineArn": "a",
        "Input": 3,
    }
    assert json.loads(out["inspectionData"]["variables"]) == {"limit": 3}


def test_mocked_errors_and_retry_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = _write(tmp_path, "t.json", TASK)
    base = ["test-state", state, "--input", "@" + _write(tmp_path, "in.json", {"arn": "a"})]
    base += ["--variables", '{"limit": 1}', "--mock-error", "Boom", "--mock-cause", "c", "--json"]
    assert main(base) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "RETRIABLE"
    assert main([*base, "--retrier-retry-count", "1"]) == 0
    caught = json.loads(capsys.readouterr().out)
    assert (caught["status"], caught["nextState"]) == ("CAUGHT_ERROR", "Handle")
    assert json.loads(caught["output"])["err"] == {"Error": "Boom", "Cause": "c"}


def test_a_failed_state_exits_1_and_prints_its_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fail = _write(tmp_path, "f.json", {"Type": "Fail", "Error": "Oops", "Cause": "why"})
    assert main(["test-state", fail]) == 1
    out = capsys.readouterr().out
    assert "status: FAILED" in out and "error: Oops" in out and "cause: why" in out


def test_refusals_carry_aws_words_and_bad_json_is_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = _write(tmp_path, "t.json", TASK)
    assert main(["test-state", state, "--input", '{"arn": "a"}', "--mock-result", "{}"]) == 1
    assert (
        "ValidationException: Mock result schema validation error: Required field "
        "'ExecutionArn' is missing" in capsys.readouterr().err
    )
    mode = ["--field-validation-mode", "present", "--variables", '{"limit": 1}']
    assert main(["test-state", state, "--input", '{"arn": "a"}', "--mock-result", "{}", *mode]) == 0
    capsys.readouterr()
    assert main(["test-state", state, "--input", "{nope"]) == 2
    assert "--input is not valid JSON" in capsys.readouterr().err


def test_an_unmocked_pass_does_not_open_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    state = _write(tmp_path, "p.json", {"Type": "Pass", "Result": 1, "End": True})
    assert main(["--project-dir", str(tmp_path), "test-state", state]) == 0
    assert "output: 1" in capsys.readouterr().out
    assert not (tmp_path / ".eltflow").exists()
