"""The warehouse-lock variant end to end, on DuckDB and on PostgreSQL.

The audit lock is a row of ``public.etl_job_audit`` taken with one conditional UPDATE through
the Data API; these tests check it loads what the Lambda variant loads, that a held lock ends a
run quietly (recorded), that concurrent starts load once, and that a failure marks the row.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from tests.support.wait import wait_until

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.integrations.base import TaskRequest
from eltflow.pipelines import jobs
from eltflow.pipelines.reference import ReferenceConfig, settings_for, warehouse_lock
from eltflow.pipelines.reference import project as reference_project
from eltflow.runtime.engine import SimulatedCrash
from eltflow.types import JSON

SF = 0.01


@dataclass
class Project:
    app: App
    config: ReferenceConfig
    lambda_arn: str
    lock_arn: str
    dir: Path

    def sql(self, text: str) -> list[dict[str, Any]]:
        assert self.app.dataapi is not None
        return jobs.query(
            self.app.dataapi,
            text,
            cluster=self.config.cluster,
            database=self.config.database,
        )

    def execute(self, text: str, **params: str) -> dict[str, Any]:
        return warehouse_lock.execute(self.app.dataapi, self.config, text, params)

    def start(self, name: str, machine_arn: str | None = None) -> str:
        out = self.app.service.start_execution(
            state_machine_arn=machine_arn or self.lock_arn,
            input=json.dumps({"JobID": self.config.job_id}),
            name=name,
        )
        return str(out["executionArn"])

    def run(self, threads: int = 16) -> None:
        self.app.worker(threads=threads).run(until_idle=True)

    def describe(self, arn: str) -> dict[str, Any]:
        out: dict[str, Any] = self.app.service.describe_execution(execution_arn=arn)
        return out

    def entered(self, arn: str) -> list[str]:
        out = self.app.service.get_execution_history(execution_arn=arn, max_results=25000)
        events = cast(list[dict[str, Any]], out["events"])
        return [
            e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
        ]

    def outputs(self, arn: str, state: str) -> list[dict[str, Any]]:
        """The outputs ``state`` exited with, in order."""
        out = self.app.service.get_execution_history(execution_arn=arn, max_results=25000)
        events = cast(list[dict[str, Any]], out["events"])
        return [
            cast(dict[str, Any], json.loads(e["stateExitedEventDetails"]["output"]))
            for e in events
            if e.get("stateExitedEventDetails", {}).get("name") == state
        ]

    def row(self) -> dict[str, Any]:
        row = warehouse_lock.lock_row(self.app.dataapi, self.config)
        assert row is not None
        return row

    def outcomes(self) -> dict[str, int]:
        # Run-history inserts are fire-and-forget statements: give a late one a moment.

        def enough() -> list[dict[str, int]] | None:
            rows = self.sql(
                "SELECT outcome, COUNT(*) AS n FROM public.etl_run_history GROUP BY outcome"
            )
            got = {str(r["outcome"]): int(r["n"]) for r in rows}
            return [got] if sum(got.values()) >= self.expected_runs else None

        return wait_until(enough, 30, what=f"{self.expected_runs} run-history rows")[0]

    expected_runs: int = 0


def _open(project_dir: Path, toml_extra: str = "") -> Iterator[Project]:
    reference_project.ensure_config(project_dir)
    if toml_extra:
        path = project_dir / "eltflow.toml"
        path.write_text(toml_extra + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings(project_dir, environ={})
    config = settings_for(settings)
    reference_project.load_staging(settings, config, SF)
    app = build_app(settings)
    try:
        lambda_arn = reference_project.prepare(app, config)["stateMachineArn"]
        lock_arn = warehouse_lock.prepare(app, config)["stateMachineArn"]
        yield Project(app, config, lambda_arn, lock_arn, project_dir)
    finally:
        app.close()


@pytest.fixture(params=["duckdb", "postgres"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Project]:
    extra = ""
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        extra = f'state = "{url}"\nwarehouse = "{url}"\n'
    yield from _open(tmp_path / "project", extra)


def _snapshot(project: Project) -> list[list[dict[str, Any]]]:
    """Both dimensions and the fact, without load timestamps."""
    out = []
    for table, order in (
        ("public.supplier", "s_suppkey"),
        ("public.customer", "c_custkey"),
        ("public.fact_yearly_sale", "order_year, supplier_nation, customer_nation"),
    ):
        rows = project.sql(f"SELECT * FROM {table} ORDER BY {order}")
        out.append([{k: v for k, v in r.items() if k != "loaded_at"} for r in rows])
    return out


def _hold_lock(project: Project, lease_until: str) -> None:
    project.execute(
        "UPDATE public.etl_job_audit SET job_state = 'Running', lease_until = :lease, "
        "run_arn = 'another-run' WHERE job_id = :job_id",
        lease=lease_until,
        job_id=project.config.job_id,
    )


def test_setup_creates_a_ready_row_once(project: Project) -> None:
    _hold_lock(project, "2999-01-01T00:00:00.000Z")
    warehouse_lock.prepare(project.app, project.config)  # again: the live lock is left alone
    assert project.row()["job_state"] == "Running"
    assert project.sql("SELECT COUNT(*) AS n FROM public.etl_job_audit")[0]["n"] == 1


def test_loads_the_same_tables_as_the_lambda_variant(project: Project) -> None:
    arn = project.start("lock-run")
    project.run()
    desc = project.describe(arn)
    assert desc["status"] == "SUCCEEDED", desc
    output = json.loads(desc["output"])
    assert output["outcome"] == "SUCCEEDED"
    by_lock = _snapshot(project)
    assert len(by_lock[1]) == int(150_000 * SF) and len(by_lock[0]) == int(10_000 * SF)
    row = project.row()
    assert row["job_state"] == "Ready" and row["run_arn"] == arn
    assert row["lease_until"] is None and row["job_start"] <= row["job_end"]
    # The Lambda variant (item-table lock) over the same staging gives identical tables.
    other = project.start("lambda-run", project.lambda_arn)
    project.run()
    assert project.describe(other)["status"] == "SUCCEEDED"
    assert _snapshot(project) == by_lock
    project.expected_runs = 2
    assert project.outcomes() == {"SUCCEEDED": 2}


def test_a_run_while_the_lock_is_held_ends_quietly_and_is_recorded(project: Project) -> None:
    _hold_lock(project, "2999-01-01T00:00:00.000Z")
    arn = project.start("while-held")
    project.run()
    desc = project.describe(arn)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"])["outcome"] == "SKIPPED"
    assert "LoadDimensions" not in project.entered(arn)
    project.expected_runs = 1
    assert project.outcomes() == {"SKIPPED": 1}
    assert project.sql("SELECT COUNT(*) AS n FROM public.customer")[0]["n"] == 0
    assert project.row()["run_arn"] == "another-run"  # untouched


def test_an_expired_lease_is_taken_over(project: Project) -> None:
    _hold_lock(project, "2000-01-01T00:00:00.000Z")
    arn = project.start("after-crash")
    project.run()
    assert json.loads(project.describe(arn)["output"])["outcome"] == "SUCCEEDED"
    assert project.row()["job_state"] == "Ready"


def test_acquire_lock_is_idempotent_across_a_crash(project: Project) -> None:
    """Killed after the lock's UPDATE committed but before its statement id was recorded, the
    resumed run submits the UPDATE again: it must match the row this run already holds
    (ResultRows 1), not skip and leave the job Running for the whole lease."""
    resource = "arn:aws:states:::aws-sdk:redshiftdata:executeStatement"
    real = project.app.registry.resolve(resource)
    assert real is not None
    dataapi = project.app.dataapi
    assert dataapi is not None

    def update_then_die(request: TaskRequest) -> JSON:
        if request.state_name != "AcquireLock":
            return real(request)
        # Submitted, but the statement id never checkpointed: the resumed task resubmits.
        out = real(dataclasses.replace(request, checkpoint=None))
        assert isinstance(out, dict)
        jobs.wait_statement(dataapi, str(out["Id"]), timeout=30)  # committed
        raise SimulatedCrash  # as a kill -9 right after it

    project.app.registry.add(resource, update_then_die)
    arn = project.start("crashed")
    with pytest.raises(SimulatedCrash):
        project.app.worker(lease_seconds=0.2).run(until_idle=True)
    assert project.row()["job_state"] == "Running"
    project.app.registry.add(resource, real)
    project.run()  # a new worker, once the dead one's lease lapses

    assert json.loads(project.describe(arn)["output"])["outcome"] == "SUCCEEDED"
    row = project.row()
    assert row["job_state"] == "Ready" and row["run_arn"] == arn
    project.expected_runs = 1
    assert project.outcomes() == {"SUCCEEDED": 1}


def test_twenty_concurrent_starts_load_exactly_once(project: Project) -> None:
    arns: list[str] = []
    lock = threading.Lock()

    def start(i: int) -> None:
        arn = project.start(f"concurrent-{i}")
        with lock:
            arns.append(arn)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Enough task threads that every start reaches the lock while the winner is loading.
    project.run(threads=32)
    outcomes = [json.loads(project.describe(a)["output"])["outcome"] for a in arns]
    assert outcomes.count("SUCCEEDED") == 1 and outcomes.count("SKIPPED") == 19
    loads = sum(project.entered(a).count("LoadDimensions") for a in arns)
    assert loads == 1
    project.expected_runs = 20
    assert project.outcomes() == {"SUCCEEDED": 1, "SKIPPED": 19}
    assert project.row()["job_state"] == "Ready"


def test_a_fact_failure_marks_the_row_failed_and_notifies(project: Project) -> None:
    dataapi = project.app.dataapi
    reference_project.run_batch(
        dataapi, project.config, ["ALTER TABLE staging.orders RENAME TO orders_missing"]
    )
    arn = project.start("broken")
    project.run()
    desc = project.describe(arn)
    assert desc["status"] == "FAILED"
    assert "FactRetryStatementFailed" in project.entered(arn)
    row = project.row()
    assert row["job_state"] == "Failed" and row["run_arn"] == arn
    assert "orders" in row["job_error"]
    log = project.dir / ".eltflow" / "notifications.jsonl"
    notes = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert any("LoadFact" in json.dumps(n) for n in notes)
    project.expected_runs = 1
    assert project.outcomes() == {"FAILED": 1}
    # While Failed, the next run skips instead of loading over the broken state.
    skipped = project.start("while-failed")
    project.run()
    assert json.loads(project.describe(skipped)["output"])["outcome"] == "SKIPPED"

    # The fix, then the seed's manual repair (the row back to Ready): the next run loads.
    # (A redrive would re-enter the Fail state that ended this run, as on AWS.)
    reference_project.run_batch(
        dataapi, project.config, ["ALTER TABLE staging.orders_missing RENAME TO orders"]
    )
    project.execute(
        "UPDATE public.etl_job_audit SET job_state = 'Ready', lease_until = NULL, "
        "job_error = NULL WHERE job_id = :job_id",
        job_id=project.config.job_id,
    )
    again = project.start("after-repair")
    project.run()
    assert json.loads(project.describe(again)["output"])["outcome"] == "SUCCEEDED"
    assert project.row()["job_state"] == "Ready"
    assert project.sql("SELECT COUNT(*) AS n FROM public.fact_yearly_sale")[0]["n"] > 0


def test_a_duckdb_write_conflict_on_the_lock_counts_as_not_won(tmp_path: Path) -> None:
    # DuckDB's concurrency is optimistic: an UPDATE of a row another open transaction has
    # changed fails with "Conflict on update" instead of waiting. The definition reads that
    # as "another run is taking the lock", i.e. not won. Hold such a transaction open here:
    # another run's acquiring UPDATE, not yet committed.
    import duckdb

    for project in _open(tmp_path / "project"):
        path = project.dir / ".eltflow" / "warehouse.duckdb"
        project.sql("SELECT 1 AS one")  # the warehouse is open in this process
        other = duckdb.connect(str(path))  # the same database instance, another connection
        try:
            other.execute("BEGIN TRANSACTION")
            other.execute(
                "UPDATE public.etl_job_audit SET job_state = 'Running', run_arn = 'another-run' "
                "WHERE job_id = $id",
                {"id": project.config.job_id},
            )
            arn = project.start("conflicted")
            project.run()
        finally:
            other.execute("ROLLBACK")
            other.close()
        desc = project.describe(arn)
        assert desc["status"] == "SUCCEEDED", desc
        assert json.loads(desc["output"])["outcome"] == "SKIPPED"
        described = [o["lockStatus"] for o in project.outputs(arn, "DescribeLock")]
        assert [d["Status"] for d in described] == ["FAILED"]
        assert "Conflict on update" in described[0]["Error"]
        assert project.row()["job_state"] == "Ready"  # nothing taken, nothing left behind
