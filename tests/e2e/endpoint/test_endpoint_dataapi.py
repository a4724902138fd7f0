"""The Redshift Data API through the AWS endpoint: boto3's ``redshift-data`` client and the
AWS CLI against a real server, the local warehouse (DuckDB) answering."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from tests.support.wait import wait_until

from eltflow.serve import Server
from eltflow.warehouse.base import RunControl, SqlError
from eltflow.warehouse.redshift_engine import RedshiftWarehouse

ClientFactory = Callable[[str], Any]
WHERE = {"ClusterIdentifier": "dw", "Database": "dev", "DbUser": "awsuser"}


@pytest.fixture(scope="module")
def rd(client: ClientFactory) -> Any:
    return client("redshift-data")


def _finished(rd: Any, sid: str, timeout: float = 30.0) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        described: dict[str, Any] = rd.describe_statement(Id=sid)
        return described if described["Status"] in ("FINISHED", "FAILED", "ABORTED") else None

    return wait_until(final, timeout, what=f"statement {sid} to finish")


def test_the_redshift_engine_over_a_real_boto3_client(rd: Any) -> None:
    """The Redshift warehouse engine (what a ``redshift://`` warehouse runs on) driven by a
    real boto3 client over HTTP, so botocore's serialisation and parsing are in the path, not
    only eltflow's boto3-shaped local client (tests/unit/warehouse/test_wh_redshift.py)."""
    engine = RedshiftWarehouse(
        "prod", {"cluster_identifier": "dw", "database": "dev"}, client=rd, poll_seconds=0.01
    )
    pids: list[int | None] = []
    results = engine.run(
        ["create table eng (a int)", "insert into eng values (1), (2)", "select sum(a) from eng"],
        None,
        database=None,
        transaction=True,
        control=RunControl(),
        on_started=lambda pid, _xact: pids.append(pid),
    )
    assert [r.has_result_set for r in results] == [False, False, True]
    assert results[2].rows == [(3,)]
    assert len(pids) == 1
    with pytest.raises(SqlError) as e:
        engine.run(
            ["select * from no_such_table"],
            None,
            database=None,
            transaction=False,
            control=RunControl(),
        )
    assert "no_such_table" in e.value.message


def test_execute_describe_and_page_results(rd: Any) -> None:
    sid = rd.execute_statement(Sql="select n, 'row' || n as label from range(7) t(n)", **WHERE)[
        "Id"
    ]
    described = _finished(rd, sid)
    assert described["Status"] == "FINISHED", described
    assert described["HasResultSet"] is True and described["ResultRows"] == 7
    assert described["CreatedAt"].tzinfo is not None  # epoch seconds parsed by botocore
    result = rd.get_statement_result(Id=sid)
    assert [c["name"] for c in result["ColumnMetadata"]] == ["n", "label"]
    assert [r[0]["longValue"] for r in result["Records"]] == list(range(7))
    assert result["Records"][2][1] == {"stringValue": "row2"}
    pages = list(rd.get_paginator("get_statement_result").paginate(Id=sid))
    assert sum(len(p["Records"]) for p in pages) == 7


def test_parameters_batch_and_list(rd: Any) -> None:
    sid = rd.execute_statement(
        Sql="select :a::int + 1 as b",
        Parameters=[{"name": "a", "value": "41"}],
        StatementName="answer",
        **WHERE,
    )["Id"]
    _finished(rd, sid)
    assert rd.get_statement_result(Id=sid)["Records"] == [[{"longValue": 42}]]

    batch = rd.batch_execute_statement(
        Sqls=[
            "create table if not exists ep_batch (x int)",
            "insert into ep_batch values (1), (2)",
            "select count(*) from ep_batch",
        ],
        **WHERE,
    )["Id"]
    done = _finished(rd, batch)
    assert done["Status"] == "FINISHED"
    subs = done["SubStatements"]
    assert [s["Id"] for s in subs] == [f"{batch}:{i}" for i in (1, 2, 3)]
    assert rd.get_statement_result(Id=subs[2]["Id"])["Records"] == [[{"longValue": 2}]]

    listed = rd.list_statements(StatementName="answer")["Statements"]
    assert sid in [s["Id"] for s in listed]


def test_errors_are_the_data_apis(rd: Any) -> None:
    failed = rd.execute_statement(Sql="select * from no_such_table", **WHERE)["Id"]
    described = _finished(rd, failed)
    assert described["Status"] == "FAILED" and "no_such_table" in described["Error"]
    with pytest.raises(rd.exceptions.ResourceNotFoundException):
        rd.describe_statement(Id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(rd.exceptions.ValidationException):
        rd.execute_statement(Sql="select 1")  # no cluster or workgroup
    with pytest.raises(ClientError) as e:
        rd.get_statement_result(Id=failed)
    assert e.value.response["Error"]["Code"] in ("ValidationException", "ResourceNotFoundException")


def test_a_csv_result_through_boto3(rd: Any) -> None:
    """ResultFormat CSV and GetStatementResultV2 (and its paginator) parsed by botocore."""
    out = rd.execute_statement(Sql="select 'a,b' as s, 7 as n", ResultFormat="CSV", **WHERE)
    assert _finished(rd, out["Id"])["ResultFormat"] == "CSV"
    pages = list(rd.get_paginator("get_statement_result_v2").paginate(Id=out["Id"]))
    assert [p["Records"] for p in pages] == [[{"CSVRecords": 's,n\n"a,b",7\n'}]]
    assert pages[0]["ResultFormat"] == "CSV" and pages[0]["TotalNumRows"] == 1
    with pytest.raises(rd.exceptions.ValidationException):
        rd.get_statement_result(Id=out["Id"])


def test_a_session_through_boto3(rd: Any) -> None:
    """SessionKeepAliveSeconds opens a session whose SessionId alone runs the next statement
    on the same connection (a temporary table), as botocore serialises and parses it."""
    first = rd.execute_statement(
        Sql="create temp table boto_tmp as select 5 as n", SessionKeepAliveSeconds=60, **WHERE
    )
    session = first["SessionId"]
    assert _finished(rd, first["Id"])["SessionId"] == session
    second = rd.execute_statement(Sql="select n from boto_tmp", SessionId=session)
    assert second["SessionId"] == session
    assert _finished(rd, second["Id"])["Status"] == "FINISHED"
    assert rd.get_statement_result(Id=second["Id"])["Records"] == [[{"longValue": 5}]]
    listed = rd.list_sessions(SessionId=session)["Sessions"]
    assert [(x["SessionId"], x["Status"]) for x in listed] == [(session, "AVAILABLE")]
    with pytest.raises(rd.exceptions.ResourceNotFoundException):
        rd.execute_statement(Sql="select 1", SessionId="00000000-0000-0000-0000-000000000000")


def test_wrong_target_version_and_unknown_operations(server: Server) -> None:
    r = httpx.post(
        server.url + "/",
        content=b"{}",
        headers={
            "X-Amz-Target": "RedshiftData.NoSuchOperation",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    assert r.status_code == 400
    assert r.json()["__type"] == "UnknownOperationException"
    assert r.headers["content-type"].startswith("application/x-amz-json-1.1")


def test_the_aws_cli_runs_sql(rd: Any, aws_cli: Callable[..., Any]) -> None:
    sid = aws_cli(
        "redshift-data",
        "execute-statement",
        "--cluster-identifier",
        "dw",
        "--database",
        "dev",
        "--sql",
        "select 6 * 7 as answer",
    )["Id"]
    _finished(rd, sid)  # polled with boto3: each CLI call is a new Python process
    described = aws_cli("redshift-data", "describe-statement", "--id", sid)
    assert described["Status"] == "FINISHED"
    result = aws_cli("redshift-data", "get-statement-result", "--id", sid)
    assert result["Records"] == [[{"longValue": 42}]]
