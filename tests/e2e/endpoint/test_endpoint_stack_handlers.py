"""A Lambda function a stack deployed (none in eltflow.toml) that calls unmodified boto3 reaches
the local services: ``eltflow start --wait`` serves the AWS endpoint for process-isolated
handlers whether or not eltflow.toml declares functions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from eltflow.app import build_app
from eltflow.config import load_settings
from eltflow.stacks.template import load_template
from eltflow.stacks.wiring import stacks_for

TOML = """
[lambda]
isolation = "process"
workers = 1
"""
TEMPLATE = """
Resources:
  Jobs:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: stack-jobs
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
  Recorder:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Timeout: 60
      Environment:
        Variables:
          TABLE: !Ref Jobs
      Code:
        ZipFile: |
          import os
          import boto3

          def handler(event, context):
              table = os.environ["TABLE"]
              ddb = boto3.client("dynamodb")
              ddb.put_item(TableName=table, Item={"pk": {"S": event["job"]}})
              item = ddb.get_item(TableName=table, Key={"pk": {"S": event["job"]}})["Item"]
              machines = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
              return {"item": item, "machines": [m["name"] for m in machines]}
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: stack-recorder
      Definition:
        StartAt: Record
        States:
          Record:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters: {FunctionName: "${Fn}", Payload.$: $}
            OutputPath: $.Payload
            End: true
      DefinitionSubstitutions:
        Fn: !GetAtt Recorder.Arn
"""


def test_start_wait_serves_the_endpoint_for_stack_deployed_handlers(tmp_path: Path) -> None:
    (tmp_path / "eltflow.toml").write_text(TOML, "utf-8")
    app = build_app(load_settings(tmp_path, environ={}))
    try:
        assert app.lambdas is not None and not app.lambdas.settings.functions
        stacks_for(app).deploy("recorder", load_template(TEMPLATE))
    finally:
        app.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELTFLOW_", "AWS_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    eltflow = [sys.executable, "-m", "eltflow", "--project-dir", str(tmp_path)]
    done = subprocess.run(
        [*eltflow, "start", "stack-recorder", "--input", '{"job": "j1"}', "--wait", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    described = json.loads(done.stdout)
    assert described["status"] == "SUCCEEDED", described
    out = json.loads(described["output"])
    assert out == {"item": {"pk": {"S": "j1"}}, "machines": ["stack-recorder"]}
