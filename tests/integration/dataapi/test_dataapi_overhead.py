"""Data API round-trip overhead: submit ``select 1`` and describe until FINISHED, on DuckDB.

The target is under 2 ms per statement on an idle machine; this test only guards against
gross regressions (a shared 2-core CI machine is far from idle) and prints the measurement.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from eltflow.config import Settings
from eltflow.dataapi import build_dataapi
from eltflow.store.db import Database

ROUNDS = 300


def test_select_one_round_trip(tmp_path: Path) -> None:
    settings = Settings(
        project_dir=tmp_path,
        state_url=f"sqlite:///{tmp_path / 'state.db'}",
        warehouse_url=f"duckdb://{tmp_path / 'wh.duckdb'}",
    )
    db = Database(settings.state_url)
    request = {"Sql": "select 1", "ClusterIdentifier": "dw", "Database": "dev"}
    with build_dataapi(settings, db) as service:

        def once() -> float:
            started = time.perf_counter()
            sid = service.execute_statement(request)["Id"]
            while service.describe_statement({"Id": sid})["Status"] != "FINISHED":
                pass
            return time.perf_counter() - started

        for _ in range(30):  # warm up: imports, translation cache, connections
            once()
        times = [once() for _ in range(ROUNDS)]
    db.close()
    median_ms = statistics.median(times) * 1000
    print(f"Data API select 1 round trip on DuckDB: median {median_ms:.2f} ms over {ROUNDS}")
    assert median_ms < 25
