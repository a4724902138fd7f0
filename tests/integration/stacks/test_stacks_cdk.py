"""A template in the shape ``cdk synth`` writes (hashed logical ids, Fn::Join definitions,
DependsOn on policies, the CDKMetadata condition, the BootstrapVersion SSM parameter and its
Rules, a Lambda whose code is an asset folder in cdk.out) deploys and its machine runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from eltflow.app import build_app
from eltflow.config import load_settings
from eltflow.stacks.template import read_template
from eltflow.stacks.wiring import stacks_for

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "stacks" / "cdk-synth.template.json"
ASSET = """
import os


def handler(event, context):
    return {"job": event["JobID"], "table": os.environ["TABLE"]}
"""


def test_cdk_synth_output_deploys_and_runs(tmp_path: Path) -> None:
    out = tmp_path / "cdk.out"
    (out / "asset.0a1b2c3d").mkdir(parents=True)
    (out / "asset.0a1b2c3d" / "app.py").write_text(ASSET, encoding="utf-8")
    shutil.copy(FIXTURE, out / "EltStack.template.json")
    project = tmp_path / "project"
    project.mkdir()
    app = build_app(load_settings(project, environ={}))
    try:
        result = stacks_for(app).deploy("EltStack", read_template(out / "EltStack.template.json"))
        assert result.stack.status == "CREATE_COMPLETE"
        # Only types that do something get a warning (not CDKMetadata, not IAM).
        assert result.warnings == ()
        machine = result.stack.outputs[0].value
        table = result.stack.resource("AuditTable5E1E6C8F")
        assert table is not None
        # The asset was copied: a later `cdk synth` does not change the deployed function.
        shutil.rmtree(out / "asset.0a1b2c3d")
        started = app.service.start_execution(
            state_machine_arn=machine, input=json.dumps({"JobID": "7"})
        )
        app.worker().run(until_idle=True)
        described = app.service.describe_execution(execution_arn=str(started["executionArn"]))
        assert described["status"] == "SUCCEEDED", described
        assert json.loads(str(described["output"])) == {"job": "7", "table": table.physical_id}
        assert app.items is not None
        item = app.items.call(
            "GetItem", {"TableName": table.physical_id, "Key": {"JobID": {"S": "7"}}}
        )
        assert item["Item"] == {"JobID": {"S": "7"}}
    finally:
        app.close()
