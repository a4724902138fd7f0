"""Activities through the durable runtime: CreateActivity, GetActivityTask's long poll on the
virtual clock, each task handed to one poller, the worker's token answers, and an activity
whose worker stops sending heartbeats ending with States.HeartbeatTimeout."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from eltflow.app import App, build_app
from eltflow.clock import VirtualClock
from eltflow.errors import AwsApiError


@pytest.fixture
def app(store_url: str) -> Iterator[App]:
    app = build_app(state_url=store_url, clock=VirtualClock())
    yield app
    app.close()


def _machine(activity: str, **task: Any) -> dict[str, Any]:
    return {
        "StartAt": "Work",
        "States": {"Work": {"Type": "Task", "Resource": activity, "End": True, **task}},
    }


def _start(app: App, name: str, definition: dict[str, Any], input: str = "{}") -> str:
    app.service.create_state_machine(name=name, definition=definition)
    return str(app.service.start_execution(state_machine_arn=name, input=input)["executionArn"])


def test_long_poll_answers_empty_after_its_wait_then_hands_each_task_once(app: App) -> None:
    acts = app.service.activities
    arn = str(acts.create_activity(name="work")["activityArn"])
    clock = app.clock
    assert isinstance(clock, VirtualClock)
    before = clock.now()
    assert acts.get_activity_task(activity_arn=arn, wait_seconds=60) == {}
    assert (clock.now() - before).total_seconds() >= 60  # the poll waited (virtual) time

    first = _start(app, "m", _machine(arn), '{"n": 1}')
    app.worker().run(until_idle=True)  # the worker leaves activity tasks to pollers
    assert app.service.describe_execution(execution_arn=first)["status"] == "RUNNING"
    task = acts.get_activity_task(activity_arn=arn, wait_seconds=0)
    assert json.loads(str(task["input"])) == {"n": 1}
    assert acts.get_activity_task(activity_arn=arn, wait_seconds=0) == {}  # taken already

    app.service.send_task_success(task_token=str(task["taskToken"]), output='{"done": 1}')
    app.worker().run(until_idle=True)
    desc = app.service.describe_execution(execution_arn=first)
    assert desc["status"] == "SUCCEEDED" and json.loads(str(desc["output"])) == {"done": 1}


def test_an_activity_without_heartbeats_times_out(app: App) -> None:
    acts = app.service.activities
    arn = str(acts.create_activity(name="slow")["activityArn"])
    execution = _start(app, "hb", _machine(arn, HeartbeatSeconds=10))
    task = acts.get_activity_task(activity_arn=arn, wait_seconds=0)
    assert task["taskToken"]
    app.worker().run(until_idle=True)  # the clock jumps to the heartbeat's expiry
    desc = app.service.describe_execution(execution_arn=execution)
    assert (desc["status"], desc["error"]) == ("FAILED", "States.HeartbeatTimeout")
    events = app.service.get_execution_history(execution_arn=execution)["events"]
    assert isinstance(events, list)
    assert [e["type"] for e in events if isinstance(e, dict)][2:5] == [
        "ActivityScheduled",
        "ActivityStarted",
        "ActivityTimedOut",
    ]


def test_activity_errors(app: App) -> None:
    acts = app.service.activities
    missing = "arn:aws:states:us-east-1:123456789012:activity:none"
    with pytest.raises(AwsApiError) as e:
        acts.get_activity_task(activity_arn=missing, wait_seconds=0)
    assert e.value.code == "ActivityDoesNotExist"
    with pytest.raises(AwsApiError) as e:
        acts.describe_activity(activity_arn="arn:aws:states:nope")
    assert e.value.code == "InvalidArn"
    with pytest.raises(AwsApiError) as e:
        acts.create_activity(name="bad name")
    assert e.value.code == "InvalidName"
    listed = acts.list_activities()
    assert listed == {"activities": []}
