"""The reference pipeline end to end, on DuckDB and on PostgreSQL, with the real generator.

Scale factor 0.01 keeps each run to a second or two while still exercising every path.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from tests.support.wait import wait_until

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.integrations.base import TaskRequest
from eltflow.pipelines import jobs
from eltflow.pipelines.reference import ReferenceConfig, definition, settings_for
from eltflow.pipelines.reference.project import (
    ensure_config,
    load_staging,
    prepare,
    run_batch,
)
from eltflow.runtime.engine import SimulatedCrash
from eltflow.types import JSON

SF = 0.01


@dataclass
class Project:
    app: App
    config: ReferenceConfig
    machine_arn: str
    dir: Path

    def sql(self, text: str) -> list[dict[str, Any]]:
        assert self.app.dataapi is not None
        return jobs.query(
            self.app.dataapi,
            text,
            cluster=self.config.cluster,
            database=self.config.database,
        )

    def run_history(self, rows: int, order: str = "started_at") -> list[str]:
        """Outcomes in run history once ``rows`` rows are there: the pipeline writes them with
        a fire-and-forget ExecuteStatement, so the last may land just after the execution ends."""

        def enough() -> list[list[str]] | None:
            got = self.sql(f"SELECT outcome FROM public.etl_run_history ORDER BY {order}")
            outcomes = [str(r["outcome"]) for r in got]
            return [outcomes] if len(outcomes) >= rows else None  # wrapped: [] is an answer

        return wait_until(enough, 30, what=f"{rows} run-history rows", interval=0.05)[0]

    def start(self, name: str, machine_arn: str | None = None) -> str:
        out = self.app.service.start_execution(
            state_machine_arn=machine_arn or self.machine_arn,
            input=json.dumps({"JobID": self.config.job_id}),
            name=name,
        )
        return str(out["executionArn"])

    def run(self, threads: int = 16) -> None:
        self.app.worker(threads=threads).run(until_idle=True)

    def describe(self, arn: str) -> dict[str, Any]:
        out: dict[str, Any] = self.app.service.describe_execution(execution_arn=arn)
        return out

    def history(self, arn: str) -> list[dict[str, Any]]:
        out = self.app.service.get_execution_history(execution_arn=arn, max_results=25000)
        events = cast(list[dict[str, Any]], out["events"])
        return events

    def job(self) -> dict[str, Any]:
        assert self.app.items is not None
        rows = [
            j for j in jobs.list_jobs(self.app.items) if str(j.get("JobID")) == self.config.job_id
        ]
        return rows[0]


def _open(project_dir: Path, toml_extra: str = "") -> Iterator[Project]:
    ensure_config(project_dir)
    if toml_extra:
        path = project_dir / "eltflow.toml"
        path.write_text(toml_extra + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings(project_dir, environ={})
    config = settings_for(settings)
    load_staging(settings, config, SF)
    app = build_app(settings)
    try:
        prepared = prepare(app, config)
        yield Project(app, config, prepared["stateMachineArn"], project_dir)
    finally:
        app.close()


@pytest.fixture(params=["duckdb", "postgres"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Project]:
    extra = ""
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        extra = f'state = "{url}"\nwarehouse = "{url}"\n'
    yield from _open(tmp_path / "project", extra)


def _table(project: Project, name: str, order: str) -> list[dict[str, Any]]:
    return project.sql(f"SELECT * FROM {name} ORDER BY {order}")


def _fact(project: Project) -> list[dict[str, Any]]:
    rows = _table(
        project, "public.fact_yearly_sale", "order_year, supplier_nation, customer_nation"
    )
    return [{k: v for k, v in r.items() if k != "loaded_at"} for r in rows]


def _dims(project: Project) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return (
        _table(project, "public.supplier", "s_suppkey"),
        _table(project, "public.customer", "c_custkey"),
    )


def test_a_run_loads_tpch_counts_and_exact_revenue(project: Project) -> None:
    arn = project.start("first")
    project.run()
    desc = project.describe(arn)
    assert desc["status"] == "SUCCEEDED", desc
    assert json.loads(desc["output"])["outcome"] == "SUCCEEDED"
    counts = {
        r["t"]: int(r["n"])
        for r in project.sql(
            "SELECT 'customer' AS t, COUNT(*) AS n FROM public.customer "
            "UNION ALL SELECT 'supplier', COUNT(*) FROM public.supplier"
        )
    }
    assert counts == {"customer": int(150_000 * SF), "supplier": int(10_000 * SF)}
    fact_total = project.sql("SELECT SUM(revenue) AS r FROM public.fact_yearly_sale")[0]["r"]
    staging_total = project.sql(
        "SELECT SUM(l_extendedprice * (1 - l_discount)) AS r FROM staging.lineitem"
    )[0]["r"]
    assert Decimal(str(fact_total)) == Decimal(str(staging_total))
    assert project.job()["JobState"] == "Ready"
    assert project.run_history(1) == ["SUCCEEDED"]


def test_a_second_run_gives_identical_tables(project: Project) -> None:
    project.start("one")
    project.run()
    before = (_dims_no_ts(project), _fact(project))
    arn = project.start("two")
    project.run()
    assert project.describe(arn)["status"] == "SUCCEEDED"
    assert (_dims_no_ts(project), _fact(project)) == before


def _dims_no_ts(project: Project) -> tuple[list[dict[str, Any]], ...]:
    return tuple(
        [{k: v for k, v in r.items() if k != "loaded_at"} for r in rows] for rows in _dims(project)
    )


def test_a_run_while_the_lock_is_held_ends_quietly_and_is_recorded(project: Project) -> None:
    # Another run holds the lock with a live lease.
    assert project.app.items is not None
    project.app.items.call(
        "UpdateItem",
        {
            "TableName": project.config.audit_table,
            "Key": {"JobID": {"S": project.config.job_id}},
            "UpdateExpression": "SET JobState = :r, LeaseUntil = :l",
            "ExpressionAttributeValues": {
                ":r": {"S": "Running"},
                ":l": {"S": "2999-01-01T00:00:00.000Z"},
            },
        },
    )
    arn = project.start("while-held")
    project.run()
    desc = project.describe(arn)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"])["outcome"] == "SKIPPED"
    entered = {
        e["stateEnteredEventDetails"]["name"]
        for e in project.history(arn)
        if "stateEnteredEventDetails" in e
    }
    assert "LoadDimensions" not in entered
    assert project.run_history(1) == ["SKIPPED"]
    assert project.sql("SELECT COUNT(*) AS n FROM public.customer")[0]["n"] == 0


@pytest.mark.parametrize("variant", ["lambda", "sdk"])
def test_acquire_lock_is_idempotent_across_a_crash(project: Project, variant: str) -> None:
    """Killed after AcquireLock's conditional update committed but before its result was
    recorded, the run re-does the update on resume: it must find the lock its own, not
    skip and leave the job Running for the whole lease."""
    machine = project.machine_arn
    if variant == "sdk":
        text = definition("sdk", project.config)
        machine = str(
            project.app.service.create_state_machine(name="elt-sdk", definition=text)[
                "stateMachineArn"
            ]
        )
    resource = "arn:aws:states:::dynamodb:updateItem"
    real = project.app.registry.resolve(resource)
    assert real is not None

    def update_then_die(request: TaskRequest) -> JSON:
        out = real(request)
        if request.state_name == "AcquireLock":
            raise SimulatedCrash  # as a kill -9 right after the write
        return out

    project.app.registry.add(resource, update_then_die)
    arn = project.start("crashed", machine)
    with pytest.raises(SimulatedCrash):
        project.app.worker(lease_seconds=0.2).run(until_idle=True)
    assert project.job()["JobState"] == "Running"
    project.app.registry.add(resource, real)
    project.run()  # a new worker, once the dead one's lease lapses

    desc = project.describe(arn)
    assert desc["status"] == "SUCCEEDED", desc
    assert json.loads(desc["output"])["outcome"] == "SUCCEEDED"
    assert project.job()["JobState"] == "Ready"
    assert project.run_history(1) == ["SUCCEEDED"]
    assert project.sql("SELECT COUNT(*) AS n FROM public.supplier")[0]["n"] == int(10_000 * SF)


def test_run_history_is_written_before_the_data_api_closes(project: Project) -> None:
    """The pipeline's run-history INSERT is fire-and-forget: a worker that exits right after
    the last execution ends (``--until-idle``) must not abort it by closing the Data API."""
    assert project.app.items is not None and project.app.dataapi is not None
    project.app.items.call(
        "UpdateItem",
        {
            "TableName": project.config.audit_table,
            "Key": {"JobID": {"S": project.config.job_id}},
            "UpdateExpression": "SET JobState = :r, LeaseUntil = :l",
            "ExpressionAttributeValues": {
                ":r": {"S": "Running"},
                ":l": {"S": "2999-01-01T00:00:00.000Z"},
            },
        },
    )
    for n in range(5):
        project.start(f"skipped-{n}")
    project.run()
    project.app.dataapi.close()  # as the process exits
    settings = load_settings(project.dir, environ={})
    again = build_app(settings)
    try:
        assert again.dataapi is not None
        rows = jobs.query(
            again.dataapi,
            "SELECT outcome FROM public.etl_run_history",
            cluster=project.config.cluster,
            database=project.config.database,
        )
    finally:
        again.close()
    assert [r["outcome"] for r in rows] == ["SKIPPED"] * 5


def test_fifty_concurrent_starts_load_exactly_once(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eltflow.pipelines.reference import handlers

    # The winner's loads wait, as long loads would, until every other start has ended: a
    # start that only reached the lock after the winner finished would rightly find the job
    # Ready again, which is a second run, not a race.
    real_load = handlers.load_table
    others_ended = threading.Event()

    def long_load(event: dict[str, Any], context: Any) -> dict[str, Any]:
        others_ended.wait(timeout=120)
        return real_load(event, context)

    monkeypatch.setattr(handlers, "load_table", long_load)
    arns: list[str] = []
    lock = threading.Lock()

    def start(i: int) -> None:
        arn = project.start(f"concurrent-{i}")
        with lock:
            arns.append(arn)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    def watch() -> None:
        while not others_ended.is_set():
            ended = project.app.service.list_executions(status_filter="SUCCEEDED")
            if len(cast(list[Any], ended["executions"])) >= 49:
                others_ended.set()
            others_ended.wait(0.05)  # polls the store (no event for "49 succeeded"); ends when set

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    project.run(threads=64)
    others_ended.set()
    watcher.join()
    outcomes = [json.loads(project.describe(a)["output"])["outcome"] for a in arns]
    assert sorted(set(outcomes)) == ["SKIPPED", "SUCCEEDED"]
    assert outcomes.count("SUCCEEDED") == 1
    loads = sum(
        1
        for a in arns
        for e in project.history(a)
        if e.get("stateEnteredEventDetails", {}).get("name") == "LoadFact"
    )
    assert loads == 1
    recorded = project.run_history(50)
    assert {o: recorded.count(o) for o in set(recorded)} == {"SUCCEEDED": 1, "SKIPPED": 49}


def test_fact_failure_is_recorded_notified_and_redrive_completes_it(project: Project) -> None:
    project.start("good")
    project.run()
    fact_before = _fact(project)
    run_batch(
        project.app.dataapi,
        project.config,
        ["ALTER TABLE staging.orders RENAME TO orders_missing"],
    )
    arn = project.start("broken")
    project.run()
    desc = project.describe(arn)
    assert desc["status"] == "FAILED"
    assert _fact(project) == fact_before  # the failed rebuild rolled back
    dims_after_failure = _dims(project)
    job = project.job()
    assert job["JobState"] == "Failed" and "orders" in job["JobError"]
    log = project.dir / ".eltflow" / "notifications.jsonl"
    notes = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert any("LoadFact" in json.dumps(n) for n in notes)
    assert project.run_history(2) == ["SUCCEEDED", "FAILED"]

    run_batch(
        project.app.dataapi,
        project.config,
        ["ALTER TABLE staging.orders_missing RENAME TO orders"],
    )
    project.app.service.redrive_execution(execution_arn=arn)
    project.run()
    desc = project.describe(arn)
    assert desc["status"] == "SUCCEEDED" and desc["redriveCount"] == 1
    events = project.history(arn)
    redriven_at = next(i for i, e in enumerate(events) if e["type"] == "ExecutionRedriven")
    after = {
        e["stateEnteredEventDetails"]["name"]
        for e in events[redriven_at:]
        if "stateEnteredEventDetails" in e
    }
    assert {"LoadSupplierDim", "LoadCustomerDim", "LoadDimensions"}.isdisjoint(after)
    assert "RetryLoadFact" in after
    assert _dims(project) == dims_after_failure  # not reloaded by the redrive
    assert _fact(project) == fact_before
    assert project.job()["JobState"] == "Ready"


def test_both_definitions_give_identical_tables(tmp_path: Path) -> None:
    results = []
    for variant in ("lambda", "sdk"):
        for project in _open(tmp_path / variant):
            arn = project.machine_arn
            if variant == "sdk":
                out = project.app.service.create_state_machine(
                    name="reference-elt-sdk", definition=definition("sdk", project.config)
                )
                arn = str(out["stateMachineArn"])
            run = project.start(f"{variant}-run", arn)
            project.run()
            assert project.describe(run)["status"] == "SUCCEEDED", project.describe(run)
            results.append((_dims_no_ts(project), _fact(project)))
    assert results[0] == results[1]
