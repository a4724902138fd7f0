"""Task tokens through the durable runtime: ``.waitForTaskToken`` waits for SendTaskSuccess /
SendTaskFailure, SendTaskHeartbeat restarts the HeartbeatSeconds countdown, and its expiry ends
the task with States.HeartbeatTimeout (a timer in the store, on the virtual clock)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from eltflow.app import App, build_app
from eltflow.clock import VirtualClock
from eltflow.errors import AwsApiError
from eltflow.types import JSON

CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"


@pytest.fixture
def app(store_url: str) -> Iterator[App]:
    app = build_app(state_url=store_url, clock=VirtualClock())
    yield app
    app.close()


def _machine(**task: Any) -> dict[str, Any]:
    return {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task",
                "Resource": CALLBACK,
                "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
                "End": True,
                **task,
            }
        },
    }


def _start(app: App, definition: dict[str, Any]) -> tuple[str, list[str]]:
    tokens: list[str] = []

    def call(params: JSON) -> JSON:
        assert isinstance(params, dict) and isinstance(params["Payload"], dict)
        tokens.append(str(params["Payload"]["token"]))
        return {"StatusCode": 200}

    app.register(CALLBACK, call)
    app.service.create_state_machine(name="cb", definition=definition)
    arn = str(app.service.start_execution(state_machine_arn="cb")["executionArn"])
    # Until the call is made and recorded: the task then waits for its token.
    app.worker().run(until=lambda: bool(tokens))
    return arn, tokens


def _history(app: App, arn: str) -> list[dict[str, Any]]:
    page: dict[str, Any] = app.service.get_execution_history(execution_arn=arn)
    events: list[dict[str, Any]] = page["events"]
    return events


def _status(app: App, arn: str) -> dict[str, Any]:
    out: dict[str, Any] = app.service.describe_execution(execution_arn=arn)
    return out


def test_send_task_success_completes_the_waiting_task(app: App) -> None:
    arn, tokens = _start(app, _machine())
    app.worker().run(until_idle=True)  # nothing to do: the task waits for its token
    assert _status(app, arn)["status"] == "RUNNING"
    # The call was made: its response is recorded as submitted, and the task waits.
    submitted = _history(app, arn)[-1]
    assert submitted["type"] == "TaskSubmitted"
    assert submitted["taskSubmittedEventDetails"] == {
        "resourceType": "lambda",
        "resource": "invoke.waitForTaskToken",
        "output": '{"StatusCode":200}',
        "outputDetails": {"truncated": False},
    }

    assert app.service.send_task_success(task_token=tokens[0], output='{"ok": 1}') == {}
    app.worker().run(until_idle=True)
    desc = _status(app, arn)
    assert desc["status"] == "SUCCEEDED" and json.loads(desc["output"]) == {"ok": 1}
    # AWS's order and ids (LocalStack's recorded test_callback histories): each event follows
    # the one before it.
    events = [(e["id"], e["previousEventId"], e["type"]) for e in _history(app, arn)]
    assert events[2:6] == [
        (3, 2, "TaskScheduled"),
        (4, 3, "TaskStarted"),
        (5, 4, "TaskSubmitted"),
        (6, 5, "TaskSucceeded"),
    ]
    # The task is gone: AWS's TaskTimedOut for a token whose task ended.
    with pytest.raises(AwsApiError) as e:
        app.service.send_task_success(task_token=tokens[0], output="{}")
    assert e.value.code == "TaskTimedOut"


def test_bad_tokens_and_outputs_are_refused(app: App) -> None:
    _, tokens = _start(app, _machine())
    for bad in ("nonsense", tokens[0][:-4] + "AAAA"):
        with pytest.raises(AwsApiError) as e:
            app.service.send_task_heartbeat(task_token=bad)
        assert e.value.code == "InvalidToken"
    with pytest.raises(AwsApiError) as e:
        app.service.send_task_success(task_token=tokens[0], output="{not json")
    assert e.value.code == "InvalidOutput"


def test_send_task_failure_is_caught_by_its_error_name(app: App) -> None:
    definition = _machine(
        Catch=[{"ErrorEquals": ["Custom.Error"], "ResultPath": "$.err", "Next": "Handled"}]
    )
    definition["States"]["Handled"] = {"Type": "Pass", "End": True}
    arn, tokens = _start(app, definition)
    app.service.send_task_failure(task_token=tokens[0], error="Custom.Error", cause="no rows")
    app.worker().run(until_idle=True)
    desc = _status(app, arn)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"])["err"] == {"Error": "Custom.Error", "Cause": "no rows"}
    failed = next(e for e in _history(app, arn) if e["type"] == "TaskFailed")
    assert failed["taskFailedEventDetails"]["error"] == "Custom.Error"


def _at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["timestamp"])


def test_heartbeats_postpone_and_expiry_is_a_heartbeat_timeout(app: App) -> None:
    clock = app.clock
    assert isinstance(clock, VirtualClock)
    arn, tokens = _start(app, _machine(HeartbeatSeconds=30))
    started = _at(next(e for e in _history(app, arn) if e["type"] == "TaskStarted"))
    clock.advance(20)
    app.service.send_task_heartbeat(task_token=tokens[0])
    clock.advance(20)  # 40 s after the start: the first countdown would have expired
    app.worker().run(until_idle=True)  # the clock jumps to the re-armed expiry and fires it
    desc = _status(app, arn)
    assert (desc["status"], desc["error"]) == ("FAILED", "States.HeartbeatTimeout")
    timed_out = next(e for e in _history(app, arn) if e["type"] == "TaskTimedOut")
    assert timed_out["taskTimedOutEventDetails"]["error"] == "States.HeartbeatTimeout"
    # 20 s to the heartbeat, then its 30 s countdown.
    assert (_at(timed_out) - started).total_seconds() == 50
    with pytest.raises(AwsApiError) as e:
        app.service.send_task_heartbeat(task_token=tokens[0])
    assert e.value.code == "TaskTimedOut"
