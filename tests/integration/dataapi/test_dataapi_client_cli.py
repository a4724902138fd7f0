"""``eltflow.aws.client("redshift-data")`` (boto3's shapes, locally) and ``eltflow sql``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from tests.integration.dataapi.redshift_script import SCRIPT
from tests.support.wait import wait_until

from eltflow.aws import client
from eltflow.cli import main
from eltflow.config import Settings
from eltflow.errors import ConfigError


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("ELTFLOW_STATE", "ELTFLOW_WAREHOUSE", "ELTFLOW_HOME"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        project_dir=tmp_path,
        state_url=f"sqlite:///{tmp_path / 'state.db'}",
        warehouse_url=f"duckdb://{tmp_path / 'wh.duckdb'}",
    )


def test_local_client_speaks_boto3(tmp_path: Path) -> None:
    with client("redshift-data", _settings(tmp_path)) as rd:
        sid = rd.execute_statement(
            ClusterIdentifier="dw", Database="dev", Sql="select * from range(5) t(n)"
        )["Id"]
        wait_until(
            lambda: rd.describe_statement(Id=sid)["Status"] == "FINISHED",
            what="the statement to finish",
        )
        pages = list(rd.get_paginator("get_statement_result").paginate(Id=sid))
        assert [r[0]["longValue"] for r in pages[0]["Records"]] == [0, 1, 2, 3, 4]
        assert pages[0]["ResponseMetadata"]["HTTPStatusCode"] == 200
        with pytest.raises(rd.exceptions.ValidationException) as e:
            rd.execute_statement(Sql="select 1")
        assert isinstance(e.value, ClientError)
        assert e.value.response["Error"]["Code"] == "ValidationException"
        assert "ExecuteStatement" in str(e.value)


def test_statements_outlive_the_client(tmp_path: Path) -> None:
    with client("redshift-data", _settings(tmp_path)) as rd:
        sid = rd.execute_statement(ClusterIdentifier="dw", Sql="select 'x'", WaitTimeSeconds=5)[
            "Id"
        ]
    with client("redshift-data", _settings(tmp_path)) as rd:
        assert rd.describe_statement(Id=sid)["Status"] == "FINISHED"
        assert rd.get_statement_result(Id=sid)["Records"] == [[{"stringValue": "x"}]]


def test_unknown_service_and_bad_mode(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no local implementation of AWS service 'kinesis'"):
        client("kinesis", _settings(tmp_path))
    bad = Settings(
        project_dir=tmp_path, state_url="", warehouse_url="", raw={"aws": {"mode": "cloud"}}
    )
    with pytest.raises(ConfigError, match=r"\[aws\] mode"):
        client("redshift-data", bad)


def test_cli_prints_a_table(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "--project-dir",
            str(project),
            "sql",
            "select n, nvl(null, 'none') as label from range(2) t(n) where n >= :lo order by n",
            "--param",
            "lo=0",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines() == [
        "n | label",
        "--+------",
        "0 | none ",
        "1 | none ",
        "(2 rows)",
    ]
    assert (project / ".eltflow" / "warehouse.duckdb").exists()


def test_cli_json_and_dml(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project-dir", str(project), "sql", "create table t (a int)"]) == 0
    assert main(["--project-dir", str(project), "sql", "insert into t values (1), (2)"]) == 0
    assert "FINISHED (2 rows affected)" in capsys.readouterr().out
    code = main(["--project-dir", str(project), "sql", "select count(*) as c from t", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["Statement"]["Status"] == "FINISHED"
    assert data["Result"]["Records"] == [[{"longValue": 2}]]
    assert data["Result"]["ColumnMetadata"][0]["name"] == "c"


def test_cli_failure(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--project-dir", str(project), "sql", "select * from nope"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("FAILED: ") and "nope" in err
    code = main(["--project-dir", str(project), "sql", "select 1", "--cluster", "Bad_Name"])
    assert code == 1
    assert "ValidationException" in capsys.readouterr().err


def test_cli_runs_a_script_file_as_one_batch(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = project / "load.sql"
    script.write_text(
        "create table s (a int, note varchar(20)) diststyle all;\n"
        "insert into s values (1, 'x;y'), (2, null);  -- two rows\n"
        "select a, nvl(note, '-') as note from s order by a;\n",
        encoding="utf-8",
    )
    assert main(["--project-dir", str(project), "sql", "--file", str(script)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "a | note",
        "--+-----",
        "1 | x;y ",
        "2 | -   ",
        "(2 rows)",
    ]
    bad = project / "bad.sql"
    bad.write_text("insert into s values (3, 'z');\nselect * from nope;\n", encoding="utf-8")
    assert main(["--project-dir", str(project), "sql", "-f", str(bad)]) == 1
    assert "nope" in capsys.readouterr().err
    assert main(["--project-dir", str(project), "sql", "select count(*) from s"]) == 0
    assert "2" in capsys.readouterr().out.splitlines()[2]  # the failed batch left no row
    assert main(["--project-dir", str(project), "sql"]) == 2  # usage
    assert "either a SQL statement or --file" in capsys.readouterr().err


def test_cli_runs_the_redshift_procedure_script_on_postgres(
    project: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "eltflow.toml").write_text(
        f'state = "{pg_url}"\nwarehouse = "{pg_url}"\n', encoding="utf-8"
    )
    script = project / "redshift.sql"
    script.write_text(";\n".join(SCRIPT) + ";\n", encoding="utf-8")
    assert main(["--project-dir", str(project), "sql", "-f", str(script)]) == 0
    assert "FINISHED" in capsys.readouterr().out
    sql = "select region, total from public.sales_summary order by region"
    assert main(["--project-dir", str(project), "sql", sql]) == 0
    assert capsys.readouterr().out.splitlines()[2:4] == ["north  | 14.50", "south  | 20.25"]
