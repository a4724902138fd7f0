"""A Map's MaxConcurrencyPath / ToleratedFailureCountPath / ToleratedFailurePercentagePath values,
and a Map whose input is not an array: AWS's error and cause end to end through ``execute``."""

from __future__ import annotations

from typing import Any

import pytest

from eltflow import execute
from eltflow.types import JSON

AT = "An error occurred while executing the state 'M' (entered at the event id #2). "
PROCESSOR = {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}


def _map(**fields: Any) -> dict[str, Any]:
    state = {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": PROCESSOR, "End": True}
    return {"StartAt": "M", "States": {"M": {**state, **fields}}}


@pytest.mark.parametrize("value", [2, "2", 2.7])
def test_max_concurrency_path_takes_integers_numeric_strings_and_truncates(value: JSON) -> None:
    result = execute(_map(MaxConcurrencyPath="$.v"), {"items": [1, 2], "v": value})
    assert (result.status, result.output) == ("SUCCEEDED", [1, 2])


@pytest.mark.parametrize(
    ("field", "value", "cause"),
    [
        (
            "MaxConcurrencyPath",
            "abc",
            'The MaxConcurrencyPath field refers to value "abc" which is not a valid integer: $.v',
        ),
        (
            "MaxConcurrencyPath",
            None,
            'The MaxConcurrencyPath field refers to value "null" which is not a valid integer: $.v',
        ),
        (
            "MaxConcurrencyPath",
            -1,
            "Expected non-negative integer for MaxConcurrency, got '-1' instead.",
        ),
        (
            "ToleratedFailureCountPath",
            1.5,
            'The ToleratedFailureCountPath field refers to value "1.5" which is not a valid '
            "integer: $.v",
        ),
        ("ToleratedFailureCountPath", -2, "ToleratedFailureCount cannot be negative."),
        (
            "ToleratedFailurePercentagePath",
            {"a": 1},
            'The ToleratedFailurePercentagePath field refers to value "{"a":1}" which is not a '
            "valid float: $.v",
        ),
        (
            "ToleratedFailurePercentagePath",
            101,
            "ToleratedFailurePercentage must be between 0 and 100.",
        ),
    ],
)
def test_bad_path_values_fail_with_aws_causes(field: str, value: JSON, cause: str) -> None:
    result = execute(_map(**{field: "$.v"}), {"items": [1], "v": value})
    assert (result.status, result.error, result.cause) == ("FAILED", "States.Runtime", AT + cause)


def test_jsonata_map_input_that_is_not_an_array() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "ItemProcessor": PROCESSOR, "End": True}},
    }
    result = execute(definition, {"a": 1})
    assert (result.error, result.cause) == (
        "States.QueryEvaluationError",
        AT + 'Map state input must be an array but was: {"a":1}',
    )


def test_jsonata_values_get_the_same_range_checks() -> None:
    # AWS's range causes name the field, not where the value came from (assumed for JSONata).
    for field, expression, cause in [
        (
            "MaxConcurrency",
            "{% -1 %}",
            "Expected non-negative integer for MaxConcurrency, got '-1' instead.",
        ),
        ("ToleratedFailureCount", "{% -2 %}", "ToleratedFailureCount cannot be negative."),
        (
            "ToleratedFailurePercentage",
            "{% 101 %}",
            "ToleratedFailurePercentage must be between 0 and 100.",
        ),
    ]:
        definition = {
            "QueryLanguage": "JSONata",
            "StartAt": "M",
            "States": {
                "M": {"Type": "Map", "ItemProcessor": PROCESSOR, "End": True, field: expression}
            },
        }
        result = execute(definition, [1])
        assert (result.error, result.cause) == ("States.Runtime", AT + cause)
