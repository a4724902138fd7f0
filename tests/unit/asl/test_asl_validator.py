"""validate(): one case per rule, each invalid definition yields AWS's code at the JSON pointer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eltflow.asl import validate
from eltflow.asl.validator import path_error, timestamp_ok

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "definitions"

ARN = "arn:aws:states:::lambda:invoke"
SCHEMA = "SCHEMA_VALIDATION_FAILED"
MISSING = "MISSING_TRANSITION_TARGET"


def one(state: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A machine whose only state is ``S``."""
    return {"StartAt": "S", "States": {"S": state}, **top}


def task(**fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": ARN, "End": True, **fields}


def mapping(**fields: Any) -> dict[str, Any]:
    processor = {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}
    return {"Type": "Map", "ItemProcessor": processor, "End": True, **fields}


def jsonata(state: dict[str, Any]) -> dict[str, Any]:
    return one(state, QueryLanguage="JSONata")


# (id, definition, expected code, expected path, text the message contains)
CASES: list[tuple[str, Any, str, str, str]] = [
    # -- top level -----------------------------------------------------------------------------
    ("top-not-object", [1], SCHEMA, "", "Object"),
    (
        "top-unknown-field",
        {**one({"Type": "Succeed"}), "Coment": "x"},
        SCHEMA,
        "/Coment",
        "Field 'Coment' is not supported",
    ),
    (
        "top-missing-startat",
        {"States": {"S": {"Type": "Succeed"}}},
        SCHEMA,
        "",
        "These fields are required: [StartAt]",
    ),
    ("top-missing-states", {"StartAt": "S"}, SCHEMA, "", "These fields are required: [States]"),
    (
        "startat-not-found",
        {"StartAt": "Nope", "States": {"S": {"Type": "Succeed"}}},
        MISSING,
        "/StartAt",
        "Missing 'StartAt' target: Nope",
    ),
    (
        "startat-wrong-type",
        {"StartAt": 3, "States": {"S": {"Type": "Succeed"}}},
        SCHEMA,
        "/StartAt",
        "Expected value of type String",
    ),
    (
        "version-not-1.0",
        one({"Type": "Succeed"}, Version="2.0"),
        SCHEMA,
        "/Version",
        "Value should be one of the following: [1.0]",
    ),
    (
        "top-timeout-negative",
        one({"Type": "Succeed"}, TimeoutSeconds=-1),
        SCHEMA,
        "/TimeoutSeconds",
        "Minimum value is 0",
    ),
    (
        "top-query-language-bad",
        one({"Type": "Succeed"}, QueryLanguage="SQL"),
        SCHEMA,
        "/QueryLanguage",
        "[JSONPath, JSONata]",
    ),
    ("states-empty", {"StartAt": "S", "States": {}}, SCHEMA, "/States", "Value cannot be empty"),
    # -- states: type, names, fields -----------------------------------------------------------
    (
        "state-missing-type",
        one({"End": True}),
        SCHEMA,
        "/States/S",
        "These fields are required: [Type]",
    ),
    (
        "state-bad-type",
        one({"Type": "Sleep"}),
        SCHEMA,
        "/States/S/Type",
        "Value should be one of the following",
    ),
    (
        "state-name-too-long",
        {"StartAt": "x" * 81, "States": {"x" * 81: {"Type": "Succeed"}}},
        "INVALID_STATE_NAME",
        "/States/" + "x" * 81,
        "80",
    ),
    ("unknown-field", one(task(Foo=1)), SCHEMA, "/States/S/Foo", "Field 'Foo' is not supported"),
    (
        "field-case-sensitive",
        one(task(resultPath="$.x")),
        SCHEMA,
        "/States/S/resultPath",
        "not supported",
    ),
    (
        "task-missing-resource",
        one({"Type": "Task", "End": True}),
        SCHEMA,
        "/States/S",
        "These fields are required: [Resource]",
    ),
    (
        "task-resource-not-arn",
        one(task(Resource="createToken")),
        "INVALID_RESOURCE",
        "/States/S/Resource",
        "createToken",
    ),
    (
        "timeout-on-pass",
        one({"Type": "Pass", "TimeoutSeconds": 3, "End": True}),
        SCHEMA,
        "/States/S/TimeoutSeconds",
        "Field 'TimeoutSeconds' is not supported",
    ),
    (
        "timeout-on-map",
        one(mapping(TimeoutSeconds=3)),
        SCHEMA,
        "/States/S/TimeoutSeconds",
        "not supported",
    ),
    (
        "catch-on-pass",
        one({"Type": "Pass", "Catch": [], "End": True}),
        SCHEMA,
        "/States/S/Catch",
        "not supported",
    ),
    (
        "retry-on-wait",
        one({"Type": "Wait", "Seconds": 1, "Retry": [], "End": True}),
        SCHEMA,
        "/States/S/Retry",
        "not supported",
    ),
    (
        "assign-on-succeed",
        one({"Type": "Succeed", "Assign": {"x": 1}}),
        SCHEMA,
        "/States/S/Assign",
        "Field 'Assign' is not supported",
    ),
    (
        "assign-on-fail",
        one({"Type": "Fail", "Assign": {"x": 1}}),
        SCHEMA,
        "/States/S/Assign",
        "not supported",
    ),
    (
        "inputpath-on-fail",
        one({"Type": "Fail", "InputPath": "$"}),
        SCHEMA,
        "/States/S/InputPath",
        "not supported",
    ),
    (
        "arguments-on-map",
        jsonata(mapping(Arguments={})),
        SCHEMA,
        "/States/S/Arguments",
        "not supported",
    ),
    (
        "wrong-type-boolean",
        one({"Type": "Pass", "End": "yes"}),
        SCHEMA,
        "/States/S/End",
        "Expected value of type Boolean",
    ),
    (
        "wrong-type-integer",
        one(task(TimeoutSeconds="10")),
        SCHEMA,
        "/States/S/TimeoutSeconds",
        "Expected value of type Integer",
    ),
    (
        "wrong-type-float-integer",
        one(task(TimeoutSeconds=1.5)),
        SCHEMA,
        "/States/S/TimeoutSeconds",
        "Integer",
    ),
    (
        "wrong-type-comment",
        one({"Type": "Succeed", "Comment": 5}),
        SCHEMA,
        "/States/S/Comment",
        "String",
    ),
    # -- transitions -----------------------------------------------------------------------------
    (
        "next-and-end",
        one({"Type": "Pass", "Next": "S", "End": True}),
        SCHEMA,
        "/States/S",
        "There should only be one of the following fields: [Next, End]",
    ),
    (
        "neither-next-nor-end",
        one({"Type": "Pass"}),
        SCHEMA,
        "/States/S",
        "This object should have only one of the following fields: [Next, End]",
    ),
    ("end-false-no-next", one({"Type": "Pass", "End": False}), SCHEMA, "/States/S", "[Next, End]"),
    (
        "next-missing-target",
        one({"Type": "Pass", "Next": "Nope"}),
        MISSING,
        "/States/S/Next",
        "Missing 'Next' target: Nope",
    ),
    (
        "choice-with-end",
        one(
            {
                "Type": "Choice",
                "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "S"}],
                "End": True,
            }
        ),
        SCHEMA,
        "/States/S/End",
        "Field 'End' is not supported",
    ),
    (
        "choice-with-next",
        {
            "StartAt": "S",
            "States": {
                "S": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "T"}],
                    "Next": "T",
                },
                "T": {"Type": "Succeed"},
            },
        },
        SCHEMA,
        "/States/S/Next",
        "Field 'Next' is not supported",
    ),
    (
        "succeed-with-next",
        {
            "StartAt": "S",
            "States": {"S": {"Type": "Succeed", "Next": "T"}, "T": {"Type": "Succeed"}},
        },
        SCHEMA,
        "/States/S/Next",
        "not supported",
    ),
    ("fail-with-end", one({"Type": "Fail", "End": True}), SCHEMA, "/States/S/End", "not supported"),
    (
        "unreachable-state",
        {"StartAt": "S", "States": {"S": {"Type": "Succeed"}, "Orphan": {"Type": "Succeed"}}},
        MISSING,
        "/States/Orphan",
        'State "Orphan" is not reachable.',
    ),
    (
        "no-terminal-state",
        {
            "StartAt": "A",
            "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}},
        },
        "MISSING_END_STATE",
        "",
        "Workflow has no terminal state",
    ),
    (
        "choice-default-missing",
        {
            "StartAt": "S",
            "States": {
                "S": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "T"}],
                    "Default": "Gone",
                },
                "T": {"Type": "Succeed"},
            },
        },
        MISSING,
        "/States/S/Default",
        "Missing 'Next' target: Gone",
    ),
    (
        "catch-next-missing",
        one(task(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Gone"}])),
        MISSING,
        "/States/S/Catch/0/Next",
        "Missing 'Next' target: Gone",
    ),
    (
        "duplicate-name-in-text",
        '{"StartAt": "S", "States": {"S": {"Type": "Succeed"}, "S": {"Type": "Succeed"}}}',
        "DUPLICATE_STATE_NAME",
        "/States/S",
        "S",
    ),
    # -- Parallel / Map scopes -----------------------------------------------------------------
    (
        "branch-next-out-of-scope",
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "Branches": [
                        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "After"}}}
                    ],
                    "Next": "After",
                },
                "After": {"Type": "Succeed"},
            },
        },
        MISSING,
        "/States/P/Branches/0/States/A/Next",
        "Missing 'Next' target: After",
    ),
    (
        "duplicate-name-across-branches",
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "Branches": [
                        {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}},
                        {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}},
                    ],
                    "End": True,
                }
            },
        },
        "DUPLICATE_STATE_NAME",
        "/States/P/Branches/1/States/A",
        "A",
    ),
    (
        "duplicate-name-map-and-top",
        {"StartAt": "S", "States": {"S": mapping(Next="I"), "I": {"Type": "Succeed"}}},
        "DUPLICATE_STATE_NAME",
        "/States/I",
        "I",
    ),
    (
        "branches-empty",
        one({"Type": "Parallel", "Branches": [], "End": True}),
        SCHEMA,
        "/States/S/Branches",
        "Value cannot be empty",
    ),
    (
        "branch-missing-startat",
        one(
            {"Type": "Parallel", "Branches": [{"States": {"A": {"Type": "Succeed"}}}], "End": True}
        ),
        SCHEMA,
        "/States/S/Branches/0",
        "These fields are required: [StartAt]",
    ),
    (
        "branch-unreachable",
        one(
            {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}}}
                ],
                "End": True,
            }
        ),
        MISSING,
        "/States/S/Branches/0/States/B",
        "not reachable",
    ),
    (
        "branch-query-language",
        one(
            {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "A",
                        "QueryLanguage": "JSONata",
                        "States": {"A": {"Type": "Succeed"}},
                    }
                ],
                "End": True,
            }
        ),
        SCHEMA,
        "/States/S/Branches/0/QueryLanguage",
        "not supported",
    ),
    (
        "map-no-processor",
        one({"Type": "Map", "End": True}),
        SCHEMA,
        "/States/S",
        "This object should have only one of the following fields: [ItemProcessor, Iterator]",
    ),
    (
        "map-processor-and-iterator",
        one(mapping(Iterator={"StartAt": "J", "States": {"J": {"Type": "Succeed"}}})),
        SCHEMA,
        "/States/S",
        "[ItemProcessor, Iterator]",
    ),
    (
        "item-processor-query-language",
        one(
            mapping(
                ItemProcessor={
                    "QueryLanguage": "JSONPath",
                    "StartAt": "I",
                    "States": {"I": {"Type": "Succeed"}},
                }
            )
        ),
        SCHEMA,
        "/States/S/ItemProcessor/QueryLanguage",
        "Field 'QueryLanguage' is not supported",
    ),
    (
        "map-item-selector-and-parameters",
        one(mapping(ItemSelector={}, Parameters={})),
        SCHEMA,
        "/States/S",
        "[ItemSelector, Parameters]",
    ),
    (
        "map-tolerated-percentage-over-100",
        one(mapping(ToleratedFailurePercentage=101)),
        SCHEMA,
        "/States/S/ToleratedFailurePercentage",
        "Maximum value is 100",
    ),
    (
        "map-tolerated-percentage-negative",
        one(mapping(ToleratedFailurePercentage=-1)),
        SCHEMA,
        "/States/S/ToleratedFailurePercentage",
        "Minimum value is 0",
    ),
    (
        "map-tolerated-count-negative",
        one(mapping(ToleratedFailureCount=-1)),
        SCHEMA,
        "/States/S/ToleratedFailureCount",
        "Minimum value is 0",
    ),
    (
        "map-max-concurrency-negative",
        one(mapping(MaxConcurrency=-1)),
        SCHEMA,
        "/States/S/MaxConcurrency",
        "Minimum value is 0",
    ),
    (
        "map-max-concurrency-both",
        one(mapping(MaxConcurrency=1, MaxConcurrencyPath="$.n")),
        SCHEMA,
        "/States/S",
        "[MaxConcurrency, MaxConcurrencyPath]",
    ),
    (
        "map-items-path-not-reference",
        one(mapping(ItemsPath="$.a[*]")),
        SCHEMA,
        "/States/S/ItemsPath",
        "Reference Path",
    ),
    (
        "distributed-needs-execution-type",
        one(
            mapping(
                ItemProcessor={
                    "ProcessorConfig": {"Mode": "DISTRIBUTED"},
                    "StartAt": "I",
                    "States": {"I": {"Type": "Succeed"}},
                }
            )
        ),
        SCHEMA,
        "/States/S/ItemProcessor/ProcessorConfig",
        "These fields are required: [ExecutionType]",
    ),
    (
        "inline-execution-type",
        one(
            mapping(
                ItemProcessor={
                    "ProcessorConfig": {"Mode": "INLINE", "ExecutionType": "STANDARD"},
                    "StartAt": "I",
                    "States": {"I": {"Type": "Succeed"}},
                }
            )
        ),
        SCHEMA,
        "/States/S/ItemProcessor/ProcessorConfig/ExecutionType",
        "not supported",
    ),
    (
        "processor-mode-bad",
        one(
            mapping(
                ItemProcessor={
                    "ProcessorConfig": {"Mode": "FAST"},
                    "StartAt": "I",
                    "States": {"I": {"Type": "Succeed"}},
                }
            )
        ),
        SCHEMA,
        "/States/S/ItemProcessor/ProcessorConfig/Mode",
        "[INLINE, DISTRIBUTED]",
    ),
    # -- Retry / Catch -------------------------------------------------------------------------
    (
        "retrier-interval-zero",
        one(task(Retry=[{"ErrorEquals": ["E"], "IntervalSeconds": 0}])),
        SCHEMA,
        "/States/S/Retry/0/IntervalSeconds",
        "Minimum value is 1",
    ),
    (
        "retrier-max-attempts-negative",
        one(task(Retry=[{"ErrorEquals": ["E"], "MaxAttempts": -1}])),
        SCHEMA,
        "/States/S/Retry/0/MaxAttempts",
        "Minimum value is 0",
    ),
    (
        "retrier-backoff-below-one",
        one(task(Retry=[{"ErrorEquals": ["E"], "BackoffRate": 0.5}])),
        SCHEMA,
        "/States/S/Retry/0/BackoffRate",
        "Minimum value is 1",
    ),
    (
        "retrier-max-delay-zero",
        one(task(Retry=[{"ErrorEquals": ["E"], "MaxDelaySeconds": 0}])),
        SCHEMA,
        "/States/S/Retry/0/MaxDelaySeconds",
        "Minimum value is 1",
    ),
    (
        "retrier-max-delay-too-big",
        one(task(Retry=[{"ErrorEquals": ["E"], "MaxDelaySeconds": 31622401}])),
        SCHEMA,
        "/States/S/Retry/0/MaxDelaySeconds",
        "Maximum value is 31622400",
    ),
    (
        "retrier-jitter-bad",
        one(task(Retry=[{"ErrorEquals": ["E"], "JitterStrategy": "HALF"}])),
        SCHEMA,
        "/States/S/Retry/0/JitterStrategy",
        "Value should be one of the following: [FULL, NONE]",
    ),
    (
        "retrier-unknown-field",
        one(task(Retry=[{"ErrorEquals": ["E"], "Next": "S"}])),
        SCHEMA,
        "/States/S/Retry/0/Next",
        "not supported",
    ),
    (
        "retrier-missing-error-equals",
        one(task(Retry=[{"MaxAttempts": 1}])),
        SCHEMA,
        "/States/S/Retry/0",
        "These fields are required: [ErrorEquals]",
    ),
    (
        "error-equals-empty",
        one(task(Retry=[{"ErrorEquals": []}])),
        SCHEMA,
        "/States/S/Retry/0/ErrorEquals",
        "Value cannot be empty",
    ),
    (
        "states-all-not-alone",
        one(task(Retry=[{"ErrorEquals": ["States.ALL", "E"]}])),
        SCHEMA,
        "/States/S/Retry/0/ErrorEquals",
        "States.ALL must appear alone and at end of list",
    ),
    (
        "states-all-retrier-not-last",
        one(task(Retry=[{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["E"]}])),
        SCHEMA,
        "/States/S/Retry/0/ErrorEquals",
        "States.ALL must appear alone and at end of list",
    ),
    (
        "states-all-catcher-not-last",
        one(
            task(
                Catch=[
                    {"ErrorEquals": ["States.ALL"], "Next": "S"},
                    {"ErrorEquals": ["E"], "Next": "S"},
                ]
            )
        ),
        SCHEMA,
        "/States/S/Catch/0/ErrorEquals",
        "States.ALL must appear alone",
    ),
    (
        "catcher-missing-next",
        one(task(Catch=[{"ErrorEquals": ["E"]}])),
        SCHEMA,
        "/States/S/Catch/0",
        "These fields are required: [Next]",
    ),
    (
        "catcher-result-path-bad",
        one(task(Catch=[{"ErrorEquals": ["E"], "Next": "S", "ResultPath": "$..x"}])),
        SCHEMA,
        "/States/S/Catch/0/ResultPath",
        "Reference Path",
    ),
    (
        "catcher-output-jsonpath",
        one(task(Catch=[{"ErrorEquals": ["E"], "Next": "S", "Output": {}}])),
        SCHEMA,
        "/States/S/Catch/0/Output",
        "only supported for the 'JSONata'",
    ),
    (
        "catcher-result-path-jsonata",
        jsonata(task(Catch=[{"ErrorEquals": ["E"], "Next": "S", "ResultPath": "$.e"}])),
        SCHEMA,
        "/States/S/Catch/0/ResultPath",
        "only supported for the 'JSONPath'",
    ),
    # -- Task timeouts -------------------------------------------------------------------------
    (
        "heartbeat-not-below-timeout",
        one(task(TimeoutSeconds=10, HeartbeatSeconds=10)),
        SCHEMA,
        "/States/S/HeartbeatSeconds",
        "smaller than TimeoutSeconds",
    ),
    (
        "timeout-and-path",
        one(task(TimeoutSeconds=10, TimeoutSecondsPath="$.t")),
        SCHEMA,
        "/States/S",
        "[TimeoutSeconds, TimeoutSecondsPath]",
    ),
    (
        "heartbeat-and-path",
        one(task(HeartbeatSeconds=1, HeartbeatSecondsPath="$.t")),
        SCHEMA,
        "/States/S",
        "[HeartbeatSeconds, HeartbeatSecondsPath]",
    ),
    (
        "timeout-zero",
        one(task(TimeoutSeconds=0)),
        SCHEMA,
        "/States/S/TimeoutSeconds",
        "Minimum value is 1",
    ),
    (
        "timeout-too-big",
        one(task(TimeoutSeconds=100_000_000)),
        SCHEMA,
        "/States/S/TimeoutSeconds",
        "Maximum value is 99999999",
    ),
    # -- Wait / Fail ---------------------------------------------------------------------------
    (
        "wait-none",
        one({"Type": "Wait", "End": True}),
        SCHEMA,
        "/States/S",
        "[Seconds, SecondsPath, Timestamp, TimestampPath]",
    ),
    (
        "wait-two",
        one({"Type": "Wait", "Seconds": 1, "TimestampPath": "$.t", "End": True}),
        SCHEMA,
        "/States/S",
        "There should only be one of the following fields",
    ),
    (
        "wait-seconds-negative",
        one({"Type": "Wait", "Seconds": -1, "End": True}),
        SCHEMA,
        "/States/S/Seconds",
        "Minimum value is 0",
    ),
    (
        "wait-timestamp-bad",
        one({"Type": "Wait", "Timestamp": "2016-03-14 01:59", "End": True}),
        SCHEMA,
        "/States/S/Timestamp",
        "timestamp",
    ),
    (
        "wait-seconds-path-bad",
        one({"Type": "Wait", "SecondsPath": "seconds", "End": True}),
        SCHEMA,
        "/States/S/SecondsPath",
        "Value must be a valid JSONPath.",
    ),
    (
        "fail-error-and-path",
        one({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}),
        SCHEMA,
        "/States/S",
        "[Error, ErrorPath]",
    ),
    (
        "fail-cause-and-path",
        one({"Type": "Fail", "Cause": "c", "CausePath": "$.c"}),
        SCHEMA,
        "/States/S",
        "[Cause, CausePath]",
    ),
    # -- paths ---------------------------------------------------------------------------------
    (
        "inputpath-invalid",
        one({"Type": "Pass", "InputPath": "$.a[", "End": True}),
        SCHEMA,
        "/States/S/InputPath",
        "Value must be a valid JSONPath.",
    ),
    (
        "outputpath-no-dollar",
        one({"Type": "Pass", "OutputPath": "a.b", "End": True}),
        SCHEMA,
        "/States/S/OutputPath",
        "Value must be a valid JSONPath.",
    ),
    (
        "resultpath-wildcard",
        one({"Type": "Pass", "ResultPath": "$.a.*", "End": True}),
        SCHEMA,
        "/States/S/ResultPath",
        "Value is not a Reference Path",
    ),
    (
        "resultpath-context",
        one({"Type": "Pass", "ResultPath": "$$.Execution", "End": True}),
        SCHEMA,
        "/States/S/ResultPath",
        "Reference Path",
    ),
    (
        "resultpath-no-dollar",
        one({"Type": "Pass", "ResultPath": "x", "End": True}),
        SCHEMA,
        "/States/S/ResultPath",
        "Reference path didn't start with '$'",
    ),
    (
        "dollar-key-not-path",
        one({"Type": "Pass", "Parameters": {"a.$": "hello"}, "End": True}),
        SCHEMA,
        "/States/S/Parameters/a.$",
        "The value for the field 'a.$' must be a valid JSONPath or a valid intrinsic function call",
    ),
    (
        "dollar-key-nested",
        one(task(ResultSelector={"x": [{"y.$": 5}]})),
        SCHEMA,
        "/States/S/ResultSelector/x/0/y.$",
        "'y.$'",
    ),
    (
        "dollar-key-bad-path",
        one(mapping(ItemSelector={"v.$": "$.a["})),
        SCHEMA,
        "/States/S/ItemSelector/v.$",
        "valid JSONPath",
    ),
    (
        "dollar-key-in-assign",
        one({"Type": "Pass", "Assign": {"v.$": "nope"}, "End": True}),
        SCHEMA,
        "/States/S/Assign/v.$",
        "valid JSONPath",
    ),
    (
        "dollar-key-bad-intrinsic",
        one({"Type": "Pass", "Parameters": {"a.$": "States.Format('x'"}, "End": True}),
        SCHEMA,
        "/States/S/Parameters/a.$",
        "valid intrinsic function call",
    ),
    (
        "map-label-too-long",
        one(mapping(Label="x" * 41)),
        "INVALID_LABEL_NAME",
        "/States/S/Label",
        "40",
    ),
    (
        "map-label-special",
        one(mapping(Label="a b")),
        "INVALID_LABEL_NAME",
        "/States/S/Label",
        "a b",
    ),
    (
        "map-label-duplicate",
        {
            "StartAt": "M1",
            "States": {"M1": mapping(Label="L", Next="M2", End=False), "M2": mapping(Label="L")},
        },
        "DUPLICATE_LABEL_NAME",
        "/States/M2/Label",
        "L",
    ),
    # -- query languages -----------------------------------------------------------------------
    (
        "jsonata-field-in-jsonpath",
        one({"Type": "Pass", "Output": {}, "End": True}),
        SCHEMA,
        "/States/S/Output",
        "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the "
        "'JSONata' QueryLanguage",
    ),
    (
        "arguments-in-jsonpath",
        one(task(Arguments={})),
        SCHEMA,
        "/States/S/Arguments",
        "only supported for the 'JSONata'",
    ),
    ("items-in-jsonpath", one(mapping(Items=[1])), SCHEMA, "/States/S/Items", "JSONata"),
    (
        "condition-in-jsonpath",
        one({"Type": "Choice", "Choices": [{"Condition": True, "Next": "S"}]}),
        SCHEMA,
        "/States/S/Choices/0/Condition",
        "JSONata",
    ),
    (
        "jsonpath-field-in-jsonata",
        jsonata(task(Parameters={})),
        SCHEMA,
        "/States/S/Parameters",
        "The QueryLanguage is set to 'JSONata', but field 'Parameters' is only supported for the "
        "'JSONPath' QueryLanguage",
    ),
    (
        "inputpath-in-jsonata",
        jsonata({"Type": "Pass", "InputPath": "$", "End": True}),
        SCHEMA,
        "/States/S/InputPath",
        "JSONPath",
    ),
    (
        "result-in-jsonata",
        jsonata({"Type": "Pass", "Result": 1, "End": True}),
        SCHEMA,
        "/States/S/Result",
        "JSONPath",
    ),
    (
        "seconds-path-in-jsonata",
        jsonata({"Type": "Wait", "SecondsPath": "$.s", "End": True}),
        SCHEMA,
        "/States/S/SecondsPath",
        "JSONPath",
    ),
    (
        "variable-in-jsonata",
        jsonata({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "S"}]}),
        SCHEMA,
        "/States/S/Choices/0/Variable",
        "JSONPath",
    ),
    (
        "state-jsonpath-in-jsonata-machine",
        jsonata({"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}),
        SCHEMA,
        "/States/S/QueryLanguage",
        "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
    ),
    (
        "state-query-language-bad",
        one({"Type": "Pass", "QueryLanguage": "jsonata", "End": True}),
        SCHEMA,
        "/States/S/QueryLanguage",
        "[JSONPath, JSONata]",
    ),
    (
        "jsonata-syntax-error",
        jsonata({"Type": "Pass", "Output": {"a": "{% $states.input.( %}"}, "End": True}),
        "INVALID_JSONATA_EXPRESSION",
        "/States/S/Output/a",
        "Expected",
    ),
    (
        "jsonata-top-level-name",
        jsonata({"Type": "Pass", "Output": {"v": "{% phone %}"}, "End": True}),
        "UNSUPPORTED_JSONATA_EXPRESSION",
        "/States/S/Output/v",
        "Reference to 'phone' at the top level is not supported.",
    ),
    (
        "jsonata-top-level-name-in-function-argument",
        jsonata({"Type": "Pass", "Output": "{% $count(items) + 1 %}", "End": True}),
        "UNSUPPORTED_JSONATA_EXPRESSION",
        "/States/S/Output",
        "'items'",
    ),
    (
        "jsonata-top-level-dollar",
        jsonata(task(Arguments={"all": "{% $ %}"})),
        "UNSUPPORTED_JSONATA_EXPRESSION",
        "/States/S/Arguments/all",
        "'$'",
    ),
    (
        "jsonata-error-output-outside-catch",
        jsonata(task(Arguments={"e": "{% $states.errorOutput %}"})),
        "UNSUPPORTED_JSONATA_EXPRESSION",
        "/States/S/Arguments/e",
        "Field '$states.errorOutput' does not exist.",
    ),
    (
        "jsonata-result-in-arguments",
        jsonata(task(Arguments={"r": "{% $states.result %}"})),
        "UNSUPPORTED_JSONATA_EXPRESSION",
        "/States/S/Arguments/r",
        "Field '$states.result' does not exist.",
    ),
    (
        "jsonata-result-in-pass-output",
        jsonata({"Type": "Pass", "Output": "{% $states.result %}", "End": True}),
        "UNSUPPORTED_JSONATA_EXPRESSION",
        "/States/S/Output",
        "$states.result",
    ),
    (
        "jsonata-result-in-catcher",
        jsonata(
            task(
                Catch=[{"ErrorEquals": ["E"], "Next": "S", "Assign": {"r": "{% $states.result %}"}}]
            )
        ),
        "UNSUPPORTED_JSONATA_EXPRESSION",
        "/States/S/Catch/0/Assign/r",
        "$states.result",
    ),
    (
        "jsonata-unclosed",
        jsonata({"Type": "Pass", "Output": "{% 1 + 1", "End": True}),
        SCHEMA,
        "/States/S/Output",
        "JSONata string must start with {% and end with %}",
    ),
    (
        "jsonata-timeout-not-expression",
        jsonata(task(TimeoutSeconds="ten")),
        SCHEMA,
        "/States/S/TimeoutSeconds",
        "{%",
    ),
    (
        "jsonata-items-bad-expression",
        jsonata(mapping(Items="{% ] %}")),
        "INVALID_JSONATA_EXPRESSION",
        "/States/S/Items",
        "",
    ),
    (
        "jsonata-condition-bad",
        jsonata({"Type": "Choice", "Choices": [{"Condition": "{% ( %}", "Next": "S"}]}),
        "INVALID_JSONATA_EXPRESSION",
        "/States/S/Choices/0/Condition",
        "",
    ),
    (
        "jsonata-condition-number",
        jsonata({"Type": "Choice", "Choices": [{"Condition": 1, "Next": "S"}]}),
        SCHEMA,
        "/States/S/Choices/0/Condition",
        "Boolean",
    ),
    (
        "jsonata-fail-error-bad",
        jsonata({"Type": "Fail", "Error": "{% $x + %}"}),
        "INVALID_JSONATA_EXPRESSION",
        "/States/S/Error",
        "Unexpected end of expression",
    ),
    (
        "jsonata-nested-in-processor",
        jsonata(
            mapping(
                ItemProcessor={
                    "StartAt": "I",
                    "States": {"I": {"Type": "Pass", "ResultPath": "$.x", "End": True}},
                }
            )
        ),
        SCHEMA,
        "/States/S/ItemProcessor/States/I/ResultPath",
        "JSONPath",
    ),
    # -- variables -----------------------------------------------------------------------------
    (
        "assign-reserved-states",
        one({"Type": "Pass", "Assign": {"states": 1}, "End": True}),
        "RESERVED_VARIABLE_NAME",
        "/States/S/Assign/states",
        "$states",
    ),
    (
        "assign-invalid-name",
        one({"Type": "Pass", "Assign": {"my-var": 1}, "End": True}),
        "INVALID_VARIABLE_NAME",
        "/States/S/Assign/my-var",
        "my-var",
    ),
    (
        "assign-in-catcher-reserved",
        jsonata(task(Catch=[{"ErrorEquals": ["E"], "Next": "S", "Assign": {"states": 1}}])),
        "RESERVED_VARIABLE_NAME",
        "/States/S/Catch/0/Assign/states",
        "reserved",
    ),
    (
        "assign-in-choice-rule-invalid",
        jsonata(
            {"Type": "Choice", "Choices": [{"Condition": True, "Next": "S", "Assign": {"1x": 1}}]}
        ),
        "INVALID_VARIABLE_NAME",
        "/States/S/Choices/0/Assign/1x",
        "1x",
    ),
    (
        "assign-not-object",
        one({"Type": "Pass", "Assign": [1], "End": True}),
        SCHEMA,
        "/States/S/Assign",
        "Object",
    ),
    # -- Choice rules --------------------------------------------------------------------------
    (
        "choices-missing",
        one({"Type": "Choice"}),
        SCHEMA,
        "/States/S",
        "These fields are required: [Choices]",
    ),
    (
        "choices-empty",
        one({"Type": "Choice", "Choices": []}),
        SCHEMA,
        "/States/S/Choices",
        "Value cannot be empty",
    ),
    (
        "choice-rule-without-next",
        {
            "StartAt": "S",
            "States": {
                "S": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.a", "IsNull": True}],
                    "Default": "T",
                },
                "T": {"Type": "Succeed"},
            },
        },
        SCHEMA,
        "/States/S/Choices/0",
        "These fields are required: [Next]",
    ),
    (
        "choice-nested-next",
        one(
            {
                "Type": "Choice",
                "Choices": [{"Not": {"Variable": "$.a", "IsNull": True, "Next": "S"}, "Next": "S"}],
            }
        ),
        SCHEMA,
        "/States/S/Choices/0/Not/Next",
        "Field 'Next' is not supported",
    ),
    (
        "choice-two-operators",
        one(
            {
                "Type": "Choice",
                "Choices": [{"Variable": "$.a", "IsNull": True, "IsString": True, "Next": "S"}],
            }
        ),
        SCHEMA,
        "/States/S/Choices/0",
        "comparison operators",
    ),
    (
        "choice-no-operator",
        one({"Type": "Choice", "Choices": [{"Variable": "$.a", "Next": "S"}]}),
        SCHEMA,
        "/States/S/Choices/0",
        "comparison operators",
    ),
    (
        "choice-operator-without-variable",
        one({"Type": "Choice", "Choices": [{"StringEquals": "a", "Next": "S"}]}),
        SCHEMA,
        "/States/S/Choices/0",
        "[And, Or, Not, Variable, Condition]",
    ),
    (
        "choice-and-plus-variable",
        one(
            {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [{"Variable": "$.a", "IsNull": True}],
                        "Variable": "$.b",
                        "IsNull": True,
                        "Next": "S",
                    }
                ],
            }
        ),
        SCHEMA,
        "/States/S/Choices/0",
        "only one of the following fields, [And, Or, Not, Variable",
    ),
    (
        "choice-unknown-operator",
        one({"Type": "Choice", "Choices": [{"Variable": "$.a", "StringEqual": "x", "Next": "S"}]}),
        SCHEMA,
        "/States/S/Choices/0/StringEqual",
        "not supported",
    ),
    (
        "choice-and-empty",
        one({"Type": "Choice", "Choices": [{"And": [], "Next": "S"}]}),
        SCHEMA,
        "/States/S/Choices/0/And",
        "Value cannot be empty",
    ),
    (
        "choice-numeric-operand-string",
        one(
            {"Type": "Choice", "Choices": [{"Variable": "$.a", "NumericEquals": "1", "Next": "S"}]}
        ),
        SCHEMA,
        "/States/S/Choices/0/NumericEquals",
        "Number",
    ),
    (
        "choice-boolean-operand",
        one(
            {
                "Type": "Choice",
                "Choices": [{"Variable": "$.a", "BooleanEquals": "true", "Next": "S"}],
            }
        ),
        SCHEMA,
        "/States/S/Choices/0/BooleanEquals",
        "Boolean",
    ),
    (
        "choice-is-null-operand",
        one({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": 1, "Next": "S"}]}),
        SCHEMA,
        "/States/S/Choices/0/IsNull",
        "Boolean",
    ),
    (
        "choice-timestamp-operand",
        one(
            {
                "Type": "Choice",
                "Choices": [{"Variable": "$.a", "TimestampEquals": "yesterday", "Next": "S"}],
            }
        ),
        SCHEMA,
        "/States/S/Choices/0/TimestampEquals",
        "timestamp",
    ),
    (
        "choice-path-operand",
        one(
            {
                "Type": "Choice",
                "Choices": [{"Variable": "$.a", "StringEqualsPath": "b", "Next": "S"}],
            }
        ),
        SCHEMA,
        "/States/S/Choices/0/StringEqualsPath",
        "valid JSONPath",
    ),
    (
        "choice-variable-bad",
        one({"Type": "Choice", "Choices": [{"Variable": "a", "IsNull": True, "Next": "S"}]}),
        SCHEMA,
        "/States/S/Choices/0/Variable",
        "JSONPath",
    ),
    (
        "choice-nested-deep",
        one(
            {
                "Type": "Choice",
                "Choices": [
                    {"Or": [{"Not": {"Variable": "$.a", "NumericGreaterThan": "x"}}], "Next": "S"}
                ],
            }
        ),
        SCHEMA,
        "/States/S/Choices/0/Or/0/Not/NumericGreaterThan",
        "Number",
    ),
    (
        "choice-output-jsonpath",
        one(
            {
                "Type": "Choice",
                "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "S", "Output": {}}],
            }
        ),
        SCHEMA,
        "/States/S/Choices/0/Output",
        "JSONata",
    ),
    # -- loading ---------------------------------------------------------------------------------
    (
        "json-syntax",
        '{"StartAt": "S",\n "States": }',
        "INVALID_JSON_DESCRIPTION",
        "",
        "line 2, column 12",
    ),
    ("json-empty", "   ", "MISSING_DESCRIPTION", "", "empty"),
    (
        "definition-too-large",
        {**one({"Type": "Succeed"}), "Comment": "x" * 1_048_576},
        SCHEMA,
        "",
        "1048576",
    ),
]


@pytest.mark.parametrize(
    ("definition", "code", "path", "text"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rule(definition: Any, code: str, path: str, text: str) -> None:
    diagnostics = validate(definition)
    matching = [d for d in diagnostics if d.code == code and d.path == path]
    assert matching, f"expected {code} at {path!r}, got {[str(d) for d in diagnostics]}"
    assert any(text in d.message for d in matching), [d.message for d in matching]


def test_case_ids_are_unique() -> None:
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_valid_documentation_examples_have_no_diagnostics(path: Path) -> None:
    assert validate(path.read_text()) == []


def test_all_problems_are_reported_at_once() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "Resource": ARN,
                "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 0, "BackoffRate": 0}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}],
                "Output": {},
                "Next": "B",
            },
            "B": {"Type": "Wait", "End": True},
            "C": {"Type": "Succeed"},
        },
    }
    found = {(d.code, d.path) for d in validate(definition)}
    assert found == {
        (SCHEMA, "/States/A/Retry/0/IntervalSeconds"),
        (SCHEMA, "/States/A/Retry/0/BackoffRate"),
        (SCHEMA, "/States/A/Output"),
        (SCHEMA, "/States/B"),
        (MISSING, "/States/A/Catch/0/Next"),
        (MISSING, "/States/C"),
    }


def test_no_terminal_state_suppresses_the_reachability_walk() -> None:
    # AWS: a loop plus a state nothing routes to gives one diagnostic, MISSING_END_STATE.
    states: dict[str, Any] = {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Pass", "Next": "A"},
        "C": {"Type": "Pass", "Next": "A"},
    }
    loop = {"StartAt": "A", "States": states}
    assert [(d.code, d.path) for d in validate(loop)] == [("MISSING_END_STATE", "")]
    # ...while an unreachable terminal state gives MISSING_TRANSITION_TARGET instead.
    states["C"] = {"Type": "Pass", "End": True}
    assert [(d.code, d.path) for d in validate(loop)] == [(MISSING, "/States/C")]


def test_dangling_target_comes_before_missing_end_state() -> None:
    diagnostics = validate(one({"Type": "Pass", "Next": "NOPE"}))
    assert [(d.code, d.path, d.message) for d in diagnostics] == [
        (MISSING, "/States/S/Next", "Missing 'Next' target: NOPE"),
        ("MISSING_END_STATE", "", "Workflow has no terminal state"),
    ]


def test_diagnostics_render_like_aws() -> None:
    definition = {
        "StartAt": "S",
        "States": {"S": {"Type": "Pass", "Next": "Nope"}, "Nope2": {"Type": "Succeed"}},
    }
    diagnostic = validate(definition)[0]
    # AWS's code, location and message; eltflow's suggestion rides along in parentheses and
    # stays out of ``message`` (the API and the endpoint return AWS's text only).
    assert diagnostic.message == "Missing 'Next' target: Nope"
    assert (
        str(diagnostic) == "MISSING_TRANSITION_TARGET at /States/S/Next: Missing 'Next' target: "
        "Nope (did you mean 'Nope2'?)"
    )


def test_a_typo_in_next_is_one_error_with_a_suggestion_not_a_cascade() -> None:
    states = {
        "Read": {"Type": "Pass", "Next": "LoadFcat"},
        "LoadFact": {"Type": "Pass", "Next": "Release"},
        "Release": {"Type": "Pass", "Next": "Notify"},
        "Notify": {"Type": "Pass", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    }
    found = validate({"StartAt": "Read", "States": states})
    assert [(d.code, d.path, d.message, d.hint) for d in found] == [
        (
            MISSING,
            "/States/Read/Next",
            "Missing 'Next' target: LoadFcat",
            "did you mean 'LoadFact'?",
        )
    ]
    # No close name: AWS's diagnostics as they are, the states behind it unreachable.
    states["Read"]["Next"] = "Somewhere"
    found = validate({"StartAt": "Read", "States": states})
    assert [d.path for d in found] == [
        "/States/Read/Next",
        "/States/LoadFact",
        "/States/Release",
        "/States/Notify",
        "/States/Done",
    ]
    assert all(d.hint == "" for d in found)


def test_json_pointer_escapes_slash_and_tilde() -> None:
    states = {"a/b": {"Type": "Pass", "Next": "x~y"}, "x~z": {"Type": "Succeed"}}
    diagnostics = validate({"StartAt": "a/b", "States": states})
    assert [d.path for d in diagnostics] == ["/States/a~1b/Next", "/States/x~0z"]


def test_valid_edge_cases_are_accepted() -> None:
    cases: list[dict[str, Any]] = [
        one({"Type": "Pass", "End": True}),
        one({"Type": "Wait", "Seconds": 0, "End": True}),
        one(task(Retry=[{"ErrorEquals": ["E"]}, {"ErrorEquals": ["States.ALL"]}])),
        one(task(TimeoutSecondsPath="$.t", HeartbeatSecondsPath="$$.Execution.Input.h")),
        one({"Type": "Pass", "Parameters": {"a.$": "$var.x", "b.$": "$$.State.Name"}, "End": True}),
        one({"Type": "Pass", "Parameters": {"a.$": "States.Array($.x, 'y')"}, "End": True}),
        one({"Type": "Pass", "InputPath": "$.a[?(@.b > 1)].c", "End": True}),
        one({"Type": "Pass", "InputPath": "$['a b'][0:2]", "ResultPath": "$.x[1]", "End": True}),
        # A "{%" string is a plain literal in a JSONPath state.
        one({"Type": "Pass", "Result": "{% literal %}", "End": True}),
        # A Pass Result is a literal, not a template: a ".$" key in it is a plain key.
        one({"Type": "Pass", "Result": {"a.$": "not a path", "b": {"c.$": 1}}, "End": True}),
        jsonata(
            {"Type": "Pass", "Output": "{% $states.input %}", "Assign": {"x_1": 1}, "End": True}
        ),
        jsonata({"Type": "Fail", "Error": "Literal", "Cause": "{% 'c' & 'd' %}"}),
        # $states.result in a Task's Output/Assign, $states.errorOutput in a Catcher's.
        jsonata(
            task(
                Output="{% $states.result.Payload %}",
                Assign={"r": "{% $states.result %}"},
                Catch=[
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Output": "{% $states.errorOutput %}",
                        "Assign": {"cause": "{% $states.errorOutput.Cause %}"},
                        "Next": "S",
                    }
                ],
            )
        ),
        # Names nested inside an expression (predicates, later path steps, lambdas) are fine.
        jsonata(
            {
                "Type": "Pass",
                "Output": {
                    "a": "{% $states.input.items[price > 5].name %}",
                    "b": "{% $map($states.input.xs, function($v) { $v.a }) %}",
                    "c": "{% $states.input ~> $keys() %}",
                    "d": "{% ($n := $states.input.n; $n * 2) %}",
                },
                "End": True,
            }
        ),
        jsonata(mapping(Items=[1, 2, 3], MaxConcurrency="{% 2 %}")),
        one(mapping(ToleratedFailurePercentage=12.5, ToleratedFailureCount=0)),
        one(mapping(ItemsPath="$$.Execution.Input.items")),
        one(mapping(ItemsPath="$myItems")),
        {
            "StartAt": "S",
            "States": {
                "S": {
                    "Type": "Choice",
                    "Choices": [
                        {
                            "Variable": "$.t",
                            "TimestampGreaterThanEquals": "2024-01-01T00:00:00.123+02:00",
                            "Next": "T",
                        }
                    ],
                    "Default": "T",
                },
                "T": {"Type": "Succeed"},
            },
        },
    ]
    for definition in cases:
        assert validate(definition) == [], definition


@pytest.mark.parametrize(
    ("path", "reference", "ok"),
    [
        ("$", False, True),
        ("$", True, True),
        ("$.a.b", True, True),
        ("$['a'][0]", True, True),
        ("$.a[*]", False, True),
        ("$.a[*]", True, False),
        ("$..a", False, True),
        ("$..a", True, False),
        ("$.a[0,1]", False, True),
        ("$.a[-1:]", False, True),
        ("$.a[?(@.x == 'y')]", False, True),
        ("$$.Map.Item.Value", False, True),
        ("$$.Execution", True, False),
        ("$myVar.field", False, True),
        ("$myVar", True, False),
        ("a.b", False, False),
        ("$.a[", False, False),
        ("$.a b", False, False),
        ("$[-1]", True, True),
        ("$.", False, False),
        ("$.a..", False, False),
        ("$[]", False, False),
    ],
)
def test_path_syntax(path: str, reference: bool, ok: bool) -> None:
    assert (path_error(path, reference=reference) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2016-03-14T01:59:00Z", True),
        ("2016-03-14T01:59:00.123Z", True),
        ("2016-03-14T01:59:00+01:00", True),
        ("2016-03-14t01:59:00z", False),
        ("2016-03-14T01:59:00", False),
        ("2016-13-14T01:59:00Z", False),
        ("2016-03-14", False),
    ],
)
def test_timestamp_syntax(value: str, ok: bool) -> None:
    assert timestamp_ok(value) is ok


def _nested_parallels(depth: int) -> dict[str, Any]:
    machine: dict[str, Any] = {"StartAt": "L", "States": {"L": {"Type": "Succeed"}}}
    for i in range(depth):
        parallel = {"Type": "Parallel", "Branches": [machine], "End": True}
        machine = {"StartAt": f"P{i}", "States": {f"P{i}": parallel}}
    return machine


def test_pathological_nesting_is_a_diagnostic_not_a_crash() -> None:
    depth = 3000
    text = '{"StartAt": "L", "States": {"L": {"Type": "Succeed"}}}'
    for i in range(depth):  # built by hand: json.dumps itself can't go this deep
        text = (
            f'{{"StartAt": "P{i}", "States": {{"P{i}": '
            f'{{"Type": "Parallel", "Branches": [{text}], "End": true}}}}}}'
        )
    for definition in (_nested_parallels(depth), text):
        [diagnostic] = validate(definition)
        assert diagnostic.code == "TOO_DEEPLY_NESTED"


def test_reasonable_nesting_is_fine() -> None:
    assert validate(_nested_parallels(20)) == []


def test_validate_accepts_text_and_mapping_alike() -> None:
    definition = one({"Type": "Pass", "Next": "Nope"})
    assert validate(json.dumps(definition)) == validate(definition)
