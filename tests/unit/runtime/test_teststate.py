"""eltflow.test_state: TestState's inspection levels, statuses, variables, context and requests.

The expected fields and words are AWS's as LocalStack's TestState suite recorded them on AWS
(Nov 2025); see the docstrings of eltflow.runtime.teststate and teststate_inspect.
"""

from __future__ import annotations

import json
from typing import Any, Final

import pytest

import eltflow
from eltflow.errors import AwsApiError, DefinitionError
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.runtime.teststate import TestStateRequest, run_test_state
from eltflow.types import JSON

INVOKE = "arn:aws:states:::lambda:invoke"

TASK: dict[str, Any] = {
    "Type": "Task",
    "Resource": INVOKE,
    "InputPath": "$.order",
    "Parameters": {"FunctionName": "price", "Payload.$": "$"},
    "ResultSelector": {"total.$": "$.Payload.total"},
    "ResultPath": "$.priced",
    "OutputPath": "$.priced",
    "Next": "Ship",
}
ORDER: dict[str, JSON] = {"order": {"id": 7}, "other": True}
PRICED: JSON = {"Payload": {"total": 12}, "StatusCode": 200}
# Lambda's API model types Payload as a blob (a string), so only NONE takes a JSON Payload,
# as on AWS (test_teststate_mocks shows STRICT refusing it).
LOOSE: Final = "NONE"


def _echo_registry(calls: list[JSON]) -> Registry:
    registry = Registry()

    def price(request: TaskRequest) -> JSON:
        calls.append(request.parameters)
        return {"Payload": {"total": 12}}

    registry.add(INVOKE, price)
    return registry


def _loads(data: dict[str, Any]) -> dict[str, Any]:
    return {k: json.loads(v) if isinstance(v, str) else v for k, v in data.items()}


def test_info_reports_status_output_and_next_state_only() -> None:
    result = eltflow.test_state(TASK, ORDER, mock_result=PRICED, field_validation_mode=LOOSE)
    assert result.to_aws() == {"status": "SUCCEEDED", "output": '{"total":12}', "nextState": "Ship"}
    assert result.inspection_data is None


def test_debug_shows_every_jsonpath_step_of_a_task() -> None:
    calls: list[JSON] = []
    result = eltflow.test_state(
        TASK, ORDER, inspection_level="DEBUG", registry=_echo_registry(calls)
    )
    assert calls == [{"FunctionName": "price", "Payload": {"id": 7}}]  # the real call, once
    assert result.inspection_data is not None
    assert _loads(result.inspection_data) == {
        "input": ORDER,
        "afterInputPath": {"id": 7},
        "afterParameters": {"FunctionName": "price", "Payload": {"id": 7}},
        "result": {"Payload": {"total": 12}},
        "afterResultSelector": {"total": 12},
        "afterResultPath": {**ORDER, "priced": {"total": 12}},
    }
    assert result.output_value == {"total": 12}


def test_trace_reports_what_debug_does_when_no_http_task_ran() -> None:
    debug = eltflow.test_state(
        TASK, ORDER, inspection_level="DEBUG", mock_result=PRICED, field_validation_mode=LOOSE
    )
    trace = eltflow.test_state(
        TASK, ORDER, inspection_level="TRACE", mock_result=PRICED, field_validation_mode=LOOSE
    )
    assert trace.to_aws() == debug.to_aws()
    assert trace.inspection_data and "request" not in trace.inspection_data


@pytest.mark.parametrize(
    ("state", "fields"),
    [
        # AWS reports "result" for a Pass only when it has a Result, and then no afterInputPath.
        (
            {"Type": "Pass", "Result": {"r": 1}, "ResultPath": "$.r", "End": True},
            ["input", "result", "afterResultSelector", "afterResultPath"],
        ),
        (
            {"Type": "Pass", "Parameters": {"v.$": "$.a"}, "End": True},
            [
                "input",
                "afterInputPath",
                "afterParameters",
                "afterResultSelector",
                "afterResultPath",
            ],
        ),
        ({"Type": "Succeed"}, ["input", "afterInputPath"]),
        ({"Type": "Fail", "Error": "E", "Cause": "c"}, ["input", "afterInputPath"]),
        (
            {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": True, "Next": "Y"}]},
            ["input", "afterInputPath"],
        ),
    ],
)
def test_debug_fields_per_state_type(state: dict[str, Any], fields: list[str]) -> None:
    result = eltflow.test_state(state, {"a": 1}, inspection_level="DEBUG")
    assert result.inspection_data is not None
    assert sorted(result.inspection_data) == sorted(fields)


def test_jsonata_task_reports_arguments_result_and_variables() -> None:
    state = {
        "Type": "Task",
        "QueryLanguage": "JSONata",
        "Resource": INVOKE,
        "Arguments": {"FunctionName": "price", "Payload": "{% $states.input.order %}"},
        "Assign": {"total": "{% $states.result.Payload.total %}"},
        "Output": "{% $states.result.Payload %}",
        "End": True,
    }
    result = eltflow.test_state(
        state,
        ORDER,
        inspection_level="DEBUG",
        mock_result=PRICED,
        field_validation_mode=LOOSE,
        variables={"seen": 1},
    )
    assert result.status == "SUCCEEDED" and result.output_value == {"total": 12}
    assert result.inspection_data is not None
    assert _loads(result.inspection_data) == {
        "input": ORDER,
        "afterArguments": {"FunctionName": "price", "Payload": {"id": 7}},
        "result": PRICED,
        "variables": {"seen": 1, "total": 12},
    }


def test_variables_are_visible_to_the_state() -> None:
    state = {"Type": "Pass", "Parameters": {"limit.$": "$limit"}, "End": True}
    result = eltflow.test_state(state, {}, variables={"limit": 5})
    assert result.output_value == {"limit": 5}


def test_context_replaces_the_context_object() -> None:
    state = {
        "Type": "Task",
        "Resource": INVOKE,
        "Parameters": {"FunctionName": "f", "Payload.$": "$$"},
        "ResultPath": "$.ctx",
        "End": True,
    }
    context: dict[str, JSON] = {
        "Execution": {
            "Id": "arn:aws:states:us-east-1:123456789012:execution:M:run-1",
            "Input": {"from": "context"},
            "Name": "run-1",
            "StartTime": "2025-01-15T10:30:00.000Z",
        },
        "State": {"Name": "MyTaskState", "EnteredTime": "2025-01-15T10:30:01.500Z"},
        "StateMachine": {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:M"},
    }
    result = eltflow.test_state(
        {**state, "ResultPath": "$.ctx"},
        {"x": 1},
        inspection_level="DEBUG",
        mock_result={"StatusCode": 200},
        context=context,
    )
    assert result.inspection_data is not None
    seen = json.loads(str(result.inspection_data["afterParameters"]))["Payload"]
    assert seen["Execution"]["Id"] == "arn:aws:states:us-east-1:123456789012:execution:M:run-1"
    assert seen["Execution"]["Input"] == {"from": "context"}
    assert seen["Execution"]["StartTime"] == "2025-01-15T10:30:00.000Z"
    assert seen == context  # as given (AWS, recorded): nothing added, nothing filled in
    empties: list[dict[str, JSON]] = [{"Execution": {}, "State": {}, "StateMachine": {}}, {}]
    for given in empties:
        empty = eltflow.test_state(
            state,
            {"x": 1},
            inspection_level="DEBUG",
            mock_result={"StatusCode": 200},
            context=given,
        )
        assert empty.inspection_data is not None
        sent = json.loads(str(empty.inspection_data["afterParameters"]))
        assert sent["Payload"] == given


@pytest.mark.parametrize(
    ("context", "words"),
    [
        ({"Execution": {"Id": 1}}, "Execution.Id must be a string"),
        ({"Map": {}}, "'Map' field is not supported when mocking a Context object"),
        ({"Execution": {"pokemon": "squirtle"}}, "Field 'pokemon' is not allowed"),
        ({"Pokedex": {}}, "Field 'Pokedex' is not allowed"),
        ({"Task": {"Token": "t"}}, "Context object contains 'Task' when state is not a Task"),
    ],
)
def test_a_bad_context_is_refused_with_aws_words(context: dict[str, Any], words: str) -> None:
    with pytest.raises(AwsApiError) as e:
        eltflow.test_state(TASK, ORDER, mock_result=PRICED, context=context)
    assert e.value.code == "ValidationException"
    assert e.value.message.startswith("Invalid Context object provided: ")
    assert words in e.value.message


def test_state_name_picks_a_state_of_a_whole_definition() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Output": "{% $states.input.n + 1 %}", "Next": "B"},
            "B": {"Type": "Succeed"},
        },
    }
    result = eltflow.test_state(json.dumps(definition), {"n": 1}, state_name="A")
    assert result.to_aws() == {"status": "SUCCEEDED", "output": "2", "nextState": "B"}
    with pytest.raises(AwsApiError, match=r"^ValidationException: State not found in definition$"):
        eltflow.test_state(definition, {}, state_name="C")
    with pytest.raises(DefinitionError):
        eltflow.test_state({**definition, "StartAt": "Z"}, {}, state_name="A")


def test_a_task_without_role_is_refused_unless_mocked() -> None:
    request = TestStateRequest(definition=TASK, input=ORDER)
    with pytest.raises(AwsApiError, match="RoleArn must be specified when testing a Task state"):
        run_test_state(request)


@pytest.mark.parametrize(
    ("state", "mock", "code", "words"),
    [
        (
            {"Type": "Pass", "End": True},
            {"mock_result": {}},
            "ValidationException",
            "State type 'Pass' is not supported when a mock is specified",
        ),
        (
            {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Succeed"}}},
                "End": True,
            },
            {},
            "InvalidDefinition",
            "TestState API does not support Map or Parallel states.",
        ),
        (
            {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Succeed"}}},
                "End": True,
            },
            {"mock_result": {"a": 1}},
            "ValidationException",
            "Mocked result must be an array.",
        ),
        (
            {
                "Type": "Parallel",
                "Branches": [{"StartAt": "P", "States": {"P": {"Type": "Succeed"}}}],
                "End": True,
            },
            {"mock_result": [1, 2]},
            "ValidationException",
            "Mocked result must contain the same number of items as number of Parallel branches.",
        ),
        (
            TASK,
            {"mock_result": {}, "mock_error": "E"},
            "ValidationException",
            "A test mock should have only one of the following fields: [result, errorOutput].",
        ),
        (
            TASK,
            {"mock_result": {}, "reveal_secrets": True},
            "ValidationException",
            "TestState does not support RevealSecrets when a mock is specified.",
        ),
    ],
)
def test_requests_aws_refuses(
    state: dict[str, Any], mock: dict[str, Any], code: str, words: str
) -> None:
    with pytest.raises(AwsApiError) as e:
        eltflow.test_state(state, [1], **mock)
    assert (e.value.code, e.value.message) == (code, words) or (
        e.value.code == code and e.value.message.startswith(words)
    )


MAP = {
    "Type": "Map",
    "ItemsPath": "$.Values",
    "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Succeed"}}},
    "ToleratedFailureCount": 1,
    "Catch": [{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "TooMany"}],
    "ResultPath": "$.done",
    "Next": "After",
}


def test_mocked_map_tolerates_failures_up_to_its_threshold() -> None:
    values: dict[str, JSON] = {"Values": ["a", "b", "c"]}
    below = eltflow.test_state(
        MAP, values, mock_result=[1, 1, 1], map_iteration_failure_count=1, inspection_level="DEBUG"
    )
    assert below.status == "SUCCEEDED" and below.next_state == "After"
    assert below.output_value == {**values, "done": [1, 1, 1]}
    assert below.inspection_data is not None
    assert _loads(below.inspection_data) == {
        "input": values,
        "afterInputPath": values,
        "afterItemsPath": ["a", "b", "c"],
        "maxConcurrency": 0,
        "toleratedFailureCount": 1,
        "afterResultSelector": [1, 1, 1],
        "afterResultPath": {**values, "done": [1, 1, 1]},
    }
    over = eltflow.test_state(MAP, values, mock_result=[0, 0, 1], map_iteration_failure_count=2)
    assert (over.status, over.next_state, over.error, over.cause) == (
        "CAUGHT_ERROR",
        "TooMany",
        "States.ExceedToleratedFailureThreshold",
        "The specified tolerated failure threshold was exceeded",
    )


def test_a_wait_state_reports_at_once() -> None:
    result = eltflow.test_state({"Type": "Wait", "Seconds": 86400, "Next": "Go"}, {"a": 1})
    assert result.to_aws() == {"status": "SUCCEEDED", "output": '{"a":1}', "nextState": "Go"}


def test_pytest_does_not_collect_the_api() -> None:
    assert eltflow.test_state.__test__ is False  # type: ignore[attr-defined]


def test_python_values_that_are_not_json_are_refused() -> None:
    with pytest.raises(AwsApiError, match="Mocked result must be valid JSON"):
        eltflow.test_state(TASK, ORDER, mock_result={"when": object()})  # type: ignore[dict-item]
    with pytest.raises(AwsApiError, match="Invalid input"):
        eltflow.test_state({"Type": "Pass", "End": True}, {"x": float("nan")})


def test_an_unmocked_task_nothing_answers_fails_as_an_execution_would() -> None:
    result = eltflow.test_state(TASK, ORDER, registry=Registry())
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause == f"No integration is registered for resource '{INVOKE}'"


def test_a_mocked_map_shows_each_iteration_input_after_its_item_selector() -> None:
    state = {
        **MAP,
        "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
    }
    result = eltflow.test_state(
        state, {"Values": ["a", "b"]}, mock_result=[1, 2], inspection_level="DEBUG"
    )
    assert result.inspection_data is not None
    assert json.loads(str(result.inspection_data["afterItemSelector"])) == [
        {"value": "a", "index": 0},
        {"value": "b", "index": 1},
    ]
