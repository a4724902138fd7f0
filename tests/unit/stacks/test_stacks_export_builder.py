"""The export template builder (pure): substitutions and least-privilege statements."""

from __future__ import annotations

import json
from typing import Any

from eltflow.stacks.export import (
    FunctionInfo,
    MachineInfo,
    Snapshot,
    TableInfo,
    build_template,
    logical_id,
)


def _machine(states: dict[str, Any]) -> MachineInfo:
    return MachineInfo(name="m-1", definition=json.dumps({"StartAt": "A", "States": states}))


def test_map_and_workgroup_tasks_are_substituted_and_scoped() -> None:
    states = {
        "A": {
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "Q",
                "States": {
                    "Q": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::aws-sdk:redshiftdata:executeStatement",
                        "Parameters": {"WorkgroupName": "wg", "Database": "dev", "Sql": "x"},
                        "End": True,
                    }
                },
            },
            "Next": "B",
        },
        "B": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:getItem",
            "Parameters": {"TableName.$": "$.table", "Key": {}},
            "Next": "C",
        },
        "C": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:1:function:fn", "Payload": {}},
            "End": True,
        },
    }
    exported = build_template(
        Snapshot(
            machines=(_machine(states),),
            tables=(TableInfo(name="T1", partition_key="k", sort_key="s", sort_type="N"),),
            functions=(FunctionInfo(name="fn", handler="pkg.mod.handler"),),
        )
    )
    t = exported.template
    assert exported.zipped == ("fn",) and "ArtifactBucket" in t["Parameters"]  # type: ignore[operator]
    resources: Any = t["Resources"]
    props = resources["StateMachineM1"]["Properties"]
    assert props["DefinitionSubstitutions"] == {
        "RedshiftWorkgroupName": {"Ref": "RedshiftWorkgroupName"},
        "DatabaseName": {"Ref": "DatabaseName"},
        "FunctionFn": {"Fn::GetAtt": ["FunctionFn", "Arn"]},
    }
    definition = json.loads(props["DefinitionString"])
    query = definition["States"]["A"]["ItemProcessor"]["States"]["Q"]["Parameters"]
    assert query["WorkgroupName"] == "${RedshiftWorkgroupName}"
    statements = resources["StateMachineRoleM1"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    actions = sorted(a for s in statements for a in s["Action"])
    assert "redshift-data:ExecuteStatement" in actions and "dynamodb:GetItem" in actions
    # A table chosen at run time ("TableName.$") is scoped to the account's tables.
    dynamic = next(s for s in statements if s["Action"] == ["dynamodb:GetItem"])
    assert dynamic["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*"
    }
    table = resources["TableT1"]["Properties"]
    assert table["KeySchema"][1] == {"AttributeName": "s", "KeyType": "RANGE"}
    assert table["AttributeDefinitions"][1] == {"AttributeName": "s", "AttributeType": "N"}
    code = resources["FunctionFn"]["Properties"]
    assert code["Handler"] == "pkg.mod.handler"
    assert code["Code"] == {"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": "fn.zip"}


def test_logical_ids_are_alphanumeric_and_unique() -> None:
    taken: set[str] = set()
    assert logical_id("Table", "job-audit.v2", taken) == "TableJobAuditV2"
    assert logical_id("Table", "job_audit_v2", taken) == "TableJobAuditV22"


def test_a_function_called_with_a_data_api_target_gets_a_role_for_that_target_only() -> None:
    # The user's own handler (not the bundled SQL one) is told which workgroup to query: its
    # role may run statements there and read their results, and nothing of S3; a function
    # called without a Data API target keeps the shared basic role.
    def call(fn: str, payload: dict[str, Any], then: dict[str, Any]) -> dict[str, Any]:
        params = {"FunctionName": fn, "Payload": payload}
        return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": params, **then}  # fmt: skip

    states = {
        "A": call("check", {"WorkgroupName": "wg", "Database": "dev", "Table": "t"}, {"Next": "B"}),
        "B": call("plain", {"x": 1}, {"End": True}),
    }
    functions = (
        FunctionInfo(name="check", handler="check_counts.handler", source="def handler(e, c): 1"),
        FunctionInfo(name="plain", handler="plain.handler", source="def handler(e, c): 1"),
    )
    t = build_template(Snapshot(machines=(_machine(states),), functions=functions)).template
    resources: Any = t["Resources"]
    check, plain = (
        resources["FunctionCheck"]["Properties"],
        resources["FunctionPlain"]["Properties"],
    )
    assert plain["Role"] == {"Fn::GetAtt": ["FunctionRole", "Arn"]}
    assert "Policies" not in resources["FunctionRole"]["Properties"]
    role = resources[check["Role"]["Fn::GetAtt"][0]]["Properties"]
    (policy,) = role["Policies"]
    assert policy["PolicyName"] == "data-api"
    granted = {a: s["Resource"] for s in policy["PolicyDocument"]["Statement"] for a in s["Action"]}
    assert (
        "redshift-data:ExecuteStatement" in granted
        and "redshift-serverless:GetCredentials" in granted
    )
    assert granted["redshift-data:ExecuteStatement"]["Fn::Sub"].endswith(":workgroup/*")
    assert not any(a.startswith("s3:") for a in granted)
    assert not any(a.startswith("redshift:") for a in granted)  # no cluster named, none granted
    payload = json.loads(resources["StateMachineM1"]["Properties"]["DefinitionString"])
    assert payload["States"]["A"]["Parameters"]["Payload"]["WorkgroupName"] == (
        "${RedshiftWorkgroupName}"
    )
    assert check["Code"] == {"ZipFile": "def handler(e, c): 1"}  # still inlined: one small file
