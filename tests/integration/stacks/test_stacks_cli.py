"""``eltflow stack deploy|list|describe|delete`` through ``eltflow.cli.main``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eltflow.cli import main

TEMPLATE = """
Description: a topic and a table
Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Password: {Type: String, NoEcho: true, Default: s3cret}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-${Env}"
      AttributeDefinitions:
        - {AttributeName: Id, AttributeType: S}
        - {AttributeName: G, AttributeType: S}
      KeySchema: [{AttributeName: Id, KeyType: HASH}]
      GlobalSecondaryIndexes:
        - IndexName: ByG
          KeySchema: [{AttributeName: G, KeyType: HASH}]
          Projection: {ProjectionType: ALL}
  ProdTopic:
    Type: AWS::SNS::Topic
    Condition: IsProd
  Queue:
    Type: AWS::SQS::Queue
Outputs:
  Table: {Value: !Ref Table, Description: the table}
  Topic:
    Condition: IsProd
    Value: !Ref ProdTopic
"""


def _main(project: Path, *argv: str) -> int:
    return main(["--project-dir", str(project), *argv])


def test_stack_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "stack.yaml"
    template.write_text(TEMPLATE, encoding="utf-8")
    preview = ["stack", "deploy", str(template), "--stack-name", "app", "--no-execute-changeset"]
    assert _main(tmp_path, *preview) == 0
    shown = capsys.readouterr().out
    assert "Add      Table" in shown and "Add      Queue" in shown
    assert _main(tmp_path, "stack", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"StackSummaries": []}  # nothing deployed
    assert _main(tmp_path, "stack", "deploy", str(template), "--stack-name", "app") == 0
    out = capsys.readouterr()
    assert "Successfully created stack - app" in out.out and "Table = app-dev" in out.out
    assert "GlobalSecondaryIndexes recorded, not applied" in out.err
    assert "AWS::SQS::Queue is not created locally" in out.err

    assert _main(tmp_path, "stack", "describe", "app", "--json") == 0
    described = json.loads(capsys.readouterr().out)
    stack = described["Stacks"][0]
    assert (
        stack["StackStatus"] == "CREATE_COMPLETE" and stack["Description"] == "a topic and a table"
    )
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {
        "Env": "dev",
        "Password": "****",
    }
    assert stack["Outputs"] == [
        {"OutputKey": "Table", "OutputValue": "app-dev", "Description": "the table"}
    ]
    resources = {r["LogicalResourceId"]: r for r in described["StackResources"]}
    assert set(resources) == {"Table", "Queue"}
    assert resources["Table"]["PhysicalResourceId"] == "app-dev"

    # Update: the condition now keeps the topic; the table is renamed, so replaced.
    argv = ["stack", "deploy", str(template), "--stack-name", "app", "--parameters", "Env=prod"]
    assert _main(tmp_path, *argv) == 0
    printed = capsys.readouterr().out
    assert "Replace  Table" in printed and "Add      ProdTopic" in printed
    assert "Successfully updated stack - app" in printed
    assert _main(tmp_path, *argv) == 0
    assert "No changes to deploy. Stack app is up to date" in capsys.readouterr().out

    assert _main(tmp_path, "stack", "list", "--json") == 0
    summaries = json.loads(capsys.readouterr().out)["StackSummaries"]
    assert [(s["StackName"], s["StackStatus"]) for s in summaries] == [("app", "UPDATE_COMPLETE")]

    assert _main(tmp_path, "tables", "list") == 0
    assert json.loads(capsys.readouterr().out) == {"TableNames": ["app-prod"]}

    assert _main(tmp_path, "stack", "events", "app") == 0
    lines = capsys.readouterr().out.splitlines()
    assert "UPDATE_COMPLETE" in lines[0] and "AWS::CloudFormation::Stack" in lines[0]
    assert any("DELETE_COMPLETE" in line and "Table" in line for line in lines)  # replaced

    assert _main(tmp_path, "stack", "delete", "app") == 0
    assert "Deleted stack - app" in capsys.readouterr().out
    assert _main(tmp_path, "stack", "describe", "app") == 1
    assert "ValidationError: Stack with id app does not exist" in capsys.readouterr().err
    assert _main(tmp_path, "tables", "list") == 0
    assert json.loads(capsys.readouterr().out) == {"TableNames": []}


def test_bad_input_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "bad.yaml"
    template.write_text(
        "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n"
        "      TopicName: !Sub '${Nope}-x'\n",
        encoding="utf-8",
    )
    assert _main(tmp_path, "stack", "deploy", str(template), "--stack-name", "s") == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "error: ValidationError: Resources.T.Properties.TopicName.Fn::Sub: Template format "
        "error: Unresolved resource dependencies [Nope] in the Resources block of the template"
    )
    argv = ["stack", "deploy", str(template), "--stack-name", "s", "--parameters", "oops"]
    assert _main(tmp_path, *argv) == 1
    assert "--parameters expects KEY=VALUE" in capsys.readouterr().err
    assert _main(tmp_path, "stack", "deploy", str(tmp_path / "nope.yaml"), "--stack-name", "s") == 1
    assert "cannot read template file" in capsys.readouterr().err


def test_deploy_flags_skip_unsupported_and_disable_rollback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "vpc.yaml"
    template.write_text(
        "Resources:\n"
        "  Net: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}\n"
        "  Topic: {Type: AWS::SNS::Topic, DependsOn: Net, Properties: {TopicName: bad name!}}\n",
        encoding="utf-8",
    )
    deploy = ["stack", "deploy", str(template), "--stack-name", "net"]
    assert _main(tmp_path, *deploy) == 1
    err = capsys.readouterr().err
    assert "Net (AWS::EC2::VPC)" in err and "--skip-unsupported" in err
    assert _main(tmp_path, *deploy, "--skip-unsupported", "--disable-rollback") == 1
    err = capsys.readouterr().err
    assert "CREATE_FAILED" in err and "Topic Name (rollback disabled)" in err
    assert _main(tmp_path, "stack", "describe", "net", "--json") == 0
    described = json.loads(capsys.readouterr().out)
    assert described["Stacks"][0]["StackStatus"] == "CREATE_FAILED"
    statuses = {r["LogicalResourceId"]: r["ResourceStatus"] for r in described["StackResources"]}
    assert statuses == {"Net": "CREATE_COMPLETE", "Topic": "CREATE_FAILED"}
