"""Nested workflows (``states:startExecution``) through the durable runtime: request-response,
``.sync`` (Output as a JSON string), ``.sync:2`` (Output as JSON), ``.waitForTaskToken``, a
failed child, the parent link in the child's input, and stopping the parent stopping its
``.sync`` child."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from eltflow.app import App, build_app
from eltflow.integrations.states import parent_of
from eltflow.runtime import arns

CHILD = {
    "StartAt": "Double",
    "States": {
        "Double": {
            "Type": "Pass",
            "Parameters": {"n.$": "States.MathAdd($.n, $.n)", "parent.$": "$.parent"},
            "End": True,
        }
    },
}
FAILING = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Child.Bad", "Cause": "no"}}}
WAITING = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
# Waits for an activity worker that never comes, with no timer: the worker goes idle.
PARKED = {
    "StartAt": "A",
    "States": {"A": {"Type": "Task", "Resource": f"{arns.PREFIX}:activity:nobody", "End": True}},
}


@pytest.fixture
def app(store_url: str) -> Iterator[App]:
    app = build_app(state_url=store_url)
    yield app
    app.close()


def _parent(resource_suffix: str, child: str, **task: Any) -> dict[str, Any]:
    return {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": f"arn:aws:states:::states:startExecution{resource_suffix}",
                "Parameters": {
                    "StateMachineArn": arns.machine_arn(child),
                    "Input": {
                        "n": 21,
                        "parent.$": "$$.Execution.Id",
                        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
                    },
                },
                "End": True,
                **task,
            }
        },
    }


def _run(app: App, child_definition: dict[str, Any], parent: dict[str, Any]) -> dict[str, Any]:
    app.service.create_state_machine(name="child", definition=child_definition)
    app.service.create_state_machine(name="parent", definition=parent)
    arn = app.service.start_execution(state_machine_arn="parent")["executionArn"]
    app.worker(poll_seconds=0.01).run(until_idle=True)
    out: dict[str, Any] = app.service.describe_execution(execution_arn=str(arn))
    return out


def test_sync_returns_the_child_description_with_output_as_a_string(app: App) -> None:
    parent = _run(app, CHILD, _parent(".sync", "child"))
    assert parent["status"] == "SUCCEEDED", parent
    out = json.loads(parent["output"])
    assert out["Status"] == "SUCCEEDED" and isinstance(out["Output"], str)
    assert json.loads(out["Output"]) == {"n": 42, "parent": parent["executionArn"]}
    assert out["OutputDetails"] == {"Included": True}
    assert out["StateMachineArn"] == arns.machine_arn("child")
    assert isinstance(out["StartDate"], int) and isinstance(out["StopDate"], int)
    # The child carries its parent's id as AWS's nested-workflow docs pass it.
    assert parent_of(out["Input"]) == parent["executionArn"]


def test_sync_2_returns_output_as_json(app: App) -> None:
    parent = _run(app, CHILD, _parent(".sync:2", "child"))
    out = json.loads(parent["output"])
    assert out["Output"] == {"n": 42, "parent": parent["executionArn"]}


def test_request_response_returns_at_once(app: App) -> None:
    parent = _run(app, PARKED, _parent("", "child"))
    out = json.loads(parent["output"])
    assert set(out) == {"ExecutionArn", "StartDate"}
    child = app.service.describe_execution(execution_arn=out["ExecutionArn"])
    assert child["status"] == "RUNNING"  # the parent did not wait for it


def test_a_failed_child_fails_a_sync_task_with_its_description(app: App) -> None:
    definition = _parent(
        ".sync", "child", Catch=[{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}]
    )
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}
    parent = _run(app, FAILING, definition)
    assert parent["status"] == "SUCCEEDED"
    caught = json.loads(parent["output"])
    assert caught["Error"] == "States.TaskFailed"
    cause = json.loads(caught["Cause"])
    assert (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "Child.Bad", "no")


def test_wait_for_task_token_starts_the_child_and_waits_for_the_token(app: App) -> None:
    definition = _parent(".waitForTaskToken", "child")
    params = definition["States"]["Call"]["Parameters"]
    params["Input"]["token.$"] = "$$.Task.Token"
    child_def = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    parent = _run(app, child_def, definition)
    assert parent["status"] == "RUNNING"
    listed: Any = app.service.list_executions(state_machine_arn="child")["executions"]
    assert len(listed) == 1
    child = app.service.describe_execution(execution_arn=str(listed[0]["executionArn"]))
    token = json.loads(str(child["output"]))["token"]
    app.service.send_task_success(task_token=token, output='{"from": "child"}')
    app.worker(poll_seconds=0.01).run(until_idle=True)
    done = app.service.describe_execution(execution_arn=parent["executionArn"])
    assert done["status"] == "SUCCEEDED" and json.loads(str(done["output"])) == {"from": "child"}


def test_stopping_the_parent_stops_its_sync_child(app: App) -> None:
    app.service.create_state_machine(name="child", definition=WAITING)
    app.service.create_state_machine(name="parent", definition=_parent(".sync", "child"))
    parent = str(app.service.start_execution(state_machine_arn="parent")["executionArn"])

    def children() -> list[Any]:
        found = app.service.list_executions(state_machine_arn="child")["executions"]
        assert isinstance(found, list)
        return found

    stopped: list[bool] = []

    def stop_parent_once_child_runs() -> bool:
        if children() and not stopped:
            app.service.stop_execution(execution_arn=parent)
            stopped.append(True)
        return bool(children()) and children()[0]["status"] != "RUNNING"

    app.worker(poll_seconds=0.01).run(until=stop_parent_once_child_runs)
    assert app.service.describe_execution(execution_arn=parent)["status"] == "ABORTED"
    assert children()[0]["status"] == "ABORTED"
