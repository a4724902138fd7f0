"""Dependency order, conditions and template loading (YAML short forms and JSON)."""

from __future__ import annotations

import pytest

from eltflow.stacks.conditions import evaluate_conditions
from eltflow.stacks.errors import TemplateError
from eltflow.stacks.graph import creation_order, dependencies, references
from eltflow.stacks.intrinsics import Pseudo, Scope
from eltflow.stacks.template import load_template
from eltflow.types import JSONObject

PSEUDO = Pseudo(stack_name="s", stack_id="arn:aws:cloudformation:us-east-1:1:stack/s/x")


def test_references_cover_ref_getatt_sub_and_both_if_branches() -> None:
    value: JSONObject = {
        "A": {"Ref": "P"},
        "B": {"Fn::GetAtt": "Table.Arn"},
        "C": {
            "Fn::Sub": ["${Machine.Name}-${Local}-${!Lit}-${AWS::Region}", {"Local": {"Ref": "Q"}}]
        },
        "D": {"Fn::If": ["Cond", {"Ref": "One"}, {"Fn::GetAtt": ["Two", "Arn"]}]},
    }
    assert references(value) == {"P", "Table", "Machine", "Q", "AWS::Region", "One", "Two"}


def _resources(**deps: list[str]) -> dict[str, JSONObject]:
    return {
        name: {"Type": "AWS::SNS::Topic", "Properties": {"Tags": [{"Ref": d} for d in ds]}}
        for name, ds in deps.items()
    }


def test_order_follows_references_and_depends_on() -> None:
    resources = _resources(Machine=["Table", "Topic"], Table=[], Topic=[])
    resources["Table"]["DependsOn"] = "Topic"
    order = creation_order(dependencies(resources, known={"Env"}))
    assert order.index("Topic") < order.index("Table") < order.index("Machine")


def test_unresolved_and_circular_dependencies() -> None:
    with pytest.raises(TemplateError) as e:
        dependencies(_resources(A=["Ghost"]), known=())
    assert e.value.message == (
        "Resources.A.Properties.Tags[0].Ref: Template format error: Unresolved resource "
        "dependencies [Ghost] in the "
        "Resources block of the template"
    )
    with pytest.raises(TemplateError, match=r"Unresolved resource dependencies \[Nope\]"):
        dependencies({"A": {"Type": "T", "DependsOn": ["Nope"]}}, known=())
    deps = dependencies(_resources(A=["B"], B=["C"], C=["A"], D=["A"]), known=())
    with pytest.raises(TemplateError) as e:
        creation_order(deps)
    assert e.value.message == (
        "Template format error: Circular dependency between resources: [A, B, C]"
    )


def test_conditions_refer_to_each_other_in_any_order() -> None:
    section: JSONObject = {
        "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "Big"}]},
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "Big": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Size"}, "1"]}]},
    }
    scope = Scope(pseudo=PSEUDO, parameters={"Env": "prod", "Size": "3"})
    assert evaluate_conditions(section, scope) == {"Both": True, "IsProd": True, "Big": True}
    loop: JSONObject = {
        "A": {"Fn::Not": [{"Condition": "B"}]},
        "B": {"Fn::Not": [{"Condition": "A"}]},
    }
    with pytest.raises(TemplateError, match="Circular condition dependency"):
        evaluate_conditions(loop, scope)


YAML = """
AWSTemplateFormatVersion: 2010-09-09
Parameters:
  Env: {Type: String, Default: dev}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub '${AWS::StackName}-${Env}'
      Other: !GetAtt Table.Arn
      Pick: !Select [0, !Split [',', !Ref Env]]
      Cond: !If [IsProd, !Base64 x, !Ref 'AWS::NoValue']
      Map: !FindInMap [M, a, b]
      Azs: !GetAZs ''
      Imp: !ImportValue shared
      Joined: !Join ['-', [a, b]]
"""


def test_yaml_short_forms_become_long_forms() -> None:
    t = load_template(YAML)
    props = t.resources["Topic"]["Properties"]  # type: ignore[index, call-overload]
    assert props == {
        "TopicName": {"Fn::Sub": "${AWS::StackName}-${Env}"},
        "Other": {"Fn::GetAtt": ["Table", "Arn"]},
        "Pick": {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "Env"}]}]},
        "Cond": {"Fn::If": ["IsProd", {"Fn::Base64": "x"}, {"Ref": "AWS::NoValue"}]},
        "Map": {"Fn::FindInMap": ["M", "a", "b"]},
        "Azs": {"Fn::GetAZs": ""},
        "Imp": {"Fn::ImportValue": "shared"},
        "Joined": {"Fn::Join": ["-", ["a", "b"]]},
    }
    assert type(props) is dict  # plain values, not the decoder's node classes
    assert t.data["AWSTemplateFormatVersion"] == "2010-09-09"


def test_json_templates_and_format_errors() -> None:
    t = load_template('{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}')
    assert t.resources == {"T": {"Type": "AWS::SNS::Topic"}}
    with pytest.raises(TemplateError, match=r"YAML not well-formed. \(line 4, column 1\)"):
        load_template("Resources:\n  T:\n    Type: [\n")
    with pytest.raises(TemplateError, match="At least one Resources member must be defined"):
        load_template("Parameters: {}\n")
    with pytest.raises(TemplateError, match="Every Resources object must contain a Type member"):
        load_template("Resources:\n  T:\n    Properties: {}\n")
    with pytest.raises(
        TemplateError, match=r"Invalid template property or properties \[Resource\]"
    ):
        load_template("Resource:\n  T: {Type: X}\n")
    with pytest.raises(TemplateError, match="Outputs member Out is missing the Value object"):
        load_template("Resources:\n  T: {Type: X}\nOutputs:\n  Out: {Description: d}\n")
    # SAM's transform is expanded (eltflow.stacks.sam); no other transform runs locally.
    with pytest.raises(TemplateError, match="Transform AWS::Include is not supported"):
        load_template("Transform: AWS::Include\nResources:\n  T: {Type: X}\n")


def test_plan_checks_outputs_and_drops_resources_by_condition() -> None:
    from eltflow.stacks.plan import plan_stack

    text = """
Parameters:
  Env: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Big: {Type: AWS::SNS::Topic, Condition: IsProd}
  Small:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !If [IsProd, !GetAtt Big.TopicName, small]
Outputs:
  Name: {Value: !Ref Small}
"""
    plan = plan_stack(load_template(text), {}, pseudo=PSEUDO, exports={})
    assert plan.order == ["Small"] and plan.scope.conditions == {"IsProd": False}
    prod = plan_stack(load_template(text), {"Env": "prod"}, pseudo=PSEUDO, exports={})
    assert prod.order == ["Big", "Small"]
    bad = text.replace("Value: !Ref Small", "Value: !GetAtt Nope.Arn")
    with pytest.raises(TemplateError) as e:
        plan_stack(load_template(bad), {}, pseudo=PSEUDO, exports={})
    assert e.value.message == (
        "Outputs.Name.Value.Fn::GetAtt: Template format error: Unresolved resource "
        "dependencies [Nope] in the Outputs block of the template"
    )


def test_rules_check_parameters_before_anything_is_made() -> None:
    from eltflow.stacks.plan import plan_stack

    text = """
Parameters:
  Env: {Type: String, Default: dev}
  Subnets: {Type: CommaDelimitedList, Default: "a,b"}
  BootstrapVersion:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /cdk-bootstrap/hnb659fds/version
Rules:
  ProdNeedsTwoSubnets:
    RuleCondition: !Equals [!Ref Env, prod]
    Assertions:
      - Assert: {"Fn::EachMemberIn": [!Ref Subnets, [a, b, c]]}
        AssertDescription: Subnets must be a, b or c
      - Assert: {"Fn::Not": [{"Fn::EachMemberEquals": [!Ref Subnets, a]}]}
        AssertDescription: Subnets must not all be a
  CheckBootstrapVersion:
    Assertions:
      - Assert: {"Fn::Not": [{"Fn::Contains": [["1", "2", "3", "4", "5"], !Ref BootstrapVersion]}]}
        AssertDescription: CDK bootstrap stack version 6 required.
  FromTheAccount:
    Assertions:
      - Assert: {"Fn::EachMemberIn": [{"Fn::ValueOfAll": ["AWS::EC2::Subnet::Id", "VpcId"]}, [x]]}
Resources:
  T: {Type: AWS::SNS::Topic}
"""
    plan = plan_stack(load_template(text), {}, pseudo=PSEUDO, exports={})
    assert plan.warnings == (
        "Rules.FromTheAccount: Fn::ValueOf/ValueOfAll/RefAll read the AWS account: skipped",
    )
    plan_stack(load_template(text), {"Env": "prod"}, pseudo=PSEUDO, exports={})
    with pytest.raises(TemplateError) as e:
        plan_stack(
            load_template(text), {"Env": "prod", "Subnets": "a,z"}, pseudo=PSEUDO, exports={}
        )
    assert e.value.message == ("Rules.ProdNeedsTwoSubnets.Assertions[0]: Subnets must be a, b or c")
    with pytest.raises(TemplateError, match="Subnets must not all be a"):
        plan_stack(
            load_template(text), {"Env": "prod", "Subnets": "a,a"}, pseudo=PSEUDO, exports={}
        )
    with pytest.raises(TemplateError, match="CDK bootstrap stack version 6 required"):
        plan_stack(load_template(text), {"BootstrapVersion": "5"}, pseudo=PSEUDO, exports={})


def test_template_quotas() -> None:
    many = "Resources:\n" + "".join(f"  T{i}: {{Type: AWS::SNS::Topic}}\n" for i in range(501))
    with pytest.raises(TemplateError) as e:
        load_template(many)
    assert e.value.message == (
        "Template format error: Number of resources, 501, is greater than maximum allowed, 500"
    )
