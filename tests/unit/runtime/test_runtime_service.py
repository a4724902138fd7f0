"""The service API on both stores: AWS shapes, names, idempotent starts, versions, paging."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from eltflow.app import App, build_app
from eltflow.clock import VirtualClock
from eltflow.errors import AwsApiError, DefinitionError
from eltflow.runtime import arns
from eltflow.types import JSON

ADD = "arn:aws:lambda:us-east-1:123456789012:function:add"
BOOM = "arn:aws:lambda:us-east-1:123456789012:function:boom"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
TASK = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": ADD, "End": True}}}


@pytest.fixture
def app(store_url: str) -> Iterator[App]:
    app = build_app(state_url=store_url, clock=VirtualClock())

    def add(p: Any) -> Any:
        return {"sum": p["a"] + p["b"]}

    app.register(ADD, add)
    yield app
    app.close()


def test_state_machine_lifecycle(app: App) -> None:
    s: Any = app.service
    out = s.create_state_machine(name="m1", definition=PASS)
    assert out["stateMachineArn"] == "arn:aws:states:us-east-1:123456789012:stateMachine:m1"
    assert out["stateMachineVersionArn"] == f"{out['stateMachineArn']}:1"
    # Creating the identical machine again is idempotent; a different one is a conflict.
    assert (
        s.create_state_machine(name="m1", definition=PASS)["stateMachineArn"]
        == out["stateMachineArn"]
    )
    with pytest.raises(AwsApiError) as err:
        s.create_state_machine(name="m1", definition=TASK)
    assert err.value.code == "StateMachineAlreadyExists"
    upd = s.update_state_machine(state_machine_arn=str(out["stateMachineArn"]), definition=TASK)
    assert str(upd["stateMachineVersionArn"]).endswith(":m1:2")
    desc = s.describe_state_machine(state_machine_arn="m1")
    assert json.loads(str(desc["definition"])) == TASK and desc["status"] == "ACTIVE"
    s.create_state_machine(name="m0", definition=PASS)
    page = s.list_state_machines(max_results=1)
    assert [m["name"] for m in page["stateMachines"]] == ["m0"]
    page2 = s.list_state_machines(max_results=1, next_token=str(page["nextToken"]))
    assert [m["name"] for m in page2["stateMachines"]] == ["m1"]
    s.delete_state_machine(state_machine_arn="m1")
    with pytest.raises(AwsApiError) as err:
        s.describe_state_machine(state_machine_arn="m1")
    assert err.value.code == "StateMachineDoesNotExist"


def test_invalid_definitions_and_names_are_rejected(app: App) -> None:
    s: Any = app.service
    with pytest.raises(DefinitionError) as err:
        s.create_state_machine(name="bad", definition={"StartAt": "X", "States": {}})
    assert err.value.diagnostics
    with pytest.raises(AwsApiError) as api:
        app.service.create_state_machine(name="has space", definition=PASS)
    assert api.value.code == "InvalidName"
    app.service.create_state_machine(name="m", definition=PASS)
    with pytest.raises(AwsApiError) as api:
        app.service.start_execution(state_machine_arn="m", name="a/b")
    assert api.value.code == "InvalidName"
    with pytest.raises(AwsApiError) as api:
        app.service.start_execution(state_machine_arn="m", input="{not json")
    assert api.value.code == "InvalidExecutionInput"
    with pytest.raises(AwsApiError) as api:
        big = json.dumps({"x": "a" * 262_144})
        app.service.start_execution(state_machine_arn="m", input=big)
    assert api.value.code == "InvalidExecutionInput"


def test_start_by_name_is_idempotent_while_open(app: App) -> None:
    s: Any = app.service
    s.create_state_machine(name="m", definition=TASK)
    first = s.start_execution(state_machine_arn="m", name="run1", input='{"a":1,"b":2}')
    again = s.start_execution(state_machine_arn="m", name="run1", input='{"a":1,"b":2}')
    assert first == again
    with pytest.raises(AwsApiError) as err:
        s.start_execution(state_machine_arn="m", name="run1", input='{"a":5,"b":2}')
    assert err.value.code == "ExecutionAlreadyExists"
    app.worker().run(until_idle=True)
    # Closed: even the same input is now a conflict, as on AWS.
    with pytest.raises(AwsApiError) as err:
        s.start_execution(state_machine_arn="m", name="run1", input='{"a":1,"b":2}')
    assert err.value.code == "ExecutionAlreadyExists"
    desc = s.describe_execution(execution_arn=str(first["executionArn"]))
    assert desc["status"] == "SUCCEEDED" and json.loads(str(desc["output"])) == {"sum": 3}
    assert desc["name"] == "run1" and desc["redriveCount"] == 0
    assert desc["stateMachineArn"] == arns.machine_arn("m") and "stopDate" in desc


def test_executions_keep_their_version(app: App) -> None:
    s: Any = app.service
    s.create_state_machine(name="m", definition=TASK)
    old = s.start_execution(state_machine_arn="m", name="old", input='{"a":1,"b":1}')
    s.update_state_machine(state_machine_arn="m", definition=PASS)
    new = s.start_execution(state_machine_arn="m", name="new", input='{"a":1,"b":1}')
    app.worker().run(until_idle=True)
    d_old = s.describe_execution(execution_arn=str(old["executionArn"]))
    d_new = s.describe_execution(execution_arn=str(new["executionArn"]))
    assert json.loads(str(d_old["output"])) == {"sum": 2}
    assert json.loads(str(d_new["output"])) == {"a": 1, "b": 1}
    assert str(d_old["stateMachineVersionArn"]).endswith(":1")
    assert str(d_new["stateMachineVersionArn"]).endswith(":2")


def test_list_executions_filters_and_pages(app: App) -> None:
    s: Any = app.service
    s.create_state_machine(name="a", definition=PASS)
    s.create_state_machine(name="b", definition=TASK)
    for i in range(3):
        s.start_execution(state_machine_arn="a", name=f"a{i}")
        app.clock.sleep(1)
    s.start_execution(state_machine_arn="b", name="b0", input='{"a":1,"b":1}')
    assert len(s.list_executions()["executions"]) == 4
    running = s.list_executions(status_filter="RUNNING")["executions"]
    assert [e["name"] for e in running] == ["b0"]
    page = s.list_executions(state_machine_arn="a", max_results=2)
    assert [e["name"] for e in page["executions"]] == ["a2", "a1"]
    rest = s.list_executions(state_machine_arn="a", next_token=str(page["nextToken"]))
    assert [e["name"] for e in rest["executions"]] == ["a0"]
    with pytest.raises(AwsApiError) as err:
        s.list_executions(state_machine_arn="nope")
    assert err.value.code == "StateMachineDoesNotExist"


def test_history_is_aws_shaped_and_paged(app: App) -> None:
    s: Any = app.service
    s.create_state_machine(name="m", definition=TASK)
    arn = str(s.start_execution(state_machine_arn="m", input='{"a":1,"b":2}')["executionArn"])
    app.worker().run(until_idle=True)
    full = s.get_execution_history(execution_arn=arn)["events"]
    assert isinstance(full, list)
    types = [e["type"] for e in full]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert [e["id"] for e in full] == list(range(1, len(full) + 1))
    first = full[0]
    assert isinstance(first, dict)
    assert set(first) >= {"timestamp", "type", "id", "previousEventId"}
    assert json.loads(first["executionStartedEventDetails"]["input"]) == {"a": 1, "b": 2}
    page = s.get_execution_history(execution_arn=arn, max_results=2)
    assert page["events"] == full[:2]
    page2 = s.get_execution_history(
        execution_arn=arn, max_results=100, next_token=str(page["nextToken"])
    )
    assert page2["events"] == full[2:] and "nextToken" not in page2
    rev = s.get_execution_history(execution_arn=arn, reverse_order=True)["events"]
    assert rev == list(reversed(full))
    with pytest.raises(AwsApiError) as err:
        s.get_execution_history(execution_arn=arn + "x")
    assert err.value.code == "ExecutionDoesNotExist"


def test_stop_aborts_and_redrive_continues_from_the_failed_state(app: App) -> None:
    s: Any = app.service
    wait = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}},
    }
    s.create_state_machine(name="w", definition=wait)
    arn = str(s.start_execution(state_machine_arn="w", name="x")["executionArn"])
    stop = s.stop_execution(execution_arn=arn, error="Manual", cause="operator")
    desc = s.describe_execution(execution_arn=arn)
    assert desc["status"] == "ABORTED" and desc["stopDate"] == stop["stopDate"]
    assert desc["redriveStatus"] == "REDRIVABLE"
    history = s.get_execution_history(execution_arn=arn)["events"]
    assert history[-1]["type"] == "ExecutionAborted"
    # Nothing is left to run: the timer row went with the abort.
    assert app.store.next_wake() is None

    calls: list[int] = []

    def flaky(p: JSON) -> JSON:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first call fails")
        return {"ok": len(calls)}

    app.register(BOOM, flaky)
    two = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Result": 1, "Next": "B"},
            "B": {"Type": "Task", "Resource": BOOM, "End": True},
        },
    }
    s.create_state_machine(name="f", definition=two)
    farn = str(s.start_execution(state_machine_arn="f", name="y")["executionArn"])
    app.worker().run(until_idle=True)
    failed = s.describe_execution(execution_arn=farn)
    assert failed["status"] == "FAILED" and failed["error"] == "RuntimeError"
    assert failed["cause"] == "first call fails"
    s.redrive_execution(execution_arn=farn)
    app.worker().run(until_idle=True)
    done = s.describe_execution(execution_arn=farn)
    assert done["status"] == "SUCCEEDED" and done["redriveCount"] == 1
    assert json.loads(str(done["output"])) == {"ok": 2}
    events = s.get_execution_history(execution_arn=farn)["events"]
    types = [e["type"] for e in events]
    assert "ExecutionRedriven" in types
    assert types.count("PassStateEntered") == 1  # the succeeded state did not run again
    with pytest.raises(AwsApiError) as err:
        s.redrive_execution(execution_arn=farn)
    assert err.value.code == "ExecutionNotRedrivable"


def test_versions_and_the_definition_an_execution_runs(app: App) -> None:
    s: Any = app.service
    s.create_state_machine(name="m", definition=TASK)
    arn = s.start_execution(state_machine_arn="m", input='{"a":1,"b":1}')["executionArn"]
    s.update_state_machine(state_machine_arn="m", definition=PASS)
    s.update_state_machine(state_machine_arn="m", definition=TASK)
    versions = s.list_state_machine_versions(state_machine_arn="m", max_results=2)
    assert [v["stateMachineVersionArn"][-2:] for v in versions["stateMachineVersions"]] == [
        ":3",
        ":2",
    ]
    rest = s.list_state_machine_versions(state_machine_arn="m", next_token=versions["nextToken"])
    assert [v["stateMachineVersionArn"][-2:] for v in rest["stateMachineVersions"]] == [":1"]
    ran = s.describe_state_machine_for_execution(execution_arn=arn)
    assert json.loads(ran["definition"]) == TASK and ran["stateMachineVersionArn"].endswith(":1")
    # Deleting the machine keeps what its executions need; a new machine starts at version 1.
    s.delete_state_machine(state_machine_arn="m")
    assert json.loads(s.describe_state_machine_for_execution(execution_arn=arn)["definition"])
    s.create_state_machine(name="m", definition=PASS)
    fresh = s.list_state_machine_versions(state_machine_arn="m")["stateMachineVersions"]
    assert [v["stateMachineVersionArn"][-2:] for v in fresh] == [":1"]


def test_redrive_reruns_only_the_failed_parallel_branch_and_map_iterations(app: App) -> None:
    s: Any = app.service
    calls: list[str] = []
    failing = {"bad", "m-bad"}

    def work(p: Any) -> Any:
        calls.append(str(p["k"]))
        if p["k"] in failing:
            raise ValueError(f"{p['k']} failed")
        return p["k"]

    app.register(BOOM, work)

    def task(name: str, k: str) -> Any:
        state = {"Type": "Task", "Resource": BOOM, "Parameters": {"k": k}, "End": True}
        return {"StartAt": name, "States": {name: state}}

    definition = {
        "StartAt": "Par",
        "States": {
            "Par": {
                "Type": "Parallel",
                "Branches": [task("A", "p-ok"), task("B", "bad")],
                "ResultPath": "$.par",
                "Next": "M",
            },
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "StartAt": "I",
                    "States": {
                        "I": {
                            "Type": "Task",
                            "Resource": BOOM,
                            "Parameters": {"k.$": "$"},
                            "End": True,
                        }
                    },
                },
                "End": True,
            },
        },
    }
    s.create_state_machine(name="r", definition=definition)
    arn = s.start_execution(state_machine_arn="r", input='{"items": ["m-ok", "m-bad"]}')[
        "executionArn"
    ]
    app.worker().run(until_idle=True)
    assert s.describe_execution(execution_arn=arn)["status"] == "FAILED"
    assert sorted(calls) == ["bad", "p-ok"]

    # Redrive 1: only branch B runs again (and now passes); the Map then fails on one item.
    failing.discard("bad")
    calls.clear()
    s.redrive_execution(execution_arn=arn)
    app.worker().run(until_idle=True)
    assert s.describe_execution(execution_arn=arn)["status"] == "FAILED"
    assert calls[0] == "bad" and sorted(calls[1:]) == ["m-bad", "m-ok"]

    # Redrive 2: only the failed iteration runs again.
    failing.clear()
    calls.clear()
    s.redrive_execution(execution_arn=arn)
    app.worker().run(until_idle=True)
    desc = s.describe_execution(execution_arn=arn)
    assert calls == ["m-bad"]
    assert desc["status"] == "SUCCEEDED" and desc["redriveCount"] == 2
    assert json.loads(desc["output"]) == ["m-ok", "m-bad"]


def test_execute_stored_records_and_runs_one_execution(app: App) -> None:
    from eltflow.runtime.run import execute_stored

    desc: Any = execute_stored(app, machine_name="adhoc", definition=TASK, input='{"a":2,"b":3}')
    assert desc["status"] == "SUCCEEDED" and json.loads(desc["output"]) == {"sum": 5}
    again: Any = execute_stored(app, machine_name="adhoc", definition=PASS, input='{"a":1}')
    assert json.loads(again["output"]) == {"a": 1}
    assert again["stateMachineVersionArn"].endswith(":adhoc:2")


def test_a_start_after_another_process_changed_the_machine_uses_it_as_it_is(
    app: App, store_url: str
) -> None:
    """The machine a start remembers from an earlier one is only a guess: another process's
    update, or delete and create, is what the next start runs (or fails on)."""
    s: Any = app.service
    s.create_state_machine(name="m", definition=PASS)
    s.start_execution(state_machine_arn="m", name="first", input='{"a":1,"b":2}')
    other = build_app(state_url=store_url, clock=VirtualClock())
    try:
        o: Any = other.service
        o.update_state_machine(state_machine_arn="m", definition=TASK)
        second = s.start_execution(state_machine_arn="m", name="second", input='{"a":1,"b":2}')
        d = s.describe_execution(execution_arn=second["executionArn"])
        assert d["status"] == "RUNNING" and str(d["stateMachineVersionArn"]).endswith(":2")
        o.delete_state_machine(state_machine_arn="m")
        with pytest.raises(AwsApiError) as err:
            s.start_execution(state_machine_arn="m", name="third", input="{}")
        assert err.value.code == "StateMachineDoesNotExist"
        o.create_state_machine(name="m", definition=PASS, role_arn=arns.DEFAULT_ROLE_ARN)
        o.update_state_machine(state_machine_arn="m", definition=PASS)
        fourth = s.start_execution(state_machine_arn="m", name="fourth", input='{"x":1}')
        d = s.describe_execution(execution_arn=fourth["executionArn"])
        assert d["status"] == "SUCCEEDED" and d["output"] == '{"x":1}'
        # Again by name, now closed: a conflict, as on AWS.
        with pytest.raises(AwsApiError) as err:
            s.start_execution(state_machine_arn="m", name="fourth", input='{"x":1}')
        assert err.value.code == "ExecutionAlreadyExists"
    finally:
        other.close()
