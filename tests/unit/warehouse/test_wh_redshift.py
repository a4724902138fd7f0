"""The Redshift engine drives a boto3 ``redshift-data`` client. Here eltflow's own boto3-shaped
local client stands in for AWS (moto's is canned and never finishes a statement): these tests
prove the engine's logic, not botocore's wire format. The same engine over a real boto3 client
talking HTTP to eltflow's endpoint is tests/e2e/endpoint/test_endpoint_dataapi.py; against AWS
itself it is unverified."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from eltflow.config import Settings
from eltflow.dataapi import build_dataapi
from eltflow.dataapi.client import LocalRedshiftDataClient
from eltflow.store.db import Database
from eltflow.warehouse.base import RunControl, SqlError, StatementCancelled
from eltflow.warehouse.redshift_engine import RedshiftWarehouse


@pytest.fixture
def redshift(tmp_path: Path) -> Iterator[RedshiftWarehouse]:
    settings = Settings(
        project_dir=tmp_path,
        state_url=f"sqlite:///{tmp_path / 'state.db'}",
        warehouse_url=f"duckdb://{tmp_path / 'wh.duckdb'}",
    )
    db = Database(settings.state_url)
    service = build_dataapi(settings, db)
    rd = LocalRedshiftDataClient(service)
    yield RedshiftWarehouse(
        "prod", {"cluster_identifier": "prod-1", "database": "dev"}, client=rd, poll_seconds=0.005
    )
    service.close()
    db.close()


def test_runs_statements_and_reads_typed_results(redshift: RedshiftWarehouse) -> None:
    pids: list[int | None] = []
    (result,) = redshift.run(
        ["select :n::int * 2 as twice, 'x' as s, null::int as z"],
        {"n": "21"},
        database=None,
        transaction=False,
        control=RunControl(),
        on_started=lambda pid, _xact: pids.append(pid),
    )
    assert result.has_result_set
    assert [c.name for c in result.columns] == ["twice", "s", "z"]
    assert [c.type_name for c in result.columns] == ["int4", "varchar", "int4"]
    assert result.rows == [(42, "x", None)]
    assert len(pids) == 1


def test_transaction_is_a_batch_and_failures_name_the_statement(
    redshift: RedshiftWarehouse,
) -> None:
    control = RunControl()
    results = redshift.run(
        ["create table t (a int)", "insert into t values (1), (2)", "select count(*) from t"],
        None,
        database=None,
        transaction=True,
        control=control,
    )
    assert [r.has_result_set for r in results] == [False, False, True]
    assert results[1].row_count == 2
    assert results[2].rows == [(2,)]
    with pytest.raises(SqlError) as e:
        redshift.run(
            ["insert into t values (3)", "select * from nope"],
            None,
            database=None,
            transaction=True,
            control=RunControl(),
        )
    assert e.value.index == 1 and "nope" in e.value.message


def test_cancel_goes_through_cancel_statement(redshift: RedshiftWarehouse) -> None:
    control = RunControl()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            redshift.run(
                ["select count(*) from range(1000000000) a, range(1000000) b"],
                None,
                database=None,
                transaction=False,
                control=control,
                on_started=lambda _pid, _xact: started.set(),
            )
        except BaseException as e:
            errors.append(e)

    started = threading.Event()
    thread = threading.Thread(target=work)
    thread.start()
    assert started.wait(30), "the statement never started"
    control.cancel()
    thread.join(10)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], StatementCancelled)
