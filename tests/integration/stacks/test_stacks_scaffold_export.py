"""The ``eltflow init`` project both ways: its SQL loads call the bundled handler, which the
export packages alone (``redshift_sql.py`` and the project's ``sql/`` files, not the eltflow
package) with a role allowed the Data API on the cluster parameter; its own ``check-counts``
handler is packaged as a function of its own (its ``handlers/`` folder) with a role allowed the
Data API on that cluster and nothing else; the template is cfn-lint clean, moto creates it, and
``stack deploy`` of it into a fresh project runs the pipeline, the user's handler included."""

from __future__ import annotations

import ast
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from eltflow.cli import main


def _main(project: Path, *argv: str) -> int:
    return main(["--project-dir", str(project), *argv])


@pytest.fixture
def exported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["init", str(tmp_path / "p")]) == 0
    out = tmp_path / "p" / "template.json"
    assert _main(tmp_path / "p", "export", "cloudformation", "--out", str(out)) == 0
    capsys.readouterr()
    return out


def test_the_scaffold_exports_each_function_alone_with_a_role_of_its_own(exported: Path) -> None:
    from cfnlint.api import lint

    text = exported.read_text(encoding="utf-8")
    assert [str(m) for m in lint(text)] == []
    template = json.loads(text)
    function = template["Resources"]["FunctionRunSql"]["Properties"]
    assert function["Handler"] == "redshift_sql.handler"
    with zipfile.ZipFile(exported.parent / "run-sql.zip") as archive:
        assert sorted(archive.namelist()) == ["redshift_sql.py", "sql/load_orders.sql"]
        assert b"import eltflow" not in archive.read("redshift_sql.py")
    # The payload's Data API names are template parameters, and the role is scoped to them.
    assert set(template["Parameters"]) == {
        "ArtifactBucket",
        "RedshiftClusterIdentifier",
        "DatabaseName",
    }
    definition = template["Resources"]["StateMachinePipeline"]["Properties"]["DefinitionString"]
    payload = json.loads(definition)["States"]["LoadOrders"]["Parameters"]["Payload"]
    assert payload["ClusterIdentifier"] == "${RedshiftClusterIdentifier}"
    role = template["Resources"][function["Role"]["Fn::GetAtt"][0]]["Properties"]
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    execute = next(s for s in statements if "redshift-data:ExecuteStatement" in s["Action"])
    assert execute["Resource"]["Fn::Sub"].endswith(":cluster:${RedshiftClusterIdentifier}")

    # The user's handler: its folder zipped as is, AWS's handler name, a role of its own that
    # may run statements on the cluster its Task names (a parameter too) and read their results,
    # but neither read S3 (only the bundled handler's SqlFile needs that) nor anything else.
    check = template["Resources"]["FunctionCheckCounts"]["Properties"]
    assert check["Handler"] == "check_counts.handler"
    assert check["Code"]["S3Key"] == "check-counts.zip"
    with zipfile.ZipFile(exported.parent / "check-counts.zip") as archive:
        assert archive.namelist() == ["check_counts.py"]
        tree = ast.parse(archive.read("check_counts.py"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"__future__", "boto3", "re", "time", "typing"}  # runs on AWS as is
    payload = json.loads(definition)["States"]["CheckCounts"]["Parameters"]["Payload"]
    assert payload["ClusterIdentifier"] == "${RedshiftClusterIdentifier}"
    assert check["Role"] != function["Role"]
    check_role = template["Resources"][check["Role"]["Fn::GetAtt"][0]]["Properties"]
    granted = {
        action: statement["Resource"]
        for statement in check_role["Policies"][0]["PolicyDocument"]["Statement"]
        for action in statement["Action"]
    }
    assert not any(a.startswith("s3:") for a in granted), granted
    assert {a.split(":")[0] for a in granted} == {"redshift-data", "redshift"}
    assert granted["redshift-data:ExecuteStatement"] == execute["Resource"]
    assert granted["redshift-data:GetStatementResult"] == "*"  # statement ids have no ARN
    assert "FunctionRole" not in template["Resources"]  # no shared role left unused

    import boto3
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="artifacts")
        for name in ("run-sql.zip", "check-counts.zip"):
            s3.upload_file(str(exported.parent / name), "artifacts", name)
        cfn = boto3.client("cloudformation", region_name="us-east-1")
        cfn.create_stack(
            StackName="scaffold",
            TemplateBody=text,
            Parameters=[{"ParameterKey": "ArtifactBucket", "ParameterValue": "artifacts"}],
            Capabilities=["CAPABILITY_IAM"],
        )
        stack = cfn.describe_stacks(StackName="scaffold")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")


def test_the_exported_scaffold_deploys_into_a_fresh_project_and_runs(
    exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = tmp_path / "fresh"
    bucket = fresh / ".eltflow" / "s3" / "artifacts"
    bucket.mkdir(parents=True)
    for name in ("run-sql.zip", "check-counts.zip"):
        shutil.copy(exported.parent / name, bucket / name)
    # Plain boto3 in the handler reaches the project through AWS_ENDPOINT_URL, which eltflow
    # gives process-isolated handlers (as the scaffold's own eltflow.toml says).
    (fresh / "eltflow.toml").write_text('[lambda]\nisolation = "process"\nworkers = 1\n', "utf-8")
    deploy = ["stack", "deploy", str(exported), "--stack-name", "scaffold"]
    assert _main(fresh, *deploy, "--parameters", "ArtifactBucket=artifacts") == 0
    capsys.readouterr()
    assert _main(fresh, "start", "pipeline", "--input", '{"JobID": "9"}', "--wait") == 0
    output = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert output["orders"]["rows"] == 3 and output["summary"] == {"rows": 1}
    assert output["checked"] == {"rows": 3}  # the deployed copy of the user's handler ran
    assert _main(fresh, "sql", "SELECT job_id, orders FROM public.load_log", "--json") == 0
    records = json.loads(capsys.readouterr().out)["Result"]["Records"]
    assert records == [[{"stringValue": "9"}, {"longValue": 3}]]
