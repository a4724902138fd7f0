"""PostgreSQL: a Data API statement whose process died is settled from the server, never guessed
(issue 17, defect 7) — committed: FINISHED; rolled back: run again by a live instance, once —
and a statement can be cancelled from another process.

Each test runs the statement in a child process (``kill -9`` is real) against a real PostgreSQL
warehouse, with the state store on a SQLite file both processes share. The statement updates a
row the test holds locked, so it is known to be running on the server, waiting, when the child
dies: no timing is guessed. Recovery runs in the test's own Data API instance, on a liveness
clock the test moves past the child's heartbeat.

Before the change a lone statement ran in autocommit: the server finished and committed it after
the child died while the Data API reported FAILED, and a retry doubled it.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from tests.support.wait import wait_until

from eltflow.clock import VirtualClock
from eltflow.config import Settings
from eltflow.dataapi import DataApiService, build_dataapi
from eltflow.dataapi.liveness import RESTARTED
from eltflow.dataapi.model import Statement, Status
from eltflow.dataapi.service import MAX_RUN_US, DataApiOptions
from eltflow.store.db import Database

# The child submits the statement, waits until it is recorded STARTED (its SQL is then on the
# server), prints its id, then either waits to be killed or waits for the end and prints it.
CHILD = textwrap.dedent(
    """
    import json, sys, threading
    from pathlib import Path
    from eltflow.config import Settings
    from eltflow.dataapi import build_dataapi
    from eltflow.store.db import Database
    from tests.support.wait import wait_until

    state, warehouse, sql, mode = sys.argv[1:5]
    settings = Settings(project_dir=Path("."), state_url=state, warehouse_url=warehouse)
    service = build_dataapi(settings, Database(state))
    sid = service.execute_statement({"Sql": sql, "ClusterIdentifier": "dw"})["Id"]
    wait_until(
        lambda: service.repo.get(sid).status.value == "STARTED",
        what="the statement to be recorded STARTED",
    )
    print(json.dumps({"Id": sid}), flush=True)
    if mode == "hold":
        threading.Event().wait()  # until killed
    desc = service.describe_statement({"Id": sid, "WaitTimeSeconds": 30})
    print(json.dumps({"Status": desc["Status"]}), flush=True)
    service.close()
    """
)


@dataclass
class World:
    settings: Settings
    pg_url: str
    lock: psycopg.Connection[Any]  # holds the row the statement updates
    children: list[subprocess.Popen[str]]

    def count(self) -> int:
        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            row = conn.execute("select n from gate").fetchone()
        assert row is not None
        return int(row[0])

    def child(self, mode: str) -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD,
                self.settings.state_url,
                self.settings.warehouse_url or "",
                "update gate set n = n + 1",
                mode,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        self.children.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            proc.wait(10)
            pytest.fail(f"the child ended early: {proc.stderr.read() if proc.stderr else ''}")
        return proc, str(json.loads(line)["Id"])

    def backend_gone(self, pid: int) -> bool:
        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            row = conn.execute("select count(*) from pg_stat_activity where pid = %s", (pid,))
            found = row.fetchone()
        return found is not None and found[0] == 0

    def recovering_service(self) -> tuple[DataApiService, VirtualClock]:
        """Another live instance on the same store, whose liveness clock the test moves."""
        liveness = VirtualClock(datetime.now(UTC))
        service = build_dataapi(
            self.settings, Database(self.settings.state_url), liveness_clock=liveness
        )
        return service, liveness


@pytest.fixture
def world(pg_url: str, tmp_path: Path) -> Iterator[World]:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("create table gate (n int)")
        conn.execute("insert into gate values (0)")
    settings = Settings(
        project_dir=tmp_path, state_url=f"sqlite:///{tmp_path / 'state.db'}", warehouse_url=pg_url
    )
    lock = psycopg.connect(pg_url)  # not autocommit: the lock lasts until commit
    lock.execute("select n from gate for update")
    world = World(settings=settings, pg_url=pg_url, lock=lock, children=[])
    yield world
    lock.close()
    for proc in world.children:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def _expire(service: DataApiService, liveness: VirtualClock) -> None:
    liveness.advance(DataApiOptions().heartbeat_seconds * 3 + 1)


def test_a_statement_running_when_its_process_dies_is_rolled_back_then_run_again_once(
    world: World,
) -> None:
    proc, sid = world.child("hold")
    _kill(proc)  # the update waits on the row lock, on the server, with no client left
    service, liveness = world.recovering_service()
    try:
        pid = service.repo.get(sid).redshift_pid  # type: ignore[union-attr]
        assert pid is not None
        assert service.recover() == 0  # the child's heartbeat is still trusted
        _expire(service, liveness)
        assert service.recover() == 1
        # Run again only once the server had ended the dead run: its update can never apply.
        assert world.backend_gone(pid)

        def started_again() -> Statement | None:
            stored = service.repo.get(sid)
            return stored if stored is not None and stored.status is Status.STARTED else None

        stored = wait_until(started_again, what="the statement to run again (waiting on the row)")
        assert stored.owner == service.instance and stored.redshift_pid != pid
        world.lock.commit()
        desc = service.describe_statement({"Id": sid, "WaitTimeSeconds": 30})
        assert desc["Status"] == "FINISHED" and "Error" not in desc
        assert world.count() == 1  # the dead run's update rolled back, the new one applied
        assert service.recover() == 0
    finally:
        service.close()


def test_a_dead_process_statement_too_old_to_run_again_is_failed(world: World) -> None:
    """A query runs for 24 hours at most: an older orphan is reported, not run again."""
    proc, sid = world.child("hold")
    _kill(proc)
    service, liveness = world.recovering_service()
    try:
        later = VirtualClock(datetime.now(UTC))
        later.advance(MAX_RUN_US / 1_000_000 + 1)
        service.clock = later  # a day after the statement was submitted
        _expire(service, liveness)
        assert service.recover() == 1
        desc = service.describe_statement({"Id": sid})
        assert (desc["Status"], desc["Error"]) == ("FAILED", RESTARTED)
        world.lock.commit()
        assert world.count() == 0
    finally:
        service.close()


def test_a_statement_that_committed_before_its_process_died_is_finished(world: World) -> None:
    proc, sid = world.child("hold")
    state = Path(world.settings.state_url.removeprefix("sqlite:///"))
    holder = sqlite3.connect(state, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the child cannot record the end...
    try:
        world.lock.commit()  # ...of the update, which now runs and commits on the server
        wait_until(lambda: world.count() == 1, what="the update to commit")
        _kill(proc)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    service, liveness = world.recovering_service()
    try:
        assert service.describe_statement({"Id": sid})["Status"] == "STARTED"
        _expire(service, liveness)
        assert service.recover() == 1
        desc = service.describe_statement({"Id": sid})
        assert desc["Status"] == "FINISHED" and "Error" not in desc
        assert world.count() == 1  # once: nothing to retry
    finally:
        service.close()


def test_a_statement_is_cancelled_from_another_process(world: World) -> None:
    proc, sid = world.child("finish")
    service, _ = world.recovering_service()
    try:
        assert service.cancel_statement({"Id": sid}) == {"Status": True}
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert json.loads(line) == {"Status": "ABORTED"}, proc.stderr.read() if proc.stderr else ""
        assert proc.wait(30) == 0
        assert service.describe_statement({"Id": sid})["Status"] == "ABORTED"
        world.lock.commit()
        assert world.count() == 0
    finally:
        service.close()
