"""Parallel dimension loads on PostgreSQL (issue 6): the reference pipeline's Parallel state
against the same two loads run one after the other.

- *parallel*: the pipeline's own ``LoadDimensions`` Parallel state (two Lambda-handler loads
  through the Data API), as a one-state machine on the durable runtime; its wall time is the
  state's entered -> exited time in history;
- *sequential*: ``load_supplier.sql`` then ``load_customer.sql`` sent straight to PostgreSQL by
  a plain loop, each file one transaction, translated by the same translator.

Needs a PostgreSQL server (``ELTFLOW_TEST_PG``, default the local one); it creates and drops a
scratch database. Run with ``python -m bench.parallel_dims_bench [--pg-sf 1]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from bench.common import machine_note
from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.pipelines import tpch
from eltflow.pipelines.reference import definition, settings_for, sql_statements
from eltflow.pipelines.reference.project import ensure_config, prepare
from eltflow.warehouse import bulk
from eltflow.warehouse.translate import translate

ADMIN_URL = os.environ.get("ELTFLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
DIM_FILES = ("load_supplier.sql", "load_customer.sql")


@contextmanager
def scratch_database() -> Iterator[str]:
    import psycopg

    name = f"eltflow_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.rpartition("/")[0] + f"/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def dims_machine(config_definition: str) -> str:
    """The reference definition's LoadDimensions Parallel state, alone."""
    whole = json.loads(config_definition)
    state = dict(whole["States"]["LoadDimensions"])
    for key in ("Catch", "Next", "ResultPath"):
        state.pop(key, None)
    state["End"] = True
    return json.dumps({"StartAt": "LoadDimensions", "States": {"LoadDimensions": state}})


def run_parallel(app: App, machine_arn: str, name: str) -> float:
    out = app.service.start_execution(state_machine_arn=machine_arn, input="{}", name=name)
    arn = str(out["executionArn"])
    app.worker(threads=8).run(until_idle=True)
    desc = app.service.describe_execution(execution_arn=arn)
    if desc["status"] != "SUCCEEDED":
        raise AssertionError(f"{name}: {desc['status']} {desc.get('cause')}")
    events = app.service.get_execution_history(execution_arn=arn)["events"]
    assert isinstance(events, list)
    times = {
        str(e["type"]): datetime.fromisoformat(str(e["timestamp"]))
        for e in events
        if isinstance(e, dict) and e["type"] in ("ParallelStateEntered", "ParallelStateExited")
    }
    return (times["ParallelStateExited"] - times["ParallelStateEntered"]).total_seconds()


def run_sequential(url: str) -> float:
    import psycopg

    batches = [
        [s for sql in sql_statements(f) for s in translate(sql, "postgres").statements]
        for f in DIM_FILES
    ]
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        for batch in batches:
            with conn.transaction(), conn.cursor() as cur:
                for stmt in batch:
                    cur.execute(stmt)
        return time.perf_counter() - started


def bench(scale_factor: float, repeat: int) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory() as tmp, scratch_database() as url:
        project = Path(tmp) / "project"
        ensure_config(project)
        path = project / "eltflow.toml"
        path.write_text(
            f'state = "{url}"\nwarehouse = "{url}"\n' + path.read_text(encoding="utf-8"),
            encoding="utf-8",
        )
        settings = load_settings(project, environ={})
        config = settings_for(settings)
        files = tpch.generate(
            Path(tempfile.gettempdir()) / f"eltflow-tpch-sf{scale_factor:g}", scale_factor
        )
        for table in ("nation", "supplier", "customer"):
            bulk.load_parquet(url, "staging", table, files[table])
        app = build_app(settings)
        try:
            prepare(app, config)
            machine = app.service.create_state_machine(
                name="reference-dims", definition=dims_machine(definition("lambda", config))
            )["stateMachineArn"]
            run_parallel(app, str(machine), "warm-up")  # targets hold a first load
            parallel, sequential = [], []
            for i in range(repeat):
                sequential.append(run_sequential(url))
                parallel.append(run_parallel(app, str(machine), f"run-{i}"))
            return parallel, sequential
        finally:
            app.close()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.parallel_dims_bench", description=__doc__)
    p.add_argument("--pg-sf", type=float, default=1.0, help="TPC-H scale factor (default 1)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs of each side (default 3)")
    args = p.parse_args(argv)
    if args.pg_sf <= 0 or args.repeat < 1:
        p.error("--pg-sf must be positive and --repeat at least 1")
    parallel, sequential = bench(args.pg_sf, args.repeat)
    best_p, best_s = min(parallel), min(sequential)
    print(f"\nDimension loads on PostgreSQL at TPC-H SF {args.pg_sf:g} ({machine_note()}):")
    print(
        f"  Parallel state (two Lambda loads at once): {best_p:.3f} s "
        f"(runs: {', '.join(f'{s:.3f}' for s in parallel)})"
    )
    print(
        f"  the two loads one after the other, direct:  {best_s:.3f} s "
        f"(runs: {', '.join(f'{s:.3f}' for s in sequential)})"
    )
    print(f"  parallel / sequential: x{best_p / best_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
