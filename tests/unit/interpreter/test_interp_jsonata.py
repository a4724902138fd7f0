"""JSONata states and workflow variables: $states, Arguments/Output/Assign, scoping."""

from __future__ import annotations

from typing import cast

import pytest

from eltflow import execute
from eltflow.errors import StatesError
from eltflow.types import JSON, JSONObject

FN = "arn:aws:states:::lambda:invoke"


def _echo(params: JSON) -> JSON:
    return {"got": params}


def test_task_arguments_output_and_assign() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": FN,
                "Arguments": {"x": "{% $states.input.a + 1 %}"},
                "Output": {"r": "{% $states.result.got.x %}", "in": "{% $states.input.a %}"},
                "Assign": {"saved": "{% $states.result.got.x %}"},
                "Next": "P",
            },
            "P": {"Type": "Pass", "Output": "{% [$states.input.r, $saved * 10] %}", "End": True},
        },
    }
    result = execute(definition, {"a": 1}, tasks={FN: _echo})
    assert result.output == [2, 20]


def test_assign_and_output_see_values_from_state_entry() -> None:
    # All of a state's Assign values and its Output are evaluated with the variables as they
    # were on entering the state: swapping works.
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Assign": {"a": 1, "b": 2}, "Next": "Swap"},
            "Swap": {
                "Type": "Pass",
                "Assign": {"a": "{% $b %}", "b": "{% $a %}"},
                "Output": "{% [$a, $b] %}",
                "Next": "Show",
            },
            "Show": {
                "Type": "Pass",
                "Output": "{% {'before': $states.input, 'after': [$a, $b]} %}",
                "End": True,
            },
        },
    }
    result = execute(definition, {})
    assert result.output == {"before": [1, 2], "after": [2, 1]}


def test_jsonpath_variables_are_referenced_with_dollar_name() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Assign": {"job.$": "$.id", "fixed": "v"}, "Next": "B"},
            "B": {"Type": "Pass", "Parameters": {"job.$": "$job", "f.$": "$fixed"}, "End": True},
        },
    }
    assert execute(definition, {"id": 101}).output == {"job": 101, "f": "v"}


def test_task_assign_in_jsonpath_sees_the_raw_result() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": FN,
                "ResultSelector": {"only.$": "$.got"},
                "Assign": {"raw.$": "$"},
                "Next": "P",
            },
            "P": {"Type": "Pass", "Parameters": {"raw.$": "$raw", "out.$": "$"}, "End": True},
        },
    }
    result = execute(definition, 5, tasks={FN: _echo})
    assert result.output == {"raw": {"got": 5}, "out": {"only": 5}}


def test_outer_variables_are_visible_inside_branches_and_inner_ones_do_not_leak() -> None:
    definition = {
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Assign": {"outer": "o"}, "Next": "Par"},
            "Par": {
                "Type": "Parallel",
                "Next": "After",
                "Branches": [
                    {
                        "StartAt": "B1",
                        "States": {
                            "B1": {"Type": "Pass", "Assign": {"inner": 1}, "Next": "B2"},
                            "B2": {
                                "Type": "Pass",
                                "Parameters": {"o.$": "$outer", "i.$": "$inner"},
                                "End": True,
                            },
                        },
                    }
                ],
            },
            "After": {
                "Type": "Pass",
                "Parameters": {"o.$": "$outer", "i.$": "$inner"},
                "End": True,
            },
        },
    }
    result = execute(definition, {})
    assert result.status == "FAILED"  # $inner does not exist outside the branch
    assert result.error == "States.Runtime"
    exits = [
        cast(JSONObject, e.details["stateExitedEventDetails"])
        for e in result.history
        if e.type == "PassStateExited"
    ]
    assert [d["output"] for d in exits if d["name"] == "B2"] == ['{"o":"o","i":1}']


def test_map_iterations_read_outer_variables_and_item_context() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Assign": {"factor": 3}, "Next": "M"},
            "M": {
                "Type": "Map",
                "Items": "{% $states.input.xs %}",
                "ItemSelector": {
                    "v": "{% $states.context.Map.Item.Value %}",
                    "i": "{% $states.context.Map.Item.Index %}",
                },
                "ItemProcessor": {
                    "StartAt": "P",
                    "States": {
                        "P": {
                            "Type": "Pass",
                            "Output": "{% $states.input.v * $factor + $states.input.i %}",
                            "End": True,
                        }
                    },
                },
                "End": True,
            },
        },
    }
    assert execute(definition, {"xs": [1, 2, 3]}).output == [3, 7, 11]


def test_choice_condition_and_rule_assign() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Condition": "{% $states.input.n > 10 %}",
                        "Next": "Big",
                        "Assign": {"kind": "big"},
                        "Output": {"n": "{% $states.input.n %}"},
                    }
                ],
                "Default": "Small",
                "Assign": {"kind": "small"},
            },
            "Big": {
                "Type": "Pass",
                "Output": "{% $kind & ':' & $string($states.input.n) %}",
                "End": True,
            },
            "Small": {"Type": "Pass", "Output": "{% $kind %}", "End": True},
        },
    }
    assert execute(definition, {"n": 11}).output == "big:11"
    assert execute(definition, {"n": 1}).output == "small"


def test_catch_output_and_assign_see_the_error_output() -> None:
    def fail(params: JSON) -> JSON:
        raise StatesError("Job.Failed", "no disk")

    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": FN,
                "End": True,
                "Catch": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Next": "H",
                        "Output": "{% $states.errorOutput.Error %}",
                        "Assign": {"why": "{% $states.errorOutput.Cause %}"},
                    }
                ],
            },
            "H": {"Type": "Pass", "Output": "{% $states.input & ' / ' & $why %}", "End": True},
        },
    }
    result = execute(definition, {}, tasks={FN: fail})
    assert result.output == "Job.Failed / no disk"


def test_fail_state_error_and_cause_expressions() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "F",
        "States": {
            "F": {
                "Type": "Fail",
                "Error": "{% $states.input.code %}",
                "Cause": "{% 'failed at ' & $states.input.step %}",
            }
        },
    }
    result = execute(definition, {"code": "E42", "step": "load"})
    assert (result.error, result.cause) == ("E42", "failed at load")


def test_evaluation_error_records_evaluation_failed_and_fails() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Output": "{% $states.input.nothing %}", "End": True}},
    }
    result = execute(definition, {"a": 1})
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")
    failed = result.events("EvaluationFailed")
    assert len(failed) == 1
    details = failed[0].details["evaluationFailedEventDetails"]
    assert isinstance(details, dict) and details["state"] == "P"


def test_per_state_query_language() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Parameters": {"v.$": "$.x"}, "Next": "B"},
            "B": {
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Output": "{% $states.input.v * 2 %}",
                "End": True,
            },
        },
    }
    assert execute(definition, {"x": 21}).output == 42


def test_wait_seconds_expression_and_context_times() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": "{% $states.input.s %}", "Next": "P"},
            "P": {"Type": "Pass", "Output": "{% $states.context.State.Name %}", "End": True},
        },
    }
    result = execute(definition, {"s": 30}, virtual_time=True)
    assert result.output == "P"
    assert (result.history[-1].timestamp - result.history[0].timestamp).total_seconds() == 30


def test_uuid_and_random_are_replayable_per_execution_name() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "Output": {"u": "{% $uuid() %}", "r": "{% $random() %}"},
                "End": True,
            }
        },
    }
    first = execute(definition, {}, name="same")
    again = execute(definition, {}, name="same")
    other = execute(definition, {}, name="other")
    assert first.output == again.output
    assert first.output != other.output


def test_map_items_expression_must_return_an_array() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "Items": "{% $states.input.x %}",
                "End": True,
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            }
        },
    }
    result = execute(definition, {"x": {"a": 1}})
    assert result.error == "States.QueryEvaluationError"
    assert result.cause == (
        "An error occurred while executing the state 'M' (entered at the event id #2). "
        "The JSONata expression '$states.input.x' specified for the field 'Items' returned an "
        "unexpected result type. Expected 'array', but was 'object' for value: {\"a\":1}"
    )


@pytest.mark.parametrize(
    ("expression", "ok"),
    [("{% 4/2 %}", True), ("{% 0 %}", True), ("{% 1.5 %}", False), ("{% 100000000 %}", False)],
)
def test_wait_seconds_expression_must_be_an_integer_in_range(expression: str, ok: bool) -> None:
    # Docs: a JSONata Seconds "must evaluate to an integer in the stated range" (0-99999999).
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": expression, "End": True}},
    }
    result = execute(definition, {}, virtual_time=True)
    assert result.succeeded is ok
    if not ok:
        assert result.error == "States.QueryEvaluationError"
