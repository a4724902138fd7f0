"""Closing the Data API (``eltflow worker --until-idle`` exiting, ``serve`` shutting down)
drains what was submitted instead of cancelling it: fire-and-forget statements such as the
pipeline's run-history INSERT land. Only what is still running after ``drain_seconds`` is
cancelled, and it is recorded ABORTED, never left STARTED."""

from __future__ import annotations

from tests.integration.dataapi.dataapi_harness import Harness

from eltflow.config import Settings
from eltflow.dataapi import build_dataapi
from eltflow.store.db import Database


def _slow_insert(engine: str, n: int) -> str:
    if engine == "duckdb":
        return f"insert into runs select {n} from (select count(*) from range(20000000))"
    return f"insert into runs select {n} from pg_sleep(0.05)"


def test_close_lets_submitted_statements_finish(dataapi: Harness) -> None:
    dataapi.run("create table runs (n integer)")
    # More than the pool's workers, so some are still queued when close() is called.
    ids = [dataapi.submit(_slow_insert(dataapi.engine, n)) for n in range(10)]
    dataapi.service.close()

    db = Database(dataapi.settings.state_url)
    with build_dataapi(dataapi.settings, db) as again:
        statuses = [again.describe_statement({"Id": sid})["Status"] for sid in ids]
        assert statuses == ["FINISHED"] * 10
        reopened = Harness(again, dataapi.engine, dataapi.settings)
        assert sorted(r[0]["longValue"] for r in reopened.rows("select n from runs")) == list(
            range(10)
        )
    db.close()


def test_close_cancels_what_outlives_the_drain_and_records_it(dataapi: Harness) -> None:
    given = dataapi.settings
    settings = Settings(
        project_dir=given.project_dir,
        state_url=given.state_url,
        warehouse_url=given.warehouse_url,
        raw={"dataapi": {"drain_seconds": 0.2}},
    )
    dataapi.service.close()
    db = Database(settings.state_url)
    service = build_dataapi(settings, db)
    sid = str(
        service.execute_statement({"Sql": dataapi.long_query(), "ClusterIdentifier": "dw"})["Id"]
    )
    service.close()  # returns once the drain bound has passed and the query is cancelled
    with build_dataapi(settings, db) as again:
        assert again.describe_statement({"Id": sid})["Status"] == "ABORTED"
    db.close()
