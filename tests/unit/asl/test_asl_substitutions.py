"""``${Name}`` placeholders (CloudFormation DefinitionSubstitutions) and validation severities."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from eltflow.asl.substitutions import UNRESOLVED, placeholder_names, substitute, unresolved
from eltflow.asl.validator import NO_DOLLAR, diagnose, report, validate
from eltflow.pipelines.reference import VARIANTS, ReferenceConfig, substitutions

TEMPLATE = """{
  "StartAt": "Get",
  "States": {
    "Get": {
      "Type": "Task",
      "Resource": "arn:aws:states:::dynamodb:getItem",
      "Parameters": {"TableName": "${Table}", "Key": {"JobID": {"S": "${Job}"}}},
      "Next": "Load"
    },
    "Load": {
      "Type": "Task",
      "Resource": "arn:aws:states:::aws-sdk:redshiftdata:batchExecuteStatement",
      "Parameters": {"Sqls": ${Sqls}, "Database": "dev"},
      "End": true
    }
  }
}"""


def test_values_inside_strings_are_escaped_and_outside_pasted() -> None:
    sql = "UPDATE t SET \"x\" = 'Ready'\nWHERE 1 = 1"
    text = substitute(TEMPLATE, {"Table": "Audit", "Job": "101", "Sqls": json.dumps([sql])})
    value = json.loads(text)
    load = value["States"]["Load"]["Parameters"]
    assert load["Sqls"] == [sql]
    assert value["States"]["Get"]["Parameters"]["TableName"] == "Audit"
    quoted = substitute('{"A": "${Q}"}', {"Q": 'say "hi"\\'})
    assert json.loads(quoted) == {"A": 'say "hi"\\'}


def test_cloudformation_mode_replaces_text_as_is_and_keeps_unknown_placeholders() -> None:
    assert substitute('{"A": "${Q}-${R}"}', {"Q": 'a"b'}, escape=False) == '{"A": "a"b-${R}"}'


def test_unresolved_placeholders_are_named_with_their_json_pointer() -> None:
    text = substitute(TEMPLATE, {"Table": "Audit"})
    found = unresolved(text)
    assert [(d.path, d.code) for d in found] == [
        ("/States/Get/Parameters/Key/JobID/S", UNRESOLVED),
        ("/States/Load/Parameters/Sqls", UNRESOLVED),
    ]
    assert "${Job}" in found[0].message and "--substitution Job=" in found[0].hint
    assert placeholder_names(text) == ["Job", "Sqls"]
    assert unresolved(substitute(TEMPLATE, {"Table": "T", "Job": "1", "Sqls": "[]"})) == []


def test_jsonata_and_jsonpath_dollars_are_not_placeholders() -> None:
    text = '{"A": "{% $states.input.x & ${Sep} %}", "B.$": "$$.Execution.Id", "C": "$5{x}"}'
    assert placeholder_names(text) == ["Sep"]
    assert json.loads(substitute(text, {"Sep": "-"}))["A"] == "{% $states.input.x & - %}"


@pytest.mark.parametrize("variant", VARIANTS)
def test_bundled_reference_definitions_validate_with_the_demo_values(variant: str) -> None:
    name = f"elt_{variant.replace('-', '_')}.asl.json"
    template = (
        resources.files("eltflow.pipelines.reference")
        .joinpath("definitions", name)
        .read_text(encoding="utf-8")
    )
    assert unresolved(template), "the bundled definitions carry placeholders"
    text = substitute(template, substitutions(ReferenceConfig()))
    assert unresolved(text) == []
    assert [d for d in diagnose(text) if d.severity == "ERROR"] == []


PATHS_WITHOUT_DOLLAR = {
    "StartAt": "P",
    "States": {
        "P": {
            "Type": "Pass",
            "Parameters": {
                "id": "$.order.id",
                "ctx": "$$.Execution.Id",
                "fmt": "States.Format('{}', $.x)",
                "price": "$5",
                "plain": "hello",
                "ok.$": "$.x",
            },
            "End": True,
        }
    },
}


def test_a_path_in_a_field_without_dollar_is_a_warning_not_an_error() -> None:
    definition = json.loads(json.dumps(PATHS_WITHOUT_DOLLAR))
    found = diagnose(definition)
    assert [(d.severity, d.code, d.path) for d in found] == [
        ("WARNING", NO_DOLLAR, "/States/P/Parameters/id"),
        ("WARNING", NO_DOLLAR, "/States/P/Parameters/ctx"),
        ("WARNING", NO_DOLLAR, "/States/P/Parameters/fmt"),
    ]
    assert validate(definition) == []
    assert report(found).to_json() == {"result": "OK", "diagnostics": [], "truncated": False}
    shown = report(found, severity="WARNING", max_results=2)
    assert (shown.result, len(shown.diagnostics), shown.truncated) == ("OK", 2, True)
    assert shown.to_json()["diagnostics"][0] == {
        "severity": "WARNING",
        "code": NO_DOLLAR,
        "message": found[0].message,
        "location": "/States/P/Parameters/id",
    }


def test_a_pass_result_is_a_literal_so_no_warning() -> None:
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": {"x": "$.y"}, "End": True}},
    }
    assert diagnose(definition) == []


def test_report_fails_on_errors_whatever_severity_shows() -> None:
    bad = {"StartAt": "Nope", "States": {"A": {"Type": "Pass", "End": True}}}
    found = diagnose(bad)
    assert report(found).result == "FAIL"
    assert report(found, severity="WARNING").result == "FAIL"
    with pytest.raises(ValueError):
        report(found, max_results=101)
    with pytest.raises(ValueError):
        report(found, severity="INFO")
