"""A start's history row written from the stepper's records (``EventLog.json_items``, through
``rows.history_items``) is the text the built events give (``dumps(event_items(...))``), byte
for byte: the same ids, types, stamps, details and escapes, for every kind of record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from eltflow.asl.parser import parse
from eltflow.interpreter.history import EventLog
from eltflow.interpreter.protocol import ExecutionContext
from eltflow.interpreter.step import start_lazy
from eltflow.json_text import dumps
from eltflow.store.rows import event_items, history_items, to_us
from eltflow.types import JSON

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
CTX = ExecutionContext(
    execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:run-1",
    execution_name="run-1",
    state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
    state_machine_name="m",
    start_time=T0,
    role_arn="arn:aws:iam::123456789012:role/r",
    seed="s",
)
TASK = "arn:aws:lambda:us-east-1:123456789012:function:f"


def _chain(n: int, prefix: str = "S", **last: Any) -> dict[str, Any]:
    states: dict[str, Any] = {
        f"{prefix}{i}": {"Type": "Pass", "Next": f"{prefix}{i + 1}"} for i in range(n)
    }
    states[f"{prefix}{n - 1}"] = {"Type": "Pass", "End": True, **last}
    return {"StartAt": f"{prefix}0", "States": states}


MACHINES: dict[str, dict[str, Any]] = {
    "pass chain": _chain(10),
    "one pass": _chain(1),
    "pass with result": _chain(3, Result={"x": 1.5e-7, "y": None}),
    "assign": {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Assign": {"v": 0.00001, "w": "$.s"}, "Next": "B"},
            "B": {"Type": "Pass", "End": True},
        },
    },
    "choice to fail": {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "F"}],
                "Default": "P",
            },
            "P": {"Type": "Pass", "Next": "F"},
            "F": {"Type": "Fail", "Error": 'E\u00e9"\\', "Cause": "c\n\u2028"},
        },
    },
    "succeed": {"StartAt": "Ok", "States": {"Ok": {"Type": "Succeed"}}},
    "task first": {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Next": "T"},
            "T": {"Type": "Task", "Resource": TASK, "TimeoutSeconds": 5, "End": True},
        },
    },
    "wait": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": True}}},
    "parallel": {
        "StartAt": "Par",
        "States": {
            "Par": {"Type": "Parallel", "Branches": [_chain(2, "A"), _chain(3, "B")], "End": True}
        },
    },
    "map": {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": _chain(2, "I"),
                "Next": "After",
            },
            "After": {"Type": "Pass", "End": True},
        },
    },
    "bad path": {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "InputPath": "$.missing.deeper", "End": True}},
    },
}
INPUTS: list[JSON] = [
    {"n": 1, "s": "plain", "items": [1, 2]},
    {"n": 2, "s": 'quote " backslash \\ tab \t nl \n ctl \u0001 del \u007f', "items": []},
    {"n": 3, "s": "\u00e9\u4e2d\U0001f600 \u2028\u2029", "items": [0.00001, 1e300, -0.0]},
    {"n": 4, "s": "\ud800 lone", "items": [2**70]},  # orjson refuses both: json's text
]


def _lazy_log(definition: dict[str, Any], input: JSON) -> EventLog:
    _, log, _ = start_lazy(parse(definition), input, CTX, T0)
    return log


def _built_text(log: EventLog) -> tuple[int, int, str]:
    items = event_items(log.events())
    return items[0][0], items[-1][0], dumps(items)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(MACHINES))
@pytest.mark.parametrize("index", range(len(INPUTS)))
def test_a_starts_history_row_from_its_records_is_the_built_events_text(
    name: str, index: int
) -> None:
    log = _lazy_log(MACHINES[name], INPUTS[index])
    found = log.json_items(to_us)
    assert found is not None
    assert history_items(log) == found
    assert not log._built  # nothing was built to write it
    assert found == _built_text(log)


def test_a_log_already_built_or_of_built_events_is_encoded_from_its_events() -> None:
    log = _lazy_log(_chain(4), INPUTS[1])
    want = _built_text(log)  # builds the events
    assert log.json_items(to_us) is None
    assert history_items(log) == want
    mixed = EventLog()
    mixed.extend(log.events())
    assert mixed.json_items(to_us) is None
    assert history_items(mixed) == want
    assert history_items(list(log.events())) == want
    assert EventLog().json_items(to_us) is None


def test_the_succeeded_output_is_read_from_the_records_or_the_events() -> None:
    log = _lazy_log(_chain(3, Result={"r": [1, "x"]}), INPUTS[0])
    assert log.succeeded_output() == '{"r":[1,"x"]}'
    assert not log._built
    log.events()
    assert log.succeeded_output() == '{"r":[1,"x"]}'
    assert _lazy_log(MACHINES["task first"], INPUTS[0]).succeeded_output() is None
    assert _lazy_log(MACHINES["choice to fail"], INPUTS[0]).succeeded_output() is None


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_a_logs_events_of_some_types_are_found_in_its_records(name: str) -> None:
    types = {"ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed", "PassStateExited"}
    log = _lazy_log(MACHINES[name], INPUTS[0])
    found = log.matching(types)
    assert not log._built
    want = [(e.id, e.type, e.timestamp) for e in log.events() if e.type in types]
    assert found == want
    assert log.matching(types) == want  # built: from the events
