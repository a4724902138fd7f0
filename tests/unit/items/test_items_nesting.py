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


def test_the_limit_does_not_depend_on_the_recursion_limit() -> None:
    # jsonata raises the interpreter's limit to 10000 when first used; the answer stays.
    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(10000)
    try:
        parse_condition.cache_clear()
        with pytest.raises(AwsApiError, match="nested too deeply"):
            parse_condition("(" * 201 + "a = :v" + ")" * 201)
        allowed = " AND ".join(["(a = :v"] * 200) + ")" * 200
        assert set(parse_condition(allowed).values) == {":v"}
    finally:
        sys.setrecursionlimit(old)
