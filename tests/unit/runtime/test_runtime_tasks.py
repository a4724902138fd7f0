"""Task running and limits: names/ARNs, unknown resources, payload and history limits, and a
submit-then-poll integration re-attaching to its recorded checkpoint after a crash."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from eltflow import execute
from eltflow.app import App, build_app
from eltflow.clock import VirtualClock
from eltflow.errors import AwsApiError
from eltflow.integrations.base import TaskRequest
from eltflow.runtime import arns
from eltflow.runtime.engine import SimulatedCrash
from eltflow.types import JSON

BIG = "arn:aws:lambda:us-east-1:123456789012:function:big"
POLL = "arn:aws:states:::aws-sdk:example:submitAndPoll"


@pytest.fixture
def app(store_url: str) -> Iterator[App]:
    app = build_app(state_url=store_url, clock=VirtualClock())
    yield app
    app.close()


@pytest.mark.parametrize("name", ["a", "x" * 80, "run-2024_01.ok"])
def test_valid_names(name: str) -> None:
    assert arns.validate_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 81, "a b", "a/b", "a:b", "a*", "tab\t", "{x}"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(AwsApiError) as err:
        arns.validate_name(name, "execution name")
    assert err.value.code == "InvalidName" and "execution name" in err.value.message


def test_arns_round_trip() -> None:
    arn = arns.execution_arn("m", "e")
    assert arn == "arn:aws:states:us-east-1:123456789012:execution:m:e"
    assert arns.parse_execution_arn(arn) == ("m", "e")
    assert arns.machine_name(arns.machine_arn("m")) == "m"
    assert arns.machine_name(arns.version_arn("m", 3)) == "m"
    with pytest.raises(AwsApiError):
        arns.parse_execution_arn(arns.machine_arn("m"))
    with pytest.raises(AwsApiError):
        arns.machine_name(arn)


def _run(app: App, definition: dict[str, Any], input: str = "{}") -> dict[str, Any]:
    s: Any = app.service
    s.create_state_machine(name="m", definition=definition)
    arn = s.start_execution(state_machine_arn="m", input=input)["executionArn"]
    app.worker().run(until_idle=True)
    out: dict[str, Any] = s.describe_execution(execution_arn=arn)
    return out


def test_unknown_resource_fails_the_task(app: App) -> None:
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": BIG, "End": True}}}
    desc = _run(app, definition)
    assert desc["status"] == "FAILED" and BIG in desc["cause"]


# AWS's cause for a task result over 256 KiB (Step Functions quotas; asl/limits.py).
_TOO_BIG_CAUSE = (
    "The state/task 'T' returned a result with a size exceeding the maximum number of bytes "
    "service limit."
)


def test_a_result_over_256_kib_fails_with_data_limit_exceeded(app: App) -> None:
    app.register(BIG, lambda p: "x" * 300_000)  # a 300 KB result (300,002 bytes as JSON)
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": BIG, "End": True}}}
    desc = _run(app, definition)
    assert desc["status"] == "FAILED" and desc["error"] == "States.DataLimitExceeded"
    assert desc["cause"] == _TOO_BIG_CAUSE


def test_a_result_over_256_kib_fails_the_same_in_memory() -> None:
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": BIG, "End": True}}}
    result = execute(definition, tasks={BIG: lambda p: "x" * 300_000})
    assert (result.status, result.error, result.cause) == (
        "FAILED",
        "States.DataLimitExceeded",
        _TOO_BIG_CAUSE,
    )


def test_history_is_capped_at_25000_events(app: App) -> None:
    loop = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "C"},
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.stop", "IsPresent": True, "Next": "Done"}],
                "Default": "A",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    desc = _run(app, loop)
    assert desc["status"] == "FAILED"
    s: Any = app.service
    events = s.get_execution_history(
        execution_arn=desc["executionArn"], reverse_order=True, max_results=1
    )["events"]
    assert events[0]["id"] == 25_000 and events[0]["type"] == "ExecutionFailed"
    assert desc["redriveStatus"] == "NOT_REDRIVABLE"


def test_submit_then_poll_reattaches_to_its_checkpoint_after_a_crash(store_url: str) -> None:
    clock = VirtualClock()
    seen: list[JSON] = []

    class Crash(BaseException):
        pass

    def first(request: TaskRequest) -> JSON:
        assert request.checkpoint is not None and request.recorded is None
        request.checkpoint({"Id": "stmt-1"})  # submitted: the id is durable now
        raise SimulatedCrash("the worker dies while polling")

    def second(request: TaskRequest) -> JSON:
        seen.append(request.recorded)
        return {"Id": request.recorded, "Status": "FINISHED"}

    crashing = build_app(state_url=store_url, clock=clock)
    crashing.registry.add(POLL, first)
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": POLL, "End": True}}}
    s: Any = crashing.service
    s.create_state_machine(name="p", definition=definition)
    arn = s.start_execution(state_machine_arn="p")["executionArn"]
    with pytest.raises(SimulatedCrash):
        crashing.worker(lease_seconds=10).run(until_idle=True)
    crashing.close()

    rescuer = build_app(state_url=store_url, clock=clock)
    rescuer.registry.add(POLL, second)
    clock.advance(11)
    rescuer.worker().run(until_idle=True)
    desc: Any = rescuer.service.describe_execution(execution_arn=arn)
    assert desc["status"] == "SUCCEEDED"
    assert seen == [{"Id": "stmt-1"}]
    rescuer.close()


def test_an_execution_the_engine_cannot_step_fails_visibly(app: App) -> None:
    s: Any = app.service
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": True}}}
    s.create_state_machine(name="m", definition=definition)
    arn = s.start_execution(state_machine_arn="m")["executionArn"]
    row = app.store.get_execution_by_arn(arn)
    assert row is not None
    with app.db.transaction() as conn:  # a snapshot no interpreter can read
        conn.execute(
            "UPDATE sfn_executions SET snapshot = :s WHERE id = :id", {"s": "{}", "id": row.id}
        )
    app.worker().run(until_idle=True)
    desc = s.describe_execution(execution_arn=arn)
    assert desc["status"] == "FAILED" and desc["error"] == "States.Runtime"
    assert "KeyError" in desc["cause"]
    events = s.get_execution_history(execution_arn=arn)["events"]
    assert [e["type"] for e in events][-1] == "ExecutionFailed"
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
