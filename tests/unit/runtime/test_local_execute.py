"""eltflow.execute: the in-memory runner with Python task callables, threads and virtual time."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest

from eltflow import ExecutionResult, execute
from eltflow.asl.parser import parse
from eltflow.clock import VirtualClock
from eltflow.errors import DefinitionError, StatesError
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.interpreter import start
from eltflow.runtime.local import _context
from eltflow.types import JSON

FN = "arn:aws:states:::lambda:invoke"
OTHER = "arn:aws:states:::sns:publish"


def _one_task(resource: str = FN, **extra: JSON) -> dict[str, JSON]:
    return {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": resource, "End": True, **extra}},
    }


def test_result_fields_and_json_form() -> None:
    result = execute(_one_task(), {"a": 1}, tasks={FN: lambda p: {"echo": p}}, name="run-1")
    assert isinstance(result, ExecutionResult)
    assert result.succeeded
    assert result.to_json() == {
        "status": "SUCCEEDED",
        "output": {"echo": {"a": 1}},
        "error": None,
        "cause": None,
    }
    assert result.execution_arn.endswith(":run-1")
    assert [v[0] for v in result.states_visited()] == ["T"]


def test_no_input_means_an_empty_object() -> None:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    assert execute(definition).output == {}
    assert execute(json.dumps(definition), [1]).output == [1]


def test_exception_class_name_becomes_the_error() -> None:
    class WarehouseDown(Exception):
        pass

    def boom(params: JSON) -> JSON:
        raise WarehouseDown("connection refused")

    result = execute(_one_task(), {}, tasks={FN: boom})
    assert (result.status, result.error, result.cause) == (
        "FAILED",
        "WarehouseDown",
        "connection refused",
    )
    failed = result.events("TaskFailed")[0].details["taskFailedEventDetails"]
    assert failed == {
        "resourceType": "lambda",
        "resource": "invoke",
        "error": "WarehouseDown",
        "cause": "connection refused",
    }


def test_states_error_keeps_its_aws_name() -> None:
    def conditional(params: JSON) -> JSON:
        raise StatesError(
            "DynamoDB.ConditionalCheckFailedException", "The conditional request failed"
        )

    result = execute(_one_task(), {}, tasks={FN: conditional})
    assert result.error == "DynamoDB.ConditionalCheckFailedException"


def test_unregistered_resource_fails_the_task_clearly() -> None:
    result = execute(_one_task(OTHER), {})
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert result.cause is not None and OTHER in result.cause


def test_non_json_task_output_fails_the_task() -> None:
    result = execute(_one_task(), {}, tasks={FN: lambda p: {"when": object()}})  # type: ignore[dict-item]
    assert (result.status, result.error) == ("FAILED", "States.Runtime")


def test_registry_integrations_receive_a_task_request() -> None:
    seen: list[TaskRequest] = []

    def publish(request: TaskRequest) -> JSON:
        seen.append(request)
        return {"MessageId": "m-1"}

    registry = Registry()
    registry.add_prefix("arn:aws:states:::sns:", publish)
    result = execute(
        _one_task(OTHER, Parameters={"Message.$": "$.m"}), {"m": "hi"}, registry=registry
    )
    assert result.output == {"MessageId": "m-1"}
    assert seen[0].parameters == {"Message": "hi"}
    assert seen[0].state_name == "T"


def test_parallel_branches_run_concurrently() -> None:
    barrier = threading.Barrier(2, timeout=10)

    def meet(params: JSON) -> JSON:
        barrier.wait()  # deadlocks (and times out) unless both branches run at once
        return params

    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {
                        "StartAt": "A",
                        "States": {
                            "A": {
                                "Type": "Task",
                                "Resource": FN,
                                "Parameters": {"b": "a"},
                                "End": True,
                            }
                        },
                    },
                    {
                        "StartAt": "B",
                        "States": {
                            "B": {
                                "Type": "Task",
                                "Resource": FN,
                                "Parameters": {"b": "b"},
                                "End": True,
                            }
                        },
                    },
                ],
            }
        },
    }
    result = execute(definition, {}, tasks={FN: meet})
    assert result.output == [{"b": "a"}, {"b": "b"}]


def test_map_max_concurrency_bounds_threads_in_flight() -> None:
    # The first three items hold their slots until all three are in (a 3-party barrier: fewer
    # in flight breaks it and fails the run); a fourth starting meanwhile would show in peak.
    lock = threading.Lock()
    meet = threading.Barrier(3, timeout=20)
    seen = [0]
    active = [0]
    peak = [0]

    def work(params: JSON) -> JSON:
        with lock:
            seen[0] += 1
            first_three = seen[0] <= 3
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        if first_three:
            meet.wait()
        with lock:
            active[0] -= 1
        return params

    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "MaxConcurrency": 3,
                "ItemProcessor": {
                    "StartAt": "T",
                    "States": {"T": {"Type": "Task", "Resource": FN, "End": True}},
                },
                "End": True,
            }
        },
    }
    result = execute(definition, list(range(12)), tasks={FN: work})
    assert result.output == list(range(12))
    assert peak[0] == 3


def test_virtual_time_completes_waits_instantly_with_advancing_timestamps() -> None:
    definition = {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 86400, "Next": "P"},
            "P": {"Type": "Pass", "End": True},
        },
    }
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # No wall-clock bound here: a real day-long wait would hit the suite's timeout instead.
    result = execute(definition, {}, clock=VirtualClock(start), virtual_time=True)
    assert result.history[0].timestamp == start
    assert (result.history[-1].timestamp - start).total_seconds() == 86400
    assert result.stop_date == result.history[-1].timestamp


def test_real_time_wait_until_a_past_timestamp_finishes_at_once() -> None:
    definition = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Timestamp": "2001-01-01T00:00:00Z", "End": True}},
    }
    assert execute(definition, {"x": 1}).output == {"x": 1}


def test_invalid_definition_raises_definition_error() -> None:
    with pytest.raises(DefinitionError) as info:
        execute({"StartAt": "Nope", "States": {"A": {"Type": "Pass", "End": True}}})
    assert info.value.diagnostics


def test_history_built_on_first_read_is_the_interpreters_history() -> None:
    """An execution ending in its first step hands its events over unbuilt: reading them
    gives the events ``interpreter.start`` builds, and results compare as plain lists."""
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Assign": {"x.$": "$.n"}, "Next": "B"},
            "B": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "C"}],
            },
            "C": {"Type": "Succeed"},
        },
    }
    result = execute(definition, {"n": 1}, name="lazy-1")
    assert result.stop_date is not None and result.start_date is not None
    first = result.history[0]  # built here
    assert result.stop_date == result.history[-1].timestamp
    _, expected, _ = start(
        parse(definition), {"n": 1}, _context("lazy-1", result.start_date), result.start_date
    )
    assert [(e.id, e.previous_event_id, e.type, e.details) for e in result.history] == [
        (e.id, e.previous_event_id, e.type, e.details) for e in expected
    ]
    assert first is result.history[0]  # built once
    assert result == ExecutionResult(
        status=result.status,
        output=result.output,
        error=None,
        cause=None,
        history=list(result.history),
        execution_arn=result.execution_arn,
        start_date=result.start_date,
        stop_date=result.stop_date,
    )


def test_definition_cache_tells_apart_what_json_tells_apart() -> None:
    """Mappings are cached by a key: definitions whose JSON differs (key order, 1 / 1.0 /
    true, null / NaN) must never share a parsed machine."""

    def result_text(result: JSON) -> str:
        definition = {
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Result": result, "End": True}},
        }
        details = execute(definition).history[-1].details["executionSucceededEventDetails"]
        assert isinstance(details, dict)
        return str(details["output"])

    assert result_text({"a": 1, "b": 2}) == '{"a":1,"b":2}'
    assert result_text({"b": 2, "a": 1}) == '{"b":2,"a":1}'
    assert result_text({"a": 1.0}) == '{"a":1.0}'
    assert result_text({"a": True}) == '{"a":true}'
    assert result_text({"a": None}) == '{"a":null}'
    assert result_text({"a": float("nan")}) == '{"a":NaN}'
    assert result_text({"a": None}) == '{"a":null}'


def test_execution_arn_and_default_name_are_those_of_arns_and_randbytes() -> None:
    import random

    from eltflow.runtime import arns, local

    context = _context("run-1", datetime(2026, 1, 1, tzinfo=UTC))
    assert context.execution_arn == arns.execution_arn(local.LOCAL_MACHINE_NAME, "run-1")
    # execute's inlined randbytes(16).hex(): the same text from the same generator state.
    state = local._NAMES.getstate()
    named = execute({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    twin = random.Random()
    twin.setstate(state)
    assert named.execution_arn.endswith(":" + twin.randbytes(16).hex())


def test_stop_date_is_the_last_events_time() -> None:
    one_step = execute({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert one_step.stop_date is not None
    assert one_step.stop_date == one_step.history[-1].timestamp == one_step.start_date
    driven = execute(_one_task(), {"a": 1}, tasks={FN: lambda p: p})
    assert driven.stop_date == driven.history[-1].timestamp


def test_local_context_is_new_contexts() -> None:
    from eltflow.interpreter.protocol import new_context
    from eltflow.runtime import arns, local

    now = datetime(2026, 1, 1, tzinfo=UTC)
    arn = arns.execution_arn(local.LOCAL_MACHINE_NAME, "run-1")
    made = new_context(
        execution_arn=arn,
        execution_name="run-1",
        state_machine_arn=arns.machine_arn(local.LOCAL_MACHINE_NAME),
        state_machine_name=local.LOCAL_MACHINE_NAME,
        start_time=now,
        role_arn=arns.DEFAULT_ROLE_ARN,
        seed=arn,
    )
    context = _context("run-1", now)
    assert context == made
    assert list(vars(context).items()) == list(vars(made).items())  # the fields' order too
    assert _context("run-2", now).execution_name == "run-2" == _context("run-2", now).seed[-5:]
