"""The test kit: a Step Functions Local mock file drives a definition's Task states per test
case (Return, Throw, invocation ranges), through the pytest plugin's ``sfn_run`` fixture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from eltflow.testing import MockConfig, MockError, state_output, states_entered

ROOT = Path(__file__).resolve().parents[3]
CHARGE = "arn:aws:states:::lambda:invoke"
DEFINITION = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": CHARGE,
            "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
            "ResultSelector": {"charged.$": "$.Payload.charged"},
            "Retry": [
                {
                    "ErrorEquals": ["Lambda.TooManyRequestsException"],
                    "IntervalSeconds": 2,
                    "MaxAttempts": 3,
                }
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Refund"}],
            "Next": "Ship",
        },
        "Ship": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:ship", "Message": "go"},
            "End": True,
        },
        "Refund": {"Type": "Pass", "End": True},
    },
}
MOCKS = {
    "StateMachines": {
        "Orders": {
            "TestCases": {
                "HappyPath": {"Charge": "ChargeOk", "Ship": "Published"},
                "RetryPath": {"Charge": "ChargeBusyThenOk", "Ship": "Published"},
                "FailPath": {"Charge": "ChargeDeclined"},
            }
        }
    },
    "MockedResponses": {
        "ChargeOk": {"0": {"Return": {"StatusCode": 200, "Payload": {"charged": True}}}},
        "ChargeBusyThenOk": {
            "0-1": {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "busy"}},
            "2": {"Return": {"StatusCode": 200, "Payload": {"charged": True}}},
        },
        "ChargeDeclined": {"0": {"Throw": {"Error": "Card.Declined", "Cause": "no funds"}}},
        "Published": {"0": {"Return": {"MessageId": "m-1"}}},
    },
}


@pytest.fixture
def mock_file(tmp_path: Path) -> str:
    path = tmp_path / "MockConfigFile.json"
    path.write_text(json.dumps(MOCKS), encoding="utf-8")
    return str(path)


def test_happy_path(sfn_run: Callable[..., Any], mock_file: str) -> None:
    result = sfn_run(
        DEFINITION,
        {"order": 1},
        state_machine="Orders",
        test_case="HappyPath",
        mock_config=mock_file,
    )
    assert result.status == "SUCCEEDED"
    assert result.output == {"MessageId": "m-1"}
    assert states_entered(result) == ["Charge", "Ship"]
    assert state_output(result, "Charge") == {"charged": True}


def test_retry_path_answers_by_invocation_range(
    sfn_run: Callable[..., Any], mock_file: str
) -> None:
    result = sfn_run(
        DEFINITION, {}, state_machine="Orders", test_case="RetryPath", mock_config=mock_file
    )
    assert result.status == "SUCCEEDED"
    failures = [e for e in result.history if e.type == "TaskFailed"]
    assert len(failures) == 2  # invocations 0 and 1 threw, 2 returned
    # The retries waited their IntervalSeconds on the virtual clock.
    scheduled = [e.timestamp for e in result.history if e.type == "TaskScheduled"]
    # Charge three times (Ship is the fourth): 2 s, then 4 s (BackoffRate defaults to 2.0).
    assert [(b - a).total_seconds() for a, b in pairwise(scheduled[:3])] == [2.0, 4.0]


def test_throw_is_caught_and_unmocked_states_say_so(
    sfn_run: Callable[..., Any], mock_file: str
) -> None:
    result = sfn_run(
        DEFINITION, {"o": 1}, state_machine="Orders", test_case="FailPath", mock_config=mock_file
    )
    assert result.status == "SUCCEEDED"
    assert result.output == {"o": 1, "error": {"Error": "Card.Declined", "Cause": "no funds"}}
    assert states_entered(result) == ["Charge", "Refund"]


def test_the_plugin_loads_by_its_entry_point_name_and_reads_the_option(
    tmp_path: Path, mock_file: str
) -> None:
    """A user's test session: the plugin by the name its pytest11 entry point registers, the
    mock file from --sfn-mock-config."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    plugin = "eltflow.testing.plugin"
    assert pyproject["project"]["entry-points"]["pytest11"] == {plugin: plugin}
    (tmp_path / "orders.asl.json").write_text(json.dumps(DEFINITION), encoding="utf-8")
    (tmp_path / "test_orders.py").write_text(
        "import json, pathlib\n\n"
        "def test_orders(sfn_run):\n"
        "    definition = pathlib.Path(__file__).with_name('orders.asl.json').read_text()\n"
        "    result = sfn_run(definition, {}, state_machine='Orders', test_case='HappyPath')\n"
        "    assert result.status == 'SUCCEEDED', result.cause\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            plugin,
            "-p",
            "no:cacheprovider",
            "--sfn-mock-config",
            mock_file,
            str(tmp_path / "test_orders.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_bad_mock_files_say_where() -> None:
    with pytest.raises(MockError, match=r"MockedResponses\.X\.a"):
        MockConfig.load({"MockedResponses": {"X": {"a": {"Return": 1}}}})
    with pytest.raises(MockError, match="exactly one of Return or Throw"):
        MockConfig.load({"MockedResponses": {"X": {"0": {}}}})
    with pytest.raises(MockError, match="does not define"):
        MockConfig.load({"StateMachines": {"M": {"TestCases": {"T": {"S": "Nope"}}}}})
    config = MockConfig.load(MOCKS)
    with pytest.raises(MockError, match=r"Orders\.HappyPath"):
        config.case("Orders", "Missing")
