"""A stack's inline-code Lambda function, invoked by the stack's state machine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.stacks.deploy import Stacks
from eltflow.stacks.errors import DeployFailed
from eltflow.stacks.template import load_template
from eltflow.stacks.wiring import stacks_for

TEMPLATE = """
Parameters:
  Greeting: {Type: String, Default: hello}
Resources:
  Greeter:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Timeout: 30
      Environment:
        Variables:
          STACKS_TEST_GREETING: !Ref Greeting
      Code:
        ZipFile: |
          import os

          def handler(event, context):
              return {
                  "message": os.environ["STACKS_TEST_GREETING"] + " " + event["who"],
                  "function": context.function_name,
              }
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      Definition:
        StartAt: Greet
        States:
          Greet:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters:
              FunctionName: "${GreeterArn}"
              Payload.$: $
            OutputPath: $.Payload
            End: true
      DefinitionSubstitutions:
        GreeterArn: !GetAtt Greeter.Arn
Outputs:
  Machine: {Value: !Ref Machine}
  Function: {Value: !Ref Greeter}
"""


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    app = build_app(load_settings(tmp_path, environ={}))
    try:
        yield app
    finally:
        app.close()


def _greet(app: App, machine: str, who: str) -> dict[str, Any]:
    started = app.service.start_execution(state_machine_arn=machine, input=json.dumps({"who": who}))
    app.worker().run(until_idle=True)
    return app.service.describe_execution(execution_arn=str(started["executionArn"]))


def test_inline_function_runs_from_the_deployed_machine(app: App) -> None:
    stacks: Stacks = stacks_for(app)
    stack = stacks.deploy("fn", load_template(TEMPLATE)).stack
    outputs = {o.key: o.value for o in stack.outputs}
    assert outputs["Function"].startswith("fn-Greeter-")
    described = _greet(app, outputs["Machine"], "world")
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(str(described["output"])) == {
        "message": "hello world",
        "function": outputs["Function"],
    }

    # New code and environment: the function is updated in place, the machine kept.
    changed = TEMPLATE.replace('" " + event["who"]', '", " + event["who"] + "!"')
    result = stacks.deploy("fn", load_template(changed), {"Greeting": "hi"})
    assert [(c.action, c.logical_id) for c in result.changes] == [("Modify", "Greeter")]
    again = _greet(app, outputs["Machine"], "you")
    assert json.loads(str(again["output"]))["message"] == "hi, you!"

    stacks.delete("fn")
    assert app.lambdas is not None and app.lambdas.functions is not None
    assert app.lambdas.functions.get(outputs["Function"]) is None


def test_unsupported_code_locations_fail_the_stack(app: App) -> None:
    s3 = TEMPLATE.replace("ZipFile: |", "S3Bucket: b\n        S3Key: k\n        Unused: |")
    with pytest.raises(DeployFailed, match=r"s3://b/k does not exist in the local S3"):
        stacks_for(app).deploy("fn", load_template(s3))
    node = TEMPLATE.replace("python3.12", "nodejs20.x")
    with pytest.raises(DeployFailed, match=r"Runtime nodejs20\.x is not supported locally"):
        stacks_for(app).deploy("fn2", load_template(node))


def test_names_and_handlers_stay_inside_the_code_folder(app: App) -> None:
    bad_name = TEMPLATE.replace(
        "Runtime: python3.12", "FunctionName: ../../escape\n      Runtime: python3.12"
    )
    with pytest.raises(DeployFailed, match="at 'functionName' failed to satisfy constraint"):
        stacks_for(app).deploy("fn", load_template(bad_name))
    bad_handler = TEMPLATE.replace("Handler: index.handler", "Handler: ../../x.handler")
    with pytest.raises(DeployFailed, match=r"must look like module\.function"):
        stacks_for(app).deploy("fn2", load_template(bad_handler))


def test_reserved_environment_variables_are_refused(app: App) -> None:
    reserved = TEMPLATE.replace(
        "STACKS_TEST_GREETING: !Ref Greeting", "AWS_REGION: eu-west-1\n          X: y"
    )
    with pytest.raises(DeployFailed, match="Reserved keys used in this request: AWS_REGION"):
        stacks_for(app).deploy("fn", load_template(reserved))
