"""SAM templates (``Transform: AWS::Serverless-2016-10-31``) deploy locally: AWS's translator
expands them, local ``CodeUri``/``DefinitionUri`` paths are taken from the template's folder,
and the pipeline runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.errors import AwsApiError
from eltflow.scheduler.store import ScheduleStore
from eltflow.stacks.template import read_template
from eltflow.stacks.wiring import cloudformation_for, stacks_for

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev}
Globals:
  Function:
    Runtime: python3.12
    Timeout: 30
Resources:
  Jobs:
    Type: AWS::Serverless::SimpleTable
    Properties:
      TableName: !Sub "jobs-${Stage}"
      PrimaryKey: {Name: job, Type: String}
  Record:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Environment:
        Variables: {STAGE: !Ref Stage, TABLE: !Ref Jobs}
      Policies:
        - DynamoDBCrudPolicy: {TableName: !Ref Jobs}
  Pipeline:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: !Sub "pipeline-${Stage}"
      DefinitionUri: statemachine/pipeline.asl.json
      DefinitionSubstitutions:
        RecordArn: !GetAtt Record.Arn
      Policies:
        - LambdaInvokePolicy: {FunctionName: !Ref Record}
      Events:
        Nightly:
          Type: Schedule
          Properties: {Schedule: "cron(0 3 * * ? *)"}
Outputs:
  Machine: {Value: !Ref Pipeline}
"""
HANDLER = """
import os


def handler(event, context):
    return {"stage": os.environ["STAGE"], "table": os.environ["TABLE"], "got": event}
"""
DEFINITION = {
    "StartAt": "Record",
    "States": {
        "Record": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${RecordArn}", "Payload.$": "$"},
            "OutputPath": "$.Payload",
            "End": True,
        }
    },
}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    (tmp_path / "project").mkdir()
    app = build_app(load_settings(tmp_path / "project", environ={}))
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def sam_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "sam-app"
    (folder / "src").mkdir(parents=True)
    (folder / "statemachine").mkdir()
    (folder / "template.yaml").write_text(TEMPLATE, "utf-8")
    (folder / "src" / "app.py").write_text(HANDLER, "utf-8")
    (folder / "statemachine" / "pipeline.asl.json").write_text(json.dumps(DEFINITION), "utf-8")
    return folder


def test_a_sam_application_deploys_and_runs(app: App, sam_folder: Path) -> None:
    stacks = stacks_for(app)
    stack = stacks.deploy("sam-app", read_template(sam_folder / "template.yaml")).stack
    types = {r.logical_id: r.type for r in stack.resources}
    assert types == {
        "Jobs": "AWS::DynamoDB::Table",
        "Record": "AWS::Lambda::Function",
        "RecordRole": "AWS::IAM::Role",
        "Pipeline": "AWS::StepFunctions::StateMachine",
        "PipelineRole": "AWS::IAM::Role",
        "PipelineNightly": "AWS::Events::Rule",
        "PipelineNightlyRole": "AWS::IAM::Role",
    }
    assert stack.template == TEMPLATE  # the stack keeps the template as written
    machine = stack.outputs[0].value
    assert machine.endswith(":stateMachine:pipeline-dev")
    assert app.items is not None
    assert app.items.call("DescribeTable", {"TableName": "jobs-dev"})["Table"]["KeySchema"] == [
        {"AttributeName": "job", "KeyType": "HASH"}
    ]
    schedules = ScheduleStore(app.db).list_schedules()
    assert [(s.expression, s.state_machine) for s in schedules] == [("cron(0 3 * * ? *)", machine)]

    started = app.service.start_execution(state_machine_arn=machine, input='{"n": 1}')
    app.worker().run(until_idle=True)
    described = app.service.describe_execution(execution_arn=str(started["executionArn"]))
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(str(described["output"])) == {
        "stage": "dev",
        "table": "jobs-dev",
        "got": {"n": 1},
    }

    # Over the API a template is text with no folder: local paths are refused, clearly.
    cfn = cloudformation_for(app)
    request = {"StackName": "sam-app", "ChangeSetName": "prod", "TemplateBody": TEMPLATE}
    with pytest.raises(AwsApiError, match="src/ is a local path, which needs the template's"):
        cfn.call("CreateChangeSet", request)
    # A change set over a SAM template previews the expanded resources.
    inline = TEMPLATE.replace("CodeUri: src/", f"InlineCode: {json.dumps(HANDLER)}").replace(
        "DefinitionUri: statemachine/pipeline.asl.json", f"Definition: {json.dumps(DEFINITION)}"
    )
    cfn.call(
        "CreateChangeSet",
        {
            "StackName": "sam-app",
            "ChangeSetName": "prod",
            "TemplateBody": inline,
            "Parameters": [{"ParameterKey": "Stage", "ParameterValue": "prod"}],
        },
    )
    changes: Any = cfn.call("DescribeChangeSet", {"StackName": "sam-app", "ChangeSetName": "prod"})
    modified = {c["ResourceChange"]["LogicalResourceId"] for c in changes["Changes"]}
    assert {"Jobs", "Record", "Pipeline"} <= modified
    cfn.call("ExecuteChangeSet", {"StackName": "sam-app", "ChangeSetName": "prod"})
    stack_now = stacks.store.get("sam-app")
    assert stack_now is not None
    assert stack_now.status == "UPDATE_COMPLETE", stack_now.reason
    assert stack_now.outputs[0].value.endswith(":stateMachine:pipeline-prod")


def test_sam_errors_are_cloudformation_s(app: App, sam_folder: Path) -> None:
    stacks = stacks_for(app)
    bad = TEMPLATE.replace("Type: String}", "Type: Text}")
    (sam_folder / "bad.yaml").write_text(bad, "utf-8")
    with pytest.raises(AwsApiError) as e:
        stacks.deploy("bad", read_template(sam_folder / "bad.yaml"))
    assert e.value.code == "ValidationError"
    assert e.value.message.startswith("Transform AWS::Serverless-2016-10-31 failed with: ")
    assert "Jobs" in e.value.message
    missing = TEMPLATE.replace("pipeline.asl.json", "nope.json")
    (sam_folder / "missing.yaml").write_text(missing, "utf-8")
    with pytest.raises(AwsApiError, match=r"nope\.json"):
        stacks.deploy("bad", read_template(sam_folder / "missing.yaml"))
    assert stacks.store.get("bad") is None
