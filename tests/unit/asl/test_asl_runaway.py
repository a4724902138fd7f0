"""Expressions that never finish on their own: JSONata loops and recursion stop within their
bounds as ``States.QueryEvaluationError``; ``StringMatches`` never backtracks."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eltflow.asl import errors
from eltflow.asl.choice import string_matches
from eltflow.asl.jsonata import Bounds, evaluate
from eltflow.asl.jsonpath import evaluate as evaluate_path
from eltflow.errors import StatesError
from eltflow.types import JSON

SMALL = Bounds(steps=20_000, depth=200)


def _evaluate(expr: str, bounds: Bounds = SMALL) -> object:
    return evaluate(
        "{% " + expr + " %}",
        states={},
        variables={},
        rng=random.Random(0),
        field="Output",
        bounds=bounds,
    )


@pytest.mark.parametrize(
    ("expr", "code"),
    [
        ("($f := function($n){ $f($n+1) }; $f(0))", "D1012"),  # tail call: no stack grows
        ("($f := function($n){ 1 + $f($n+1) }; $f(0))", "D1011"),  # stack grows
        ("$count([1..1000000].($ * 2))", "D1012"),
        ("true and ($f := function($n){ $f($n+1) }; $f(0))", "D1012"),  # under and/or too
        ("$map([1..5], function($v){ ($g := function($n){ $g($n) }; $g($v)) })", "D1012"),
    ],
)
def test_a_runaway_expression_fails_the_state(expr: str, code: str) -> None:
    with pytest.raises(StatesError) as caught:
        _evaluate(expr)
    assert caught.value.error == errors.QUERY_EVALUATION_ERROR
    assert f"specified for the field 'Output' threw an error during evaluation. {code}: " in (
        caught.value.cause or ""
    )


def test_the_default_bounds_stop_the_reported_loop() -> None:
    # The expression from the probe that held a worker (and the SQLite write lock) forever.
    with pytest.raises(StatesError, match="Evaluation stopped after 1000000 steps"):
        evaluate(
            "{% ($f := function($n){ $f($n+1) }; $f(0)) %}",
            states={},
            variables={},
            rng=random.Random(0),
        )


def test_work_within_the_bounds_is_not_cut_short() -> None:
    assert _evaluate("$count([1..2000].($ * 2))") == 2000
    assert _evaluate("($f := function($n){ $n = 0 ? 0 : 1 + $f($n-1) }; $f(50))") == 50
    # Each evaluation has its own budget: many small ones never add up to a runaway.
    for _ in range(5):
        assert _evaluate("$sum([1..5000])", Bounds(steps=20_000)) == 12_502_500


def test_string_matches_is_linear_in_the_worst_case() -> None:
    # Four wildcards over 1 KB: a backtracking regex tries ~n^4 splits (> 60 s) before failing.
    value = "a" * 4_000
    assert string_matches(value, "*a*a*a*a*b") is False
    assert string_matches(value + "b", "*a*a*a*a*b") is True
    assert string_matches("x" * 50_000, "*" * 500 + "y") is False


def _reference(pattern: str) -> re.Pattern[str]:
    """The regex translation StringMatches used before (right, but exponential)."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if pattern[i] == "*" else re.escape(pattern[i]))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


@given(st.text("ab*\\\n", max_size=8), st.text("ab*\\\n", max_size=12))
def test_string_matches_agrees_with_the_regex_translation(pattern: str, value: str) -> None:
    assert string_matches(value, pattern) is (_reference(pattern).fullmatch(value) is not None)


def test_a_catastrophic_regex_times_out() -> None:
    # One $match call is one step, so only the regex engine's own timeout can stop it; the
    # stdlib engine explores 2^40 ways to split the a's before failing.
    with pytest.raises(StatesError, match="regex timed out") as caught:
        _evaluate('$match("' + "a" * 40 + '!", /(a|aa)+$/)')
    assert caught.value.error == errors.QUERY_EVALUATION_ERROR
    # Ordinary patterns, flags and $replace's group references behave as before.
    assert _evaluate('$replace("abc", /(b)/, "[$12]")') == "a[b2]c"
    assert _evaluate('$match("AB12", /([a-z])([0-9])/i).groups') == ["B", "1"]
    assert _evaluate('$split("a1b2c", /[0-9]/)') == ["a", "b", "c"]


def test_a_catastrophic_jsonpath_filter_regex_times_out() -> None:
    data: JSON = {"items": [{"name": "a" * 40 + "!"}, {"name": "ab"}]}
    with pytest.raises(StatesError, match="timed out") as caught:
        evaluate_path("$.items[?(@.name =~ /(a|aa)+/)]", data)
    assert caught.value.error == "States.Runtime"
    assert evaluate_path("$.items[?(@.name =~ /A.*/i)].name", data) == ["a" * 40 + "!", "ab"]
