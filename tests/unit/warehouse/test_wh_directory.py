"""Which engine answers a cluster/workgroup name, from eltflow.toml's [warehouses.*]."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from eltflow.config import Settings
from eltflow.dataapi import build_dataapi
from eltflow.errors import AwsApiError, ConfigError
from eltflow.store.db import Database
from eltflow.warehouse.base import RunControl, SqlError, StatementCancelled, UnknownWarehouse
from eltflow.warehouse.directory import WarehouseDirectory
from eltflow.warehouse.duckdb_engine import DuckDBWarehouse
from eltflow.warehouse.postgres_engine import PostgresWarehouse
from eltflow.warehouse.redshift_engine import RedshiftWarehouse


def _settings(tmp_path: Path, raw: dict[str, Any] | None = None) -> Settings:
    return Settings(
        project_dir=tmp_path,
        state_url=f"sqlite:///{tmp_path / 'state.db'}",
        warehouse_url=f"duckdb://{tmp_path / 'default.duckdb'}",
        raw=raw or {},
    )


def test_without_configuration_every_name_is_the_default_duckdb(tmp_path: Path) -> None:
    d = WarehouseDirectory(_settings(tmp_path))
    a, b = d.resolve("cluster-a"), d.resolve("workgroup-b", "dev")
    assert isinstance(a, DuckDBWarehouse) and a is b
    assert a.path == str(tmp_path / "default.duckdb")
    d.close()


def test_configured_names_and_databases(tmp_path: Path) -> None:
    raw = {
        "warehouses": {
            "analytics": {
                "url": f"duckdb://{tmp_path / 'a.duckdb'}",
                "databases": {"pgdev": "postgresql://u@127.0.0.1:5/x"},
            },
            "prod": {"url": "redshift://", "cluster_identifier": "prod-1", "region": "eu-west-1"},
        }
    }
    d = WarehouseDirectory(_settings(tmp_path, raw))
    assert d.names() == ["analytics", "prod"]
    assert isinstance(d.resolve("analytics"), DuckDBWarehouse)
    assert isinstance(d.resolve("analytics", "pgdev"), PostgresWarehouse)
    assert isinstance(d.resolve("prod"), RedshiftWarehouse)
    with pytest.raises(UnknownWarehouse):
        d.resolve("other")
    d.close()


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ({"x": "not a table"}, "[warehouses.x] must be a table"),
        ({"x": {}}, 'needs url = "..."'),
        ({"x": {"url": "mysql://h/db"}}, "must start with duckdb://"),
        ({"x": {"url": "duckdb://", "databases": {"a": 1}}}, "databases must map"),
    ],
)
def test_bad_configuration_names_the_key(tmp_path: Path, table: Any, fragment: str) -> None:
    with pytest.raises(ConfigError) as e:
        d = WarehouseDirectory(_settings(tmp_path, {"warehouses": table}))
        d.resolve("x")
    assert fragment in str(e.value)


def test_unknown_name_fails_as_aws_does(tmp_path: Path) -> None:
    raw = {"warehouses": {"known": {"url": f"duckdb://{tmp_path / 'k.duckdb'}"}}}
    settings = _settings(tmp_path, raw)
    db = Database(settings.state_url)
    with build_dataapi(settings, db) as service:
        with pytest.raises(AwsApiError) as e:
            service.execute_statement({"Sql": "select 1", "ClusterIdentifier": "unknown"})
        assert e.value.code == "ValidationException"
        assert e.value.message == "Redshift endpoint doesn't exist in this region."
        ok = service.execute_statement({"Sql": "select 1", "ClusterIdentifier": "known"})
        assert ok["ClusterIdentifier"] == "known"
    db.close()


def test_duckdb_interrupt_cancels_and_rolls_back(tmp_path: Path) -> None:
    wh = DuckDBWarehouse("w", str(tmp_path / "w.duckdb"))
    wh.run(["create table t (a int)"], None, database=None, transaction=False, control=RunControl())
    control = RunControl()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            wh.run(
                [
                    "insert into t values (1)",
                    "select count(*) from range(1000000000) a, range(1000000) b",
                ],
                None,
                database=None,
                transaction=True,
                control=control,
                on_statement=lambda index, _result: inserted.set() if index == 0 else None,
            )
        except BaseException as e:
            errors.append(e)

    inserted = threading.Event()  # cancel once the insert ran, during the long query
    thread = threading.Thread(target=work)
    thread.start()
    assert inserted.wait(30), "the insert never ran"
    control.cancel()
    thread.join(5)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], StatementCancelled)
    (count,) = wh.run(
        ["select count(*) from t"], None, database=None, transaction=False, control=RunControl()
    )
    assert count.rows == [(0,)]
    wh.close()


def test_cancel_before_start_never_runs(tmp_path: Path) -> None:
    wh = DuckDBWarehouse("w", ":memory:")
    control = RunControl()
    control.cancel()
    with pytest.raises(StatementCancelled):
        wh.run(["select 1"], None, database=None, transaction=False, control=control)
    wh.close()


def test_sql_error_carries_the_failing_index(tmp_path: Path) -> None:
    wh = DuckDBWarehouse("w", ":memory:")
    with pytest.raises(SqlError) as e:
        wh.run(
            ["select 1", "select 2", "select * from nope"],
            None,
            database=None,
            transaction=True,
            control=RunControl(),
        )
    assert e.value.index == 2
    assert "nope" in e.value.message
    wh.close()


def test_a_duckdb_file_held_by_another_process_fails_the_statement(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "held.duckdb"
    # Another process holding the file: its sleep is how long it holds the lock (the test kills
    # it long before); nothing to await.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"c = duckdb.connect({str(path)!r})\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        wh = DuckDBWarehouse("w", str(path))  # resolving the name alone must not fail
        with pytest.raises(SqlError) as e:
            wh.run(["select 1"], None, database=None, transaction=False, control=RunControl())
        # Which file, which process holds it (DuckDB says), and what to do.
        assert f"the DuckDB file {path} is locked by another process (PID {holder.pid}:" in (
            e.value.message
        )
        assert "Stop that process" in e.value.message
        wh.close()
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
