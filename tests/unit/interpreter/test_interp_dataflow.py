"""Data flow through states, from the AWS documentation's input/output processing examples."""

from __future__ import annotations

from eltflow import execute
from eltflow.types import JSON

FN = "arn:aws:lambda:us-east-1:123456789012:function:HelloFunction"


def _hello(params: JSON) -> JSON:
    assert isinstance(params, dict)
    return f"Hello, {params['who']}!"


def test_inputpath_resultpath_outputpath_example() -> None:
    # The docs' "InputPath, ResultPath and OutputPath example".
    definition = {
        "StartAt": "Lambda",
        "States": {
            "Lambda": {
                "Type": "Task",
                "Resource": FN,
                "InputPath": "$.lambda",
                "ResultPath": "$.data.lambdaresult",
                "OutputPath": "$.data",
                "End": True,
            }
        },
    }
    state_input: JSON = {
        "comment": "An input comment.",
        "data": {"val1": 23, "val2": 17},
        "extra": "foo",
        "lambda": {"who": "AWS Step Functions"},
    }
    result = execute(definition, state_input, tasks={FN: _hello})
    assert result.output == {"val1": 23, "val2": 17, "lambdaresult": "Hello, AWS Step Functions!"}


def test_parameters_with_paths_and_context() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "Parameters": {
                    "comment": "Selecting what I care about.",
                    "MyDetails": {
                        "size.$": "$.product.details.size",
                        "exists.$": "$.product.availability",
                    },
                    "name.$": "$$.Execution.Name",
                    "state.$": "$$.State.Name",
                },
                "End": True,
            }
        },
    }
    state_input: JSON = {
        "comment": "Example for Parameters.",
        "product": {
            "details": {"color": "blue", "size": "small", "material": "cotton"},
            "availability": "in stock",
            "sku": "2317",
            "cost": "$23",
        },
    }
    result = execute(definition, state_input, name="exec-7")
    assert result.output == {
        "comment": "Selecting what I care about.",
        "MyDetails": {"size": "small", "exists": "in stock"},
        "name": "exec-7",
        "state": "P",
    }


def test_result_selector_reshapes_the_raw_result() -> None:
    resource = "arn:aws:states:::elasticmapreduce:createCluster.sync"
    raw: JSON = {
        "resourceType": "elasticmapreduce",
        "resource": "createCluster.sync",
        "output": {"SdkHttpMetadata": {"HttpStatusCode": 200}, "ClusterId": "AKIAIOSFODNN7EXAMPLE"},
    }
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": resource,
                "ResultSelector": {
                    "ClusterId.$": "$.output.ClusterId",
                    "ResourceType.$": "$.resourceType",
                },
                "ResultPath": "$.EMROutput",
                "End": True,
            }
        },
    }
    result = execute(definition, {"x": 1}, tasks={resource: lambda p: raw})
    assert result.output == {
        "x": 1,
        "EMROutput": {"ClusterId": "AKIAIOSFODNN7EXAMPLE", "ResourceType": "elasticmapreduce"},
    }


def test_result_path_null_discards_the_result_and_output_path_null_gives_empty() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Task", "Resource": FN, "ResultPath": None, "Next": "B"},
            "B": {"Type": "Pass", "OutputPath": None, "Next": "C"},
            "C": {"Type": "Pass", "InputPath": None, "End": True},
        },
    }
    result = execute(definition, {"who": "me"}, tasks={FN: _hello})
    assert result.event_types()[5] == "TaskStateExited"
    exited = result.history[5].details["stateExitedEventDetails"]
    assert isinstance(exited, dict)
    assert exited["output"] == '{"who":"me"}'
    assert result.output == {}


def test_pass_result_and_result_path_merge() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "Result": {"x-datum": 0.381018, "y-datum": 622.2269926397355},
                "ResultPath": "$.coords",
                "End": True,
            }
        },
    }
    result = execute(definition, {"georefOf": "Home"})
    assert result.output == {
        "georefOf": "Home",
        "coords": {"x-datum": 0.381018, "y-datum": 622.2269926397355},
    }


def test_pass_result_is_a_literal_with_dollar_keys_kept() -> None:
    # ASL: Result is the output of a virtual task, not a payload template.
    result_value = {"Value.$": "$.x", "Nested": {"Call.$": "States.Format('{}', $.x)"}}
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": result_value, "End": True}},
    }
    result = execute(definition, {"x": 1})
    assert result.output == result_value


def test_intrinsic_functions_in_parameters() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "Parameters": {
                    "greeting.$": "States.Format('Hello, {}', $.name)",
                    "sum.$": "States.MathAdd($.a, $.b)",
                },
                "End": True,
            }
        },
    }
    result = execute(definition, {"name": "Ana", "a": 2, "b": 40})
    assert result.output == {"greeting": "Hello, Ana", "sum": 42}


def test_missing_input_path_fails_with_states_runtime() -> None:
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "InputPath": "$.missing", "End": True}},
    }
    result = execute(definition, {"a": 1})
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert result.cause is not None and "$.missing" in result.cause


def test_result_path_into_a_non_object_is_caught_as_result_path_match_failure() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": FN,
                "ResultPath": "$.who.x",
                "Catch": [{"ErrorEquals": ["States.ResultPathMatchFailure"], "Next": "Handled"}],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    result = execute(definition, {"who": "me"}, tasks={FN: _hello})
    assert result.status == "SUCCEEDED"
    assert isinstance(result.output, dict)
    assert result.output["Error"] == "States.ResultPathMatchFailure"


def test_choice_with_default_and_output_path() -> None:
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "OutputPath": "$.v",
                "Choices": [
                    {"Variable": "$.v", "NumericGreaterThan": 10, "Next": "Big"},
                    {
                        "And": [
                            {"Variable": "$.v", "IsNumeric": True},
                            {"Variable": "$.v", "NumericLessThan": 0},
                        ],
                        "Next": "Neg",
                    },
                ],
                "Default": "Small",
            },
            "Big": {"Type": "Pass", "Result": "big", "End": True},
            "Neg": {"Type": "Pass", "Result": "neg", "End": True},
            "Small": {"Type": "Pass", "Result": "small", "End": True},
        },
    }
    assert execute(definition, {"v": 11}).output == "big"
    assert execute(definition, {"v": -1}).output == "neg"
    assert execute(definition, {"v": 3}).output == "small"


def test_choice_without_match_or_default_fails_no_choice_matched() -> None:
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.v", "StringEquals": "x", "Next": "X"}],
            },
            "X": {"Type": "Succeed"},
        },
    }
    result = execute(definition, {"v": "y"})
    assert (result.status, result.error) == ("FAILED", "States.NoChoiceMatched")
    assert result.event_types() == ["ExecutionStarted", "ChoiceStateEntered", "ExecutionFailed"]


def test_fail_state_error_path_and_cause_path() -> None:
    definition = {
        "StartAt": "F",
        "States": {"F": {"Type": "Fail", "ErrorPath": "$.err", "CausePath": "$.why.text"}},
    }
    result = execute(definition, {"err": "Job.Failed", "why": {"text": "bad row"}})
    assert (result.error, result.cause) == ("Job.Failed", "bad row")


def test_wait_seconds_path_and_timestamp_under_virtual_time() -> None:
    definition = {
        "StartAt": "W1",
        "States": {
            "W1": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "W2"},
            "W2": {"Type": "Wait", "TimestampPath": "$.until", "End": True},
        },
    }
    result = execute(definition, {"delay": 90, "until": "2030-01-01T00:00:00Z"}, virtual_time=True)
    assert result.status == "SUCCEEDED"
    w1 = result.states_visited()[0]
    assert w1[3] is not None and (w1[3] - w1[2]).total_seconds() == 90
    assert result.history[-1].timestamp.isoformat() == "2030-01-01T00:00:00+00:00"


def test_payload_over_256_kib_fails_with_data_limit_exceeded() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": FN,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Succeed"},
        },
    }
    big = "x" * (256 * 1024)
    result = execute(definition, {}, tasks={FN: lambda p: big})
    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")


def test_wait_seconds_path_errors_use_aws_causes() -> None:
    definition = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}},
    }
    cases: list[tuple[JSON, str]] = [
        ({"s": -5}, "The SecondsPath parameter references a negative value: $.s == -5"),
        ({"s": "ten"}, "The SecondsPath parameter cannot be parsed as a long value: $.s == ten"),
        ({}, "The SecondsPath parameter does not reference an input value: $.s"),
    ]
    at = "An error occurred while executing the state 'W' (entered at the event id #2). "
    for state_input, cause in cases:
        result = execute(definition, state_input, virtual_time=True)
        assert (result.error, result.cause) == ("States.Runtime", at + cause)


def test_wait_timestamp_path_must_be_an_offset_date_time() -> None:
    definition = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "TimestampPath": "$.t", "End": True}},
    }
    result = execute(definition, {"t": "2026-01-01 10:00"}, virtual_time=True)
    assert result.error == "States.Runtime"
    assert result.cause == (
        "An error occurred while executing the state 'W' (entered at the event id #2). "
        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
        "date-time format string: $.t == 2026-01-01 10:00"
    )


def test_input_and_output_path_may_read_the_context_object_and_variables() -> None:
    # Recorded on AWS: "InputPath": "$$.Execution.Input" selects the execution input, "$$" the
    # whole context object; a variable holds its value from state entry (the state's own
    # Assign is applied after OutputPath).
    definition = {
        "StartAt": "Set",
        "States": {
            "Set": {"Type": "Pass", "Assign": {"answer": 42}, "Next": "Read"},
            "Read": {
                "Type": "Pass",
                "InputPath": "$$.Execution.Input",
                "ResultPath": "$.seen",
                "Result": "x",
                "Next": "Out",
            },
            "Out": {
                "Type": "Pass",
                "OutputPath": "$answer",
                "Assign": {"answer": "changed"},
                "End": True,
            },
        },
    }
    result = execute(definition, {"input-value": 0})
    assert result.output == 42
    reads = [e for e in result.history if e.type == "PassStateExited"][1]
    details = reads.details["stateExitedEventDetails"]
    assert isinstance(details, dict)
    assert details["output"] == '{"input-value":0,"seen":"x"}'

    whole = execute(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$$", "End": True}}}, {}
    )
    assert isinstance(whole.output, dict)
    assert sorted(whole.output) == ["Execution", "State", "StateMachine"]
    state = whole.output["State"]
    assert isinstance(state, dict) and sorted(state) == ["EnteredTime", "Name"]
    assert state["Name"] == "P"
