"""Intrinsic function arguments and Fail's ErrorPath / CausePath, end to end through ``execute``.

AWS resolves an intrinsic's path arguments strictly: a path that matches nothing -- including an
array index past the end, which a plain ``.$`` reference reads as ``null`` -- fails the
execution with ``States.Runtime`` and the cause ``The function '<call>' had the following
error: The JsonPath argument for the field '<path>' could not be found in the input '<state
input>'``, behind AWS's ``An error occurred while executing the state '<name>' (entered at the
event id #<n>). `` prefix.
"""

from __future__ import annotations

from typing import Any

import pytest

from eltflow import execute
from eltflow.errors import DefinitionError
from eltflow.types import JSON


def _pass(parameters: dict[str, Any]) -> dict[str, Any]:
    state = {"Type": "Pass", "Parameters": parameters, "End": True}
    return {"StartAt": "P", "States": {"P": state}}


def _fail(**fields: str) -> dict[str, Any]:
    return {"StartAt": "F", "States": {"F": {"Type": "Fail", **fields}}}


def _at(state: str) -> str:
    """AWS's prefix for an error raised while the first state (entered at event #2) runs."""
    return f"An error occurred while executing the state '{state}' (entered at the event id #2). "


def _cause(expression: str, path: str, state_input: str, state: str = "P") -> str:
    return _at(state) + (
        f"The function '{expression}' had the following error: The JsonPath argument for the "
        f"field '{path}' could not be found in the input '{state_input}'"
    )


def test_missing_argument_quotes_the_state_input() -> None:
    expression = "States.Format('x {}', $.x)"
    result = execute(_pass({"a.$": expression}), {"y": 1, "z": "é"})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause == _cause(expression, "$.x", '{"y":1,"z":"é"}')


def test_missing_argument_inside_a_nested_call() -> None:
    expression = "States.Format('{}', States.ArrayLength($.list))"
    result = execute(_pass({"n.$": expression}), {"other": []})
    assert result.cause == _cause(expression, "$.list", '{"other":[]}')


def test_index_past_the_end_is_missing_for_an_intrinsic_but_null_for_a_reference() -> None:
    expression = "States.Format('item {}', $.items[5])"
    failed = execute(_pass({"a.$": expression}), {"items": [1, 2]})
    assert failed.error == "States.Runtime"
    assert failed.cause == _cause(expression, "$.items[5]", '{"items":[1,2]}')

    plain = execute(_pass({"a.$": "$.items[5]"}), {"items": [1, 2]})
    assert (plain.status, plain.output) == ("SUCCEEDED", {"a": None})


def test_negative_index_past_the_start_is_missing_too() -> None:
    expression = "States.ArrayLength($.items[-3])"
    result = execute(_pass({"a.$": expression}), {"items": [[1], [2]]})
    assert result.cause == _cause(expression, "$.items[-3]", '{"items":[[1],[2]]}')


def test_in_range_index_and_context_and_variable_arguments_resolve() -> None:
    definition = {
        "StartAt": "Set",
        "States": {
            "Set": {"Type": "Pass", "Assign": {"who": "Ada"}, "Next": "P"},
            "P": {
                "Type": "Pass",
                "Parameters": {
                    "a.$": "States.Format('{} {} {}', $.items[-1], $$.State.Name, $who)",
                },
                "End": True,
            },
        },
    }
    result = execute(definition, {"items": [1, 2]})
    assert result.output == {"a": "2 P Ada"}


def test_missing_context_argument_is_reported_against_dollar() -> None:
    expression = "States.Format('{}', $$.Execution.Nope)"
    result = execute(_pass({"a.$": expression}), {"k": True})
    assert result.cause == _cause(expression, "$.Execution.Nope", '{"k":true}')


def test_intrinsic_in_result_selector_quotes_the_task_result() -> None:
    fn = "arn:aws:lambda:us-east-1:123456789012:function:F"
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": fn,
                "ResultSelector": {"v.$": "States.Format('{}', $.missing)"},
                "End": True,
            }
        },
    }
    result = execute(definition, {"in": 1}, tasks={fn: lambda _: {"out": 2}})
    expression = "States.Format('{}', $.missing)"
    assert result.cause == _cause(expression, "$.missing", '{"out":2}', state="T")


# --- Fail: ErrorPath / CausePath -----------------------------------------------------------


def test_fail_paths_accept_intrinsic_functions() -> None:
    # The Fail state page's own example.
    definition = _fail(
        CausePath=(
            "States.Format('This is a custom error message for {}, caused by {}.', "
            "$.Error, $.Cause)"
        ),
        ErrorPath="States.Format('{}', $.Error)",
    )
    state_input: JSON = {"Error": "Oops", "Cause": "a bad row"}
    result = execute(definition, state_input)
    assert (result.status, result.error) == ("FAILED", "Oops")
    assert result.cause == "This is a custom error message for Oops, caused by a bad row."
    failed = [e for e in result.history if e.type == "ExecutionFailed"]
    assert failed[0].details["executionFailedEventDetails"] == {
        "error": "Oops",
        "cause": "This is a custom error message for Oops, caused by a bad row.",
    }


def test_fail_cause_path_intrinsic_with_context_and_json_to_string() -> None:
    definition = _fail(
        Error="Bad", CausePath="States.Format('{} got {}', $$.State.Name, States.JsonToString($))"
    )
    result = execute(definition, {"a": [1]})
    assert (result.error, result.cause) == ("Bad", 'F got {"a":[1]}')


def test_fail_cause_path_intrinsic_with_missing_argument() -> None:
    expression = "States.Format('x {}', $.a)"
    result = execute(_fail(Error="E", CausePath=expression), {"b": 1})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause == _cause(expression, "$.a", '{"b":1}', state="F")


def test_fail_error_path_miss_uses_the_field_name() -> None:
    result = execute(_fail(ErrorPath="$.ErrorX", Cause="c"), {"Error": "e"})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause == _at("F") + (
        "The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the "
        'input \'{"Error":"e"}\''
    )


def test_fail_cause_path_intrinsic_must_give_a_string() -> None:
    result = execute(_fail(Error="E", CausePath="States.ArrayLength($.a)"), {"a": [1, 2]})
    assert result.error == "States.Runtime"
    assert result.cause is not None
    assert "The Cause field must resolve to a string: 2" in result.cause


def test_fail_path_with_malformed_intrinsic_is_rejected_at_definition_time() -> None:
    with pytest.raises(DefinitionError) as err:
        execute(_fail(Error="E", CausePath="States.Format('x {}'"), {})
    [diagnostic] = err.value.diagnostics
    assert diagnostic.path == "/States/F/CausePath"
    assert "intrinsic function" in diagnostic.message
    with pytest.raises(DefinitionError):
        execute(_fail(Error="E", CausePath="States.Nope($.a)"), {})
    with pytest.raises(DefinitionError):
        execute(_fail(Error="E", CausePath="not a path"), {})


def test_context_path_field_miss_names_the_field() -> None:
    processor = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$$.Execution.Input.nope",
                "ItemProcessor": processor,
                "End": True,
            }
        },
    }
    result = execute(definition, {"a": 1})
    assert result.error == "States.Runtime"
    assert result.cause is not None
    assert result.cause.startswith(
        _at("M")
        + "The JSONPath '$$.Execution.Input.nope' specified for the field 'ItemsPath' could "
        'not be found in the input \'{"Execution":{'
    )


def test_items_path_may_be_a_variable() -> None:
    processor = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    definition = {
        "StartAt": "Set",
        "States": {
            "Set": {"Type": "Pass", "Assign": {"xs": [1, 2]}, "Next": "M"},
            "M": {"Type": "Map", "ItemsPath": "$xs", "ItemProcessor": processor, "End": True},
        },
    }
    assert execute(definition, {}).output == [1, 2]
