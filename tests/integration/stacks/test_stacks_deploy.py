"""Stacks deployed into a real project (SQLite and PostgreSQL stores): resources made through
the local services, executions of the deployed machine, updates that keep data, rollback,
exports between stacks, and delete."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.errors import AwsApiError
from eltflow.stacks.deploy import Stacks
from eltflow.stacks.errors import DeployFailed, TemplateError
from eltflow.stacks.template import load_template
from eltflow.stacks.wiring import stacks_for

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Description: an audit table and a machine that writes and reads it
Parameters:
  JobPrefix:
    Type: String
    Default: job
    AllowedPattern: "[a-z]+"
Resources:
  AuditTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: JobID, AttributeType: S}
      KeySchema:
        - {AttributeName: JobID, KeyType: HASH}
  MachineRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: states.amazonaws.com}, Action: sts:AssumeRole}
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: !GetAtt MachineRole.Arn
      DefinitionSubstitutions:
        TableName: !Ref AuditTable
        Prefix: !Ref JobPrefix
      DefinitionString: |
        {
          "StartAt": "Put",
          "States": {
            "Put": {
              "Type": "Task",
              "Resource": "arn:aws:states:::dynamodb:putItem",
              "Parameters": {
                "TableName": "${TableName}",
                "Item": {"JobID": {"S.$": "$.JobID"}, "Kind": {"S": "${Prefix}"}}
              },
              "ResultPath": null,
              "Next": "Get"
            },
            "Get": {
              "Type": "Task",
              "Resource": "arn:aws:states:::dynamodb:getItem",
              "Parameters": {"TableName": "${TableName}", "Key": {"JobID": {"S.$": "$.JobID"}}},
              "OutputPath": "$.Item",
              "End": true
            }
          }
        }
Outputs:
  MachineArn:
    Value: !Ref Machine
  TableArn:
    Value: !GetAtt AuditTable.Arn
    Export:
      Name: !Sub "${AWS::StackName}-table-arn"
"""


@pytest.fixture
def app(tmp_path: Path, store_url: str) -> Iterator[App]:
    settings = load_settings(tmp_path, environ={"ELTFLOW_STATE": store_url})
    app = build_app(settings)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def stacks(app: App) -> Stacks:
    return stacks_for(app)


def _run(app: App, machine_arn: str, job: str) -> dict[str, Any]:
    started = app.service.start_execution(
        state_machine_arn=machine_arn, input=json.dumps({"JobID": job})
    )
    app.worker().run(until_idle=True)
    return app.service.describe_execution(execution_arn=str(started["executionArn"]))


def _outputs(stacks: Stacks, name: str) -> dict[str, str]:
    stack = stacks.store.get(name)
    assert stack is not None
    return {o.key: o.value for o in stack.outputs}


def test_deploy_then_run_the_deployed_machine(app: App, stacks: Stacks) -> None:
    result = stacks.deploy("etl", load_template(TEMPLATE))
    assert result.created and result.stack.status == "CREATE_COMPLETE"
    assert [c.logical_id for c in result.changes] == ["AuditTable", "MachineRole", "Machine"]
    outputs = _outputs(stacks, "etl")
    assert app.items is not None
    table = app.items.call("ListTables", {})["TableNames"]
    assert len(table) == 1 and table[0].startswith("etl-AuditTable-")
    assert outputs["TableArn"].endswith(f":table/{table[0]}")

    described = _run(app, outputs["MachineArn"], "101")
    assert described["status"] == "SUCCEEDED", described
    item = json.loads(str(described["output"]))
    assert item == {"JobID": {"S": "101"}, "Kind": {"S": "job"}}
    machine = app.service.describe_state_machine(state_machine_arn=outputs["MachineArn"])
    assert machine["roleArn"] == "arn:aws:iam::123456789012:role/" + str(
        stacks.store.get("etl").resource("MachineRole").physical_id  # type: ignore[union-attr]
    )
    assert "${TableName}" not in str(machine["definition"])


def test_redeploy_updates_only_what_changed_and_keeps_items(app: App, stacks: Stacks) -> None:
    stacks.deploy("etl", load_template(TEMPLATE))
    outputs = _outputs(stacks, "etl")
    assert _run(app, outputs["MachineArn"], "1")["status"] == "SUCCEEDED"

    same = stacks.deploy("etl", load_template(TEMPLATE))
    assert same.unchanged and same.changes == ()

    updated = stacks.deploy("etl", load_template(TEMPLATE), {"JobPrefix": "nightly"})
    assert updated.stack.status == "UPDATE_COMPLETE"
    assert [(c.action, c.logical_id) for c in updated.changes] == [("Modify", "Machine")]
    assert _outputs(stacks, "etl") == outputs  # same machine, same table
    # The table kept the first run's item; the new machine version writes the new prefix.
    table = outputs["TableArn"].rsplit("/", 1)[-1]
    assert app.items is not None
    kept = app.items.call("GetItem", {"TableName": table, "Key": {"JobID": {"S": "1"}}})
    assert kept["Item"]["Kind"] == {"S": "job"}
    second = _run(app, outputs["MachineArn"], "2")
    assert json.loads(str(second["output"]))["Kind"] == {"S": "nightly"}
    # A later deploy without --parameters keeps the previous value, as `aws cloudformation deploy`.
    assert stacks.deploy("etl", load_template(TEMPLATE)).unchanged


def test_key_schema_change_replaces_the_table(app: App, stacks: Stacks) -> None:
    stacks.deploy("etl", load_template(TEMPLATE))
    old_table = _outputs(stacks, "etl")["TableArn"].rsplit("/", 1)[-1]
    changed = TEMPLATE.replace(
        "{AttributeName: JobID, AttributeType: S}", "{AttributeName: Id, AttributeType: S}"
    )
    changed = changed.replace(
        "{AttributeName: JobID, KeyType: HASH}", "{AttributeName: Id, KeyType: HASH}"
    )
    result = stacks.deploy("etl", load_template(changed))
    actions = {c.logical_id: c.action for c in result.changes}
    assert actions["AuditTable"] == "Replace" and actions["Machine"] == "Modify"
    assert app.items is not None
    tables = app.items.call("ListTables", {})["TableNames"]
    assert old_table not in tables and len(tables) == 1


def test_failed_create_rolls_back_everything(app: App, stacks: Stacks) -> None:
    bad = TEMPLATE.replace('"StartAt": "Put"', '"StartAt": "Missing"')
    with pytest.raises(DeployFailed) as e:
        stacks.deploy("etl", load_template(bad))
    assert e.value.status == "ROLLBACK_COMPLETE"
    assert "Machine" in e.value.reason and "Missing" in e.value.reason
    assert app.items is not None
    assert app.items.call("ListTables", {})["TableNames"] == []
    stack = stacks.store.get("etl")
    assert stack is not None and stack.status == "ROLLBACK_COMPLETE"
    assert (
        stack.reason
        == "The following resource(s) failed to create: [Machine]. Rollback requested by user."
    )
    statuses = {r.logical_id: r.status for r in stack.resources}
    assert statuses == {
        "AuditTable": "DELETE_COMPLETE",
        "MachineRole": "DELETE_COMPLETE",
        "Machine": "CREATE_FAILED",
    }
    with pytest.raises(AwsApiError, match="is in ROLLBACK_COMPLETE state and can not be updated"):
        stacks.deploy("etl", load_template(TEMPLATE))
    assert stacks.delete("etl")
    assert stacks.deploy("etl", load_template(TEMPLATE)).stack.status == "CREATE_COMPLETE"


def test_disable_rollback_keeps_what_was_made_and_a_later_deploy_resumes(
    app: App, stacks: Stacks
) -> None:
    """CreateStack's DisableRollback (the console's "preserve successfully provisioned
    resources"): the stack stays CREATE_FAILED with the resources made before the failure."""
    bad = TEMPLATE.replace('"StartAt": "Put"', '"StartAt": "Missing"')
    with pytest.raises(DeployFailed) as e:
        stacks.deploy("etl", load_template(bad), disable_rollback=True)
    assert e.value.status == "CREATE_FAILED"
    stack = stacks.store.get("etl")
    assert stack is not None and stack.status == "CREATE_FAILED"
    assert stack.reason == "The following resource(s) failed to create: [Machine]. "
    statuses = {r.logical_id: r.status for r in stack.resources}
    assert statuses == {
        "AuditTable": "CREATE_COMPLETE",
        "MachineRole": "CREATE_COMPLETE",
        "Machine": "CREATE_FAILED",
    }
    assert "Missing" in stack.resource("Machine").reason  # type: ignore[union-attr]
    assert app.items is not None
    assert len(app.items.call("ListTables", {})["TableNames"]) == 1  # kept, not rolled back
    kinds = [ev.status for ev in stacks.store.events(stack.stack_id) if ev.logical_id == "etl"]
    assert kinds[0] == "CREATE_FAILED" and "ROLLBACK_IN_PROGRESS" not in kinds

    # Deploying the fixed template resumes: the kept table stays, the machine is created.
    table = stack.resource("AuditTable").physical_id  # type: ignore[union-attr]
    resumed = stacks.deploy("etl", load_template(TEMPLATE))
    assert resumed.stack.status == "UPDATE_COMPLETE"
    assert {c.logical_id: c.action for c in resumed.changes} == {"Machine": "Add"}
    assert resumed.stack.resource("AuditTable").physical_id == table  # type: ignore[union-attr]
    assert stacks.delete("etl")
    assert app.items.call("ListTables", {})["TableNames"] == []


def test_an_unsupported_resource_type_stops_the_deploy_unless_skipped(
    app: App, stacks: Stacks
) -> None:
    extra = TEMPLATE.replace(
        "Outputs:",
        "  Server:\n    Type: AWS::EC2::Instance\n    Properties:\n"
        "      ImageId: ami-12345678\nOutputs:",
    )
    with pytest.raises(AwsApiError) as e:
        stacks.deploy("etl", load_template(extra))
    assert e.value.code == "ValidationError"
    assert (
        "Server (AWS::EC2::Instance)" in e.value.message and "--skip-unsupported" in e.value.message
    )
    assert stacks.store.get("etl") is None  # stopped before anything was made
    assert app.items is not None and app.items.call("ListTables", {})["TableNames"] == []

    result = stacks.deploy("etl", load_template(extra), skip_unsupported=True)
    assert result.stack.status == "CREATE_COMPLETE"
    assert (
        "Server (AWS::EC2::Instance): AWS::EC2::Instance is not created locally: recorded only"
        in (result.warnings)
    )
    server = result.stack.resource("Server")
    assert server is not None and server.status == "CREATE_COMPLETE" and server.physical_id


def test_failed_update_restores_the_previous_stack(app: App, stacks: Stacks) -> None:
    stacks.deploy("etl", load_template(TEMPLATE))
    before = stacks.store.get("etl")
    assert before is not None
    extra = TEMPLATE.replace(
        "Outputs:",
        "  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n"
        "      TopicName: bad name!\nOutputs:",
    )
    with pytest.raises(DeployFailed) as e:
        stacks.deploy("etl", load_template(extra))
    assert e.value.status == "UPDATE_ROLLBACK_COMPLETE"
    after = stacks.store.get("etl")
    assert after is not None and after.status == "UPDATE_ROLLBACK_COMPLETE"
    assert after.resources == before.resources and after.template == before.template
    assert app.topics is not None
    assert app.topics.call("ListTopics", {})["Topics"] == []
    # The stack can be updated again from there.
    assert (
        stacks.deploy("etl", load_template(TEMPLATE), {"JobPrefix": "x"}).stack.status
        == "UPDATE_COMPLETE"
    )


def test_a_failed_update_with_rollback_disabled_is_update_failed(app: App, stacks: Stacks) -> None:
    stacks.deploy("etl", load_template(TEMPLATE))
    before = stacks.store.get("etl")
    assert before is not None
    extra = TEMPLATE.replace(
        "Outputs:",
        "  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n"
        "      TopicName: bad name!\nOutputs:",
    )
    with pytest.raises(DeployFailed) as e:
        stacks.deploy("etl", load_template(extra), disable_rollback=True)
    assert e.value.status == "UPDATE_FAILED"
    after = stacks.store.get("etl")
    assert after is not None and after.status == "UPDATE_FAILED"
    assert after.reason == "The following resource(s) failed to update: [Topic]. "
    statuses = {r.logical_id: r.status for r in after.resources}
    assert statuses["Topic"] == "CREATE_FAILED"
    for r in before.resources:  # the resources the update did not get to are as they were
        kept = after.resource(r.logical_id)
        assert kept is not None and kept.physical_id == r.physical_id
    # A later deploy of the good template resumes from there.
    assert stacks.deploy("etl", load_template(TEMPLATE)).stack.status == "UPDATE_COMPLETE"


def test_template_errors_change_nothing(stacks: Stacks) -> None:
    cyclic = """
Resources:
  A: {Type: AWS::SNS::Topic, Properties: {TopicName: !GetAtt B.TopicName}}
  B: {Type: AWS::SNS::Topic, Properties: {TopicName: !GetAtt A.TopicName}}
"""
    with pytest.raises(TemplateError, match=r"Circular dependency between resources: \[A, B\]"):
        stacks.deploy("bad", load_template(cyclic))
    with pytest.raises(TemplateError, match="Parameter 'JobPrefix' must match pattern"):
        stacks.deploy("bad", load_template(TEMPLATE), {"JobPrefix": "UPPER"})
    with pytest.raises(AwsApiError, match="failed to satisfy constraint"):
        stacks.deploy("1bad", load_template(TEMPLATE))
    assert stacks.store.all() == []


def test_exports_imports_and_delete_order(app: App, stacks: Stacks) -> None:
    stacks.deploy("base", load_template(TEMPLATE))
    consumer = """
Resources:
  Alerts:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Join ["-", [alerts, !Select [1, !Split ["/", !ImportValue base-table-arn]]]]
Outputs:
  Topic: {Value: !GetAtt Alerts.TopicName}
"""
    stacks.deploy("consumer", load_template(consumer))
    table = _outputs(stacks, "base")["TableArn"].rsplit("/", 1)[-1]
    assert _outputs(stacks, "consumer")["Topic"] == f"alerts-{table}"
    with pytest.raises(
        AwsApiError, match="Export base-table-arn cannot be deleted as it is in use by consumer"
    ):
        stacks.delete("base")
    with pytest.raises(DeployFailed, match="already exported by stack base"):
        stacks.deploy(
            "other",
            load_template(TEMPLATE.replace("${AWS::StackName}-table-arn", "base-table-arn")),
        )
    assert stacks.delete("consumer") and stacks.delete("base") and stacks.delete("other")
    assert app.topics is not None
    assert app.topics.call("ListTopics", {})["Topics"] == []
    assert app.service.list_state_machines()["stateMachines"] == []
    assert not stacks.delete("base")  # idempotent, as DeleteStack


def test_one_operation_at_a_time(app: App, stacks: Stacks) -> None:
    from dataclasses import replace

    stacks.deploy("etl", load_template(TEMPLATE))
    stack = stacks.store.get("etl")
    assert stack is not None
    # Two operations starting from the same state: only the first claims the stack.
    assert stacks.store.claim(replace(stack, status="UPDATE_IN_PROGRESS"), "CREATE_COMPLETE")
    assert not stacks.store.claim(replace(stack, status="UPDATE_IN_PROGRESS"), "CREATE_COMPLETE")
    assert not stacks.store.claim(replace(stack, status="CREATE_IN_PROGRESS"), None)
    with pytest.raises(AwsApiError, match="is in UPDATE_IN_PROGRESS state and can not be updated"):
        stacks.deploy("etl", load_template(TEMPLATE))
    # A stack left in progress (a crashed deploy) can still be deleted, with its resources.
    assert stacks.delete("etl")
    assert app.items is not None
    assert app.items.call("ListTables", {})["TableNames"] == []
    assert app.service.list_state_machines()["stateMachines"] == []


def test_retain_policies_keep_the_physical_resource(app: App, stacks: Stacks) -> None:
    retained = TEMPLATE.replace(
        "    Type: AWS::DynamoDB::Table\n",
        "    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n",
    )
    stacks.deploy("etl", load_template(retained))
    table = _outputs(stacks, "etl")["TableArn"].rsplit("/", 1)[-1]
    assert stacks.delete("etl")
    assert app.items is not None
    assert app.items.call("ListTables", {})["TableNames"] == [table]  # kept
    assert app.service.list_state_machines()["stateMachines"] == []  # not retained: deleted


def test_change_set_preview_changes_nothing(app: App, stacks: Stacks) -> None:
    new = stacks.preview("etl", load_template(TEMPLATE))
    assert [(c.action, c.logical_id) for c in new] == [
        ("Add", "AuditTable"),
        ("Add", "MachineRole"),
        ("Add", "Machine"),
    ]
    assert stacks.store.get("etl") is None
    stacks.deploy("etl", load_template(TEMPLATE))
    assert stacks.preview("etl", load_template(TEMPLATE)) == []
    prefix = stacks.preview("etl", load_template(TEMPLATE), {"JobPrefix": "other"})
    assert [(c.action, c.logical_id, c.replacement) for c in prefix] == [
        ("Modify", "Machine", "False")
    ]
    rekeyed = TEMPLATE.replace(
        "{AttributeName: JobID, KeyType: HASH}", "{AttributeName: Id, KeyType: HASH}"
    ).replace("{AttributeName: JobID, AttributeType: S}", "{AttributeName: Id, AttributeType: S}")
    without_role = rekeyed.replace("      RoleArn: !GetAtt MachineRole.Arn\n", "")
    start = without_role.index("  MachineRole:")
    without_role = without_role[:start] + without_role[without_role.index("  Machine:\n") :]
    changes = {
        c.logical_id: (c.action, c.replacement)
        for c in stacks.preview("etl", load_template(without_role))
    }
    assert changes == {
        "AuditTable": ("Modify", "True"),
        "Machine": ("Modify", "False"),  # its table name is only known after the replacement
        "MachineRole": ("Remove", ""),
    }
    assert app.items is not None
    assert len(app.items.call("ListTables", {})["TableNames"]) == 1  # nothing was changed


def test_removing_a_resource_is_an_update(app: App, stacks: Stacks) -> None:
    extra = TEMPLATE.replace(
        "Outputs:",
        "  Spare:\n    Type: AWS::SNS::Topic\n    Properties: {TopicName: spare}\nOutputs:",
    )
    stacks.deploy("etl", load_template(extra))
    assert app.topics is not None
    assert len(app.topics.call("ListTopics", {})["Topics"]) == 1
    # Only the removal: nothing else changes, and the deploy is still an update.
    result = stacks.deploy("etl", load_template(TEMPLATE))
    assert not result.unchanged
    assert [(c.action, c.logical_id) for c in result.changes] == [("Remove", "Spare")]
    assert app.topics.call("ListTopics", {})["Topics"] == []
    after = stacks.store.get("etl")
    assert after is not None and after.resource("Spare") is None
    assert after.status == "UPDATE_COMPLETE"
