"""EventBridge event patterns and target input, with the examples of the EventBridge User Guide
("Event patterns", "Content filtering", "Transforming target input")."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eltflow.errors import AwsApiError
from eltflow.scheduler.event_pattern import check_pattern, matches
from eltflow.scheduler.rule_targets import target_input

EVENT: dict[str, Any] = {
    "source": "aws.states",
    "detail-type": "Step Functions Execution Status Change",
    "resources": ["arn:aws:states:us-east-1:1:execution:m:nightly-1"],
    "detail": {
        "status": "FAILED",
        "name": "nightly-1",
        "redriveCount": 2,
        "error": "Load.Broken",
        "cause": None,
        "tags": ["a", "b"],
    },
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"source": ["aws.states"]}, True),
        ({"source": ["aws.ec2"]}, False),
        ({"detail": {"status": ["SUCCEEDED", "FAILED"]}}, True),
        ({"detail": {"name": [{"prefix": "nightly-"}]}}, True),
        ({"detail": {"name": [{"suffix": "-2"}]}}, False),
        ({"detail": {"name": [{"prefix": {"equals-ignore-case": "NIGHTLY"}}]}}, True),
        ({"detail": {"status": [{"equals-ignore-case": "failed"}]}}, True),
        ({"detail": {"status": [{"anything-but": ["SUCCEEDED", "RUNNING"]}]}}, True),
        ({"detail": {"status": [{"anything-but": "FAILED"}]}}, False),
        ({"detail": {"name": [{"anything-but": {"prefix": "nightly"}}]}}, False),
        ({"detail": {"redriveCount": [{"numeric": [">", 0, "<=", 2]}]}}, True),
        ({"detail": {"redriveCount": [{"numeric": [">=", 3]}]}}, False),
        ({"detail": {"output": [{"exists": False}]}}, True),
        ({"detail": {"error": [{"exists": True}]}}, True),
        ({"detail": {"error": [{"exists": False}]}}, False),
        ({"detail": {"cause": [None]}}, True),
        ({"detail": {"tags": ["b"]}}, True),  # an array field matches through an element
        ({"detail": {"name": [{"wildcard": "night*-1"}]}}, True),
        ({"detail": {"name": [{"wildcard": "day*"}]}}, False),
        ({"detail": {"missing": ["x"]}}, False),
        ({"source": ["aws.states"], "detail": {"status": ["SUCCEEDED"]}}, False),  # AND
        ({"$or": [{"detail": {"status": ["SUCCEEDED"]}}, {"source": ["aws.states"]}]}, True),
        ({"detail": {"status": ["FAILED"], "$or": [{"name": ["x"]}, {"error": ["y"]}]}}, False),
    ],
)
def test_matching(pattern: dict[str, Any], expected: bool) -> None:
    check_pattern(pattern)
    assert matches(pattern, EVENT) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        {},
        {"source": []},
        {"source": "aws.states"},
        {"source": [{"numeric": [">", "x"]}]},
        {"source": [{"nope": 1}]},
        {"source": [{"exists": "yes"}]},
        {"$or": [{"source": ["a"]}]},
    ],
)
def test_invalid_patterns_get_eventbridges_exception(pattern: dict[str, Any]) -> None:
    with pytest.raises(AwsApiError) as e:
        check_pattern(pattern)
    assert e.value.code == "InvalidEventPatternException"


def test_target_input_forms() -> None:
    rule, arn = "r", "arn:aws:events:us-east-1:1:rule/r"
    assert target_input({"Input": '{"k": 1}'}, EVENT, rule, arn) == '{"k": 1}'
    assert json.loads(target_input({"InputPath": "$.detail.tags"}, EVENT, rule, arn)) == [
        "a",
        "b",
    ]
    assert json.loads(target_input({}, EVENT, rule, arn)) == EVENT
    transformer = {
        "InputPathsMap": {"s": "$.detail.status", "n": "$.detail.redriveCount", "x": "$.nope"},
        "InputTemplate": (
            '{"status": "<s>", "count": <n>, "x": <x>, "rule": "<aws.events.rule-name>"}'
        ),
    }
    text = target_input({"InputTransformer": transformer}, EVENT, rule, arn)
    assert json.loads(text) == {"status": "FAILED", "count": 2, "x": None, "rule": "r"}
    quoted = {"InputPathsMap": {"c": "$.detail.error"}, "InputTemplate": '"<c> said \\"hi\\""'}
    assert json.loads(target_input({"InputTransformer": quoted}, EVENT, rule, arn)) == (
        'Load.Broken said "hi"'
    )
