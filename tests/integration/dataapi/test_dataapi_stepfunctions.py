"""The Data API as Step Functions tasks: the submit → Wait → DescribeStatement → Choice loop,
run by ``eltflow.execute`` with the ``aws-sdk:redshiftdata`` integration registered."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.dataapi.dataapi_harness import Harness

from eltflow.errors import StatesError
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.integrations.redshift_data import PREFIX, RedshiftDataIntegration, register
from eltflow.runtime.local import execute
from eltflow.types import JSONObject

ARN = "arn:aws:states:::aws-sdk:redshiftdata:"

POLL_LOOP: dict[str, Any] = {
    "StartAt": "Submit",
    "States": {
        "Submit": {
            "Type": "Task",
            "Resource": ARN + "executeStatement",
            "Parameters": {"ClusterIdentifier": "dw", "Database": "dev", "Sql.$": "$.sql"},
            "ResultPath": "$.submitted",
            "Next": "Wait",
        },
        "Wait": {"Type": "Wait", "Seconds": 2, "Next": "Describe"},
        "Describe": {
            "Type": "Task",
            "Resource": ARN + "describeStatement",
            "Parameters": {"Id.$": "$.submitted.Id"},
            "ResultPath": "$.statement",
            "Next": "Done?",
        },
        "Done?": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.statement.Status", "StringEquals": "FINISHED", "Next": "Fetch"},
                {"Variable": "$.statement.Status", "StringEquals": "FAILED", "Next": "Failed"},
                {"Variable": "$.statement.Status", "StringEquals": "ABORTED", "Next": "Failed"},
            ],
            "Default": "Wait",
        },
        "Fetch": {
            "Type": "Task",
            "Resource": ARN + "getStatementResult",
            "Parameters": {"Id.$": "$.submitted.Id"},
            "ResultSelector": {"rows.$": "$.Records", "total.$": "$.TotalNumRows"},
            "ResultPath": "$.result",
            "End": True,
        },
        "Failed": {"Type": "Fail", "Error": "StatementFailed", "CausePath": "$.statement.Error"},
    },
}


def _registry(dataapi: Harness) -> Registry:
    registry = Registry()
    register(registry, dataapi.service)
    return registry


def test_poll_loop_runs_to_finished(dataapi: Harness) -> None:
    result = execute(
        POLL_LOOP,
        {"sql": "select 6 * 7 as answer"},
        registry=_registry(dataapi),
        virtual_time=True,
    )
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert isinstance(result.output, dict)
    assert result.output["result"] == {"rows": [[{"longValue": 42}]], "total": 1}
    statement = result.output["statement"]
    assert isinstance(statement, dict)
    assert statement["Status"] == "FINISHED"
    assert isinstance(statement["CreatedAt"], str) and statement["CreatedAt"].endswith("Z")


def test_poll_loop_runs_to_failed_with_the_sql_error(dataapi: Harness) -> None:
    result = execute(
        POLL_LOOP,
        {"sql": "select * from table_that_is_not_there"},
        registry=_registry(dataapi),
        virtual_time=True,
    )
    assert result.status == "FAILED"
    assert result.error == "StatementFailed"
    assert result.cause is not None and "table_that_is_not_there" in result.cause


def test_api_errors_are_catchable_as_redshiftdata_names(dataapi: Harness) -> None:
    definition = {
        "StartAt": "Submit",
        "States": {
            "Submit": {
                "Type": "Task",
                "Resource": ARN + "executeStatement",
                "Parameters": {"Sql": "select 1"},
                "Catch": [
                    {
                        "ErrorEquals": ["RedshiftData.ValidationException"],
                        "ResultPath": "$.error",
                        "Next": "Caught",
                    }
                ],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    result = execute(definition, {}, registry=_registry(dataapi))
    assert result.status == "SUCCEEDED"
    assert isinstance(result.output, dict)
    assert result.output["error"] == {
        "Error": "RedshiftData.ValidationException",
        "Cause": "Either ClusterIdentifier or WorkgroupName needs to be specified.",
    }


def test_batch_task_and_describe_sub_statements(dataapi: Harness) -> None:
    integration = RedshiftDataIntegration(dataapi.service)
    out = integration(
        TaskRequest(
            resource=PREFIX + "batchExecuteStatement",
            parameters={
                "ClusterIdentifier": "dw",
                "Sqls": ["create table x (a int)", "insert into x values (1)"],
            },
        )
    )
    assert isinstance(out, dict) and isinstance(out["Id"], str)
    dataapi.wait(out["Id"])
    desc = integration(
        TaskRequest(resource=PREFIX + "describeStatement", parameters={"Id": out["Id"]})
    )
    assert isinstance(desc, dict) and desc["Status"] == "FINISHED"
    subs = desc["SubStatements"]
    assert isinstance(subs, list) and [s["Id"] for s in subs if isinstance(s, dict)] == [
        f"{out['Id']}:1",
        f"{out['Id']}:2",
    ]


def test_resumed_submit_reattaches_instead_of_resubmitting(dataapi: Harness) -> None:
    integration = RedshiftDataIntegration(dataapi.service)
    dataapi.run("create table once (a int)")
    recorded: list[Any] = []
    params: JSONObject = {"ClusterIdentifier": "dw", "Sql": "insert into once values (1)"}
    first = integration(
        TaskRequest(
            resource=PREFIX + "executeStatement", parameters=params, checkpoint=recorded.append
        )
    )
    assert recorded == [first]
    again = integration(
        TaskRequest(resource=PREFIX + "executeStatement", parameters=params, recorded=recorded[0])
    )
    assert again == first
    assert isinstance(first, dict) and isinstance(first["Id"], str)
    dataapi.wait(first["Id"])
    assert dataapi.rows("select count(*) from once") == [[{"longValue": 1}]]


def test_unsupported_action_is_a_runtime_error(dataapi: Harness) -> None:
    integration = RedshiftDataIntegration(dataapi.service)
    with pytest.raises(StatesError) as e:
        integration(TaskRequest(resource=PREFIX + "noSuchAction", parameters={}))
    assert e.value.error == "States.Runtime"
    assert "noSuchAction" in e.value.cause


SESSION_CSV: dict[str, Any] = {
    "StartAt": "Stage",
    "States": {
        "Stage": {
            "Type": "Task",
            "Resource": ARN + "executeStatement",
            "Parameters": {
                "ClusterIdentifier": "dw",
                "Database": "dev",
                "Sql": "create temp table staged as select 'a,b' as s, 7 as n",
                "SessionKeepAliveSeconds": 60,
                "WaitTimeSeconds": 30,
            },
            "ResultPath": "$.staged",
            "Next": "Read",
        },
        "Read": {
            "Type": "Task",
            "Resource": ARN + "executeStatement",
            "Parameters": {
                "SessionId.$": "$.staged.SessionId",
                "Sql": "select s, n from staged",
                "ResultFormat": "CSV",
                "WaitTimeSeconds": 30,
            },
            "ResultPath": "$.read",
            "Next": "Fetch",
        },
        "Fetch": {
            "Type": "Task",
            "Resource": ARN + "getStatementResultV2",
            "Parameters": {"Id.$": "$.read.Id"},
            "ResultSelector": {"csv.$": "$.Records[0].CSVRecords", "format.$": "$.ResultFormat"},
            "End": True,
        },
    },
}


def test_a_session_and_a_csv_result_between_task_states(dataapi: Harness) -> None:
    """The session pattern as a state machine writes it: the first task opens a session, the
    next runs in it by its SessionId alone (the temporary table is there) and asks for CSV."""
    result = execute(SESSION_CSV, {}, registry=_registry(dataapi), virtual_time=True)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {"csv": 's,n\n"a,b",7\n', "format": "CSV"}
