"""EXPRESS state machines through the service: Express's create-time rules, StartSyncExecution's
answer, the five-minute cap, StartExecution run asynchronously and unrecorded, and the
execution APIs refusing Express ARNs (AWS keeps no record of Express executions)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.wait import wait_until

from eltflow.app import App, build_app
from eltflow.clock import VirtualClock
from eltflow.endpoint import states as endpoint_states
from eltflow.errors import AwsApiError, DefinitionError
from eltflow.runtime import arns
from eltflow.runtime.express import billed_milliseconds

ADD = "arn:aws:lambda:us-east-1:123456789012:function:add"
SEEN = "arn:aws:lambda:us-east-1:123456789012:function:seen"
TASK = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": ADD, "End": True}}}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "on purpose"}}}
EXPRESS_ARN = re.compile(
    r"^arn:aws:states:us-east-1:123456789012:express:(?P<machine>[^:]+):(?P<name>[^:]+):"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    app = build_app(state_url=f"sqlite:///{tmp_path / 'state.db'}", clock=VirtualClock())

    def add(p: Any) -> Any:
        return {"sum": p["a"] + p["b"]}

    app.register(ADD, add)
    yield app
    app.close()


def _task(resource: str) -> dict[str, Any]:
    return {"Type": "Task", "Resource": resource, "End": True}


def test_an_express_machine_is_stored_with_its_type(store_url: str) -> None:
    app = build_app(state_url=store_url, clock=VirtualClock())
    try:
        s: Any = app.service
        arn = s.create_state_machine(name="fast", definition=TASK, type="EXPRESS")
        assert s.describe_state_machine(state_machine_arn=str(arn["stateMachineArn"]))["type"] == (
            "EXPRESS"
        )
        listed = s.list_state_machines()["stateMachines"]
        assert [(m["name"], m["type"]) for m in listed] == [("fast", "EXPRESS")]
        # Idempotent only for the same type (AWS's check covers name, definition and type).
        assert s.create_state_machine(name="fast", definition=TASK, type="EXPRESS")
        with pytest.raises(AwsApiError) as e:
            s.create_state_machine(name="fast", definition=TASK, type="STANDARD")
        assert e.value.code == "StateMachineAlreadyExists"
        with pytest.raises(AwsApiError) as e:
            s.create_state_machine(name="odd", definition=TASK, type="QUICK")
        assert e.value.code == "ValidationException"
    finally:
        app.close()


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        (
            "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Express state machine does not support '.waitForTaskToken' service integration",
        ),
        (
            "arn:aws:states:::states:startExecution.sync:2",
            "Express state machine does not support '.sync' service integration",
        ),
        (
            "arn:aws:states:::glue:startJobRun.sync",
            "Express state machine does not support '.sync' service integration",
        ),
        (
            "arn:aws:states:us-east-1:123456789012:activity:work",
            "Express state machine does not support Activity ARN",
        ),
    ],
)
def test_express_refuses_job_run_callback_and_activity_tasks_at_create(
    app: App, resource: str, message: str
) -> None:
    nested = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                    {
                        "StartAt": "M",
                        "States": {
                            "M": {
                                "Type": "Map",
                                "ItemProcessor": {"StartAt": "T", "States": {"T": _task(resource)}},
                                "End": True,
                            }
                        },
                    },
                ],
                "End": True,
            }
        },
    }
    with pytest.raises(DefinitionError) as e:
        app.service.create_state_machine(name="x", definition=nested, type="EXPRESS")
    [found] = e.value.diagnostics
    assert (found.code, found.path, found.message) == (
        "SCHEMA_VALIDATION_FAILED",
        "/States/P/Branches/1/States/M/ItemProcessor/States/T/Resource",
        message,
    )
    # The same definition is a valid STANDARD machine; an EXPRESS one may not be updated to it.
    app.service.create_state_machine(name="standard", definition=nested)
    app.service.create_state_machine(name="fast", definition=TASK, type="EXPRESS")
    with pytest.raises(DefinitionError):
        app.service.update_state_machine(state_machine_arn="fast", definition=nested)
    # ValidateStateMachineDefinition with type EXPRESS reports the same diagnostic.
    answer = endpoint_states.validate_state_machine_definition(
        app, {"definition": json.dumps(nested), "type": "EXPRESS"}
    )
    assert answer["result"] == "FAIL"
    assert [d["location"] for d in answer["diagnostics"]] == [found.path]
    standard = endpoint_states.validate_state_machine_definition(
        app, {"definition": json.dumps(nested), "type": "STANDARD"}
    )
    assert standard["result"] == "OK"


def test_start_sync_execution_runs_to_the_end_with_the_integrations(app: App) -> None:
    s: Any = app.service
    machine = str(
        s.create_state_machine(name="add", definition=TASK, type="EXPRESS")["stateMachineArn"]
    )
    out = s.start_sync_execution(
        state_machine_arn=machine, input='{"a": 2, "b": 3}', name="first", trace_header="Root=1"
    )
    match = EXPRESS_ARN.match(str(out["executionArn"]))
    assert match is not None and match["machine"] == "add" and match["name"] == "first"
    assert out["status"] == "SUCCEEDED" and json.loads(str(out["output"])) == {"sum": 5}
    assert out["stateMachineArn"] == machine and out["name"] == "first"
    assert out["input"] == '{"a": 2, "b": 3}'  # the input as given
    assert out["inputDetails"] == {"included": True} and out["outputDetails"] == {"included": True}
    assert out["billingDetails"] == {
        "billedMemoryUsedInMB": 64,
        "billedDurationInMilliseconds": 100,
    }
    assert out["traceHeader"] == "Root=1"
    assert "error" not in out and "cause" not in out
    # Express names need not be unique: the same name again is another execution.
    again = s.start_sync_execution(
        state_machine_arn=machine, input='{"a": 1, "b": 1}', name="first"
    )
    assert again["executionArn"] != out["executionArn"]
    assert json.loads(str(again["output"])) == {"sum": 2}


def test_a_failed_express_execution_is_answered_not_raised(app: App) -> None:
    s: Any = app.service
    s.create_state_machine(name="boom", definition=FAIL, type="EXPRESS")
    out = s.start_sync_execution(state_machine_arn="boom")
    assert (out["status"], out["error"], out["cause"]) == ("FAILED", "Boom", "on purpose")
    assert "output" not in out and out["outputDetails"] == {"included": True}
    assert out["input"] == "{}"


def test_an_express_execution_times_out_after_five_minutes(app: App) -> None:
    s: Any = app.service
    wait = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 400, "End": True}}}
    s.create_state_machine(name="slow", definition=wait, type="EXPRESS")
    out = s.start_sync_execution(state_machine_arn="slow")
    assert (out["status"], out["error"]) == ("TIMED_OUT", "States.Timeout")
    elapsed = datetime.fromisoformat(str(out["stopDate"])) - datetime.fromisoformat(
        str(out["startDate"])
    )
    assert elapsed == timedelta(minutes=5)
    assert out["billingDetails"]["billedDurationInMilliseconds"] == 300_000
    # A shorter TimeoutSeconds of the definition's own still applies.
    s.create_state_machine(name="short", definition={**wait, "TimeoutSeconds": 10}, type="EXPRESS")
    short = s.start_sync_execution(state_machine_arn="short")
    assert short["status"] == "TIMED_OUT"
    assert datetime.fromisoformat(str(short["stopDate"])) - datetime.fromisoformat(
        str(short["startDate"])
    ) == timedelta(seconds=10)


def test_start_sync_execution_errors(app: App) -> None:
    s: Any = app.service
    s.create_state_machine(name="standard", definition=TASK)
    s.create_state_machine(name="fast", definition=TASK, type="EXPRESS")
    cases = [
        ({"state_machine_arn": "standard"}, "StateMachineTypeNotSupported"),
        ({"state_machine_arn": "missing"}, "StateMachineDoesNotExist"),
        ({"state_machine_arn": "fast", "input": "{nope"}, "InvalidExecutionInput"),
        ({"state_machine_arn": "fast", "name": "a b"}, "InvalidName"),
        ({"state_machine_arn": "arn:aws:states:nope"}, "InvalidArn"),
    ]
    for kwargs, code in cases:
        with pytest.raises(AwsApiError) as e:
            s.start_sync_execution(**kwargs)
        assert e.value.code == code, kwargs


def test_express_executions_leave_no_record_to_describe(app: App) -> None:
    s: Any = app.service
    s.create_state_machine(name="fast", definition=TASK, type="EXPRESS")
    arn = str(
        s.start_sync_execution(state_machine_arn="fast", input='{"a": 1, "b": 2}')["executionArn"]
    )
    calls: list[Callable[[], object]] = [
        lambda: s.describe_execution(execution_arn=arn),
        lambda: s.get_execution_history(execution_arn=arn),
        lambda: s.stop_execution(execution_arn=arn),
        lambda: s.describe_state_machine_for_execution(execution_arn=arn),
    ]
    for call in calls:
        with pytest.raises(AwsApiError) as e:
            call()
        assert (e.value.code, e.value.message) == ("InvalidArn", arns.EXPRESS_NOT_VALID)
    with pytest.raises(AwsApiError) as e:
        s.list_executions(state_machine_arn="fast")
    assert e.value.code == "StateMachineTypeNotSupported"
    assert app.store.list_executions(machine_name=None, status=None, limit=10, offset=0) == []


def test_start_execution_on_express_runs_asynchronously(app: App) -> None:
    seen: list[Any] = []
    done = threading.Event()

    def record(p: Any) -> Any:
        seen.append(p)
        if len(seen) == 2:
            done.set()
        return p

    app.register(SEEN, record)
    s: Any = app.service
    s.create_state_machine(
        name="async",
        definition={"StartAt": "T", "States": {"T": _task(SEEN)}},
        type="EXPRESS",
    )
    first = s.start_execution(state_machine_arn="async", input='{"n": 1}', name="same")
    # Not idempotent for EXPRESS: the same name and input start another execution.
    second = s.start_execution(state_machine_arn="async", input='{"n": 1}', name="same")
    assert set(first) == {"executionArn", "startDate"}
    assert EXPRESS_ARN.match(str(first["executionArn"])) is not None
    assert first["executionArn"] != second["executionArn"]
    wait_until(done.is_set, 10, what="both Express executions to run their task")
    assert seen == [{"n": 1}, {"n": 1}]


def test_billed_duration_rounds_up_to_100_ms() -> None:
    start = datetime(2026, 1, 1)
    assert billed_milliseconds(start, start) == 100
    assert billed_milliseconds(start, start + timedelta(milliseconds=100)) == 100
    assert billed_milliseconds(start, start + timedelta(milliseconds=101)) == 200
    assert billed_milliseconds(start, start + timedelta(seconds=7.55)) == 7600


def test_a_standard_parent_starts_an_express_child(app: App) -> None:
    from eltflow.runtime.run import run_to_end

    s: Any = app.service
    child = str(
        s.create_state_machine(name="child", definition=TASK, type="EXPRESS")["stateMachineArn"]
    )

    def parent(resource: str) -> dict[str, Any]:
        params = {"StateMachineArn": child, "Input": {"a": 20, "b": 22}}
        return {"StartAt": "T", "States": {"T": {**_task(resource), "Parameters": params}}}

    s.create_state_machine(
        name="waits", definition=parent("arn:aws:states:::states:startExecution.sync:2")
    )
    s.create_state_machine(
        name="fires", definition=parent("arn:aws:states:::states:startExecution")
    )
    waited = run_to_end(app, str(s.start_execution(state_machine_arn="waits")["executionArn"]))
    assert waited["status"] == "SUCCEEDED", waited
    out = json.loads(str(waited["output"]))
    assert out["Output"] == {"sum": 42} and out["Status"] == "SUCCEEDED"
    assert EXPRESS_ARN.match(out["ExecutionArn"]) is not None
    fired = run_to_end(app, str(s.start_execution(state_machine_arn="fires")["executionArn"]))
    assert fired["status"] == "SUCCEEDED", fired
    started = json.loads(str(fired["output"]))
    assert EXPRESS_ARN.match(started["ExecutionArn"]) is not None
    assert isinstance(started["StartDate"], int)  # epoch milliseconds, as AWS's shape
