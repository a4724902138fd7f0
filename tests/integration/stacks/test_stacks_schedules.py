"""Schedules in a stack: AWS::Scheduler::Schedule and schedule-expression AWS::Events::Rule
become schedules of the local scheduler that start the stack's machine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.scheduler.store import ScheduleStore
from eltflow.stacks.template import load_template
from eltflow.stacks.wiring import stacks_for


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    app = build_app(load_settings(tmp_path, environ={}))
    try:
        yield app
    finally:
        app.close()


SCHEDULES = """
Resources:
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      Definition: {StartAt: Done, States: {Done: {Type: Succeed}}}
  Nightly:
    Type: AWS::Scheduler::Schedule
    Properties:
      ScheduleExpression: cron(0 2 * * ? *)
      ScheduleExpressionTimezone: Europe/Paris
      FlexibleTimeWindow: {Mode: "OFF"}
      Target:
        Arn: !Ref Machine
        RoleArn: arn:aws:iam::123456789012:role/scheduler
        Input: '{"JobID": "101"}'
  Every5:
    Type: AWS::Events::Rule
    Properties:
      Name: every5
      ScheduleExpression: rate(5 minutes)
      Targets:
        - {Id: elt, Arn: !Ref Machine, Input: '{"JobID": "102"}'}
Outputs:
  Schedule: {Value: !GetAtt Nightly.Arn}
"""


def test_schedules_and_schedule_rules_start_the_machine(app: App) -> None:
    stacks = stacks_for(app)
    stack = stacks.deploy("sched", load_template(SCHEDULES)).stack
    schedules = {s.name: s for s in ScheduleStore(app.db).list_schedules()}
    nightly = stack.resource("Nightly")
    assert nightly is not None and set(schedules) == {nightly.physical_id, "every5-elt"}
    s = schedules[nightly.physical_id]
    assert (s.expression, s.timezone, s.input) == (
        "cron(0 2 * * ? *)",
        "Europe/Paris",
        '{"JobID": "101"}',
    )
    machine = stack.resource("Machine")
    assert machine is not None and s.state_machine == machine.physical_id
    assert schedules["every5-elt"].expression == "rate(5 minutes)"
    assert stack.outputs[0].value.endswith(f":schedule/default/{nightly.physical_id}")

    changed = SCHEDULES.replace("rate(5 minutes)", "rate(10 minutes)").replace("Id: elt", "Id: etl")
    stacks.deploy("sched", load_template(changed))
    names = {s.name: s.expression for s in ScheduleStore(app.db).list_schedules()}
    assert names == {nightly.physical_id: "cron(0 2 * * ? *)", "every5-etl": "rate(10 minutes)"}
    stacks.delete("sched")
    assert ScheduleStore(app.db).list_schedules() == []
