"""The named-query files: same names in both dialects, well-formed, bind parameters only."""

from __future__ import annotations

import re

import pytest

from eltflow.errors import StoreError
from eltflow.store.queries import load_queries, parse_queries, queries


def test_both_dialects_define_the_same_names() -> None:
    assert set(queries("sqlite")) == set(queries("postgres"))
    assert len(queries("sqlite")) > 20


@pytest.mark.parametrize("package", ["eltflow.store", "eltflow.scheduler"])
def test_dialects_override_only_where_they_differ(package: str) -> None:
    """One SQL style: a query is written once unless the dialects really need two texts."""
    sqlite, postgres = load_queries(package, "sqlite"), load_queries(package, "postgres")
    assert set(sqlite) == set(postgres)
    differing = {name for name in sqlite if sqlite[name] != postgres[name]}
    assert len(differing) < len(sqlite) // 3, differing


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_queries_use_named_bind_parameters_only(dialect: str) -> None:
    for name, sql in queries(dialect).items():
        assert "%(" not in sql and "?" not in sql, name
        assert not re.search(r"\{\w*\}", sql), f"{name} looks like a format template"


def test_parse_rejects_duplicates_and_empty_queries() -> None:
    with pytest.raises(StoreError, match="defined twice"):
        parse_queries("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;")
    with pytest.raises(StoreError, match="has no SQL"):
        parse_queries("-- name: a\n-- only a comment\n")
    assert parse_queries("-- name: a\n-- why\nSELECT 1;") == {"a": "SELECT 1"}
