"""Statements are durable: after a restart DescribeStatement and GetStatementResult still answer,
and a statement whose process was killed while it ran is settled from its warehouse: run again
when nothing of it committed (PostgreSQL's commit log, DuckDB's commit marker), FAILED with a
clear Error when the warehouse cannot tell (tests/integration/dataapi/test_dataapi_process_death.py,
tests/unit/warehouse/test_wh_duckdb_marker.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from tests.integration.dataapi.dataapi_harness import Harness
from tests.support.wait import wait_until

from eltflow.clock import VirtualClock
from eltflow.dataapi import build_dataapi
from eltflow.dataapi.model import Statement, Status
from eltflow.dataapi.service import DataApiOptions
from eltflow.store.db import Database


def test_finished_statement_answers_after_restart(dataapi: Harness) -> None:
    desc = dataapi.run("select 'kept' as v")
    batch = dataapi.wait(dataapi.batch(["select 1", "select 2"]))
    dataapi.service.close()
    db = Database(dataapi.settings.state_url)
    with build_dataapi(dataapi.settings, db) as again:
        after = again.describe_statement({"Id": desc["Id"]})
        assert after == desc
        result = again.get_statement_result({"Id": desc["Id"]})
        assert result["Records"] == [[{"stringValue": "kept"}]]
        assert again.describe_statement({"Id": batch["Id"]}) == batch
        second = again.get_statement_result({"Id": f"{batch['Id']}:2"})
        assert second["Records"] == [[{"longValue": 2}]]
    db.close()


CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    from pathlib import Path
    from eltflow.config import Settings
    from eltflow.dataapi import build_dataapi
    from eltflow.store.db import Database
    from tests.support.wait import wait_until

    state, warehouse, sql = sys.argv[1:4]
    settings = Settings(project_dir=Path("."), state_url=state, warehouse_url=warehouse)
    service = build_dataapi(settings, Database(state))
    sid = service.execute_statement({"Sql": sql, "ClusterIdentifier": "dw"})["Id"]
    # The stored row, not the live view: the parent must see STARTED after the kill.
    wait_until(
        lambda: service.repo.get(sid).status.value == "STARTED",
        what="the statement to be recorded STARTED",
    )
    print(json.dumps({"Id": sid}), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _long_write(dataapi: Harness) -> str:
    """A statement that writes and runs for far longer than any test waits."""
    if dataapi.engine == "duckdb":
        return "create table long_t as select count(*) as n from range(1000000000), range(1000000)"
    return "create table long_t as select 1 as n from pg_sleep(30)"


def test_statement_running_when_the_process_dies_is_run_again_on_restart(
    dataapi: Harness,
) -> None:
    dataapi.service.close()  # the child owns the warehouse file now
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            dataapi.settings.state_url,
            dataapi.settings.warehouse_url,
            _long_write(dataapi),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    sid = json.loads(child.stdout.strip().splitlines()[-1])["Id"]
    db = Database(dataapi.settings.state_url)
    # Liveness runs on a clock the test moves: right after the kill the child's heartbeat is
    # still trusted (it might be alive), and once its TTL has passed the statement is settled:
    # its transaction never committed (PostgreSQL's server rolled it back when the process
    # died, asked with pg_xact_status; DuckDB's file has no commit marker for it), so this live
    # instance runs it again, under the same id, as AWS runs a statement whatever became of
    # its client.
    liveness = VirtualClock(datetime.now(UTC))
    with build_dataapi(dataapi.settings, db, liveness_clock=liveness) as again:
        assert again.describe_statement({"Id": sid})["Status"] == "STARTED"
        liveness.advance(DataApiOptions().heartbeat_seconds * 3 + 1)
        assert again.recover() == 1
        wait_until(
            lambda: again.describe_statement({"Id": sid})["Status"] == "STARTED",
            what="the statement to run again",
        )
        assert again.repo.get(sid).owner == again.instance  # type: ignore[union-attr]
        assert again.recover() == 0
        again.cancel_statement({"Id": sid})
        assert again.describe_statement({"Id": sid, "WaitTimeSeconds": 10})["Status"] == "ABORTED"
    db.close()


def test_a_live_service_keeps_its_statements_when_another_starts(dataapi: Harness) -> None:
    """Two processes share a store (``eltflow serve`` and ``eltflow sql``): starting the second
    must not fail what the first is running."""
    sid = dataapi.submit(dataapi.long_query())
    wait_until(
        lambda: dataapi.service.describe_statement({"Id": sid})["Status"] == "STARTED",
        what="the statement to start",
    )
    db = Database(dataapi.settings.state_url)
    with build_dataapi(dataapi.settings, db) as other:
        assert other.recover() == 0
        assert other.describe_statement({"Id": sid})["Status"] == "STARTED"
    db.close()
    dataapi.service.cancel_statement({"Id": sid})
    assert dataapi.wait(sid)["Status"] == "ABORTED"


def test_started_is_stored_before_this_process_shows_it(dataapi: Harness) -> None:
    """The order that keeps another process from reading SUBMITTED for a statement this one
    already shows as STARTED: while the STARTED row is being written, this process still
    answers the earlier status (the store write is held open on an event, not timed)."""
    writing, release = threading.Event(), threading.Event()
    seen: list[str] = []
    store_update = dataapi.service.repo.update

    def held_update(statements: Sequence[Statement]) -> None:
        if statements[0].status is Status.STARTED and not writing.is_set():
            writing.set()
            release.wait(30)
        store_update(statements)

    dataapi.service.repo.update = held_update  # type: ignore[method-assign]
    sid = dataapi.submit("select 1")
    assert writing.wait(30)
    seen.append(dataapi.service.describe_statement({"Id": sid})["Status"])
    release.set()
    assert dataapi.wait(sid)["Status"] == "FINISHED"
    assert seen == ["PICKED"]
