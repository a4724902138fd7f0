"""The reference pipeline from its own CloudFormation template (``make demo-stack``, i.e.
``eltflow demo --from-template``): the shipped template is cfn-lint clean, its definition is the
reference definition with each load calling the bundled SQL function, and deploying it into a
fresh project (``eltflow stack deploy`` through the stacks service) runs the pipeline to
SUCCEEDED; deploying it again is an update with nothing to do."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from eltflow.cli import main
from eltflow.pipelines.reference import ReferenceConfig, stack
from eltflow.stacks.template import read_template

pytestmark = pytest.mark.slow

SEED_PARAMETERS = {
    "RedshiftClusterIdentifier",
    "DatabaseUserName",
    "DatabaseName",
    "RedshiftIAMRoleARN",
}


def _states(states: dict[str, Any]) -> dict[str, Any]:
    """Every state by name, Parallel branches flattened."""
    out: dict[str, Any] = {}
    for name, state in states.items():
        out[name] = state
        for branch in state.get("Branches", []):
            out.update(_states(branch["States"]))
    return out


def test_the_template_is_the_reference_pipeline_and_lint_clean() -> None:
    from cfnlint.api import lint

    path = stack.template_path()
    assert [str(m) for m in lint(path.read_text(encoding="utf-8"))] == []
    template: Any = read_template(path).data
    assert set(template["Parameters"]) >= SEED_PARAMETERS
    machine = template["Resources"]["StateMachine"]["Properties"]
    ours = _states(machine["Definition"]["States"])
    text = (
        resources.files("eltflow.pipelines.reference")
        .joinpath("definitions", "elt_lambda.asl.json")
        .read_text(encoding="utf-8")
    )
    reference = _states(json.loads(text)["States"])
    assert set(ours) == set(reference)
    for name, state in reference.items():
        mine = dict(ours[name])
        if state.get("Resource") == "arn:aws:states:::lambda:invoke":
            payload = mine["Parameters"]["Payload"]
            assert payload["SqlFile"] == "sql/" + state["Parameters"]["Payload"]["sql_file"]
            assert payload["ClusterIdentifier"] == "${ClusterId}"
            assert mine["ResultSelector"] == {
                "table": state["Parameters"]["Payload"]["table"],
                "rows.$": "$.Payload.RowsAffected",
            }
            for key in ("Parameters", "ResultSelector"):
                mine.pop(key)
                state = {k: v for k, v in state.items() if k != key}
        if "DbUser" in mine.get("Arguments", {}):
            mine["Arguments"] = {k: v for k, v in mine["Arguments"].items() if k != "DbUser"}
        if "Branches" in state:  # compared state by state above
            mine.pop("Branches")
            state = {k: v for k, v in state.items() if k != "Branches"}
        assert mine == state, name


def test_demo_from_the_template_deploys_into_a_fresh_project_and_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("ELTFLOW_HOME", "ELTFLOW_STATE", "ELTFLOW_WAREHOUSE"):
        monkeypatch.delenv(var, raising=False)
    project = tmp_path / "demo-stack"
    argv = ["--project-dir", str(project), "demo", "--from-template", "--scale-factor", "0.01"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "stack reference: CREATE_COMPLETE, Add AuditTable" in out
    assert "= ExecutionSucceeded" in out and "validation counts (SUCCEEDED)" in out
    fact = next(line for line in out.splitlines() if "public.fact_yearly_sale" in line)
    assert int(fact.split()[-1].replace(",", "")) > 0

    assert main(["--project-dir", str(project), "stack", "describe", "reference", "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"] for r in described["StackResources"]
    }
    assert physical["LoadFunction"] == "eltflow-reference-load"
    assert physical["StateMachine"].endswith(":stateMachine:reference-elt")
    assert {p["ParameterKey"] for p in described["Stacks"][0]["Parameters"]} >= SEED_PARAMETERS

    # Deploying the same template again is an update with nothing to do.
    parameters = [f"{k}={v}" for k, v in stack.parameters(ReferenceConfig()).items()]
    deploy = ["stack", "deploy", str(stack.template_path()), "--stack-name", "reference"]
    assert main(["--project-dir", str(project), *deploy, "--parameters", *parameters]) == 0
    assert "No changes to deploy. Stack reference is up to date" in capsys.readouterr().out


def test_the_template_creates_in_motos_cloudformation() -> None:
    import boto3
    from moto import mock_aws

    values = {
        **stack.parameters(ReferenceConfig()),
        "ArtifactBucket": "artifacts",
    }
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="artifacts")
        s3.put_object(Bucket="artifacts", Key=stack.ARTIFACT_KEY, Body=stack.function_zip())
        cfn = boto3.client("cloudformation", region_name="us-east-1")
        cfn.create_stack(
            StackName="reference",
            TemplateBody=stack.template_path().read_text(encoding="utf-8"),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
            Capabilities=["CAPABILITY_IAM"],
        )
        created = cfn.describe_stacks(StackName="reference")["Stacks"][0]
        assert created["StackStatus"] == "CREATE_COMPLETE", created.get("StackStatusReason")
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        assert [m["name"] for m in sfn.list_state_machines()["stateMachines"]] == ["reference-elt"]
