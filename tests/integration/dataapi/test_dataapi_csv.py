"""ResultFormat CSV and GetStatementResultV2, on DuckDB (+ SQLite store) and PostgreSQL."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from tests.integration.dataapi.dataapi_harness import Harness

from eltflow.dataapi import DataApiService
from eltflow.dataapi.factory import build_dataapi
from eltflow.errors import AwsApiError
from eltflow.store.db import Database


def _error(call: Any, *args: Any) -> AwsApiError:
    with pytest.raises(AwsApiError) as e:
        call(*args)
    return e.value


def _csv_pages(service: DataApiService, sid: str) -> list[dict[str, Any]]:
    pages = [service.get_statement_result_v2({"Id": sid, "NextToken": ""})]
    while pages[-1].get("NextToken"):
        pages.append(
            service.get_statement_result_v2({"Id": sid, "NextToken": pages[-1]["NextToken"]})
        )
    return pages


def test_csv_records_with_a_header_typed_values_and_quoting(dataapi: Harness) -> None:
    desc = dataapi.run(
        "select 42 as i, 1.5::float8 as f, 'a,\"b\"' as s, true as t, null::int as n, "
        "12.30::decimal(6,2) as d, '2024-02-29'::date as day",
        ResultFormat="CSV",
    )
    assert desc["Status"] == "FINISHED" and desc["ResultFormat"] == "CSV"
    out = dataapi.service.get_statement_result_v2({"Id": desc["Id"]})
    assert out["ResultFormat"] == "CSV" and out["TotalNumRows"] == 1
    assert [c["name"] for c in out["ColumnMetadata"]] == ["i", "f", "s", "t", "n", "d", "day"]
    (only,) = out["Records"]
    assert only["CSVRecords"] == 'i,f,s,t,n,d,day\n42,1.5,"a,""b""",t,,12.30,2024-02-29\n'
    assert "NextToken" not in out


def test_csv_pages_put_the_header_on_the_first_page_only(dataapi: Harness) -> None:
    dataapi.service.options = type(dataapi.service.options)(page_rows=7)
    desc = dataapi.run(
        "select n from (select generate_series(1, 20) as n) s order by n", ResultFormat="CSV"
    )
    pages = _csv_pages(dataapi.service, desc["Id"])
    texts = [p["Records"][0]["CSVRecords"] for p in pages]
    assert len(texts) == 3 and all(p["TotalNumRows"] == 20 for p in pages)
    rows = list(csv.reader(io.StringIO("".join(texts))))
    assert rows == [["n"], *[[str(n)] for n in range(1, 21)]]


def test_each_format_is_fetched_by_its_own_operation(dataapi: Harness) -> None:
    as_csv = dataapi.run("select 1 as one", ResultFormat="CSV")["Id"]
    as_json = dataapi.run("select 1 as one")["Id"]
    wrong = _error(dataapi.service.get_statement_result, {"Id": as_csv})
    assert wrong.code == "ValidationException" and "GetStatementResultV2" in wrong.message
    wrong = _error(dataapi.service.get_statement_result_v2, {"Id": as_json})
    assert wrong.code == "ValidationException" and "GetStatementResult." in wrong.message
    assert dataapi.service.describe_statement({"Id": as_json})["ResultFormat"] == "JSON"
    listed = dataapi.service.list_statements({})["Statements"]
    assert {s["Id"]: s["ResultFormat"] for s in listed} == {as_csv: "CSV", as_json: "JSON"}
    bad = _error(
        dataapi.service.execute_statement,
        {"Sql": "select 1", "ClusterIdentifier": "dw", "ResultFormat": "XML"},
    )
    assert bad.code == "ValidationException" and "[JSON, CSV]" in bad.message


def test_a_csv_batch_answers_per_sub_statement_and_an_empty_result_has_no_records(
    dataapi: Harness,
) -> None:
    sid = dataapi.batch(
        ["create temp table t (x int)", "select x from t", "select 'y' as y"], ResultFormat="CSV"
    )
    done = dataapi.wait(sid)
    assert done["Status"] == "FINISHED", done.get("Error")
    empty = dataapi.service.get_statement_result_v2({"Id": f"{sid}:2"})
    assert empty["Records"] == [] and empty["TotalNumRows"] == 0
    last = dataapi.service.get_statement_result_v2({"Id": f"{sid}:3"})
    assert last["Records"] == [{"CSVRecords": "y\ny\n"}]
    batch = _error(dataapi.service.get_statement_result_v2, {"Id": sid})
    assert batch.code == "ValidationException"


def test_a_csv_result_is_read_back_after_a_restart(dataapi: Harness) -> None:
    sid = dataapi.run("select 'kept' as k", ResultFormat="CSV")["Id"]
    dataapi.service.close()
    db = Database(dataapi.settings.state_url)
    try:
        with build_dataapi(dataapi.settings, db) as again:
            out = again.get_statement_result_v2({"Id": sid})
            assert out["Records"] == [{"CSVRecords": "k\nkept\n"}]
            assert again.describe_statement({"Id": sid})["ResultFormat"] == "CSV"
    finally:
        db.close()
