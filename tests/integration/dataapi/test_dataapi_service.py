"""The Data API suite, run on DuckDB (+ SQLite store) and PostgreSQL (+ PostgreSQL store)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from tests.integration.dataapi.dataapi_harness import Harness
from tests.support.wait import wait_until

from eltflow.errors import AwsApiError


def _error(call: Any, *args: Any, **kwargs: Any) -> AwsApiError:
    with pytest.raises(AwsApiError) as e:
        call(*args, **kwargs)
    return e.value


# -- ExecuteStatement / DescribeStatement / GetStatementResult ----------------------------------
def test_execute_returns_an_id_at_once_and_finishes(dataapi: Harness) -> None:
    out = dataapi.service.execute_statement(
        {"Sql": "select 1 as one", "ClusterIdentifier": "dw", "Database": "dev"}
    )
    assert set(out) == {"Id", "CreatedAt", "ClusterIdentifier", "Database"}
    assert isinstance(out["CreatedAt"], datetime)
    desc = dataapi.wait(out["Id"])
    assert desc["Status"] == "FINISHED"
    assert desc["HasResultSet"] is True
    assert desc["ResultRows"] == 1
    assert desc["ResultSize"] > 0
    assert desc["Duration"] > 0
    assert desc["QueryString"] == "select 1 as one"
    assert desc["UpdatedAt"] >= desc["CreatedAt"]
    assert "Error" not in desc and "SubStatements" not in desc


def test_typed_records_and_column_metadata(dataapi: Harness) -> None:
    desc = dataapi.run(
        "select 42::int as i, 9000000000::bigint as b, 1.5::float8 as f, 'x'::varchar(5) as s, "
        "true as t, null::int as n, 12.30::decimal(6,2) as d, '2024-02-29'::date as day"
    )
    result = dataapi.service.get_statement_result({"Id": desc["Id"]})
    assert result["Records"] == [
        [
            {"longValue": 42},
            {"longValue": 9000000000},
            {"doubleValue": 1.5},
            {"stringValue": "x"},
            {"booleanValue": True},
            {"isNull": True},
            {"stringValue": "12.30"},
            {"stringValue": "2024-02-29"},
        ]
    ]
    meta = result["ColumnMetadata"]
    assert [c["name"] for c in meta] == ["i", "b", "f", "s", "t", "n", "d", "day"]
    assert [c["typeName"] for c in meta] == [
        "int4",
        "int8",
        "float8",
        "varchar",
        "bool",
        "int4",
        "numeric",
        "date",
    ]
    assert (meta[6]["precision"], meta[6]["scale"]) == (6, 2)
    assert result["TotalNumRows"] == 1
    assert "NextToken" not in result


def test_result_pages_with_next_token(dataapi: Harness) -> None:
    dataapi.service.options = type(dataapi.service.options)(page_rows=7)
    desc = dataapi.run("select n from (select generate_series(1, 20) as n) s order by n")
    first = dataapi.service.get_statement_result({"Id": desc["Id"]})
    assert first["TotalNumRows"] == 20
    assert len(first["Records"]) == 7
    seen = [r[0]["longValue"] for r in first["Records"]]
    token = first["NextToken"]
    while token:
        page = dataapi.service.get_statement_result({"Id": desc["Id"], "NextToken": token})
        seen += [r[0]["longValue"] for r in page["Records"]]
        token = page.get("NextToken")
    assert seen == list(range(1, 21))
    bad = _error(dataapi.service.get_statement_result, {"Id": desc["Id"], "NextToken": "zz"})
    assert bad.code == "ValidationException"


def test_empty_next_token_is_the_first_page(dataapi: Harness) -> None:
    # SDK pagination loops often start with NextToken=''; the Data API takes it as "no token"
    # (GetStatementResult: NextToken is an optional string with no minimum length).
    dataapi.service.options = type(dataapi.service.options)(page_rows=7)
    desc = dataapi.run("select n from (select generate_series(1, 20) as n) s order by n")
    first = dataapi.service.get_statement_result({"Id": desc["Id"], "NextToken": ""})
    assert [r[0]["longValue"] for r in first["Records"]] == list(range(1, 8))
    assert first["NextToken"]


def test_dml_reports_rows_affected_without_result_set(dataapi: Harness) -> None:
    assert dataapi.run("create table t (a int, b varchar(10))")["Status"] == "FINISHED"
    desc = dataapi.run("insert into t values (1, 'x'), (2, 'y'), (3, 'z')")
    assert desc["HasResultSet"] is False
    assert desc["ResultRows"] == 3
    err = _error(dataapi.service.get_statement_result, {"Id": desc["Id"]})
    assert err.code == "ResourceNotFoundException"
    assert dataapi.run("delete from t where a > 1")["ResultRows"] == 2


def test_sql_error_fails_with_the_engine_message(dataapi: Harness) -> None:
    desc = dataapi.run("select * from no_such_table")
    assert desc["Status"] == "FAILED"
    assert "no_such_table" in desc["Error"]
    err = _error(dataapi.service.get_statement_result, {"Id": desc["Id"]})
    assert err.code == "ResourceNotFoundException"


# -- parameters -------------------------------------------------------------------------------
def test_named_parameters_are_bound(dataapi: Harness) -> None:
    dataapi.run("create table p (id int, name varchar(50))")
    dataapi.run(
        "insert into p values (:id, :name)",
        Parameters=[{"name": "id", "value": "7"}, {"name": "name", "value": "it's :id"}],
    )
    rows = dataapi.rows(
        "select id, name from p where id = :id", Parameters=[{"name": "id", "value": "7"}]
    )
    assert rows == [[{"longValue": 7}, {"stringValue": "it's :id"}]]
    desc = dataapi.run("select :x::int + 1", Parameters=[{"name": "x", "value": "41"}])
    assert desc["QueryParameters"] == [{"name": "x", "value": "41"}]


@pytest.mark.parametrize(
    "hostile",
    [
        "x'); drop table victims; --",
        "' or '1'='1",
        "1; delete from victims",
        "$$; drop table victims; $$",
        "%(name)s %s",
        "$1",
    ],
)
def test_parameters_cannot_inject_sql(dataapi: Harness, hostile: str) -> None:
    dataapi.run("create table victims (name varchar(100))")
    dataapi.run("insert into victims values ('alice'), ('bob')")
    rows = dataapi.rows(
        "select count(*) from victims where name = :name",
        Parameters=[{"name": "name", "value": hostile}],
    )
    assert rows == [[{"longValue": 0}]]
    dataapi.run("insert into victims values (:v)", Parameters=[{"name": "v", "value": hostile}])
    stored = dataapi.rows("select name from victims order by name")
    assert sorted(r[0]["stringValue"] for r in stored) == sorted(["alice", "bob", hostile])


def test_missing_parameter_value_fails_the_statement(dataapi: Harness) -> None:
    desc = dataapi.run("select :a, :b", Parameters=[{"name": "a", "value": "1"}])
    assert desc["Status"] == "FAILED"
    assert "b" in desc["Error"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ([{"name": "a", "value": ""}], "length greater than or equal to 1"),
        ([{"name": "a-b", "value": "1"}], "regular expression pattern"),
        ([{"name": "a", "value": "1"}, {"name": "a", "value": "2"}], "more than once"),
        ([{"name": "a"}], "exactly 'name' and 'value'"),
        ([], "length greater than or equal to 1"),
    ],
)
def test_bad_parameters_are_validation_errors(
    dataapi: Harness, params: list[dict[str, str]], fragment: str
) -> None:
    err = _error(dataapi.submit, "select :a", Parameters=params)
    assert err.code == "ValidationException"
    assert fragment in err.message


# -- BatchExecuteStatement --------------------------------------------------------------------
def test_batch_runs_in_order_with_sub_statement_ids(dataapi: Harness) -> None:
    sid = dataapi.batch(
        [
            "create table b (a int)",
            "insert into b values (1), (2)",
            "select a from b order by a",
        ]
    )
    desc = dataapi.wait(sid)
    assert desc["Status"] == "FINISHED"
    subs = desc["SubStatements"]
    assert [s["Id"] for s in subs] == [f"{sid}:1", f"{sid}:2", f"{sid}:3"]
    assert [s["Status"] for s in subs] == ["FINISHED"] * 3
    assert [s["HasResultSet"] for s in subs] == [False, False, True]
    assert subs[1]["ResultRows"] == 2
    result = dataapi.service.get_statement_result({"Id": f"{sid}:3"})
    assert result["Records"] == [[{"longValue": 1}], [{"longValue": 2}]]
    err = _error(dataapi.service.get_statement_result, {"Id": sid})
    assert err.code == "ValidationException"
    assert "sub-statement id" in err.message
    sub = dataapi.service.describe_statement({"Id": f"{sid}:2"})
    assert sub["Id"] == f"{sid}:2" and sub["QueryString"] == "insert into b values (1), (2)"


def test_batch_whose_third_statement_fails_leaves_no_trace(dataapi: Harness) -> None:
    dataapi.run("create table keep (a int)")
    sid = dataapi.batch(
        [
            "create table ghost (a int)",
            "insert into keep values (1), (2)",
            "insert into missing_table values (3)",
            "insert into keep values (4)",
        ]
    )
    desc = dataapi.wait(sid)
    assert desc["Status"] == "FAILED"
    assert "missing_table" in desc["Error"]
    statuses = [s["Status"] for s in desc["SubStatements"]]
    assert statuses == ["FINISHED", "FINISHED", "FAILED", "ABORTED"]
    assert "missing_table" in desc["SubStatements"][2]["Error"]
    assert dataapi.rows("select count(*) from keep") == [[{"longValue": 0}]]
    ghost = dataapi.run("select * from ghost")
    assert ghost["Status"] == "FAILED"


def test_batch_with_its_own_begin_and_end_transaction(dataapi: Harness) -> None:
    # Scripts written for Redshift often wrap a BatchExecuteStatement in begin/end transaction;
    # the batch already is a transaction, so BEGIN inside it is a no-op there (a warning).
    desc = dataapi.wait(
        dataapi.batch(
            [
                "begin transaction",
                "create table bt (a int primary key)",
                "insert into bt values (1), (1)",
                "end transaction",
            ]
        )
    )
    assert desc["Status"] == "FINISHED", desc.get("Error")
    assert [s["Status"] for s in desc["SubStatements"]] == ["FINISHED"] * 4
    assert dataapi.rows("select count(*) from bt") == [[{"longValue": 2}]]


def test_a_validation_query_dividing_by_an_empty_count_fails(dataapi: Harness) -> None:
    # The pipeline idiom "select 1/count(1) from fact" must FAIL when the fact is empty.
    dataapi.run("create table empty_fact (a int)")
    desc = dataapi.run("select 1/count(1) from empty_fact")
    assert desc["Status"] == "FAILED"
    assert "zero" in desc["Error"].lower()


def test_batch_validation(dataapi: Harness) -> None:
    assert _error(dataapi.batch, []).code == "ValidationException"
    assert _error(dataapi.batch, ["select 1"] * 41).code == "ValidationException"


# -- CancelStatement --------------------------------------------------------------------------
def test_cancel_a_long_query_aborts_it(dataapi: Harness) -> None:
    """The query runs for far longer than the wait's deadline, so ABORTED within it means the
    cancel reached the warehouse (no wall-clock assertion: that is a benchmark's job)."""
    sid = dataapi.submit(dataapi.long_query())
    wait_until(
        lambda: dataapi.service.describe_statement({"Id": sid})["Status"] == "STARTED",
        10,
        what="the statement to start",
    )
    assert dataapi.service.cancel_statement({"Id": sid})["Status"] is True
    desc = dataapi.wait(sid, timeout=10)
    assert desc["Status"] == "ABORTED"
    again = _error(dataapi.service.cancel_statement, {"Id": sid})
    assert again.code == "ValidationException"
    assert "ABORTED" in again.message


def test_cancel_rolls_back_the_batch(dataapi: Harness) -> None:
    dataapi.run("create table c (a int)")
    sid = dataapi.batch(["insert into c values (1)", dataapi.long_query()])
    wait_until(
        lambda: (
            dataapi.service.describe_statement({"Id": sid})["SubStatements"][0]["Status"]
            == "FINISHED"
        ),
        10,
        what="the batch's first statement to finish",
    )
    dataapi.service.cancel_statement({"Id": sid})
    desc = dataapi.wait(sid, timeout=5)
    assert desc["Status"] == "ABORTED"
    assert desc["SubStatements"][1]["Status"] == "ABORTED"
    assert dataapi.rows("select count(*) from c") == [[{"longValue": 0}]]


# -- ListStatements, ClientToken, errors ------------------------------------------------------
def test_statements_record_the_execution_and_state_that_submitted_them(dataapi: Harness) -> None:
    from eltflow.dataapi.origin import submitted_by

    arn = "arn:aws:states:us-east-1:123456789012:execution:m:run-1"
    outside = dataapi.submit("select 0")
    with submitted_by(arn, "Load"):
        mine = dataapi.submit("select 1")
        batch = dataapi.batch(["select 2", "select 3"])
    for sid in (outside, mine, batch):
        dataapi.wait(sid)
    page = dataapi.service.list_statement_details(execution_arn=arn)
    assert [(s["Id"], s["ExecutionArn"], s["StateName"]) for s in page["Statements"]] == [
        (batch, arn, "Load"),
        (mine, arn, "Load"),
    ]
    assert page["Statements"][0]["SubStatements"][1]["ResultRows"] == 1
    everything = dataapi.service.list_statement_details()["Statements"]
    assert "ExecutionArn" not in next(s for s in everything if s["Id"] == outside)
    # The AWS-shaped answers stay AWS's: no eltflow field reaches boto3.
    listed = dataapi.service.list_statements({})["Statements"]
    described = dataapi.service.describe_statement({"Id": mine})
    for shown in (*listed, described):
        assert "ExecutionArn" not in shown and "StateName" not in shown


def test_list_statements_newest_first_with_paging_and_filters(dataapi: Harness) -> None:
    ids = [dataapi.submit(f"select {i}", StatementName=f"job-{i}") for i in range(5)]
    for sid in ids:
        dataapi.wait(sid)
    dataapi.wait(dataapi.batch(["select 1", "select 2"], StatementName="other"))
    page = dataapi.service.list_statements({"MaxResults": 2, "StatementName": "job-"})
    assert [s["Id"] for s in page["Statements"]] == ids[::-1][:2]
    got = [s["Id"] for s in page["Statements"]]
    while "NextToken" in page:
        page = dataapi.service.list_statements(
            {"MaxResults": 2, "StatementName": "job-", "NextToken": page["NextToken"]}
        )
        got += [s["Id"] for s in page["Statements"]]
    assert got == ids[::-1]
    item = dataapi.service.list_statements({"MaxResults": 1})["Statements"][0]
    assert item["IsBatchStatement"] is True
    assert item["QueryStrings"] == ["select 1", "select 2"]
    assert item["StatementName"] == "other"
    finished = dataapi.service.list_statements({"Status": "FINISHED"})["Statements"]
    assert len(finished) == 6
    assert dataapi.service.list_statements({"Status": "FAILED"})["Statements"] == []
    assert _error(dataapi.service.list_statements, {"Status": "NOPE"}).code == (
        "ValidationException"
    )


def test_client_token_makes_submission_idempotent(dataapi: Harness) -> None:
    dataapi.run("create table once (a int)")
    first = dataapi.submit("insert into once values (1)", ClientToken="tok-1")
    second = dataapi.submit("insert into once values (1)", ClientToken="tok-1")
    assert first == second
    dataapi.wait(first)
    assert dataapi.rows("select count(*) from once") == [[{"longValue": 1}]]


def test_unknown_and_malformed_ids(dataapi: Harness) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    for call in (
        dataapi.service.describe_statement,
        dataapi.service.get_statement_result,
        dataapi.service.cancel_statement,
    ):
        err = _error(call, {"Id": missing})
        assert (err.code, err.message) == ("ResourceNotFoundException", "Query does not exist.")
        assert _error(call, {"Id": "not-an-id"}).code == "ValidationException"


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        ({"Sql": "select 1"}, "Either ClusterIdentifier or WorkgroupName"),
        ({"Sql": "select 1", "ClusterIdentifier": "a", "WorkgroupName": "abc"}, "cannot both"),
        ({"ClusterIdentifier": "dw"}, "Member must not be null"),
        ({"Sql": "  ", "ClusterIdentifier": "dw"}, "must not be empty"),
        ({"Sql": "select 1", "ClusterIdentifier": "Bad_Name"}, "regular expression"),
        ({"Sql": "select 1", "ClusterIdentifier": "dw", "Bogus": 1}, "Unknown parameter"),
        ({"Sql": "x" * 102401, "ClusterIdentifier": "dw"}, "maximum size"),
    ],
)
def test_request_validation(dataapi: Harness, request_: dict[str, Any], fragment: str) -> None:
    err = _error(dataapi.service.execute_statement, request_)
    assert err.code == "ValidationException"
    assert fragment in err.message


def test_any_cluster_or_workgroup_reaches_the_default_warehouse(dataapi: Harness) -> None:
    dataapi.run("create table shared (a int)")
    out = dataapi.service.execute_statement(
        {"Sql": "select count(*) from shared", "WorkgroupName": "my-workgroup"}
    )
    assert out["WorkgroupName"] == "my-workgroup" and "ClusterIdentifier" not in out
    assert dataapi.wait(out["Id"])["Status"] == "FINISHED"


def test_active_statement_limit(dataapi: Harness) -> None:
    dataapi.service.options = type(dataapi.service.options)(max_active=1)
    sid = dataapi.submit(dataapi.long_query())
    err = _error(dataapi.submit, "select 1")
    assert err.code == "ActiveStatementsExceededException"
    dataapi.service.cancel_statement({"Id": sid})
    assert dataapi.wait(sid)["Status"] == "ABORTED"


def test_wait_time_seconds_waits_for_the_result(dataapi: Harness) -> None:
    out = dataapi.service.execute_statement(
        {"Sql": "select 1", "ClusterIdentifier": "dw", "WaitTimeSeconds": 10}
    )
    assert out["Status"] == "FINISHED" and out["HasResultSet"] is True


# -- catalog ----------------------------------------------------------------------------------
def test_catalog_lists_schemas_tables_and_describes_columns(dataapi: Harness) -> None:
    dataapi.run("create schema if not exists sales")
    dataapi.run(
        "create table sales.orders (id bigint not null, note varchar(30), amount decimal(10,2), "
        "at timestamp default getdate()) diststyle key distkey(id)"
    )
    dataapi.run("create view sales.big_orders as select * from sales.orders where amount > 100")
    target = {"ClusterIdentifier": "dw", "Database": "dev"}
    schemas = dataapi.service.list_schemas({**target, "SchemaPattern": "sal%"})
    assert schemas == {"Schemas": ["sales"]}
    tables = dataapi.service.list_tables({**target, "SchemaPattern": "sales"})
    assert tables["Tables"] == [
        {"name": "big_orders", "schema": "sales", "type": "VIEW"},
        {"name": "orders", "schema": "sales", "type": "TABLE"},
    ]
    page = dataapi.service.list_tables({**target, "SchemaPattern": "sales", "MaxResults": 1})
    assert len(page["Tables"]) == 1 and "NextToken" in page
    rest = dataapi.service.list_tables(
        {**target, "SchemaPattern": "sales", "NextToken": page["NextToken"]}
    )
    assert rest["Tables"] == tables["Tables"][1:] and "NextToken" not in rest
    desc = dataapi.service.describe_table({**target, "Schema": "sales", "Table": "orders"})
    assert desc["TableName"] == "orders"
    cols = {c["name"]: c for c in desc["ColumnList"]}
    assert [c["name"] for c in desc["ColumnList"]] == ["id", "note", "amount", "at"]
    assert [cols[n]["typeName"] for n in ("id", "note", "amount", "at")] == [
        "int8",
        "varchar",
        "numeric",
        "timestamp",
    ]
    assert cols["id"]["nullable"] == 0 and cols["note"]["nullable"] == 1
    assert (cols["amount"]["precision"], cols["amount"]["scale"]) == (10, 2)
    assert "columnDefault" in cols["at"]
    assert dataapi.service.list_databases({"ClusterIdentifier": "dw"})["Databases"]
    err = _error(dataapi.service.list_tables, {"ClusterIdentifier": "dw"})
    assert err.code == "ValidationException" and "'database'" in err.message


def test_results_over_the_size_limit_fail_the_statement(dataapi: Harness) -> None:
    dataapi.service.options = type(dataapi.service.options)(max_result_bytes=2000, page_rows=10)
    desc = dataapi.run(
        "select n, 'padding padding' as p from (select generate_series(1, 500) as n) s"
    )
    assert desc["Status"] == "FAILED"
    assert "result size limit of 2000 bytes" in desc["Error"]
    assert dataapi.run("select 1")["Status"] == "FINISHED"
