"""``AWS::Events::Rule`` with an ``EventPattern``: Step Functions' "Execution Status Change"
events, emitted as executions start and end, start the rule's state machine targets (with
``InputTransformer`` or a constant ``Input``) and invoke its Lambda targets (``InputPath``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.wait import wait_until

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.errors import AwsApiError
from eltflow.stacks.errors import DeployFailed
from eltflow.stacks.template import load_template
from eltflow.stacks.wiring import stacks_for

TEMPLATE = """
Resources:
  Failing:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: nightly-load
      Definition:
        StartAt: Boom
        States: {Boom: {Type: Fail, Error: Load.Broken, Cause: the staging table is missing}}
  OnEvent:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: on-event
      Definition: {StartAt: Done, States: {Done: {Type: Succeed}}}
  Notify:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: notify
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/lambda
      Environment: {Variables: {OUT: "%(out)s"}}
      Code:
        ZipFile: |
          import json, os
          def handler(event, context):
              with open(os.environ["OUT"], "a") as f:
                  f.write(json.dumps(event) + "\\n")
  WhenFailed:
    Type: AWS::Events::Rule
    Properties:
      Name: when-failed
      EventPattern:
        source: [aws.states]
        detail-type: [Step Functions Execution Status Change]
        detail:
          status: [FAILED, TIMED_OUT]
          stateMachineArn: [!Ref Failing]
      Targets:
        - Id: machine
          Arn: !Ref OnEvent
          RoleArn: arn:aws:iam::123456789012:role/events
          InputTransformer:
            InputPathsMap: {arn: $.detail.executionArn, error: $.detail.error}
            InputTemplate: >-
              {"failed": "<arn>", "error": "<error>", "rule": "<aws.events.rule-name>"}
        - Id: function
          Arn: !GetAtt Notify.Arn
          InputPath: $.detail
  WhenStarted:
    Type: AWS::Events::Rule
    Properties:
      EventPattern:
        source: [aws.states]
        detail:
          status: [RUNNING]
          name: [{prefix: nightly-}]
          stateMachineArn: [{anything-but: {suffix: ":on-event"}}]
      Targets:
        - {Id: started, Arn: !Ref OnEvent, Input: '{"started": true}'}
"""


@pytest.fixture
def app(tmp_path: Path, store_url: str) -> Iterator[App]:
    """On SQLite, then PostgreSQL (its worker wakes by LISTEN/NOTIFY)."""
    app = build_app(load_settings(tmp_path, environ={"ELTFLOW_STATE": store_url}))
    try:
        yield app
    finally:
        app.close()


def _inputs(app: App, machine: str) -> list[Any]:
    arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{machine}"
    listed = app.service.list_executions(state_machine_arn=arn)["executions"]
    assert isinstance(listed, list)
    out = []
    for item in listed:
        assert isinstance(item, dict)
        described = app.service.describe_execution(execution_arn=str(item["executionArn"]))
        out.append(json.loads(str(described["input"])))
    return out


def test_status_change_events_start_the_targets_of_matching_rules(app: App, tmp_path: Path) -> None:
    out = tmp_path / "notified.jsonl"
    stacks = stacks_for(app)
    stacks.deploy("events", load_template(TEMPLATE % {"out": out}))
    started = app.service.start_execution(
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:nightly-load",
        name="nightly-1",
    )
    app.worker(poll_seconds=0.02).run(until_idle=True)

    # Delivered asynchronously (a thread of the app), best effort as on AWS: wait for both.
    def both_started() -> list[Any] | None:
        found = _inputs(app, "on-event")
        return found if len(found) == 2 else None

    inputs = wait_until(both_started, 10, what="the two rule targets started")
    assert {"started": True} in inputs
    failed = next(i for i in inputs if "failed" in i)
    assert failed == {
        "failed": started["executionArn"],
        "error": "Load.Broken",
        "rule": "when-failed",
    }

    def notified() -> str | None:
        return out.read_text().strip() if out.exists() else None

    detail = json.loads(wait_until(notified, 10, what="the Lambda target invoked").splitlines()[0])
    assert detail["status"] == "FAILED" and detail["name"] == "nightly-1"
    assert detail["cause"] == "the staging table is missing"
    assert detail["stateMachineArn"].endswith(":stateMachine:nightly-load")

    # The targets' own executions match no rule (no loop); the rules go with the stack.
    app.worker(poll_seconds=0.02).run(until_idle=True)
    assert len(_inputs(app, "on-event")) == 2
    assert stacks.delete("events")
    assert app.db.execute("SELECT name FROM sched_event_rules") == []


def test_a_bad_event_pattern_fails_the_resource_with_eventbridges_error(app: App) -> None:
    bad = """
Resources:
  Rule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [{numeric: [">", "x"]}]}
      Targets: [{Id: t, Arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m"}]
"""
    with pytest.raises(DeployFailed) as e:
        stacks_for(app).deploy("bad", load_template(bad))
    assert "Event pattern is not valid" in e.value.reason


def test_pattern_and_target_checks() -> None:
    from eltflow.scheduler.rules import checked_rule

    with pytest.raises(AwsApiError) as e:
        checked_rule("r", {"source": []}, [])
    assert e.value.code == "InvalidEventPatternException"
    with pytest.raises(AwsApiError, match="Only one of Input, InputPath, or InputTransformer"):
        checked_rule("r", {"source": ["x"]}, [{"Arn": "a", "Input": "{}", "InputPath": "$"}])
