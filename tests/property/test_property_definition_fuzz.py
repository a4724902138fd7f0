"""Fuzzed definitions: any JSON value in any field of a valid definition is either accepted
or refused with a DefinitionError naming where; never a Python error (issue 17: every one of
the probe's 764 crashes was a TypeError from a non-string state ``Type``). Accepted ones are
also run on fuzzed inputs (the chaos suite's fuzzer, below)."""

from __future__ import annotations

import copy
import os
import time
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from eltflow import execute
from eltflow.asl.parser import parse
from eltflow.errors import DefinitionError, EltflowError

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


# -- running fuzzed definitions on fuzzed inputs (issue 17: the chaos suite's fuzzer) --------
#
# A definition the parser accepts is run, in memory with virtual time, on a fuzzed input: it
# ends (any status), or a typed eltflow error is raised (EltflowError: a DefinitionError, an
# AwsApiError for bad input...), never a Python error; and each case finishes within a
# wall-clock bound (JSONata's step budget and the linear StringMatches keep a hostile
# expression from holding it). CI runs FUZZ_EXAMPLES derandomized cases (the "ci" profile of
# tests/conftest.py); set ELTFLOW_FUZZ_EXAMPLES for a longer local run.

FUZZ_EXAMPLES = int(os.environ.get("ELTFLOW_FUZZ_EXAMPLES", "150"))
CASE_SECONDS = 10.0  # per case; a runaway expression stops at its budget well before
WORK = "arn:aws:lambda:us-east-1:123456789012:function:work"
RUNNABLE: dict[str, Any] = {
    "StartAt": "A",
    "States": {
        "A": {
            "Type": "Pass",
            "Parameters": {"v.$": "$.v", "n": 1},
            "ResultPath": "$.a",
            "Next": "B",
        },
        "B": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.a.v", "StringMatches": "*a*b*", "Next": "C"},
                {"Variable": "$.a.n", "NumericEquals": 1, "Next": "M"},
            ],
            "Default": "D",
        },
        "C": {"Type": "Pass", "Result": "c", "End": True},
        "M": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 2,
            "ItemProcessor": {
                "StartAt": "I",
                "States": {
                    "I": {
                        "Type": "Task",
                        "Resource": WORK,
                        "Parameters": {"item.$": "$"},
                        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
                        "End": True,
                    }
                },
            },
            "Next": "J",
        },
        "J": {
            "Type": "Pass",
            "QueryLanguage": "JSONata",
            "Output": "{% $count($states.input) %}",
            "Next": "W",
        },
        "W": {"Type": "Wait", "Seconds": 1, "End": True},
        "D": {"Type": "Fail", "Error": "E", "Cause": "c"},
    },
}
RUN_PATHS = _paths(RUNNABLE)
INPUTS = st.fixed_dictionaries(
    {"v": JSON_VALUES, "items": st.lists(JSON_VALUES, max_size=4) | JSON_VALUES},
    optional={"extra": JSON_VALUES},
)


def _work(parameters: Any) -> Any:
    return parameters


def test_a_fuzzed_definition_runs_on_a_fuzzed_input_with_only_typed_errors() -> None:
    cases: list[float] = []

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from(RUN_PATHS), JSON_VALUES), max_size=2), INPUTS)
    def case(edits: list[tuple[tuple[Any, ...], Any]], value: dict[str, Any]) -> None:
        definition = copy.deepcopy(RUNNABLE)
        for path, edit in edits:
            _set(definition, path, edit)
        started = time.monotonic()
        try:
            result = execute(definition, value, tasks={WORK: _work}, virtual_time=True)
        except EltflowError:
            pass  # typed: refused with a reason
        else:
            assert result.status in ("SUCCEEDED", "FAILED"), result
            if result.status == "FAILED":
                assert result.error, result  # a failure names its error
        elapsed = time.monotonic() - started
        cases.append(elapsed)
        assert elapsed < CASE_SECONDS, f"a case took {elapsed:.1f} s: {definition} on {value}"

    # JSONata raises the interpreter's recursion limit on first use: do it before Hypothesis
    # runs, which warns about a limit changed under it.
    execute(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Output": "{% 1 %}", "End": True}},
        }
    )
    case()
    print(
        f"\nchaos fuzz: {len(cases)} definition+input cases run, 0 untyped, slowest "
        f"{max(cases):.2f} s (bound {CASE_SECONDS:g} s)"
    )
