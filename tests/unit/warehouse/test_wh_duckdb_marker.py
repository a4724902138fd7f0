"""DuckDB's commit markers (issue 17): a statement the Data API runs in a transaction records its
id in the same transaction, so once its process died another process can tell whether it
committed (``DuckDBWarehouse.settle``). A real ``kill -9`` of a child process, on a real file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from eltflow.dataapi import catalog
from eltflow.warehouse.base import INTERNAL_SCHEMA, Outcome, RunControl, ServerRun, SqlError
from eltflow.warehouse.duckdb_engine import _FORGET_BATCH, DuckDBWarehouse

# Runs one INSERT to its end, then dies after a second INSERT ran and before its COMMIT;
# prints each run's ServerRun as it starts.
CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    from eltflow.warehouse.base import RunControl
    from eltflow.warehouse.duckdb_engine import DuckDBWarehouse

    wh = DuckDBWarehouse("dw", sys.argv[1])

    def started(sid):
        def on_started(pid, xact):
            print(json.dumps({"id": sid, "pid": pid, "xact": xact}), flush=True)
        return on_started

    def die(index, result):
        os.kill(os.getpid(), signal.SIGKILL)

    for sid, value, on_statement in (("committed", 1, None), ("in-flight", 2, die)):
        wh.run(
            [f"insert into public.t values ({value})"], None, database=None,
            transaction=False, control=RunControl(), on_started=started(sid),
            on_statement=on_statement, statement_id=sid,
        )
    """
)


def _run(wh: DuckDBWarehouse, sql: str, sid: str | None, *, batch: bool = False) -> ServerRun:
    seen: list[ServerRun] = []
    wh.run(
        sql.split(" ;; ") if batch else [sql],
        None,
        database=None,
        transaction=batch,
        control=RunControl(),
        on_started=lambda pid, xact: seen.append(ServerRun(pid=pid, xact=xact, statement_id=sid)),
        statement_id=sid,
    )
    return seen[0]


def _marks(wh: DuckDBWarehouse) -> list[str]:
    rows = _run_rows(wh, f"select statement_id from {INTERNAL_SCHEMA}.commits order by 1")
    return [str(r[0]) for r in rows]


def _run_rows(wh: DuckDBWarehouse, sql: str) -> list[tuple[object, ...]]:
    return wh.run([sql], None, database=None, transaction=False, control=RunControl())[0].rows


@pytest.fixture
def wh(tmp_path: Path) -> DuckDBWarehouse:
    wh = DuckDBWarehouse("dw", str(tmp_path / "w.duckdb"))
    _run(wh, "create table public.t (v int)", None)
    return wh


def test_a_process_killed_before_commit_is_told_from_one_that_committed(
    wh: DuckDBWarehouse, tmp_path: Path
) -> None:
    wh.close()  # the child owns the file now
    child = subprocess.run(
        [sys.executable, "-c", CHILD, wh.path],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    runs = {
        r["id"]: ServerRun(pid=r["pid"], xact=r["xact"], statement_id=r["id"])
        for r in map(json.loads, child.stdout.splitlines())
    }
    assert all(run.xact is not None for run in runs.values())  # both carried a marker
    after = DuckDBWarehouse("dw", wh.path)
    try:
        assert after.settle(runs["committed"]) is Outcome.COMMITTED
        assert after.settle(runs["in-flight"]) is Outcome.ABORTED
        assert _run_rows(after, "select v from public.t") == [(1,)]  # the marker told true
    finally:
        after.close()


def test_a_failed_statement_or_batch_leaves_no_marker(wh: DuckDBWarehouse) -> None:
    for sql, batch in (
        ("insert into public.t values ('not a number')", False),
        ("insert into public.t values (1) ;; insert into public.missing values (2)", True),
    ):
        run = ServerRun(pid=None, xact=1, statement_id="failed")
        with pytest.raises(SqlError):
            _run(wh, sql, "failed", batch=batch)
        assert wh.settle(run) is Outcome.ABORTED
    assert _run_rows(wh, "select count(*) from public.t") == [(0,)]


def test_what_runs_outside_a_transaction_is_unmarked_and_unknown(wh: DuckDBWarehouse) -> None:
    for sql in ("select 1", "checkpoint", "show tables"):
        run = _run(wh, sql, sql)
        assert run.xact is None, sql
        assert wh.settle(run) is Outcome.UNKNOWN
    # A text that commits midway is not one transaction: one marker cannot tell its fate.
    midway = _run(
        wh, "insert into public.t values (1); commit; insert into public.t values (2)", "m"
    )
    assert midway.xact is None
    assert _run(wh, "create table public.c as select 1 as v", "ctas").xact is not None
    assert _marks(wh) == ["ctas"]


def test_forgotten_markers_go_in_batches_with_a_marked_run(wh: DuckDBWarehouse) -> None:
    ids = [f"s{i:03}" for i in range(_FORGET_BATCH)]
    for sid in ids:
        _run(wh, "insert into public.t values (1)", sid)
        wh.forget(sid)
    assert _marks(wh) == ids  # no write of their own, and not one delete per run
    _run(wh, "insert into public.t values (2)", "next")
    assert _marks(wh) == ["next"]
    wh.forget("next")
    wh.close()  # ...or at close
    assert _marks(wh) == []


def test_the_markers_are_not_in_the_catalog(wh: DuckDBWarehouse) -> None:
    _run(wh, "insert into public.t values (1)", "shown?")
    request = {"ClusterIdentifier": "dw", "Database": "dev"}
    assert INTERNAL_SCHEMA not in catalog.list_schemas(wh, request)["Schemas"]
    tables = catalog.list_tables(wh, request)["Tables"]
    assert [t["schema"] for t in tables if t["name"] == "commits"] == []
    columns = catalog.describe_table(wh, {**request, "Schema": "%", "Table": "commits"})
    assert columns["ColumnList"] == []
