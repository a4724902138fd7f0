"""The CloudFormation API over local stacks, in AWS's request and response shapes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eltflow.app import build_app
from eltflow.config import load_settings
from eltflow.errors import AwsApiError
from eltflow.stacks.service import CloudFormationService
from eltflow.stacks.wiring import cloudformation_for

TEMPLATE = """
Description: one topic
Parameters:
  Name: {Type: String, Default: first, Description: the topic name}
  Token: {Type: String, NoEcho: true, Default: x}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties: {TopicName: !Ref Name}
Outputs:
  Arn:
    Value: !Ref Topic
    Export: {Name: !Sub "${AWS::StackName}-arn"}
"""


def _call(cfn: CloudFormationService, operation: str, request: dict[str, Any]) -> Any:
    return cfn.call(operation, request)


@pytest.fixture
def cfn(tmp_path: Path) -> Iterator[CloudFormationService]:
    app = build_app(load_settings(tmp_path, environ={}))
    try:
        yield cloudformation_for(app)
    finally:
        app.close()


def test_stack_lifecycle_in_aws_shapes(cfn: CloudFormationService) -> None:
    created = _call(cfn, "CreateStack", {"StackName": "s1", "TemplateBody": TEMPLATE})
    stack_id = str(created["StackId"])
    assert stack_id.startswith("arn:aws:cloudformation:us-east-1:123456789012:stack/s1/")
    with pytest.raises(AwsApiError) as e:
        _call(cfn, "CreateStack", {"StackName": "s1", "TemplateBody": TEMPLATE})
    assert (e.value.code, e.value.message) == (
        "AlreadyExistsException",
        "Stack [s1] already exists",
    )

    stack = _call(cfn, "DescribeStacks", {"StackName": stack_id})["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Parameters"] == [
        {"ParameterKey": "Name", "ParameterValue": "first"},
        {"ParameterKey": "Token", "ParameterValue": "****"},
    ]
    summaries = _call(cfn, "ListStackResources", {"StackName": "s1"})["StackResourceSummaries"]
    assert [(r["LogicalResourceId"], r["ResourceStatus"]) for r in summaries] == [
        ("Topic", "CREATE_COMPLETE")
    ]
    assert _call(cfn, "ListExports", {})["Exports"] == [
        {
            "ExportingStackId": stack_id,
            "Name": "s1-arn",
            "Value": "arn:aws:sns:us-east-1:123456789012:first",
        }
    ]
    assert _call(cfn, "GetTemplate", {"StackName": "s1"})["TemplateBody"] == TEMPLATE

    same = {"StackName": "s1", "UsePreviousTemplate": True}
    with pytest.raises(AwsApiError, match=r"^ValidationError: No updates are to be performed\.$"):
        _call(cfn, "UpdateStack", same)
    update = {
        **same,
        "Parameters": [
            {"ParameterKey": "Name", "ParameterValue": "second"},
            {"ParameterKey": "Token", "UsePreviousValue": True},
        ],
    }
    assert _call(cfn, "UpdateStack", update) == {"StackId": stack_id}
    stack = _call(cfn, "DescribeStacks", {"StackName": "s1"})["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"

    assert _call(cfn, "DeleteStack", {"StackName": "s1"}) == {}
    with pytest.raises(AwsApiError, match="Stack with id s1 does not exist"):
        _call(cfn, "DescribeStacks", {"StackName": "s1"})


def test_validation_and_failures(cfn: CloudFormationService) -> None:
    described = _call(cfn, "ValidateTemplate", {"TemplateBody": TEMPLATE})
    assert described == {
        "Parameters": [
            {
                "ParameterKey": "Name",
                "NoEcho": False,
                "DefaultValue": "first",
                "Description": "the topic name",
            },
            {"ParameterKey": "Token", "NoEcho": True, "DefaultValue": "x"},
        ],
        "Description": "one topic",
    }
    with pytest.raises(AwsApiError, match="Parameters: \\[Nope\\] do not exist in the template"):
        _call(
            cfn,
            "CreateStack",
            {
                "StackName": "s2",
                "TemplateBody": TEMPLATE,
                "Parameters": [{"ParameterKey": "Nope", "ParameterValue": "x"}],
            },
        )
    # A failure while resources are made is the stack's status, not the call's error.
    bad = _call(
        cfn,
        "CreateStack",
        {
            "StackName": "s3",
            "TemplateBody": TEMPLATE,
            "Parameters": [{"ParameterKey": "Name", "ParameterValue": "bad name!"}],
        },
    )
    stack = _call(cfn, "DescribeStacks", {"StackName": str(bad["StackId"])})["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert [
        s["StackName"]
        for s in _call(cfn, "ListStacks", {"StackStatusFilter": ["ROLLBACK_COMPLETE"]})[
            "StackSummaries"
        ]
    ] == ["s3"]


def test_stack_events_tell_the_story_newest_first(cfn: CloudFormationService) -> None:
    bad = _call(
        cfn,
        "CreateStack",
        {
            "StackName": "s4",
            "TemplateBody": TEMPLATE,
            "Parameters": [{"ParameterKey": "Name", "ParameterValue": "bad name!"}],
        },
    )
    events = _call(cfn, "DescribeStackEvents", {"StackName": "s4"})["StackEvents"]
    story = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(events)]
    assert story == [
        ("s4", "CREATE_IN_PROGRESS"),
        ("Topic", "CREATE_IN_PROGRESS"),
        ("Topic", "CREATE_FAILED"),
        ("s4", "ROLLBACK_IN_PROGRESS"),
        ("s4", "ROLLBACK_COMPLETE"),
    ]
    failed = next(e for e in events if e["ResourceStatus"] == "CREATE_FAILED")
    assert failed["ResourceType"] == "AWS::SNS::Topic"
    assert "Invalid parameter: Topic Name" in failed["ResourceStatusReason"]
    # Events outlive the stack: they are found by its id.
    _call(cfn, "DeleteStack", {"StackName": "s4"})
    after = _call(cfn, "DescribeStackEvents", {"StackName": bad["StackId"]})["StackEvents"]
    assert [e["ResourceStatus"] for e in after[:2]] == ["DELETE_COMPLETE", "DELETE_IN_PROGRESS"]
    with pytest.raises(AwsApiError, match="Stack with id s4 does not exist"):
        _call(cfn, "DescribeStackEvents", {"StackName": "s4"})
    # An update with nothing to do leaves no events.
    _call(cfn, "CreateStack", {"StackName": "s5", "TemplateBody": TEMPLATE})
    before = _call(cfn, "DescribeStackEvents", {"StackName": "s5"})["StackEvents"]
    with pytest.raises(AwsApiError, match="No updates are to be performed"):
        _call(cfn, "UpdateStack", {"StackName": "s5", "UsePreviousTemplate": True})
    assert _call(cfn, "DescribeStackEvents", {"StackName": "s5"})["StackEvents"] == before
    assert [e["ResourceStatus"] for e in reversed(before)] == [
        "CREATE_IN_PROGRESS",
        "CREATE_IN_PROGRESS",
        "CREATE_COMPLETE",
        "CREATE_COMPLETE",
    ]


TWO_TOPICS = """
Parameters:
  Second: {Type: String, Default: second}
Resources:
  First:
    Type: AWS::SNS::Topic
    Properties: {TopicName: first-kept}
  Later:
    Type: AWS::SNS::Topic
    DependsOn: First
    Properties: {TopicName: !Ref Second}
"""


def test_create_failure_options(cfn: CloudFormationService) -> None:
    """OnFailure / DisableRollback, as CreateStack takes them: DO_NOTHING keeps what was made
    (CREATE_FAILED), DELETE removes the stack, both at once is refused."""
    bad = [{"ParameterKey": "Second", "ParameterValue": "bad name!"}]
    kept = _call(
        cfn,
        "CreateStack",
        {
            "StackName": "kept",
            "TemplateBody": TWO_TOPICS,
            "Parameters": bad,
            "DisableRollback": True,
        },
    )
    stack = _call(cfn, "DescribeStacks", {"StackName": kept["StackId"]})["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_FAILED" and stack["DisableRollback"] is True
    assert stack["StackStatusReason"] == "The following resource(s) failed to create: [Later]. "
    resources = _call(cfn, "DescribeStackResources", {"StackName": "kept"})["StackResources"]
    assert {r["LogicalResourceId"]: r["ResourceStatus"] for r in resources} == {
        "First": "CREATE_COMPLETE",
        "Later": "CREATE_FAILED",
    }
    _call(cfn, "DeleteStack", {"StackName": "kept"})  # removes the kept topic

    gone = _call(
        cfn,
        "CreateStack",
        {"StackName": "gone", "TemplateBody": TWO_TOPICS, "Parameters": bad, "OnFailure": "DELETE"},
    )
    listed = _call(cfn, "ListStacks", {})["StackSummaries"]
    assert [s["StackStatus"] for s in listed if s["StackId"] == gone["StackId"]] in (
        [],
        ["DELETE_COMPLETE"],
    )
    with pytest.raises(AwsApiError, match="either DisableRollback or OnFailure, but not both"):
        _call(
            cfn,
            "CreateStack",
            {
                "StackName": "both",
                "TemplateBody": TWO_TOPICS,
                "DisableRollback": True,
                "OnFailure": "DELETE",
            },
        )
