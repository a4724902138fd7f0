"""CloudFormation (query protocol, XML) through the AWS endpoint: ``aws cloudformation deploy``
(change sets and waiters) with the real AWS CLI, and the change-set API with boto3, against a
real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.e2e.endpoint.clients import wait_closed

from eltflow.serve import Server

ClientFactory = Callable[[str], Any]

TEMPLATE = """
Parameters:
  TopicName: {Type: String}
  Secret: {Type: String, NoEcho: true, Default: hidden}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties: {TopicName: !Ref TopicName}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-jobs"
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
Outputs:
  TopicArn: {Value: !Ref Topic}
"""


@pytest.fixture(scope="module")
def cfn(client: ClientFactory) -> Any:
    return client("cloudformation")


def test_aws_cloudformation_deploy_creates_updates_and_deletes(
    aws_cli: Callable[..., Any], client: ClientFactory, tmp_path: Path
) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(TEMPLATE, "utf-8")
    deploy = ("cloudformation", "deploy", "--template-file", str(template))
    out = aws_cli(
        *deploy, "--stack-name", "cli-stack", "--parameter-overrides", "TopicName=t1", raw=True
    )
    assert "Successfully created/updated stack - cli-stack" in out

    stack = aws_cli("cloudformation", "describe-stacks", "--stack-name", "cli-stack")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {
        "TopicName": "t1",
        "Secret": "****",
    }
    assert stack["Outputs"] == [
        {"OutputKey": "TopicArn", "OutputValue": "arn:aws:sns:us-east-1:123456789012:t1"}
    ]
    resources = aws_cli("cloudformation", "list-stack-resources", "--stack-name", "cli-stack")
    assert sorted(
        (r["LogicalResourceId"], r["PhysicalResourceId"], r["ResourceStatus"])
        for r in resources["StackResourceSummaries"]
    ) == [
        ("Table", "cli-stack-jobs", "CREATE_COMPLETE"),
        ("Topic", "arn:aws:sns:us-east-1:123456789012:t1", "CREATE_COMPLETE"),
    ]
    # The resources are the local services' own: the table takes items.
    dynamodb = client("dynamodb")
    dynamodb.put_item(TableName="cli-stack-jobs", Item={"pk": {"S": "a"}})

    # An update: parameters not given keep their previous value (UsePreviousValue, which
    # `deploy` sends after GetTemplateSummary); the unchanged table keeps its items.
    aws_cli(*deploy, "--stack-name", "cli-stack", "--parameter-overrides", "TopicName=t2", raw=True)
    stack = aws_cli("cloudformation", "describe-stacks", "--stack-name", "cli-stack")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert stack["Outputs"][0]["OutputValue"].endswith(":t2")
    assert dynamodb.get_item(TableName="cli-stack-jobs", Key={"pk": {"S": "a"}})["Item"]

    aws_cli("cloudformation", "delete-stack", "--stack-name", "cli-stack", raw=True)
    listed = aws_cli("cloudformation", "list-stacks")["StackSummaries"]
    assert "cli-stack" not in [s["StackName"] for s in listed]
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        dynamodb.describe_table(TableName="cli-stack-jobs")


def test_change_sets_review_execute_and_errors(cfn: Any) -> None:
    created = cfn.create_change_set(
        StackName="cs-stack",
        ChangeSetName="first",
        ChangeSetType="CREATE",
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "TopicName", "ParameterValue": "cs1"}],
    )
    stack = cfn.describe_stacks(StackName="cs-stack")["Stacks"][0]
    assert (stack["StackId"], stack["StackStatus"]) == (created["StackId"], "REVIEW_IN_PROGRESS")
    described = cfn.describe_change_set(ChangeSetName="first", StackName="cs-stack")
    assert (described["Status"], described["ExecutionStatus"]) == ("CREATE_COMPLETE", "AVAILABLE")
    assert described["ChangeSetId"] == created["Id"]
    assert sorted(
        (c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"])
        for c in described["Changes"]
    ) == [("Add", "Table"), ("Add", "Topic")]
    assert {"ParameterKey": "Secret", "ParameterValue": "****"} in described["Parameters"]
    assert [
        s["ChangeSetName"] for s in cfn.list_change_sets(StackName="cs-stack")["Summaries"]
    ] == ["first"]
    with pytest.raises(ClientError) as e:  # the stack under review cannot be updated
        cfn.create_change_set(
            StackName="cs-stack", ChangeSetName="upd", TemplateBody=TEMPLATE, ChangeSetType="UPDATE"
        )
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert "Stack [cs-stack] does not exist" in e.value.response["Error"]["Message"]

    cfn.execute_change_set(ChangeSetName=created["Id"])
    cfn.get_waiter("stack_create_complete").wait(
        StackName="cs-stack", WaiterConfig={"Delay": 1, "MaxAttempts": 3}
    )
    # Executing removes the stack's change sets, as in AWS.
    with pytest.raises(ClientError) as e:
        cfn.describe_change_set(ChangeSetName=created["Id"])
    assert e.value.response["Error"]["Code"] == "ChangeSetNotFound"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    # The same template and values again: a FAILED change set that cannot be executed.
    same = cfn.create_change_set(
        StackName="cs-stack",
        ChangeSetName="same",
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "TopicName", "UsePreviousValue": True}],
    )
    described = cfn.describe_change_set(ChangeSetName=same["Id"])
    assert (described["Status"], described["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert "didn't contain changes" in described["StatusReason"]
    with pytest.raises(ClientError) as e:
        cfn.execute_change_set(ChangeSetName=same["Id"])
    assert e.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
    cfn.delete_change_set(ChangeSetName="same", StackName="cs-stack")

    # A change set made before the stack changed another way is obsolete.
    changed = cfn.create_change_set(
        StackName="cs-stack",
        ChangeSetName="late",
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "TopicName", "ParameterValue": "cs2"}],
    )
    modify = cfn.describe_change_set(ChangeSetName=changed["Id"])["Changes"]
    assert [
        (c["ResourceChange"]["Action"], c["ResourceChange"]["Replacement"]) for c in modify
    ] == [("Modify", "True")]
    cfn.update_stack(
        StackName="cs-stack",
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "TopicName", "ParameterValue": "cs3"}],
    )
    with pytest.raises(ClientError) as e:
        cfn.execute_change_set(ChangeSetName=changed["Id"])
    assert e.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
    assert "[OBSOLETE]" in e.value.response["Error"]["Message"]

    with pytest.raises(ClientError) as e:
        cfn.create_change_set(
            StackName="cs-stack",
            ChangeSetName="again",
            ChangeSetType="CREATE",
            TemplateBody=TEMPLATE,
        )
    assert "already exists and cannot be created again" in e.value.response["Error"]["Message"]
    summary = cfn.get_template_summary(StackName="cs-stack")
    assert [p["ParameterKey"] for p in summary["Parameters"]] == ["TopicName", "Secret"]
    assert summary["ResourceTypes"] == ["AWS::DynamoDB::Table", "AWS::SNS::Topic"]
    cfn.delete_stack(StackName="cs-stack")


BAD = """
Resources:
  T:
    Type: AWS::SNS::Topic
    Properties: {TopicName: !Ref Nope}
"""


def test_bad_templates_answer_cloudformation_errors(cfn: Any) -> None:
    with pytest.raises(ClientError) as e:
        cfn.create_change_set(
            StackName="bad",
            ChangeSetName="c",
            ChangeSetType="CREATE",
            TemplateBody=BAD,
        )
    error: dict[str, Any] = dict(e.value.response["Error"])
    assert (error["Code"], error["Type"]) == ("ValidationError", "Sender")
    assert "Unresolved resource dependencies [Nope]" in error["Message"]
    # Nothing was recorded for the refused change set.
    with pytest.raises(ClientError, match="Stack with id bad does not exist"):
        cfn.describe_stacks(StackName="bad")
    with pytest.raises(ClientError) as e:
        cfn.describe_change_set(ChangeSetName="nope", StackName="bad")
    assert e.value.response["Error"]["Code"] == "ChangeSetNotFound"


SAM_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Shout:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
  Pipeline:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: sam-wire
      DefinitionUri: pipeline.asl.json
      DefinitionSubstitutions: {ShoutArn: !GetAtt Shout.Arn}
"""
SAM_DEFINITION = {
    "StartAt": "Shout",
    "States": {
        "Shout": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${ShoutArn}", "Payload.$": "$"},
            "OutputPath": "$.Payload",
            "End": True,
        }
    },
}


def test_sam_package_then_deploy_through_the_endpoint(
    server: Server, client: ClientFactory, tmp_path: Path
) -> None:
    """``aws cloudformation package`` uploads the local code and definition to the local S3
    (it reaches S3 through ``AWS_ENDPOINT_URL``), then ``deploy`` runs the SAM transform."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(
        "def handler(event, context):\n    return {'loud': event['word'].upper()}\n", "utf-8"
    )
    (tmp_path / "pipeline.asl.json").write_text(json.dumps(SAM_DEFINITION), "utf-8")
    (tmp_path / "template.yaml").write_text(SAM_TEMPLATE, "utf-8")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_ENDPOINT_URL": server.url,
    }

    def aws(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "awscli", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    aws("s3", "mb", "s3://sam-artifacts")
    packaged = tmp_path / "packaged.yaml"
    aws(
        "cloudformation",
        "package",
        "--template-file",
        "template.yaml",
        "--s3-bucket",
        "sam-artifacts",
        "--output-template-file",
        str(packaged),
    )
    assert "CodeUri: s3://sam-artifacts/" in packaged.read_text("utf-8")
    out = aws(
        "cloudformation", "deploy", "--template-file", str(packaged), "--stack-name", "sam-wire"
    )
    assert "Successfully created/updated stack - sam-wire" in out

    sfn = client("stepfunctions")
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:sam-wire"
    execution = sfn.start_execution(stateMachineArn=arn, input='{"word": "elt"}')
    described = wait_closed(sfn, execution["executionArn"])
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"loud": "ELT"}
    client("cloudformation").delete_stack(StackName="sam-wire")
