"""``eltflow export cloudformation``: cfn-lint accepts the template, moto's CloudFormation creates
it, and ``stack deploy`` of it into a fresh project gives back the same definitions."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from eltflow.app import build_app
from eltflow.cli import main
from eltflow.config import load_settings
from eltflow.stacks.template import read_template
from eltflow.stacks.wiring import stacks_for

HANDLER = """
def handler(event, context):
    return {"rows": len(event.get("items", []))}
"""
# A handler inside a package: zipped with its package, read from the ArtifactBucket.
ROWS = """
def count(items):
    return len(items)
"""
PACKAGED = """
from export_test_pkg.rows import count


def handler(event, context):
    return {"packaged": count(event["items"])}
"""
TOML = """
[tables.JobAudit]
partition_key = "JobID"

[lambda.functions]
Count = "export_test_handler:handler"
Packaged = "export_test_pkg.handlers:handler"

[topics.alerts]
subscriptions = [{ protocol = "email", endpoint = "ops@example.com" },
                 { protocol = "file", endpoint = ".eltflow/alerts.jsonl" }]

[schedules.nightly]
expression = "cron(0 2 * * ? *)"
state_machine = "elt"
input = '{"JobID": "101"}'
"""
DEFINITION: dict[str, Any] = {
    "StartAt": "Lock",
    "States": {
        "Lock": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:updateItem",
            "Parameters": {
                "TableName": "JobAudit",
                "Key": {"JobID": {"S.$": "$.JobID"}},
                "UpdateExpression": "SET JobState = :r",
                "ExpressionAttributeValues": {":r": {"S": "Running"}},
            },
            "ResultPath": None,
            "Next": "Load",
        },
        "Load": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Sql",
                    "States": {
                        "Sql": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::aws-sdk:redshiftdata:executeStatement",
                            "Parameters": {
                                "ClusterIdentifier": "local-cluster",
                                "Database": "dev",
                                "Sql": "SELECT 1",
                            },
                            "End": True,
                        }
                    },
                },
                {
                    "StartAt": "Count",
                    "States": {
                        "Count": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {"FunctionName": "Count", "Payload.$": "$"},
                            "End": True,
                        }
                    },
                },
            ],
            "Next": "Notify",
        },
        "Notify": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts",
                "Message": "done",
            },
            "End": True,
        },
    },
}


@pytest.fixture
def exported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    code = tmp_path / "code"
    code.mkdir()
    (code / "export_test_handler.py").write_text(HANDLER, encoding="utf-8")
    (code / "export_test_pkg").mkdir()
    (code / "export_test_pkg" / "__init__.py").write_text("", encoding="utf-8")
    (code / "export_test_pkg" / "rows.py").write_text(ROWS, encoding="utf-8")
    (code / "export_test_pkg" / "handlers.py").write_text(PACKAGED, encoding="utf-8")
    monkeypatch.syspath_prepend(str(code))
    project = tmp_path / "project"
    project.mkdir()
    (project / "eltflow.toml").write_text(TOML, encoding="utf-8")
    app = build_app(load_settings(project, environ={}))
    try:
        app.service.create_state_machine(name="elt", definition=DEFINITION)
    finally:
        app.close()
    out = tmp_path / "template.json"
    assert main(["--project-dir", str(project), "schedules", "list"]) == 0  # applies config
    assert main(["--project-dir", str(project), "export", "cloudformation", "--out", str(out)]) == 0
    return out


def resources_code(template: dict[str, Any], logical: str) -> Any:
    return template["Resources"][logical]["Properties"]["Code"]


def test_exported_template_is_cfn_lint_clean_and_least_privilege(exported: Path) -> None:
    from cfnlint.api import lint

    text = exported.read_text(encoding="utf-8")
    assert [str(m) for m in lint(text)] == []
    template = json.loads(text)
    resources = template["Resources"]
    assert set(template["Parameters"]) == {
        "ArtifactBucket",
        "RedshiftClusterIdentifier",
        "DatabaseName",
    }
    assert resources_code(template, "FunctionPackaged") == {
        "S3Bucket": {"Ref": "ArtifactBucket"},
        "S3Key": "Packaged.zip",
    }
    with zipfile.ZipFile(exported.parent / "Packaged.zip") as archive:
        assert sorted(archive.namelist()) == [
            "export_test_pkg/__init__.py",
            "export_test_pkg/handlers.py",
            "export_test_pkg/rows.py",
        ]
    machine = resources["StateMachineElt"]["Properties"]
    assert machine["DefinitionSubstitutions"] == {
        "TableJobAudit": {"Ref": "TableJobAudit"},
        "RedshiftClusterIdentifier": {"Ref": "RedshiftClusterIdentifier"},
        "DatabaseName": {"Ref": "DatabaseName"},
        "FunctionCount": {"Ref": "FunctionCount"},
        "TopicAlerts": {"Ref": "TopicAlerts"},
    }
    statements = resources["StateMachineRoleElt"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    by_resource = {json.dumps(s["Resource"], sort_keys=True): s["Action"] for s in statements}
    assert by_resource[json.dumps({"Fn::GetAtt": ["TableJobAudit", "Arn"]})] == [
        "dynamodb:UpdateItem"
    ]
    assert by_resource[json.dumps({"Fn::GetAtt": ["FunctionCount", "Arn"]})] == [
        "lambda:InvokeFunction"
    ]
    assert by_resource[json.dumps({"Ref": "TopicAlerts"})] == ["sns:Publish"]
    function = resources["FunctionCount"]["Properties"]
    assert function["Handler"] == "index.handler" and "ZipFile" in function["Code"]
    assert resources["TopicAlerts"]["Properties"]["Subscription"] == [
        {"Protocol": "email", "Endpoint": "ops@example.com"}
    ]
    schedule = resources["ScheduleNightly"]["Properties"]
    assert schedule["Target"]["Arn"] == {"Ref": "StateMachineElt"}
    assert schedule["ScheduleExpression"] == "cron(0 2 * * ? *)"


def test_exported_template_deploys_back_to_the_same_project(exported: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    # The zip goes to the bucket, as one uploads it before deploying on AWS: the local S3.
    bucket = fresh / ".eltflow" / "s3" / "artifacts"
    bucket.mkdir(parents=True)
    shutil.copy(exported.parent / "Packaged.zip", bucket / "Packaged.zip")
    app = build_app(load_settings(fresh, environ={}))
    try:
        result = stacks_for(app).deploy(
            "project",
            read_template(exported),
            {"RedshiftClusterIdentifier": "local-cluster", "ArtifactBucket": "artifacts"},
        )
        assert result.stack.status == "CREATE_COMPLETE"
        described = app.service.describe_state_machine(state_machine_arn="elt")
        assert json.loads(str(described["definition"])) == DEFINITION
        assert app.items is not None and app.lambdas is not None
        assert app.items.call("ListTables", {})["TableNames"] == ["JobAudit"]
        invoked = app.lambdas.invoke("Count", {"items": [1, 2]})
        assert invoked.payload == {"rows": 2}
        packaged = app.lambdas.invoke("Packaged", {"items": [1, 2, 3]})
        assert packaged.payload == {"packaged": 3}, packaged.error
    finally:
        app.close()


def test_exported_template_creates_in_moto(exported: Path) -> None:
    import boto3
    from moto import mock_aws

    # moto's CloudFormation has no AWS::Scheduler::Schedule: it warns and skips it.
    with mock_aws(), pytest.warns(UserWarning, match="AWS::Scheduler::Schedule"):
        cfn = boto3.client("cloudformation", region_name="us-east-1")
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="artifacts")
        s3.upload_file(str(exported.parent / "Packaged.zip"), "artifacts", "Packaged.zip")
        cfn.create_stack(
            StackName="eltflow",
            TemplateBody=exported.read_text(encoding="utf-8"),
            Parameters=[{"ParameterKey": "ArtifactBucket", "ParameterValue": "artifacts"}],
            Capabilities=["CAPABILITY_IAM"],
        )
        stack = cfn.describe_stacks(StackName="eltflow")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machines = sfn.list_state_machines()["stateMachines"]
        assert [m["name"] for m in machines] == ["elt"]
        assert boto3.client("dynamodb", region_name="us-east-1").list_tables()["TableNames"] == [
            "JobAudit"
        ]


def test_definition_from_the_local_s3(tmp_path: Path) -> None:
    bucket = tmp_path / ".eltflow" / "s3" / "definitions"
    bucket.mkdir(parents=True)
    (bucket / "elt.asl.json").write_text(
        json.dumps(
            {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "${Env}", "End": True}}}
        ),
        encoding="utf-8",
    )
    template = """
Resources:
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: from-s3
      DefinitionS3Location: {Bucket: definitions, Key: elt.asl.json}
      DefinitionSubstitutions: {Env: prod}
"""
    app = build_app(load_settings(tmp_path, environ={}))
    try:
        from eltflow.stacks.template import load_template

        stacks_for(app).deploy("s3def", load_template(template))
        described = app.service.describe_state_machine(state_machine_arn="from-s3")
        assert json.loads(str(described["definition"]))["States"]["P"]["Result"] == "prod"
        missing = template.replace("elt.asl.json", "nope.json").replace("from-s3", "other")
        with pytest.raises(Exception, match=r"s3://definitions/nope\.json does not exist"):
            stacks_for(app).deploy("s3def2", load_template(missing))
    finally:
        app.close()
