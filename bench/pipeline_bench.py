"""Reference pipeline benchmark (issue 6): what orchestration costs on a real load.

At a TPC-H scale factor (default 1) on the embedded DuckDB warehouse:

- *staging*: generating TPC-H (tpchgen-cli, cached per scale) and bulk-loading it;
- *pipeline*: one execution of the Lambda variant through the durable runtime (SQLite state,
  one worker), from StartExecution to SUCCEEDED: audit lock, the two dimension loads in a
  Parallel, the fact load, release, run history, notification;
- *direct*: the same load statements (the three SQL files, each file one transaction, in
  sequence) sent straight to DuckDB by a plain loop, translated by the same translator, no
  orchestration at all.

The overhead ratio is pipeline / direct. Runs alternate (direct, pipeline, direct, ...) so
neither side gets a warmer cache; the best of ``--repeat`` runs of each is reported.

Run with ``python -m bench.pipeline_bench [--pipeline-sf 1]`` (or as part of ``python -m bench``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import machine_note
from eltflow.app import build_app
from eltflow.config import load_settings
from eltflow.pipelines.reference import ReferenceConfig, settings_for, sql_statements
from eltflow.pipelines.reference.project import StagingReport, ensure_config, load_staging, prepare
from eltflow.warehouse.bulk import duckdb_path
from eltflow.warehouse.translate import translate

TARGET_OVERHEAD = 0.02
LOAD_FILES = ("load_supplier.sql", "load_customer.sql", "load_fact.sql")
# The Lambda variant's load states and the tables their statements are named after.
LOAD_STATES = {
    "LoadSupplierDim": "public.supplier",
    "LoadCustomerDim": "public.customer",
    "LoadFact": "public.fact_yearly_sale",
}


@dataclass(frozen=True)
class LoadTiming:
    """One load state of a pipeline run: the state's wall time vs its statement's."""

    state: str
    state_seconds: float
    statement_seconds: float

    @property
    def lag(self) -> float:
        """Time the state spent beyond its SQL: invocation plus the handler's polling."""
        return self.state_seconds - self.statement_seconds


@dataclass(frozen=True)
class DirectRun:
    seconds: float
    cpu_seconds: float  # of this process, all threads: DuckDB's work


@dataclass(frozen=True)
class PipelineRun:
    seconds: float
    cpu_seconds: float  # DuckDB's work plus everything the orchestration burns
    fact_rows: int
    loads: tuple[LoadTiming, ...]

    @property
    def critical_sql_seconds(self) -> float:
        """SQL time on the critical path: the slower dimension (they run together), then the
        fact. What is left of the wall time is orchestration, whatever the machine's load."""
        sql = {t.state: t.statement_seconds for t in self.loads}
        return max(sql["LoadSupplierDim"], sql["LoadCustomerDim"]) + sql["LoadFact"]

    @property
    def orchestration_seconds(self) -> float:
        return self.seconds - self.critical_sql_seconds


@dataclass(frozen=True)
class PipelineResult:
    scale_factor: float
    staging: StagingReport
    pipeline_runs: tuple[PipelineRun, ...]
    direct_runs: tuple[DirectRun, ...]

    @property
    def direct_seconds(self) -> tuple[float, ...]:
        return tuple(r.seconds for r in self.direct_runs)

    @property
    def pipeline_seconds(self) -> tuple[float, ...]:
        return tuple(r.seconds for r in self.pipeline_runs)

    @property
    def best_run(self) -> PipelineRun:
        return min(self.pipeline_runs, key=lambda r: r.seconds)

    @property
    def fact_rows(self) -> int:
        return self.best_run.fact_rows

    @property
    def pipeline(self) -> float:
        return self.best_run.seconds

    @property
    def direct(self) -> float:
        return min(self.direct_seconds)

    @property
    def overhead(self) -> float:
        """Extra wall time of the orchestrated run, as a fraction of the direct run."""
        return self.pipeline / self.direct - 1


def _duckdb_path(warehouse_url: str) -> str:
    if not warehouse_url.startswith("duckdb://"):
        raise SystemExit(f"the pipeline benchmark runs on DuckDB; warehouse is {warehouse_url}")
    return duckdb_path(warehouse_url)


def run_direct(path: str) -> DirectRun:
    """The load statements straight through DuckDB, each file one transaction, in sequence."""
    import duckdb

    batches = [
        [s for sql in sql_statements(name) for s in translate(sql, "duckdb").statements]
        for name in LOAD_FILES
    ]
    con = duckdb.connect(path)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        for batch in batches:
            con.execute("BEGIN TRANSACTION")
            for stmt in batch:
                con.execute(stmt)
            con.execute("COMMIT")
        return DirectRun(time.perf_counter() - started, time.process_time() - cpu)
    finally:
        con.close()


def run_pipeline(project_dir: Path, config: ReferenceConfig, name: str) -> PipelineRun:
    """One Lambda-variant execution, start to SUCCEEDED, timed; then where its time went."""
    settings = load_settings(project_dir, environ={})
    app = build_app(settings)
    try:
        arn = prepare(app, config)["stateMachineArn"]
        worker = app.worker(threads=8)
        started, cpu = time.perf_counter(), time.process_time()
        out = app.service.start_execution(
            state_machine_arn=arn, input=json.dumps({"JobID": config.job_id}), name=name
        )
        worker.run(until_idle=True)
        desc = app.service.describe_execution(execution_arn=str(out["executionArn"]))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if desc["status"] != "SUCCEEDED":
            raise AssertionError(f"pipeline run {name}: {desc['status']} {desc.get('cause')}")
        result = json.loads(str(desc["output"]))
        if result.get("outcome") != "SUCCEEDED":
            raise AssertionError(f"pipeline run {name} did not load: {result}")
        loads = _load_timings(app, str(out["executionArn"]))
    finally:
        app.close()
    return PipelineRun(seconds, cpu, int(result["fact"]["rows"]), loads)


def _load_timings(app: Any, execution_arn: str) -> tuple[LoadTiming, ...]:
    """Each load state's entered -> exited time next to its statement's created -> updated."""
    events = app.service.get_execution_history(execution_arn=execution_arn, max_results=1000)
    entered: dict[str, datetime] = {}
    exited: dict[str, datetime] = {}
    for e in events["events"]:
        at = datetime.fromisoformat(e["timestamp"])
        if "stateEnteredEventDetails" in e:
            entered[e["stateEnteredEventDetails"]["name"]] = at
        elif "stateExitedEventDetails" in e:
            exited[e["stateExitedEventDetails"]["name"]] = at
    dataapi = app.dataapi
    out = []
    for state, table in LOAD_STATES.items():
        listed = dataapi.call(
            "ListStatements", {"StatementName": f"load {table}", "MaxResults": 100}
        )["Statements"]
        # The statement this run's state submitted: the latest one named after the table.
        latest = max(listed, key=lambda st: str(st["CreatedAt"]))
        sql_seconds = (_at(latest["UpdatedAt"]) - _at(latest["CreatedAt"])).total_seconds()
        state_seconds = (exited[state] - entered[state]).total_seconds()
        out.append(LoadTiming(state, state_seconds, sql_seconds))
    return tuple(out)


def _at(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def bench(scale_factor: float, *, repeat: int = 2, folder: Path | None = None) -> PipelineResult:
    with tempfile.TemporaryDirectory() as tmp:
        project_dir = folder or Path(tmp) / "project"
        ensure_config(project_dir)
        settings = load_settings(project_dir, environ={})
        config = settings_for(settings)
        staging = load_staging(settings, config, scale_factor)
        path = _duckdb_path(settings.warehouse_url)
        # Targets exist and hold a first load before timing starts, so both sides time the same
        # steady-state upsert + rebuild.
        run_pipeline(project_dir, config, f"warm-up-{time.strftime('%Y%m%dT%H%M%S')}")
        pipeline: list[PipelineRun] = []
        direct: list[DirectRun] = []
        stamp = time.strftime("%Y%m%dT%H%M%S")
        for i in range(repeat):
            direct.append(run_direct(path))
            pipeline.append(run_pipeline(project_dir, config, f"bench-{stamp}-{i}"))
        return PipelineResult(scale_factor, staging, tuple(pipeline), tuple(direct))


def render(r: PipelineResult) -> str:
    rows = sum(r.staging.rows.values())
    b = r.best_run
    lines = [
        f"Reference pipeline at TPC-H SF {r.scale_factor:g} on DuckDB (best of "
        f"{len(r.pipeline_seconds)}):",
        f"  staging: generate {r.staging.seconds_generate:.2f} s (cached per scale), "
        f"bulk load {r.staging.seconds_load:.2f} s ({rows:,} rows)",
        f"  pipeline (Lambda variant, durable runtime, start -> SUCCEEDED): {r.pipeline:.3f} s "
        f"(runs: {', '.join(f'{s:.3f}' for s in r.pipeline_seconds)})",
        f"  same SQL straight to DuckDB, in sequence:                      {r.direct:.3f} s "
        f"(runs: {', '.join(f'{s:.3f}' for s in r.direct_seconds)})",
        f"  orchestration overhead: x{r.pipeline / r.direct:.3f} ({r.overhead:+.1%}); "
        f"target <= {TARGET_OVERHEAD:.0%}: {'MET' if r.overhead <= TARGET_OVERHEAD else 'NOT MET'}",
        f"  CPU seconds of this process (best runs): pipeline {r.best_run.cpu_seconds:.3f}, "
        f"direct {min(r.direct_runs, key=lambda d: d.seconds).cpu_seconds:.3f}",
        f"  fact rows: {r.fact_rows}",
        f"  best pipeline run: SQL on the critical path {b.critical_sql_seconds:.3f} s, "
        f"orchestration {b.orchestration_seconds:.3f} s "
        f"({b.orchestration_seconds / b.critical_sql_seconds:+.1%} of its own SQL time)",
        "  where the best pipeline run's load states spent their time (state / its SQL / lag):",
    ]
    lines += [
        f"    {t.state:<16} {t.state_seconds:.3f} s / {t.statement_seconds:.3f} s / {t.lag:+.3f} s"
        for t in r.best_run.loads
    ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.pipeline_bench", description=__doc__)
    p.add_argument(
        "--pipeline-sf",
        type=float,
        default=1.0,
        help="TPC-H scale factor of the pipeline benchmark (default 1)",
    )
    p.add_argument("--repeat", type=int, default=2, help="timed runs of each side (default 2)")
    p.add_argument(
        "--dir",
        type=Path,
        help="project folder to use (keeps the generated TPC-H data); default: a temporary one",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.pipeline_sf <= 0 or args.repeat < 1:
        _parser().error("--pipeline-sf must be positive and --repeat at least 1")
    print(f"\n{machine_note()}")
    print(render(bench(args.pipeline_sf, repeat=args.repeat, folder=args.dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
