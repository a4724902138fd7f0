"""WithEvent: a statement's "Redshift Data Statement Status Change" event, delivered to the
EventBridge rules whose pattern matches it (a rule from a stack starts its state machine with
the event), with a SQLite and a PostgreSQL state store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.wait import wait_until

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.stacks.template import load_template
from eltflow.stacks.wiring import stacks_for

TEMPLATE = """
Resources:
  OnSql:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: on-sql
      Definition: {StartAt: Done, States: {Done: {Type: Succeed}}}
  WhenLoaded:
    Type: AWS::Events::Rule
    Properties:
      EventPattern:
        source: [aws.redshift-data]
        detail-type: [Redshift Data Statement Status Change]
        detail: {state: [FINISHED, FAILED], statementName: [{prefix: load-}]}
      Targets:
        - {Id: machine, Arn: !Ref OnSql, InputPath: $.detail}
"""
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:on-sql"


@pytest.fixture
def app(tmp_path: Path, store_url: str) -> Iterator[App]:
    app = build_app(load_settings(tmp_path, environ={"ELTFLOW_STATE": store_url}))
    try:
        yield app
    finally:
        app.close()


def _inputs(app: App) -> list[dict[str, Any]]:
    listed = app.service.list_executions(state_machine_arn=MACHINE)["executions"]
    assert isinstance(listed, list)
    out = []
    for item in listed:
        assert isinstance(item, dict)
        described = app.service.describe_execution(execution_arn=str(item["executionArn"]))
        out.append(json.loads(str(described["input"])))
    return out


def test_with_event_statements_reach_matching_rules(app: App) -> None:
    stacks_for(app).deploy("sql-events", load_template(TEMPLATE))
    dataapi = app.dataapi
    assert dataapi is not None
    where = {"ClusterIdentifier": "dw", "Database": "dev"}

    def submit(sql: str, name: str, with_event: bool) -> str:
        request = {"Sql": sql, "StatementName": name, "WithEvent": with_event, **where}
        return str(dataapi.execute_statement(request)["Id"])

    loaded = submit("select 1 union all select 2", "load-orders", True)
    failed = submit("select * from no_such_table", "load-broken", True)
    submit("select 3", "load-quiet", False)  # no event
    submit("select 4", "report", True)  # an event no rule matches

    def three_sent() -> list[dict[str, Any]] | None:
        return list(dataapi.sent_events) if len(dataapi.sent_events) == 3 else None

    sent = wait_until(three_sent, 10, what="the three events sent")
    by_id = {e["detail"]["statementId"]: e for e in sent}
    event = by_id[loaded]
    assert event["source"] == "aws.redshift-data"
    assert event["detail-type"] == "Redshift Data Statement Status Change"
    assert event["resources"] == ["arn:aws:redshift:us-east-1:123456789012:cluster:dw"]
    assert event["detail"]["state"] == "FINISHED" and event["detail"]["rows"] == 2
    assert event["detail"]["statementName"] == "load-orders"
    assert by_id[failed]["detail"]["state"] == "FAILED"

    def two_started() -> list[dict[str, Any]] | None:
        found = _inputs(app)
        return found if len(found) == 2 else None

    inputs = wait_until(two_started, 10, what="the rule's state machine started twice")
    assert {i["statementId"]: i["state"] for i in inputs} == {
        loaded: "FINISHED",
        failed: "FAILED",
    }
