"""Custom resources backed by a stack's inline Lambda that answers with ``cfnresponse``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.stacks.errors import DeployFailed
from eltflow.stacks.template import load_template
from eltflow.stacks.wiring import stacks_for

TEMPLATE = """
Parameters:
  Who: {Type: String, Default: world}
  Log: {Type: String}
Resources:
  Provider:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Code:
        ZipFile: |
          import cfnresponse

          def handler(event, context):
              props = event["ResourceProperties"]
              with open(props["Log"], "a") as log:
                  physical = event.get("PhysicalResourceId", "-")
                  log.write(event["RequestType"] + " " + physical + "\\n")
              if props["Who"] == "nobody":
                  cfnresponse.send(event, context, cfnresponse.FAILED, {}, reason="nobody to greet")
                  return
              cfnresponse.send(
                  event, context, cfnresponse.SUCCESS,
                  {"Greeting": "hello " + props["Who"]}, "greeter-" + props["Who"],
              )
  Greeting:
    Type: Custom::Greeting
    Properties:
      ServiceToken: !GetAtt Provider.Arn
      Who: !Ref Who
      Log: !Ref Log
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Join ["-", !Split [" ", !GetAtt Greeting.Greeting]]
Outputs:
  Greeting: {Value: !GetAtt Greeting.Greeting}
  Physical: {Value: !Ref Greeting}
"""


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    app = build_app(load_settings(tmp_path, environ={}))
    try:
        yield app
    finally:
        app.close()


def test_custom_resource_lifecycle(app: App, tmp_path: Path) -> None:
    log = tmp_path / "requests.log"
    stacks = stacks_for(app)
    stack = stacks.deploy("custom", load_template(TEMPLATE), {"Log": str(log)}).stack
    assert {o.key: o.value for o in stack.outputs} == {
        "Greeting": "hello world",
        "Physical": "greeter-world",
    }
    assert app.topics is not None
    assert app.topics.call("ListTopics", {})["Topics"][0]["TopicArn"].endswith(":hello-world")
    # An update that returns a new physical id: the old one gets a Delete.
    stacks.deploy("custom", load_template(TEMPLATE), {"Who": "you"})
    stacks.delete("custom")
    assert log.read_text().splitlines() == [
        "Create -",
        "Update greeter-world",
        "Delete greeter-world",
        "Delete greeter-you",
    ]


def test_failed_custom_resource_rolls_the_stack_back(app: App, tmp_path: Path) -> None:
    log = tmp_path / "requests.log"
    with pytest.raises(DeployFailed) as e:
        stacks_for(app).deploy(
            "custom", load_template(TEMPLATE), {"Log": str(log), "Who": "nobody"}
        )
    assert e.value.status == "ROLLBACK_COMPLETE"
    assert (
        "Received response status [FAILED] from custom resource. Message returned: nobody to greet"
        in e.value.reason
    )
    # The resource that failed to create gets a Delete with the physical id its answer named
    # (cfnresponse's default: the log stream), as CloudFormation's rollback sends.
    requests = log.read_text().splitlines()
    assert requests[0] == "Create -" and requests[1].startswith("Delete local/")
    assert len(requests) == 2
    assert app.lambdas is not None and app.lambdas.functions is not None
    assert app.lambdas.functions.all() == []  # the function was rolled back too
