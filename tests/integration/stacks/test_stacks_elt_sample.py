"""A template in the shape of AWS's published ELT samples: the cluster given as an endpoint
parameter and taken apart with !Select/!Split in the !Sub list form, a !FindInMap, a Redshift
cluster resource that maps to the project's warehouse, and a machine that runs SQL through the
Data API against it."""

from __future__ import annotations

import json
from pathlib import Path

from eltflow.app import build_app
from eltflow.config import load_settings
from eltflow.stacks.template import load_template
from eltflow.stacks.wiring import stacks_for

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  RedshiftClusterEndpoint:
    Type: String
    Default: sample-cluster.abc123xyz.us-east-1.redshift.amazonaws.com:5439/dev
    AllowedPattern: "[a-z0-9.-]+:[0-9]+/[a-z0-9_]+"
  DatabaseUserName: {Type: String, Default: awsuser}
Mappings:
  Settings:
    us-east-1: {Schema: public}
Resources:
  Cluster:
    Type: AWS::Redshift::Cluster
    DeletionPolicy: Retain
    Properties:
      ClusterIdentifier: !Select [0, !Split [".", !Ref RedshiftClusterEndpoint]]
      NodeType: ra3.xlplus
      MasterUsername: !Ref DatabaseUserName
      MasterUserPassword: not-used-locally
      DBName: !Select [1, !Split ["/", !Ref RedshiftClusterEndpoint]]
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      DefinitionSubstitutions:
        ClusterId: !Ref Cluster
        Database: !Select [1, !Split ["/", !Ref RedshiftClusterEndpoint]]
        Sql: !Sub
          - "CREATE TABLE IF NOT EXISTS ${Schema}.sample_${Port} AS SELECT 42 AS answer"
          - Schema: !FindInMap [Settings, !Ref "AWS::Region", Schema]
            Port: !Select [0, !Split ["/", !Select [1, !Split [":", !Ref RedshiftClusterEndpoint]]]]
      Definition:
        StartAt: Run
        States:
          Run:
            Type: Task
            Resource: arn:aws:states:::aws-sdk:redshiftdata:executeStatement
            Parameters: {ClusterIdentifier: "${ClusterId}", Database: "${Database}", Sql: "${Sql}"}
            ResultSelector: {Id.$: $.Id}
            Next: Wait
          Wait: {Type: Wait, Seconds: 1, Next: Check}
          Check:
            Type: Task
            Resource: arn:aws:states:::aws-sdk:redshiftdata:describeStatement
            Parameters: {Id.$: $.Id}
            ResultSelector: {Id.$: $.Id, Status.$: $.Status}
            Next: Done?
          Done?:
            Type: Choice
            Choices:
              - {Variable: $.Status, StringEquals: FINISHED, Next: Finished}
              - {Variable: $.Status, StringEquals: FAILED, Next: Failed}
            Default: Wait
          Finished: {Type: Succeed}
          Failed: {Type: Fail, Error: SqlFailed}
Outputs:
  Address: {Value: !GetAtt Cluster.Endpoint.Address}
  Port: {Value: !GetAtt Cluster.Endpoint.Port}
"""


def test_elt_sample_shaped_template_runs_sql_on_the_local_warehouse(tmp_path: Path) -> None:
    app = build_app(load_settings(tmp_path, environ={}))
    try:
        result = stacks_for(app).deploy("elt", load_template(TEMPLATE))
        assert result.warnings == ()
        outputs = {o.key: o.value for o in result.stack.outputs}
        assert outputs["Address"].startswith("sample-cluster.") and outputs["Port"] == "5439"
        machine = result.stack.resource("Machine")
        assert machine is not None
        started = app.service.start_execution(state_machine_arn=machine.physical_id, input="{}")
        app.worker().run(until_idle=True)
        described = app.service.describe_execution(execution_arn=str(started["executionArn"]))
        assert described["status"] == "SUCCEEDED", described
        definition = json.loads(
            str(
                app.service.describe_state_machine(state_machine_arn=machine.physical_id)[
                    "definition"
                ]
            )
        )
        assert definition["States"]["Run"]["Parameters"] == {
            "ClusterIdentifier": "sample-cluster",
            "Database": "dev",
            "Sql": "CREATE TABLE IF NOT EXISTS public.sample_5439 AS SELECT 42 AS answer",
        }
    finally:
        app.close()
