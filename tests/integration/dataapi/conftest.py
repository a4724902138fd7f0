"""Fixtures of the Data API suite: one service per warehouse engine (DuckDB, PostgreSQL).

``dataapi`` runs each test against the embedded DuckDB warehouse with a SQLite state store, and
against a real PostgreSQL warehouse with a PostgreSQL state store (the same fresh database).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.dataapi.dataapi_harness import Harness

from eltflow.config import Settings
from eltflow.dataapi import build_dataapi
from eltflow.store.db import Database


def make_settings(tmp_path: Path, state_url: str, warehouse_url: str) -> Settings:
    return Settings(project_dir=tmp_path, state_url=state_url, warehouse_url=warehouse_url)


@pytest.fixture(params=["duckdb", "postgres"])
def dataapi(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "duckdb":
        state = f"sqlite:///{tmp_path / 'state.db'}"
        warehouse = f"duckdb://{tmp_path / 'warehouse.duckdb'}"
    else:
        url: str = request.getfixturevalue("pg_url")
        state = warehouse = url
    settings = make_settings(tmp_path, state, warehouse)
    db = Database(settings.state_url)
    service = build_dataapi(settings, db)
    yield Harness(service, request.param, settings)
    service.close()
    db.close()
