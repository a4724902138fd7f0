"""A worker outlives its store failing: a real PostgreSQL outage (connections refused, every
session killed with pg_terminate_backend) and a SQLite write lock held past the busy timeout.
The worker backs off (the pause is injected: no real waiting), reports itself unhealthy, and
finishes the work once the store answers again."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import psycopg
from tests.conftest import PG_ADMIN_URL

from eltflow.app import build_app
from eltflow.clock import VirtualClock
from eltflow.runtime.worker import Backoff, Health

PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": True}}}


def _outage(dbname: str, *, on: bool) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS {"false" if on else "true"}')
        if on:
            admin.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s",
                (dbname,),
            )


def test_a_postgres_outage_does_not_end_the_worker(pg_url: str) -> None:
    dbname = pg_url.rsplit("/", 1)[1]
    app = build_app(state_url=pg_url, clock=VirtualClock())
    app.service.create_state_machine(name="m", definition=PASS)
    arn = str(app.service.start_execution(state_machine_arn="m")["executionArn"])
    pauses: list[float] = []
    health: list[Health] = []

    def pause(seconds: float) -> None:  # the outage ends during the third wait
        pauses.append(seconds)
        health.append(worker.health)
        if len(pauses) == 3:
            _outage(dbname, on=False)

    worker = app.worker(pause=pause, rng=random.Random(7), backoff=Backoff(first=1, cap=3))
    _outage(dbname, on=True)
    try:
        worker.run(until_idle=True)
    finally:
        _outage(dbname, on=False)
    assert app.service.describe_execution(execution_arn=arn)["status"] == "SUCCEEDED"
    assert len(pauses) == 3
    # Doubling, capped, each in the upper half of its step.
    assert 0.5 <= pauses[0] <= 1 and 1 <= pauses[1] <= 2 and 1.5 <= pauses[2] <= 3
    assert [h.failures for h in health] == [1, 2, 3] and not any(h.ok for h in health)
    assert "not currently accepting connections" in (health[-1].error or "")
    assert worker.health == Health()  # healthy again
    app.close()


def test_a_sqlite_lock_past_the_busy_timeout_does_not_end_the_worker(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = build_app(state_url=f"sqlite:///{path}", clock=VirtualClock())
    app.db.busy_timeout = 0.05  # applies to connections opened from now on
    app.db.close()
    app.service.create_state_machine(name="m", definition=PASS)
    arn = str(app.service.start_execution(state_machine_arn="m")["executionArn"])
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # e.g. a stuck process holding the write lock
    errors: list[str] = []

    def pause(seconds: float) -> None:
        errors.append(worker.health.error or "")
        if holder.in_transaction:
            holder.execute("ROLLBACK")

    worker = app.worker(pause=pause)
    worker.run(until_idle=True)
    holder.close()
    assert app.service.describe_execution(execution_arn=arn)["status"] == "SUCCEEDED"
    assert len(errors) == 1 and "database is locked" in errors[0]
    assert worker.health.ok
    app.close()
