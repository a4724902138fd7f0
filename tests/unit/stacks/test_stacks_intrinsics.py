"""The intrinsic-function evaluator against CloudFormation's documented results and errors."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from eltflow.stacks.errors import TemplateError
from eltflow.stacks.intrinsics import Created, Pseudo, Scope, resolve
from eltflow.types import JSON

PSEUDO = Pseudo(
    stack_name="demo",
    stack_id="arn:aws:cloudformation:us-east-1:123456789012:stack/demo/abc",
)
SCOPE = Scope(
    pseudo=PSEUDO,
    parameters={
        "Env": "prod",
        "Endpoint": "cl.abc.us-east-1.redshift.amazonaws.com:5439/dev",
        "Subnets": ["a", "b"],
        "Suffix": "rn",
    },
    mappings={"Sizes": {"prod": {"Nodes": "4"}, "dev": {"Nodes": "1"}}},
    conditions={"IsProd": True, "IsDev": False},
    resources={
        "Table": Created(
            ref="demo-Table-1",
            attributes={"Arn": "arn:aws:dynamodb:::table/demo-Table-1"},
            type="AWS::DynamoDB::Table",
        ),
    },
    exports={"shared-bucket": "my-bucket", "prod-bucket": "prod-bucket-value"},
)


def ev(value: Any, scope: Scope = SCOPE, **kw: Any) -> JSON:
    return resolve(value, scope, "Resources.X.Properties.P", **kw)


def err(value: Any, scope: Scope = SCOPE) -> str:
    with pytest.raises(TemplateError) as e:
        ev(value, scope)
    assert e.value.code == "ValidationError"
    return str(e.value.message)


def test_ref_parameters_pseudo_and_resources() -> None:
    assert ev({"Ref": "Env"}) == "prod"
    assert ev({"Ref": "Subnets"}) == ["a", "b"]
    assert ev({"Ref": "Table"}) == "demo-Table-1"
    assert ev({"Ref": "AWS::Region"}) == "us-east-1"
    assert ev({"Ref": "AWS::AccountId"}) == "123456789012"
    assert ev({"Ref": "AWS::StackName"}) == "demo"
    assert ev({"Ref": "AWS::StackId"}).startswith("arn:aws:cloudformation:")  # type: ignore[union-attr]
    assert ev({"Ref": "AWS::Partition"}) == "aws"
    assert ev({"Ref": "AWS::URLSuffix"}) == "amazonaws.com"
    assert ev({"Ref": "AWS::NotificationARNs"}) == []


def test_no_value_removes_the_property_or_element() -> None:
    value = {
        "A": {"Ref": "AWS::NoValue"},
        "B": ["x", {"Fn::If": ["IsDev", "y", {"Ref": "AWS::NoValue"}]}],
    }
    assert ev(value) == {"B": ["x"]}


def test_unknown_ref_names_the_path_with_cloudformation_wording() -> None:
    assert err({"Ref": "Nope"}) == (
        "Resources.X.Properties.P.Ref: Template format error: Unresolved resource dependencies "
        "[Nope] in the Resources block of the template"
    )


def test_get_att_both_forms_and_dotted_attribute_names() -> None:
    assert ev({"Fn::GetAtt": ["Table", "Arn"]}) == "arn:aws:dynamodb:::table/demo-Table-1"
    assert ev({"Fn::GetAtt": "Table.Arn"}) == "arn:aws:dynamodb:::table/demo-Table-1"
    assert (
        ev({"Fn::GetAtt": ["Table", {"Fn::Sub": "A${Suffix}"}]})
        == "arn:aws:dynamodb:::table/demo-Table-1"
    )
    scope = Scope(
        pseudo=PSEUDO, resources={"Db": Created(ref="d", attributes={"Endpoint.Address": "h"})}
    )
    assert ev({"Fn::GetAtt": "Db.Endpoint.Address"}, scope) == "h"


def test_get_att_errors() -> None:
    assert "instance of Fn::GetAtt references undefined resource Ghost" in err(
        {"Fn::GetAtt": ["Ghost", "Arn"]}
    )
    assert "resource Table (AWS::DynamoDB::Table) does not support attribute type StreamArn" in err(
        {"Fn::GetAtt": "Table.StreamArn"}
    )
    assert "requires two non-empty parameters" in err({"Fn::GetAtt": "Table"})


def test_sub_string_form() -> None:
    assert ev({"Fn::Sub": "${AWS::StackName}-${Env}-${Table}-${Table.Arn}"}) == (
        "demo-prod-demo-Table-1-arn:aws:dynamodb:::table/demo-Table-1"
    )
    assert ev({"Fn::Sub": "${!Literal} and $notavar"}) == "${Literal} and $notavar"


def test_sub_list_form_variables_win_and_may_be_functions() -> None:
    value = {
        "Fn::Sub": [
            "jdbc:redshift://${Host}:${Port}/${Env}",
            {
                "Host": {"Fn::Select": [0, {"Fn::Split": [":", {"Ref": "Endpoint"}]}]},
                "Port": "5439",
                "Env": "override",
            },
        ]
    }
    assert ev(value) == "jdbc:redshift://cl.abc.us-east-1.redshift.amazonaws.com:5439/override"


def test_sub_unknown_variable_and_bad_names() -> None:
    assert err({"Fn::Sub": "x-${Missing}"}).endswith(
        "Unresolved resource dependencies [Missing] in the Resources block of the template"
    )
    assert "variable names in Fn::Sub syntax" in err({"Fn::Sub": "${a b}"})
    assert "does not resolve to a string" in err({"Fn::Sub": "${Subnets}"})
    assert "don't specify expected arguments" in err({"Fn::Sub": ["a", "b", "c"]})


def test_join_split_select() -> None:
    assert ev({"Fn::Join": [",", ["a", {"Ref": "Env"}, 3]]}) == "a,prod,3"
    assert ev({"Fn::Join": ["", {"Ref": "Subnets"}]}) == "ab"
    assert ev({"Fn::Split": ["|", "a|b||c"]}) == ["a", "b", "", "c"]
    assert ev({"Fn::Select": ["1", {"Fn::Split": [",", "x,y,z"]}]}) == "y"
    assert ev({"Fn::Select": [0, {"Fn::GetAZs": ""}]}) == "us-east-1a"
    assert "cannot select nonexistent value at index 3" in err({"Fn::Select": [3, ["a"]]})
    assert "every Fn::Join object requires two parameters" in err({"Fn::Join": ["a"]})
    assert "must resolve to a list of strings" in err({"Fn::Join": [",", [{"a": 1}]]})


def test_base64_getazs() -> None:
    assert (
        ev({"Fn::Base64": {"Fn::Sub": "#!/bin/sh\necho ${Env}"}})
        == base64.b64encode(b"#!/bin/sh\necho prod").decode()
    )
    assert ev({"Fn::GetAZs": "eu-west-1"}) == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert ev({"Fn::GetAZs": {"Ref": "AWS::Region"}}) == ["us-east-1a", "us-east-1b", "us-east-1c"]


def test_find_in_map() -> None:
    assert ev({"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Nodes"]}) == "4"
    assert "Unable to get mapping for Sizes::test::Nodes" in err(
        {"Fn::FindInMap": ["Sizes", "test", "Nodes"]}
    )
    assert "Mapping named 'Nope' is not present" in err({"Fn::FindInMap": ["Nope", "a", "b"]})


def test_if_evaluates_only_the_chosen_branch() -> None:
    assert ev({"Fn::If": ["IsProd", "big", {"Ref": "Missing"}]}) == "big"
    assert ev({"Fn::If": ["IsDev", {"Ref": "Missing"}, "small"]}) == "small"
    assert "Unresolved condition dependency Nope in Fn::If" in err({"Fn::If": ["Nope", 1, 2]})


def test_import_value() -> None:
    assert ev({"Fn::ImportValue": "shared-bucket"}) == "my-bucket"
    assert ev({"Fn::ImportValue": {"Fn::Sub": "${Env}-bucket"}}) == "prod-bucket-value"
    assert err({"Fn::ImportValue": "nope"}).endswith("No export named nope found.")


def test_condition_functions() -> None:
    equals = {"Fn::Equals": [{"Ref": "Env"}, "prod"]}
    assert ev(equals, conditions=True) is True
    assert ev({"Fn::Not": [equals]}, conditions=True) is False
    assert ev({"Fn::And": [equals, {"Condition": "IsProd"}]}, conditions=True) is True
    assert ev({"Fn::Or": [{"Condition": "IsDev"}, {"Fn::Equals": ["1", 1]}]}, conditions=True)
    # Outside the Conditions section they are errors, and resources cannot be referenced in it.
    assert "can only be used in the Conditions section" in err(equals)
    with pytest.raises(TemplateError, match="Cannot reference resources in the Conditions block"):
        ev({"Fn::Equals": [{"Ref": "Table"}, "x"]}, conditions=True)


def test_unknown_function_lists_the_supported_ones() -> None:
    message = err({"Fn::Length": [1, 2]})  # AWS::LanguageExtensions's, not run locally
    assert message.startswith(
        "Resources.X.Properties.P.Fn::Length: Template format error: Encountered unsupported "
        "function: Fn::Length Supported functions are: [Fn::Base64, Fn::Cidr"
    )


def test_plain_values_and_nested_paths_in_errors() -> None:
    assert ev({"a": [1, True, None, {"b": "c"}]}) == {"a": [1, True, None, {"b": "c"}]}
    with pytest.raises(TemplateError) as e:
        ev({"List": [{"Ok": "x"}, {"Bad": {"Ref": "Missing"}}]})
    assert e.value.path == "Resources.X.Properties.P.List[1].Bad.Ref"


def test_cidr_splits_a_block_by_subnet_bits() -> None:
    # AWS's documented example: six /27 blocks (5 subnet bits) of 192.168.0.0/24.
    assert ev({"Fn::Cidr": ["192.168.0.0/24", 6, 5]}) == [
        "192.168.0.0/27",
        "192.168.0.32/27",
        "192.168.0.64/27",
        "192.168.0.96/27",
        "192.168.0.128/27",
        "192.168.0.160/27",
    ]
    # The usual subnet pattern: !Select [i, !Cidr [VpcCidr, n, 8]], arguments as strings too.
    subnet = {"Fn::Select": [1, {"Fn::Cidr": [{"Fn::Sub": "10.0.0.0/16"}, "3", "8"]}]}
    assert ev(subnet) == "10.0.1.0/24"
    assert ev({"Fn::Cidr": ["2001:db8::/56", 2, 64]}) == ["2001:db8::/64", "2001:db8:0:1::/64"]
    assert "Fn::Cidr requires three parameters" in err({"Fn::Cidr": ["10.0.0.0/16", 2]})
    assert "Fn::Cidr requires three parameters" in err({"Fn::Cidr": ["not-an-ip", 2, 8]})
    assert "Fn::Cidr requires three parameters" in err({"Fn::Cidr": ["10.0.0.0/24", 2, 9]})
    assert "holds only 4 blocks of 6 subnet bits, not 5" in err({"Fn::Cidr": ["10.0.0.0/24", 5, 6]})
