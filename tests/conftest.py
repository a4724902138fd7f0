"""Shared fixtures: a fresh real PostgreSQL database per test, and a store URL per backend.

PostgreSQL tests skip on a laptop without a server, but fail in CI, where ``.ci/run`` sets
``ELTFLOW_REQUIRE_PG=1``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# CI explores the same examples on every run, so a landing never hinges on a lucky draw;
# developers' runs stay random and keep finding new cases.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

PG_ADMIN_URL = os.environ.get("ELTFLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
_pg_state: dict[str, str | None] = {}


def _pg_problem() -> str | None:
    if "problem" not in _pg_state:
        try:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, connect_timeout=3, autocommit=True):
                pass
            _pg_state["problem"] = None
        except Exception as e:
            _pg_state["problem"] = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {e}"
    return _pg_state["problem"]


def require_pg() -> None:
    problem = _pg_problem()
    if problem is None:
        return
    if os.environ.get("ELTFLOW_REQUIRE_PG"):
        pytest.fail(f"{problem} (ELTFLOW_REQUIRE_PG is set, so this is an error)")
    pytest.skip(problem)


def _with_db(url: str, dbname: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{dbname}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to a brand-new, empty PostgreSQL database, dropped after the test."""
    require_pg()
    import psycopg

    name = f"eltflow_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(PG_ADMIN_URL, name)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty state store, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url
