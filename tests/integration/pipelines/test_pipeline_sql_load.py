"""A SQL load is one Task state: the bundled handler ``eltflow.lambdas.redshift_sql:handler``
(plain boto3) submits through the Data API, waits, and fails with
``RedshiftData.StatementFailed``, so Retry and Catch act on SQL errors.

The handler's boto3 reaches the project through the AWS endpoint (served on a loopback port in
this process, as ``eltflow worker`` serves it to handlers), exactly as it would reach AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.endpoint.clients import aws_client

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.lambdas.redshift_sql import StatementFailed, split_statements
from eltflow.pipelines import jobs
from eltflow.serve import endpoint_thread

TOML = """
[lambda]
isolation = "thread"
workers = 2

[lambda.functions]
run-sql = { handler = "eltflow.lambdas.redshift_sql:handler", timeout = 60 }
"""


def load(payload: dict[str, Any], **state: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "run-sql", "Payload": payload},
        "ResultSelector": {"load.$": "$.Payload"},
        **state,
    }


class Project:
    def __init__(self, app: App, url: str, folder: Path) -> None:
        self.app, self.url, self.folder = app, url, folder

    def sql(self, text: str) -> list[dict[str, Any]]:
        assert self.app.dataapi is not None
        return jobs.query(self.app.dataapi, text, cluster="dw", database="dev")

    def run(self, name: str, machine: dict[str, Any], data: Any = None) -> dict[str, Any]:
        arn = self.start(name, machine, data)
        self.app.worker(threads=2, poll_seconds=0.02).run(until_idle=True)
        return self.describe(arn)

    def start(self, name: str, machine: dict[str, Any], data: Any = None) -> str:
        created = self.app.service.create_state_machine(name=name, definition=json.dumps(machine))
        out = self.app.service.start_execution(
            state_machine_arn=str(created["stateMachineArn"]), input=json.dumps(data or {})
        )
        return str(out["executionArn"])

    def describe(self, arn: str) -> dict[str, Any]:
        out: dict[str, Any] = self.app.service.describe_execution(execution_arn=arn)
        return out

    def events(self, arn: str) -> list[dict[str, Any]]:
        out = self.app.service.get_execution_history(execution_arn=arn, max_results=1000)
        events: list[dict[str, Any]] = out["events"]  # type: ignore[assignment]
        return events


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    folder = tmp_path_factory.mktemp("sqlload")
    (folder / "eltflow.toml").write_text(TOML, "utf-8")
    (folder / "sql").mkdir()
    (folder / "sql" / "packaged.sql").write_text(
        "-- a file shipped in the function's package\n"
        "CREATE TABLE IF NOT EXISTS public.packaged (n INTEGER);\n"
        "INSERT INTO public.packaged VALUES (:n);\n",
        "utf-8",
    )
    mp = pytest.MonkeyPatch()
    app = build_app(load_settings(folder, environ={}))
    try:
        with endpoint_thread(app) as url:
            # Thread-isolated handlers share this process's environment: give boto3 the
            # endpoint, dummy credentials and a region, as a Lambda sandbox has them.
            for key, value in {
                "AWS_ENDPOINT_URL": url,
                "AWS_ACCESS_KEY_ID": "eltflow",
                "AWS_SECRET_ACCESS_KEY": "eltflow",
                "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_CONFIG_FILE": str(folder / "no-aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(folder / "no-aws-credentials"),
            }.items():
                mp.setenv(key, value)
            yield Project(app, url, folder)
    finally:
        mp.undo()
        app.close()


def test_a_load_that_fails_once_is_retried_and_succeeds(project: Project) -> None:
    machine = {
        "StartAt": "Load",
        "States": {
            "Load": load(
                {"ClusterIdentifier": "dw", "Sql": "INSERT INTO public.late VALUES (1), (2)"},
                Retry=[
                    {
                        "ErrorEquals": ["RedshiftData.StatementFailed"],
                        "IntervalSeconds": 1,
                        "MaxAttempts": 2,
                    }
                ],
                End=True,
            )
        },
    }
    arn = project.start("retry-once", machine)

    def failed_once() -> bool:
        return any(e["type"] == "TaskFailed" for e in project.events(arn))

    # The first attempt fails (no table yet); the worker stops while the retry waits.
    project.app.worker(threads=2, poll_seconds=0.02).run(until=failed_once)
    assert project.describe(arn)["status"] == "RUNNING"
    project.sql("CREATE TABLE public.late (n INTEGER)")  # what a later step would have made
    project.app.worker(threads=2, poll_seconds=0.02).run(until_idle=True)

    described = project.describe(arn)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"])["load"]["RowsAffected"] == 2
    failures = [
        e["taskFailedEventDetails"] for e in project.events(arn) if e["type"] == "TaskFailed"
    ]
    assert [f["error"] for f in failures] == ["RedshiftData.StatementFailed"]
    assert "late" in json.loads(failures[0]["cause"])["errorMessage"]
    assert project.sql("SELECT count(*) AS n FROM public.late") == [{"n": 2}]


def test_a_sql_error_is_caught_with_its_name_and_the_statements_error(project: Project) -> None:
    machine = {
        "StartAt": "Load",
        "States": {
            "Load": load(
                {"ClusterIdentifier": "dw", "Sql": "INSERT INTO public.nowhere SELECT 1"},
                Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
                End=True,
            ),
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    described = project.run("caught", machine, {"JobID": "1"})
    assert described["status"] == "SUCCEEDED", described
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "RedshiftData.StatementFailed"
    cause = json.loads(error["Cause"])  # AWS's Lambda error payload, as Step Functions passes it
    assert cause["errorType"] == "RedshiftData.StatementFailed"
    # The errorMessage is the failed statement's own Error, as DescribeStatement reports it.
    assert project.app.dataapi is not None
    listed = project.app.dataapi.call("ListStatements", {"Status": "FAILED"})["Statements"]
    statement = next(s for s in listed if "public.nowhere" in s["QueryString"])
    desc = project.app.dataapi.call("DescribeStatement", {"Id": statement["Id"]})
    assert cause["errorMessage"] == desc["Error"] and "nowhere" in desc["Error"]


def test_parameters_are_bound_not_pasted(project: Project) -> None:
    project.sql("CREATE TABLE public.people (id INTEGER, name VARCHAR(100))")
    hostile = "O'Brien'); DROP TABLE public.people; --"
    machine = {
        "StartAt": "Insert",
        "States": {
            "Insert": load(
                {
                    "ClusterIdentifier": "dw",
                    "Sql": "INSERT INTO public.people VALUES (:id, :name)",
                    "Parameters": [
                        {"name": "id", "value.$": "$.id"},
                        {"name": "name", "value.$": "$.name"},
                    ],
                },
                ResultPath="$.inserted",
                Next="Read",
            ),
            "Read": load(
                {
                    "ClusterIdentifier": "dw",
                    "Sql": "SELECT id, name FROM public.people WHERE name = :name",
                    "Parameters": {"name.$": "$.name"},
                    "IncludeRecords": True,
                },
                End=True,
            ),
        },
    }
    described = project.run("params", machine, {"id": "7", "name": hostile})
    assert described["status"] == "SUCCEEDED", described
    out = json.loads(described["output"])["load"]
    assert out["Records"] == [{"id": 7, "name": hostile}]
    assert out["ColumnNames"] == ["id", "name"] and out["RecordsTruncated"] is False
    assert project.sql("SELECT count(*) AS n FROM public.people") == [{"n": 1}]


def test_sql_from_an_s3_object_and_from_the_functions_package(project: Project) -> None:
    s3 = aws_client("s3", project.url)
    s3.create_bucket(Bucket="sql-bucket")
    s3.put_object(
        Bucket="sql-bucket",
        Key="loads/orders.sql",
        Body=b"CREATE TABLE public.from_s3 (s VARCHAR(20));\n"
        b"INSERT INTO public.from_s3 VALUES ('a;b'), (:v);\n",
    )
    machine = {
        "StartAt": "FromS3",
        "States": {
            "FromS3": load(
                {
                    "ClusterIdentifier": "dw",
                    "SqlFile": "s3://sql-bucket/loads/orders.sql",
                    "Parameters": {"v": "c"},
                },
                ResultPath="$.s3",
                Next="FromPackage",
            ),
            "FromPackage": load(
                {"ClusterIdentifier": "dw", "SqlFile": "sql/packaged.sql", "Parameters": {"n": 5}},
                ResultPath="$.package",
                End=True,
            ),
        },
    }
    described = project.run("files", machine)
    assert described["status"] == "SUCCEEDED", described
    out = json.loads(described["output"])
    assert out["s3"]["load"]["Statements"] == 2 and out["s3"]["load"]["RowsAffected"] == 2
    assert out["package"]["load"]["Statements"] == 2
    assert project.sql("SELECT s FROM public.from_s3 ORDER BY s") == [{"s": "a;b"}, {"s": "c"}]
    assert project.sql("SELECT n FROM public.packaged") == [{"n": 5}]


def test_a_missing_s3_object_or_bad_event_fails_with_a_named_error(project: Project) -> None:
    machine = {
        "StartAt": "Missing",
        "States": {
            "Missing": load(
                {"ClusterIdentifier": "dw", "SqlFile": "s3://sql-bucket/none.sql"},
                Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.missing", "Next": "NoSql"}],
                Next="NoSql",
            ),
            "NoSql": load(
                {"ClusterIdentifier": "dw"},
                Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.nosql", "Next": "Done"}],
                Next="Done",
            ),
            "Done": {"Type": "Pass", "End": True},
        },
    }
    out = json.loads(project.run("bad-events", machine)["output"])
    assert out["missing"]["Error"] == "S3.NoSuchKey"
    assert out["nosql"]["Error"] == "RedshiftData.InvalidEvent"
    assert "exactly one of Sql" in json.loads(out["nosql"]["Cause"])["errorMessage"]


def test_without_an_endpoint_the_error_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Thread-isolated under eltflow (or run by hand), boto3 has no endpoint or region."""
    from eltflow.lambdas.redshift_sql import handler

    for key in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    with pytest.raises(Exception) as e:
        handler({"ClusterIdentifier": "dw", "Sql": "SELECT 1"}, None)
    assert type(e.value).__name__ == "RedshiftData.NoEndpoint"
    assert 'isolation = "process"' in str(e.value)


def test_the_error_class_reports_the_step_functions_error_name() -> None:
    # AWS's Python runtime reports errorType = type(exception).__name__.
    assert type(StatementFailed("x")).__name__ == "RedshiftData.StatementFailed"


def test_statements_split_outside_quotes_dollar_quotes_and_comments() -> None:
    text = (
        "-- header; not a statement\n"
        "INSERT INTO t VALUES ('a;b', \"c;d\");\n"
        "/* block; comment */\n"
        "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n"
        "SELECT 'it''s; fine'\n"
        ";  -- trailing\n"
    )
    assert split_statements(text) == [
        "-- header; not a statement\nINSERT INTO t VALUES ('a;b', \"c;d\")",
        "/* block; comment */\nCREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ "
        "LANGUAGE sql",
        "SELECT 'it''s; fine'",
    ]
