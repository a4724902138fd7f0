"""The Data API's request/response contract, checked against botocore's service model.

The same calls go to the local service (DuckDB and PostgreSQL warehouses, through
``eltflow.aws.client``'s boto3-shaped client) and to real boto3 pointed at moto's server (the
AWS mode of ``eltflow.aws.client``). Every response must fit the ``redshift-data`` output shape
of botocore; local responses must also have its types. Moto's redshift-data is canned (runs no
SQL), so against it only keys are compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.model import ListShape, Shape, StructureShape
from tests.support.wait import wait_until

from eltflow.aws import client
from eltflow.config import Settings

MODEL = botocore.session.get_session().get_service_model("redshift-data")
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "long": (int,),
    "integer": (int,),
    "boolean": (bool,),
    "double": (float, int),
    "timestamp": (datetime,),
    "blob": (bytes,),
}


def shape_problems(value: Any, shape: Shape, path: str, types: bool) -> list[str]:
    """What in ``value`` does not fit ``shape`` (keys always; scalar types if ``types``)."""
    problems: list[str] = []
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{path}: expected an object"]
        if shape.metadata.get("union") and len(value) != 1:
            problems.append(f"{path}: a union must have exactly one member, got {sorted(value)}")
        for key in value:
            if key == "ResponseMetadata" and path == "$":
                continue
            if key not in shape.members:
                problems.append(f"{path}.{key}: not in the model")
            else:
                problems += shape_problems(value[key], shape.members[key], f"{path}.{key}", types)
        for key in shape.required_members:
            if key not in value:
                problems.append(f"{path}.{key}: required but missing")
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        for i, item in enumerate(value):
            problems += shape_problems(item, shape.member, f"{path}[{i}]", types)
    elif types:
        expected = _TYPES.get(shape.type_name)
        ok = expected is not None and isinstance(value, expected)
        if shape.type_name in ("long", "integer", "double") and isinstance(value, bool):
            ok = False
        if not ok:
            problems.append(f"{path}: {value!r} is not a {shape.type_name}")
        else:
            enum = getattr(shape, "enum", None) or shape.metadata.get("enum")
            if enum and value not in enum:
                problems.append(f"{path}: {value!r} not in {enum}")
    return problems


def assert_fits(operation: str, response: dict[str, Any], types: bool) -> None:
    shape = MODEL.operation_model(operation).output_shape
    assert shape is not None
    assert shape_problems(response, shape, "$", types) == []


class Backend:
    def __init__(self, name: str, rd: Any) -> None:
        self.name = name
        self.rd = rd
        self.local = name != "moto"

    def wait(self, sid: str) -> dict[str, Any]:
        def final() -> dict[str, Any] | None:
            desc: dict[str, Any] = self.rd.describe_statement(Id=sid)
            if not self.local or desc["Status"] in ("FINISHED", "FAILED", "ABORTED"):
                return desc  # moto's statements stay STARTED forever
            return None

        return wait_until(final, 30, what=f"statement {sid} to finish")


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["local-duckdb", "local-postgres", "moto"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    if request.param == "moto":
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.setenv(key, "testing")
        url: str = request.getfixturevalue("moto_url")
        raw = {"aws": {"mode": "aws", "region": "us-east-1", "endpoint_url": url}}
        settings = Settings(project_dir=tmp_path, state_url="", warehouse_url="", raw=raw)
    elif request.param == "local-duckdb":
        settings = Settings(
            project_dir=tmp_path,
            state_url=f"sqlite:///{tmp_path / 'state.db'}",
            warehouse_url=f"duckdb://{tmp_path / 'wh.duckdb'}",
        )
    else:
        pg: str = request.getfixturevalue("pg_url")
        settings = Settings(project_dir=tmp_path, state_url=pg, warehouse_url=pg)
    rd = client("redshift-data", settings)
    yield Backend(request.param, rd)
    rd.close()


TARGET = {"ClusterIdentifier": "dw", "Database": "dev", "DbUser": "etl"}


def test_execute_describe_and_result_fit_the_model(backend: Backend) -> None:
    out = backend.rd.execute_statement(Sql="select 1 as n, 'a' as s", **TARGET)
    assert_fits("ExecuteStatement", out, types=backend.local)
    assert set(out) - {"ResponseMetadata"} == {"Id", "CreatedAt", *TARGET}
    desc = backend.wait(out["Id"])
    assert_fits("DescribeStatement", desc, types=backend.local)
    result = backend.rd.get_statement_result(Id=out["Id"])
    assert_fits("GetStatementResult", result, types=backend.local)
    if backend.local:
        assert desc["Status"] == "FINISHED"
        assert result["Records"] == [[{"longValue": 1}, {"stringValue": "a"}]]


def test_batch_and_list_fit_the_model(backend: Backend) -> None:
    if not backend.local:
        pytest.skip("moto does not implement BatchExecuteStatement or ListStatements")
    out = backend.rd.batch_execute_statement(Sqls=["select 1", "select 2"], **TARGET)
    assert_fits("BatchExecuteStatement", out, types=True)
    assert_fits("DescribeStatement", backend.wait(out["Id"]), types=True)
    listed = backend.rd.list_statements(MaxResults=5)
    assert_fits("ListStatements", listed, types=True)
    pages = list(backend.rd.get_paginator("list_statements").paginate(MaxResults=1))
    assert len(pages) == 1 and pages[0]["Statements"][0]["Id"] == out["Id"]


def test_unknown_statement_is_the_same_client_error(backend: Backend) -> None:
    with pytest.raises(ClientError) as e:
        backend.rd.describe_statement(Id="00000000-0000-0000-0000-000000000000")
    err = e.value.response["Error"]
    assert (err["Code"], err["Message"]) == ("ResourceNotFoundException", "Query does not exist.")
    assert isinstance(e.value, backend.rd.exceptions.ResourceNotFoundException)


def test_cancel_fits_the_model(backend: Backend) -> None:
    sql = "select count(*) from range(1000000000) a, range(1000000) b"
    if backend.name == "local-postgres":
        sql = "select pg_sleep(30)"
    out = backend.rd.execute_statement(Sql=sql, **TARGET)
    if backend.local:
        wait_until(
            lambda: backend.rd.describe_statement(Id=out["Id"])["Status"] == "STARTED",
            what="the statement to start",
        )
    cancelled = backend.rd.cancel_statement(Id=out["Id"])
    assert_fits("CancelStatement", cancelled, types=backend.local)
    assert cancelled["Status"] is True


def test_local_keys_match_moto_keys(
    tmp_path: Path, moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Key by key, the local answers are moto's, except what moto is known to do differently:
    it sends ``SubStatements: []`` for a single statement and omits ``TotalNumRows`` and
    ``ResultFormat`` (which the model's DescribeStatementResponse has)."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    aws = client(
        "redshift-data",
        Settings(
            project_dir=tmp_path,
            state_url="",
            warehouse_url="",
            raw={"aws": {"mode": "aws", "region": "us-east-1", "endpoint_url": moto_url}},
        ),
    )
    local = client(
        "redshift-data",
        Settings(
            project_dir=tmp_path,
            state_url=f"sqlite:///{tmp_path / 's.db'}",
            warehouse_url="duckdb://",
        ),
    )
    answers = []
    for rd in (aws, local):
        out = rd.execute_statement(Sql="select 1", **TARGET)
        backend = Backend("moto" if rd is aws else "local", rd)
        desc = backend.wait(out["Id"])
        result = rd.get_statement_result(Id=out["Id"])
        answers.append(
            [set(x) - {"ResponseMetadata"} for x in (out, desc, result)]
            + [set(result["ColumnMetadata"][0])]
        )
    local.close()
    (m_out, m_desc, m_result, m_col), (l_out, l_desc, l_result, l_col) = answers
    assert m_out == l_out
    assert m_desc - {"SubStatements"} == l_desc - {"ResultFormat"}
    assert m_result | {"TotalNumRows"} == l_result
    assert m_col <= l_col


def test_catalog_operations_fit_the_model(backend: Backend) -> None:
    if not backend.local:
        pytest.skip("moto does not implement the catalog operations")
    backend.wait(
        backend.rd.execute_statement(Sql="create table cat (a int, b varchar(3))", **TARGET)["Id"]
    )
    assert_fits("ListDatabases", backend.rd.list_databases(**TARGET), types=True)
    assert_fits("ListSchemas", backend.rd.list_schemas(**TARGET), types=True)
    tables = backend.rd.list_tables(**TARGET, TablePattern="cat")
    assert_fits("ListTables", tables, types=True)
    assert [t["name"] for t in tables["Tables"]] == ["cat"]
    described = backend.rd.describe_table(**TARGET, Table="cat")
    assert_fits("DescribeTable", described, types=True)
    assert [c["name"] for c in described["ColumnList"]] == ["a", "b"]
