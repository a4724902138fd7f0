"""Expressions nested deeper than a parser's stack are a ValidationException naming the
expression, never a RecursionError (issue 17: a FilterExpression with 300 parentheses)."""

from __future__ import annotations

import pytest

from eltflow.errors import AwsApiError
from eltflow.items.parser import parse_condition, parse_update


@pytest.mark.parametrize("depth", [300, 3000])
def test_deeply_nested_conditions_are_validation_errors(depth: int) -> None:
    text = "(" * depth + "a = :v" + ")" * depth
    with pytest.raises(AwsApiError) as caught:
        parse_condition(text, "FilterExpression")
    assert caught.value.code == "ValidationException"
    assert caught.value.message.startswith("Invalid FilterExpression: ")
    nested = " AND ".join(["(a = :v"] * depth) + ")" * depth
    with pytest.raises(AwsApiError, match="Invalid ConditionExpression: "):
        parse_condition(nested)


def test_deeply_nested_update_values_are_validation_errors() -> None:
    text = "SET a = " + "if_not_exists(b, " * 3000 + ":v" + ")" * 3000
    with pytest.raises(AwsApiError, match="Invalid UpdateExpression: "):
        parse_update(text)
