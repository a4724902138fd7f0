"""JSONPath data flow, from the AWS documentation's "input and output processing" examples."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from eltflow.asl.dataflow import (
    apply_result_path,
    resolve_field,
    resolve_path,
    resolve_template,
    resolve_variable_path,
    select,
)
from eltflow.asl.jsonpath import PathNotFound
from eltflow.errors import StatesError
from eltflow.types import JSON

CONTEXT: JSON = {
    "Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:m:e1", "Name": "e1"},
    "State": {"Name": "Load", "RetryCount": 0},
}


def template(
    tpl: JSON,
    input: JSON,
    *,
    variables: dict[str, JSON] | None = None,
    intrinsic: Callable[[str, Callable[[str], JSON]], JSON] | None = None,
) -> JSON:
    return resolve_template(
        tpl,
        input=input,
        context=CONTEXT,
        variables=variables or {},
        intrinsic=intrinsic,
        field="Parameters",
    )


# --- InputPath / OutputPath / ItemsPath -------------------------------------------------------


def test_input_path_docs_example() -> None:
    state_input: JSON = {
        "comment": "Example for InputPath.",
        "dataset1": {"val1": 1, "val2": 2, "val3": 3},
        "dataset2": {"val1": "a", "val2": "b", "val3": "c"},
    }
    assert select("$.dataset2", state_input, field="InputPath") == {
        "val1": "a",
        "val2": "b",
        "val3": "c",
    }


def test_null_path_selects_an_empty_object_and_dollar_is_identity() -> None:
    data: JSON = {"a": 1}
    assert select(None, data, field="InputPath") == {}
    assert select("$", data, field="OutputPath") is data


def test_items_path_selects_an_array() -> None:
    assert select("$.items", {"items": [1, 2]}, field="ItemsPath") == [1, 2]


def test_select_from_the_context_and_variables() -> None:
    assert select("$$.State.Name", {}, field="InputPath", context=CONTEXT) == "Load"
    assert select("$v.a", {}, field="InputPath", variables={"v": {"a": 2}}) == 2


def test_missing_input_path_is_aws_invalid_path() -> None:
    # cause of a real AWS execution (after the "An error occurred while executing..." prefix)
    with pytest.raises(StatesError) as err:
        select("$.Payload", {"StatusCode": 200}, field="OutputPath")
    assert err.value.error == "States.Runtime"
    assert err.value.cause == "Invalid path '$.Payload' : No results for path: $['Payload']"


def test_missing_nested_input_path() -> None:
    with pytest.raises(StatesError) as err:
        select("$.a.b", {}, field="InputPath")
    assert err.value.cause == "Invalid path '$.a.b' : Missing property in path $['a']"


# --- Parameters / ResultSelector / ItemSelector templates -------------------------------------


def test_parameters_docs_example() -> None:
    state_input: JSON = {
        "comment": "Example for Parameters.",
        "product": {
            "details": {"color": "blue", "size": "small", "material": "cotton"},
            "availability": "in stock",
            "sku": "2317",
            "cost": "$23",
        },
    }
    parameters: JSON = {
        "comment": "Selecting what I care about.",
        "MyDetails": {
            "size.$": "$.product.details.size",
            "exists.$": "$.product.availability",
            "StaticValue": "foo",
        },
    }
    assert template(parameters, state_input) == {
        "comment": "Selecting what I care about.",
        "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"},
    }


def test_spec_parameters_example() -> None:
    parameters: JSON = {"flagged": True, "parts": {"first.$": "$.vals[0]", "last3.$": "$.vals[3:]"}}
    state_input: JSON = {"flagged": 7, "vals": [0, 10, 20, 30, 40, 50]}
    assert template(parameters, state_input) == {
        "flagged": True,
        "parts": {"first": 0, "last3": [30, 40, 50]},
    }


def test_result_selector_docs_example() -> None:
    result: JSON = {
        "resourceType": "elasticmapreduce",
        "resource": "createCluster.sync",
        "output": {
            "SdkHttpMetadata": {"HttpStatusCode": 200},
            "SdkResponseMetadata": {"RequestId": "1234-5678-9012"},
            "ClusterId": "AKIAIOSFODNN7EXAMPLE",
        },
    }
    selector: JSON = {"ClusterId.$": "$.output.ClusterId", "ResourceType.$": "$.resourceType"}
    selected = resolve_template(
        selector,
        input=result,
        context=CONTEXT,
        variables={},
        intrinsic=None,
        field="ResultSelector",
    )
    assert selected == {"ClusterId": "AKIAIOSFODNN7EXAMPLE", "ResourceType": "elasticmapreduce"}
    state_input: JSON = {"foo": "bar"}
    assert apply_result_path("$.EMROutput", state_input, selected) == {
        "foo": "bar",
        "EMROutput": {"ClusterId": "AKIAIOSFODNN7EXAMPLE", "ResourceType": "elasticmapreduce"},
    }


def test_templates_reach_context_and_variables_and_recurse_into_arrays() -> None:
    tpl: JSON = {
        "exec.$": "$$.Execution.Name",
        "whole.$": "$",
        "var.$": "$threshold",
        "deep.$": "$cfg.db.name",
        "list": [{"x.$": "$.a"}, "literal", 3, None],
    }
    out = template(
        tpl,
        {"a": 1},
        variables={"threshold": 10, "cfg": {"db": {"name": "dev"}}},
    )
    assert out == {
        "exec": "e1",
        "whole": {"a": 1},
        "var": 10,
        "deep": "dev",
        "list": [{"x": 1}, "literal", 3, None],
    }


def test_template_does_not_mutate_its_inputs() -> None:
    tpl: JSON = {"a.$": "$.x", "b": {"c": [1, {"d.$": "$.y"}]}}
    data: JSON = {"x": {"n": 1}, "y": [2]}
    tpl_before, data_before = copy.deepcopy(tpl), copy.deepcopy(data)
    template(tpl, data)
    assert (tpl, data) == (tpl_before, data_before)


def test_missing_template_path_aws_cause() -> None:
    # real AWS history: Glue StartJobRun with "JobName.$": "$.JobName" and input {}
    with pytest.raises(StatesError) as err:
        template({"JobName.$": "$.JobName"}, {})
    assert err.value.error == "States.Runtime"
    assert err.value.cause == (
        "The JSONPath '$.JobName' specified for the field 'JobName.$' could not be found in "
        "the input '{}'"
    )


def test_missing_nested_template_path_aws_cause() -> None:
    # Step Functions Local's answer quoted in floci-io/floci#2521
    with pytest.raises(StatesError) as err:
        template({"missing.$": "$.nope.deep"}, {"other": 1})
    assert err.value.cause == (
        "The JSONPath '$.nope.deep' specified for the field 'missing.$' could not be found in "
        "the input '{\"other\":1}'"
    )


def test_missing_context_path_quotes_the_context() -> None:
    with pytest.raises(StatesError) as err:
        template({"t.$": "$$.Task.Token"}, {})
    assert "'$$.Task.Token' specified for the field 't.$'" in err.value.cause
    assert '"Execution":{' in err.value.cause


def test_intrinsics_are_delegated_with_a_path_resolver() -> None:
    calls: list[str] = []

    def intrinsic(expression: str, resolve: Callable[[str], JSON]) -> JSON:
        calls.append(expression)
        return [resolve("$.name"), resolve("$$.Execution.Name"), resolve("$v")]

    out = template(
        {"greeting.$": "States.Format('Hello {}', $.name)", "plain": "States.Format"},
        {"name": "World"},
        variables={"v": True},
        intrinsic=intrinsic,
    )
    assert out == {"greeting": ["World", "e1", True], "plain": "States.Format"}
    assert calls == ["States.Format('Hello {}', $.name)"]


def test_intrinsic_path_resolver_raises_path_not_found() -> None:
    def intrinsic(expression: str, resolve: Callable[[str], JSON]) -> JSON:
        return resolve("$.missing")

    with pytest.raises(PathNotFound):
        template({"x.$": "States.Array($.missing)"}, {}, intrinsic=intrinsic)


def test_intrinsic_without_an_evaluator_is_an_error() -> None:
    with pytest.raises(StatesError, match="Intrinsic functions are not supported"):
        template({"x.$": "States.UUID()"}, {})


def test_dollar_key_needs_a_string() -> None:
    with pytest.raises(StatesError, match="must be a JSONPath"):
        template({"x.$": 3}, {})


# --- ResultPath -------------------------------------------------------------------------------

DOCS_INPUT: JSON = {
    "comment": "This is a test of the input and output of a Task state.",
    "details": "Default example",
    "who": "AWS Step Functions",
}
DOCS_RESULT: JSON = "Hello, AWS Step Functions!"


def test_result_path_dollar_replaces_the_input() -> None:
    assert apply_result_path("$", DOCS_INPUT, DOCS_RESULT) == "Hello, AWS Step Functions!"


def test_result_path_null_discards_the_result() -> None:
    assert apply_result_path(None, DOCS_INPUT, DOCS_RESULT) is DOCS_INPUT


def test_result_path_adds_the_result_to_the_input() -> None:
    assert apply_result_path("$.taskresult", DOCS_INPUT, DOCS_RESULT) == {
        "comment": "This is a test of the input and output of a Task state.",
        "details": "Default example",
        "who": "AWS Step Functions",
        "taskresult": "Hello, AWS Step Functions!",
    }


def test_result_path_updates_a_node_in_the_input() -> None:
    state_input: JSON = {
        "comment": "An input comment.",
        "data": {"val1": 23, "val2": 17},
        "extra": "foo",
        "lambda": {"who": "AWS Step Functions"},
    }
    assert apply_result_path("$.data.lambdaresult", state_input, "Hello!") == {
        "comment": "An input comment.",
        "data": {"val1": 23, "val2": 17, "lambdaresult": "Hello!"},
        "extra": "foo",
        "lambda": {"who": "AWS Step Functions"},
    }


def test_result_path_of_pass_state_spec_example() -> None:
    result: JSON = {"x-datum": 0.381018, "y-datum": 622.2269926397355}
    assert apply_result_path("$.coords", {"georefOf": "Home"}, result) == {
        "georefOf": "Home",
        "coords": {"x-datum": 0.381018, "y-datum": 622.2269926397355},
    }


def test_catch_result_path_keeps_input_and_adds_error_output() -> None:
    error_output: JSON = {"Error": "States.TaskFailed", "Cause": "boom"}
    assert apply_result_path("$.error", {"JobID": "101"}, error_output) == {
        "JobID": "101",
        "error": {"Error": "States.TaskFailed", "Cause": "boom"},
    }


def test_result_path_into_a_non_object_fails() -> None:
    with pytest.raises(StatesError) as err:
        apply_result_path("$.partitioned", "text", {"a": 1})
    assert err.value.error == "States.ResultPathMatchFailure"
    assert err.value.cause == 'Unable to apply ReferencePath $.partitioned to input "text"'


def test_result_path_must_be_a_reference_path() -> None:
    with pytest.raises(StatesError) as err:
        apply_result_path("$.a[*]", {}, 1)
    assert err.value.error == "States.ResultPathMatchFailure"


def test_output_path_after_result_path() -> None:
    combined = apply_result_path("$.result", {"a": 1}, {"Payload": {"n": 2}})
    assert select("$.result.Payload", combined, field="OutputPath") == {"n": 2}


# --- shared path helpers ----------------------------------------------------------------------


def test_resolve_variable_path() -> None:
    variables: dict[str, JSON] = {"x": {"a": [1, 2]}, "n": None}
    assert resolve_variable_path("$x", variables) == {"a": [1, 2]}
    assert resolve_variable_path("$x.a[1]", variables) == 2
    assert resolve_variable_path("$n", variables) is None
    with pytest.raises(PathNotFound):
        resolve_variable_path("$missing", variables)
    with pytest.raises(PathNotFound):
        resolve_variable_path("$x.b", variables)
    with pytest.raises(ValueError, match="not a variable"):
        resolve_variable_path("$.x", variables)


def test_resolve_path_picks_the_document_by_root() -> None:
    assert resolve_path("$.a", {"a": 1}, CONTEXT, {"a": 2}) == 1
    assert resolve_path("$$.State.RetryCount", {"a": 1}, CONTEXT) == 0
    assert resolve_path("$a", {"a": 1}, CONTEXT, {"a": 2}) == 2


def test_fail_state_error_path_aws_cause() -> None:
    # the cause AWS gives for a Fail state's ErrorPath (quoted in localstack#11951)
    data: JSON = {"Error": "error-value", "Cause": "cause-value"}
    assert resolve_field("$.Cause", data, field="CausePath") == "cause-value"
    with pytest.raises(StatesError) as err:
        resolve_field("$.ErrorX", data, field="ErrorPath")
    assert err.value.error == "States.Runtime"
    assert err.value.cause == (
        "The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the "
        'input \'{"Error":"error-value","Cause":"cause-value"}\''
    )


def test_cause_path_may_be_an_intrinsic() -> None:
    def intrinsic(expression: str, resolve: Callable[[str], JSON]) -> JSON:
        return f"cause: {resolve('$.cause')}"

    out = resolve_field(
        "States.Format('cause: {}', $.cause)",
        {"cause": "x"},
        field="CausePath",
        intrinsic=intrinsic,
    )
    assert out == "cause: x"


def test_strict_resolution_treats_an_index_past_either_end_as_missing() -> None:
    data: JSON = {"items": [1, 2]}
    assert resolve_path("$.items[5]", data) is None  # Jackson's leniency for plain paths
    assert resolve_path("$.items[-1]", data, strict=True) == 2
    for path in ("$.items[5]", "$.items[-3]"):
        with pytest.raises(PathNotFound):
            resolve_path(path, data, strict=True)
    with pytest.raises(PathNotFound):
        resolve_path("$v[2]", None, None, {"v": [0]}, strict=True)
