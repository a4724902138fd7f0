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
from eltflow.integrations.base import TaskRequest
from eltflow.integrations.states import START_EXECUTION, StartExecutionIntegration, parent_of
from eltflow.runtime import arns
from eltflow.types import JSON

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
    # StartExecution's response as AWS's recorded histories show it (LocalStack's
    # test_sfn_task_service snapshot): keys in this order, the SDK's HTTP metadata included.
    assert list(out) == ["ExecutionArn", "SdkHttpMetadata", "SdkResponseMetadata", "StartDate"]
    assert out["SdkHttpMetadata"]["HttpStatusCode"] == 200 and isinstance(out["StartDate"], int)
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


def _task_events(app: App, arn: str) -> list[dict[str, Any]]:
    events: Any = app.service.get_execution_history(execution_arn=arn)["events"]
    return [e for e in events if str(e["type"]).startswith("Task")]


@pytest.mark.parametrize("pattern", [".sync", ".sync:2"])
def test_sync_records_the_started_child_as_submitted_before_its_outcome(
    app: App, pattern: str
) -> None:
    """AWS's order and shape (LocalStack's test_callback recordings of startExecution.sync and
    .sync:2): TaskSubmitted with StartExecution's response follows TaskStarted."""
    parent = _run(app, CHILD, _parent(pattern, "child"))
    assert parent["status"] == "SUCCEEDED"
    events = _task_events(app, parent["executionArn"])
    assert [(e["type"], e["id"] - e["previousEventId"]) for e in events] == [
        ("TaskStateEntered", 2),  # the first state: id 2, previousEventId 0, as AWS records
        ("TaskScheduled", 1),
        ("TaskStarted", 1),
        ("TaskSubmitted", 1),
        ("TaskSucceeded", 1),
        ("TaskStateExited", 1),
    ]
    details = events[3]["taskSubmittedEventDetails"]
    assert (details["resourceType"], details["resource"]) == ("states", f"startExecution{pattern}")
    assert details["outputDetails"] == {"truncated": False}
    response = json.loads(details["output"])
    assert list(response) == ["ExecutionArn", "SdkHttpMetadata", "SdkResponseMetadata", "StartDate"]
    done = json.loads(events[4]["taskSucceededEventDetails"]["output"])
    assert response["ExecutionArn"] == done["ExecutionArn"]
    assert response["StartDate"] == done["StartDate"]


def test_a_wait_for_task_token_child_stays_linked_once_the_token_answered(app: App) -> None:
    """The task's result is the token's answer, which names no child, and its row is gone once
    the call is made: the link comes from the TaskSubmitted event (StartExecution's response)."""
    definition = _parent(".waitForTaskToken", "child")
    definition["States"]["Call"]["Parameters"]["Input"]["token.$"] = "$$.Task.Token"
    child_def = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    parent = _run(app, child_def, definition)
    arn = str(parent["executionArn"])
    [waiting] = app.nested.of(arn)["children"]
    assert waiting["stateName"] == "Call" and ":execution:child:" in waiting["executionArn"]
    child = app.service.describe_execution(execution_arn=waiting["executionArn"])
    token = json.loads(str(child["output"]))["token"]
    app.service.send_task_success(task_token=token, output='{"from": "child"}')
    app.worker(poll_seconds=0.01).run(until_idle=True)
    assert app.service.describe_execution(execution_arn=arn)["status"] == "SUCCEEDED"
    [linked] = app.nested.of(arn)["children"]
    assert (linked["executionArn"], linked["status"]) == (waiting["executionArn"], "SUCCEEDED")
    back = app.nested.of(linked["executionArn"])["parent"]
    assert back is not None and back["executionArn"] == arn


def test_a_resumed_sync_task_reports_its_child_again(app: App) -> None:
    """After a crash the task re-attaches to the checkpointed child and reports it as
    submitted again (the interpreter records it once): no second child is started."""
    app.service.create_state_machine(name="child", definition=CHILD)
    child = str(
        app.service.start_execution(state_machine_arn="child", input='{"n": 1, "parent": null}')[
            "executionArn"
        ]
    )
    app.worker(poll_seconds=0.01).run(until_idle=True)
    reports: list[JSON] = []
    integration = StartExecutionIntegration(app.service)
    result = integration(
        TaskRequest(
            resource=f"{START_EXECUTION}.sync:2",
            parameters={"StateMachineArn": arns.machine_arn("child")},
            recorded=child,
            submitted=reports.append,
        )
    )
    assert [r["ExecutionArn"] for r in reports] == [child]  # type: ignore[index,call-overload]
    assert isinstance(result, dict) and result["Output"] == {"n": 2, "parent": None}
    assert len(app.service.list_executions(state_machine_arn="child")["executions"]) == 1  # type: ignore[arg-type]


def test_a_sync_task_stays_to_run_after_its_submission_is_recorded(app: App) -> None:
    """The submission is reported while the task polls its child: recording it must not take
    the task off the run queue (a worker dying then leaves it to be run again, re-attaching),
    nor record it twice; the console links the child from it meanwhile."""
    app.service.create_state_machine(name="child", definition=WAITING)
    app.service.create_state_machine(name="parent", definition=_parent(".sync", "child"))
    parent = str(app.service.start_execution(state_machine_arn="parent")["executionArn"])
    row = app.store.get_execution_by_arn(parent)
    assert row is not None
    seen: dict[str, Any] = {}

    def submitted_then_stop() -> bool:
        events = _task_events(app, parent)
        if "tasks" not in seen and any(e["type"] == "TaskSubmitted" for e in events):
            seen["tasks"] = [t.resource for t in app.store.tasks(row.id)]
            seen["links"] = app.nested.of(parent)["children"]
            app.service.stop_execution(execution_arn=parent)
        return app.service.describe_execution(execution_arn=parent)["status"] != "RUNNING"

    app.worker(poll_seconds=0.01).run(until=submitted_then_stop)
    assert seen["tasks"] == [f"{START_EXECUTION}.sync"]
    [child] = seen["links"]
    assert child["status"] == "RUNNING" and ":execution:child:" in child["executionArn"]
    types = [e["type"] for e in _task_events(app, parent)]
    assert types.count("TaskSubmitted") == 1


def test_sync_parents_leave_the_task_threads_to_their_children(app: App) -> None:
    """More .sync parents at once than the worker has task threads, each child running a
    Task state: the .sync tasks wait on threads of their own, so the children's tasks still
    get the task threads (on them, the parents held them all and timed out)."""
    step = "arn:aws:lambda:us-east-1:123456789012:function:step"
    app.register(step, lambda params: {"n": 2})
    child = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": step, "End": True}}}
    app.service.create_state_machine(name="child", definition=json.dumps(child))
    parent = _parent(".sync:2", "child", TimeoutSeconds=60)  # a regression fails, not hangs
    app.service.create_state_machine(name="parent", definition=json.dumps(parent))
    started = [
        str(app.service.start_execution(state_machine_arn="parent", name=f"p{i}")["executionArn"])
        for i in range(4)
    ]

    def described() -> list[dict[str, Any]]:
        return [app.service.describe_execution(execution_arn=arn) for arn in started]

    app.worker(threads=2, poll_seconds=0.01).run(
        until=lambda: all(d["status"] != "RUNNING" for d in described())
    )
    ended = described()
    assert [d["status"] for d in ended] == ["SUCCEEDED"] * 4
    assert all(json.loads(d["output"])["Output"] == {"n": 2} for d in ended)
