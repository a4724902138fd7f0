"""The jobs endpoints over a project's real audit table (``[tables.JobAudit]`` in eltflow.toml,
kept in the SQLite state store): list the audit items, reset a stuck job to Ready."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from eltflow.api.app import create_app
from eltflow.app import App, build_app
from eltflow.config import load_settings


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    (tmp_path / "eltflow.toml").write_text('[tables.JobAudit]\npartition_key = "JobID"\n')
    built = build_app(load_settings(tmp_path, environ={}))
    yield built
    built.close()


def test_list_and_reset_a_stuck_job(app: App) -> None:
    dynamodb = app.items
    assert dynamodb is not None
    dynamodb.call(
        "PutItem",
        {
            "TableName": "JobAudit",
            "Item": {
                "JobID": {"S": "101"},
                "JobState": {"S": "Running"},
                "JobStart": {"S": "2026-11-28T01:00:00+00:00"},
                "LeaseUntil": {"S": "2026-11-28T01:30:00+00:00"},
            },
        },
    )
    client = TestClient(create_app(app), base_url="http://localhost")
    listed = client.get("/api/jobs")
    assert listed.status_code == 200, listed.text
    jobs = listed.json()["jobs"]
    assert [(j["table"], j["JobID"], j["JobState"]) for j in jobs] == [
        ("JobAudit", "101", "Running")
    ]
    assert listed.json()["runs"] == []  # no run-history table before the pipeline is set up

    reset = client.post("/api/jobs/JobAudit/101/reset")
    assert reset.status_code == 200, reset.text
    assert reset.json()["JobState"] == "Ready" and "LeaseUntil" not in reset.json()
    assert client.get("/api/jobs").json()["jobs"][0]["JobState"] == "Ready"

    missing = client.post("/api/jobs/JobAudit/999/reset")
    assert missing.status_code == 400 and "does not exist" in missing.json()["message"]
    unknown = client.post("/api/jobs/NoSuchTable/101/reset")
    assert 400 <= unknown.status_code < 500, unknown.text
    items = client.get("/api/tables/JobAudit/items").json()["Items"]
    assert items[0]["JobID"] == {"S": "101"}


def _sql(app: App, sql: str) -> None:
    from eltflow.pipelines.jobs import wait_statement

    dataapi = app.dataapi
    assert dataapi is not None
    sid = dataapi.call(
        "ExecuteStatement", {"Sql": sql, "ClusterIdentifier": "eltflow-local", "Database": "dev"}
    )["Id"]
    wait_statement(dataapi, sid, timeout=30)


def test_runs_come_from_the_run_history_table_once_the_pipeline_made_it(app: App) -> None:
    from eltflow.pipelines.reference import sql_statements

    client = TestClient(create_app(app), base_url="http://localhost")
    assert client.get("/api/jobs").json()["runs"] == []
    ddl = [s for s in sql_statements("ddl.sql") if "etl_run_history" in s]
    assert len(ddl) == 1
    _sql(app, "CREATE SCHEMA IF NOT EXISTS public")
    _sql(app, ddl[0])
    _sql(
        app,
        "INSERT INTO public.etl_run_history (execution_arn, job_id, started_at, ended_at, outcome)"
        " VALUES ('arn:x', '101', '2026-11-28 01:00:00', '2026-11-28 01:05:00', 'SUCCEEDED')",
    )
    runs = client.get("/api/jobs").json()["runs"]
    assert [(r["execution_arn"], r["job_id"], r["outcome"]) for r in runs] == [
        ("arn:x", "101", "SUCCEEDED")
    ]


def test_a_broken_run_history_is_an_error_not_an_empty_list(app: App) -> None:
    # The table exists but lacks the columns the query reads: the old handler answered "no
    # runs"; the service reports the warehouse's error.
    _sql(app, "CREATE SCHEMA IF NOT EXISTS public")
    _sql(app, "CREATE TABLE public.etl_run_history (execution_arn VARCHAR)")
    listed = TestClient(create_app(app), base_url="http://localhost").get("/api/jobs")
    assert listed.status_code == 400, listed.text
    assert "job_id" in listed.json()["message"]
