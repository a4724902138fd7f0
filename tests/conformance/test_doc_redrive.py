"""Redrive semantics from the AWS documentation, through the durable runtime.

RedriveExecution (API reference, https://docs.aws.amazon.com/step-functions/latest/apireference/
API_RedriveExecution.html): "it continues the failed execution from the unsuccessful step and
uses the same input. Step Functions preserves the results and execution history of the
successful steps, and doesn't rerun these steps"; "For workflows that include an Inline Map or
Parallel state, RedriveExecution API action reschedules and redrives only the iterations and
branches that failed or aborted."
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from eltflow.app import App, build_app
from eltflow.clock import VirtualClock
from eltflow.errors import StatesError
from eltflow.types import JSON

PREFIX = "arn:aws:lambda:us-east-1:123456789012:function:"


@pytest.fixture
def app(store_url: str) -> Iterator[App]:
    app = build_app(state_url=store_url, clock=VirtualClock())
    yield app
    app.close()


def _tasks(app: App, broken: set[str]) -> Counter[str]:
    """``step`` tasks that count their calls and fail while their key is in ``broken``."""
    calls: Counter[str] = Counter()

    def step(params: JSON) -> JSON:
        key = str(params["key"]) if isinstance(params, dict) else "?"
        calls[key] += 1
        if key in broken:
            raise StatesError("Step.Broken", f"{key} is broken")
        return {"done": key}

    app.register(PREFIX + "step", step)
    return calls


def _task(key: str, **extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": PREFIX + "step", "Parameters": {"key": key}, **extra}


def _fail_then_redrive(app: App, definition: dict[str, Any], input: str = "{}") -> dict[str, Any]:
    app.service.create_state_machine(name="m", definition=definition)
    arn = str(app.service.start_execution(state_machine_arn="m", input=input)["executionArn"])
    app.worker().run(until_idle=True)
    assert app.service.describe_execution(execution_arn=arn)["status"] == "FAILED"
    return {"arn": arn}


def test_redrive_reruns_only_the_failed_parallel_branch(app: App) -> None:
    broken = {"b"}
    calls = _tasks(app, broken)
    definition = {
        "StartAt": "First",
        "States": {
            "First": _task("first", ResultPath=None, Next="Both"),
            "Both": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {"StartAt": "A", "States": {"A": _task("a", End=True)}},
                    {"StartAt": "B", "States": {"B": _task("b", End=True)}},
                ],
            },
        },
    }
    arn = _fail_then_redrive(app, definition)["arn"]
    broken.clear()  # the fix
    app.service.redrive_execution(execution_arn=arn)
    app.worker().run(until_idle=True)
    desc = app.service.describe_execution(execution_arn=arn)
    assert desc["status"] == "SUCCEEDED" and desc["redriveCount"] == 1
    assert json.loads(str(desc["output"])) == [{"done": "a"}, {"done": "b"}]
    assert calls == Counter({"first": 1, "a": 1, "b": 2})


def test_redrive_reruns_only_the_failed_inline_map_iterations(app: App) -> None:
    broken = {"2"}
    calls = _tasks(app, broken)
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "End": True,
                "ItemsPath": "$.items",
                "MaxConcurrency": 1,  # in order: 1 succeeds, 2 fails, 3 never starts
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Do",
                    "States": {
                        "Do": {
                            "Type": "Task",
                            "Resource": PREFIX + "step",
                            "Parameters": {"key.$": "States.Format('{}', $)"},
                            "End": True,
                        }
                    },
                },
            }
        },
    }
    arn = _fail_then_redrive(app, definition, '{"items": [1, 2, 3]}')["arn"]
    assert calls == Counter({"1": 1, "2": 1})
    broken.clear()
    app.service.redrive_execution(execution_arn=arn)
    app.worker().run(until_idle=True)
    desc = app.service.describe_execution(execution_arn=arn)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(str(desc["output"])) == [{"done": "1"}, {"done": "2"}, {"done": "3"}]
    # The failed iteration ran again and the one never started ran; the succeeded one did not.
    assert calls == Counter({"1": 1, "2": 2, "3": 1})
