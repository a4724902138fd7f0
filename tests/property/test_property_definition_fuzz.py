"""Fuzzed definitions: any JSON value in any field of a valid definition is either accepted
or refused with a DefinitionError naming where; never a Python error (issue 17: every one of
the probe's 764 crashes was a TypeError from a non-string state ``Type``)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from eltflow.asl.parser import parse
from eltflow.errors import DefinitionError

BASE: dict[str, Any] = {
    "Comment": "fuzz",
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.a", "Next": "B"},
        "B": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.a.x", "NumericEquals": 1, "Next": "C"}],
            "Default": "D",
        },
        "C": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "f", "Payload.$": "$"},
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "D"}],
            "Next": "E",
        },
        "D": {"Type": "Fail", "Error": "E", "Cause": "c"},
        "E": {"Type": "Wait", "Seconds": 1, "End": True},
    },
}

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, (*prefix, index))
    return out


PATHS = _paths(BASE)


def _set(document: Any, path: tuple[Any, ...], value: Any) -> None:
    """Put ``value`` at ``path`` if an earlier edit left that path in place."""
    *parents, last = path
    for step in parents:
        if not _has(document, step):
            return
        document = document[step]
    if isinstance(document, dict) or _has(document, last):
        document[last] = value


def _has(document: Any, step: Any) -> bool:
    if isinstance(document, dict):
        return step in document
    return isinstance(document, list) and isinstance(step, int) and step < len(document)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), JSON_VALUES), min_size=1, max_size=3))
def test_a_fuzzed_definition_is_accepted_or_refused_with_diagnostics(
    edits: list[tuple[tuple[Any, ...], Any]],
) -> None:
    definition = copy.deepcopy(BASE)
    for path, value in edits:
        _set(definition, path, value)
    try:
        parse(definition)
    except DefinitionError as e:
        assert e.diagnostics and all(d.path is not None for d in e.diagnostics)


def test_a_state_type_that_is_not_a_string_is_a_diagnostic() -> None:
    bads: list[Any] = [{}, [], 1, None, True]
    for bad in bads:
        definition = {"StartAt": "A", "States": {"A": {"Type": bad}}}
        try:
            parse(definition)
        except DefinitionError as e:
            assert any(d.path == "/States/A/Type" for d in e.diagnostics), e.diagnostics
        else:
            raise AssertionError("accepted a non-string Type")
