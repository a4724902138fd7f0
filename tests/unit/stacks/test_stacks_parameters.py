"""Template parameters: values, defaults, previous values and CloudFormation's checks."""

from __future__ import annotations

import pytest

from eltflow.stacks.errors import TemplateError
from eltflow.stacks.parameters import resolve_parameters
from eltflow.types import JSONObject

DECLARED: JSONObject = {
    "ClusterId": {"Type": "String", "AllowedPattern": "[a-z][a-z0-9-]*", "MaxLength": 63},
    "Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
    "Nodes": {"Type": "Number", "Default": 2, "MinValue": 1, "MaxValue": 8},
    "Subnets": {"Type": "CommaDelimitedList", "Default": "a, b"},
    "Password": {"Type": "String", "NoEcho": True, "Default": "secret", "MinLength": 4},
    "Vpc": {"Type": "AWS::EC2::VPC::Id", "Default": "vpc-1"},
}


def test_given_defaults_and_types() -> None:
    params = resolve_parameters(DECLARED, {"ClusterId": "redshift-1"})
    assert params["ClusterId"].value == "redshift-1"
    assert params["Env"].value == "dev"
    assert params["Nodes"].value == "2"  # Ref of a Number is a string, as in CloudFormation
    assert params["Subnets"].value == ["a", "b"]
    assert params["Password"].shown == "****" and params["Password"].value == "secret"
    assert params["Vpc"].value == "vpc-1"


def test_previous_values_are_kept_on_update() -> None:
    params = resolve_parameters(
        DECLARED, {"Env": "prod"}, previous={"ClusterId": "old", "Env": "dev"}
    )
    assert params["ClusterId"].value == "old" and params["Env"].value == "prod"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, "Parameters: [ClusterId] must have values"),
        ({"ClusterId": "a", "Nope": "x"}, "Parameters: [Nope] do not exist in the template"),
        ({"ClusterId": "Bad_Name"}, "Parameter 'ClusterId' must match pattern [a-z][a-z0-9-]*"),
        ({"ClusterId": "a" * 64}, "Parameter 'ClusterId' must contain at most 63 characters"),
        ({"ClusterId": "a", "Env": "test"}, "Parameter 'Env' must be one of AllowedValues"),
        ({"ClusterId": "a", "Nodes": "many"}, "Parameter 'Nodes' must be a number"),
        ({"ClusterId": "a", "Nodes": "9"}, "Parameter 'Nodes' must be a number not greater than 8"),
        ({"ClusterId": "a", "Nodes": "0"}, "Parameter 'Nodes' must be a number not less than 1"),
        (
            {"ClusterId": "a", "Password": "abc"},
            "Parameter 'Password' must contain at least 4 characters",
        ),
    ],
)
def test_bad_values_get_cloudformation_messages(given: dict[str, str], message: str) -> None:
    with pytest.raises(TemplateError) as e:
        resolve_parameters(DECLARED, given)
    assert e.value.message == message


def test_constraint_description_replaces_the_message() -> None:
    declared: JSONObject = {
        "Db": {
            "Type": "String",
            "AllowedPattern": "[a-z]+",
            "ConstraintDescription": "lowercase only",
        }
    }
    with pytest.raises(
        TemplateError, match="Parameter 'Db' failed to satisfy constraint: lowercase only"
    ):
        resolve_parameters(declared, {"Db": "ABC"})


def test_bad_declarations() -> None:
    with pytest.raises(TemplateError, match="Unrecognized parameter type: Strin"):
        resolve_parameters({"A": {"Type": "Strin", "Default": "x"}}, {})
    with pytest.raises(TemplateError, match="must contain a Type member"):
        resolve_parameters({"A": {"Default": "x"}}, {})
    with pytest.raises(TemplateError, match="is not a valid regular expression"):
        resolve_parameters({"A": {"Type": "String", "AllowedPattern": "(", "Default": "x"}}, {})
