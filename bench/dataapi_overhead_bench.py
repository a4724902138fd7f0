"""Data API round-trip overhead (``python -m bench.dataapi_overhead_bench``): submit ``select 1``
and describe until FINISHED, on DuckDB.

The target is under 2 ms per statement on an idle machine; 25 ms is the gross-regression line.
This was a test with a timed assertion (it failed on a loaded machine and proved nothing on a
fast one); it is a measurement, so it lives here.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from eltflow.config import Settings
from eltflow.dataapi import build_dataapi
from eltflow.store.db import Database

ROUNDS = 300
REGRESSION_MS = 25.0


def select_one_median_ms(folder: Path) -> float:
    settings = Settings(
        project_dir=folder,
        state_url=f"sqlite:///{folder / 'state.db'}",
        warehouse_url=f"duckdb://{folder / 'wh.duckdb'}",
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
    return statistics.median(times) * 1000


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        median_ms = select_one_median_ms(Path(tmp))
    verdict = "ok" if median_ms < REGRESSION_MS else "REGRESSED"
    print(
        f"Data API select 1 round trip on DuckDB: median {median_ms:.2f} ms over {ROUNDS} {verdict}"
    )
    return 0 if median_ms < REGRESSION_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
