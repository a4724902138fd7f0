"""The field table drives the parser: every field of every state type survives parse → to_dict."""

from __future__ import annotations

from typing import Any

import pytest

from eltflow.asl import parse, to_dict, validate
from eltflow.asl.fields import (
    CATCHER,
    COMPARISON_OPERATORS,
    JSONATA_ONLY_STATE_FIELDS,
    JSONPATH_ONLY_STATE_FIELDS,
    RETRIER,
    STATE_SPECS,
)

ARN = "arn:aws:states:::lambda:invoke"
PROCESSOR = {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}

BASE: dict[str, dict[str, Any]] = {
    "Pass": {"Type": "Pass", "Next": "T"},
    "Task": {"Type": "Task", "Resource": ARN, "Next": "T"},
    "Choice": {
        "Type": "Choice",
        "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "T"}],
    },
    "Wait": {"Type": "Wait", "Seconds": 1, "Next": "T"},
    "Succeed": {"Type": "Succeed"},
    "Fail": {"Type": "Fail"},
    "Parallel": {"Type": "Parallel", "Branches": [PROCESSOR], "Next": "T"},
    "Map": {"Type": "Map", "ItemProcessor": PROCESSOR, "Next": "T"},
}

SAMPLES: dict[str, Any] = {
    "Comment": "a comment",
    "InputPath": "$.a",
    "OutputPath": "$.b",
    "Output": {"o": "{% $states.input %}"},
    "Assign": {"v": 1},
    "Result": {"r": [1, 2]},
    "ResultPath": "$.r",
    "Parameters": {"p.$": "$.x"},
    "ResultSelector": {"s.$": "$.x"},
    "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
    "Arguments": {"a": "{% $states.input.a %}"},
    "Credentials": {"RoleArn": "arn:aws:iam::123456789012:role/r"},
    "TimeoutSeconds": 10,
    "TimeoutSecondsPath": "$.t",
    "HeartbeatSeconds": 5,
    "HeartbeatSecondsPath": "$.h",
    "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 1}],
    "Catch": [{"ErrorEquals": ["E"], "Next": "T"}],
    "Choices": [{"Variable": "$.n", "NumericEquals": 3, "Next": "T"}],
    "Default": "T",
    "Seconds": 2,
    "SecondsPath": "$.s",
    "Timestamp": "2020-01-01T00:00:00Z",
    "TimestampPath": "$.ts",
    "Error": "MyError",
    "ErrorPath": "$.e",
    "Cause": "because",
    "CausePath": "$.c",
    "Branches": [PROCESSOR, {"StartAt": "J", "States": {"J": {"Type": "Succeed"}}}],
    "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        **PROCESSOR,
    },
    "Iterator": PROCESSOR,
    "ItemsPath": "$.items",
    "Items": [1, 2],
    "ItemSelector": {"i.$": "$$.Map.Item.Value"},
    "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b"}},
    "ItemBatcher": {"MaxItemsPerBatch": 10},
    "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b"}},
    "MaxConcurrency": 3,
    "MaxConcurrencyPath": "$.m",
    "ToleratedFailurePercentage": 10,
    "ToleratedFailurePercentagePath": "$.p",
    "ToleratedFailureCount": 2,
    "ToleratedFailureCountPath": "$.c",
    "Label": "MyLabel",
}

# Fields written back under their current name.
ALIASES = {("Map", "Iterator"): "ItemProcessor", ("Map", "Parameters"): "ItemSelector"}
# Fields that replace one the base state already has (exclusive groups).
REPLACES = {
    "SecondsPath": "Seconds",
    "Timestamp": "Seconds",
    "TimestampPath": "Seconds",
    "Iterator": "ItemProcessor",
}
SPECIAL = {"Type", "QueryLanguage", "Next", "End"}

CASES = [
    (stype, name)
    for stype, spec in STATE_SPECS.items()
    for name in spec.fields
    if name not in SPECIAL
]


def _machine(stype: str, name: str) -> dict[str, Any]:
    state = dict(BASE[stype])
    state.pop(REPLACES.get(name, ""), None)
    state[name] = SAMPLES[name]
    if name in JSONATA_ONLY_STATE_FIELDS and name not in JSONPATH_ONLY_STATE_FIELDS:
        state["QueryLanguage"] = "JSONata"
        if stype == "Choice":
            state["Choices"] = [{"Condition": True, "Next": "T"}]
    if stype in ("Succeed", "Fail"):
        return {"StartAt": "S", "States": {"S": state}}
    return {"StartAt": "S", "States": {"S": state, "T": {"Type": "Succeed"}}}


@pytest.mark.parametrize(("stype", "name"), CASES, ids=[f"{t}.{n}" for t, n in CASES])
def test_field_survives_parse_and_to_dict(stype: str, name: str) -> None:
    definition = _machine(stype, name)
    assert validate(definition) == [], validate(definition)
    written = to_dict(parse(definition))["States"]["S"]
    key = ALIASES.get((stype, name), name)
    assert written[key] == SAMPLES[name]
    assert parse(to_dict(parse(definition))) == parse(definition)


def test_every_sample_is_used() -> None:
    used = {name for _, name in CASES}
    assert used == set(SAMPLES)


def test_language_only_fields_are_disjoint() -> None:
    assert not JSONATA_ONLY_STATE_FIELDS & JSONPATH_ONLY_STATE_FIELDS
    assert {"Arguments", "Output", "Items"} <= JSONATA_ONLY_STATE_FIELDS
    assert {"InputPath", "Parameters", "ResultSelector", "ResultPath", "OutputPath"} <= (
        JSONPATH_ONLY_STATE_FIELDS
    )


def test_retrier_and_catcher_tables() -> None:
    assert [n for n, f in RETRIER.fields.items() if f.required] == ["ErrorEquals"]
    assert [n for n, f in CATCHER.fields.items() if f.required] == ["ErrorEquals", "Next"]
    assert RETRIER.fields["BackoffRate"].minimum == 1.0


def test_comparison_operators_cover_the_spec() -> None:
    # 5 comparisons x 3 types, each with a Path form, + BooleanEquals(Path) + StringMatches + Is*
    assert len(COMPARISON_OPERATORS) == 5 * 3 * 2 + 2 + 1 + 6
    assert COMPARISON_OPERATORS["TimestampLessThanEqualsPath"] == "path"
    assert COMPARISON_OPERATORS["IsTimestamp"] == "true_false"
