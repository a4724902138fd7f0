"""The named-query files: same names in both dialects, well-formed, bind parameters only; each
service's group holds exactly the queries its code runs."""

from __future__ import annotations

import ast
import re
from importlib import resources
from pathlib import Path

import pytest

from eltflow.errors import StoreError
from eltflow.store.queries import (
    COMMON,
    DIALECTS,
    load_queries,
    override_file,
    parse_queries,
    queries,
    service_queries,
)

SRC = Path(__file__).resolve().parents[3] / "src" / "eltflow"
# Each group of named queries besides the runtime store's and the schedules' (COMMON), with the
# code that runs it: the local services keep theirs in store/sql/<service>.sql, the scheduler
# its rules' in scheduler/sql/rules.sql.
RUNNERS = {
    ("eltflow.store", "dataapi"): "dataapi",
    ("eltflow.store", "items"): "items",
    ("eltflow.store", "lambdas"): "lambdas",
    ("eltflow.store", "notify"): "notify",
    ("eltflow.store", "stacks"): "stacks",
    ("eltflow.scheduler", "rules"): "scheduler/rules.py",
}
PACKAGES = ("eltflow.store", "eltflow.scheduler")


def _groups(package: str) -> list[str]:
    """``package``'s query groups: every sql/*.sql that is not a dialect's override file."""
    names = [f.name for f in resources.files(package).joinpath("sql").iterdir()]
    overrides = {f"{d}.sql" for d in DIALECTS} | {n for n in names if n.count(".") == 2}
    groups = [n for n in names if n.endswith(".sql") and n not in overrides]
    return sorted(n.removesuffix(".sql") for n in groups)


ALL_GROUPS = [(package, group) for package in PACKAGES for group in _groups(package)]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_group_is_common_or_has_its_runner(package: str) -> None:
    runners = [group for p, group in RUNNERS if p == package]
    assert _groups(package) == sorted([COMMON, *runners])


def test_both_dialects_define_the_same_names() -> None:
    assert set(queries("sqlite")) == set(queries("postgres"))
    assert len(queries("sqlite")) > 20


@pytest.mark.parametrize(("package", "group"), ALL_GROUPS)
def test_dialects_override_only_where_they_differ(package: str, group: str) -> None:
    """One SQL style: a query is written once unless the dialects really need two texts."""
    sqlite, postgres = (load_queries(package, d, group) for d in DIALECTS)
    assert set(sqlite) == set(postgres)
    differing = {name for name in sqlite if sqlite[name] != postgres[name]}
    assert len(differing) < max(2, len(sqlite) // 3), differing


@pytest.mark.parametrize(("package", "group"), ALL_GROUPS)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_queries_use_named_bind_parameters_only(package: str, group: str, dialect: str) -> None:
    for name, sql in load_queries(package, dialect, group).items():
        assert "%(" not in sql and "?" not in sql, name
        assert not re.search(r"\{\w*\}", sql), f"{name} looks like a format template"


def _used(code: str) -> set[str]:
    """The query names the package or module ``code`` runs: ``....q["name"]`` subscripts."""
    used: set[str] = set()
    root = SRC / code
    for path in [root] if root.is_file() else sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "q"
                and isinstance(node.slice, ast.Constant)
            ):
                used.add(str(node.slice.value))
    return used


@pytest.mark.parametrize(("package", "group"), sorted(RUNNERS))
def test_a_group_is_exactly_the_queries_its_code_runs(package: str, group: str) -> None:
    """No name the code asks for is missing (a KeyError at run time), none is left unused."""
    assert _used(RUNNERS[package, group]) == set(load_queries(package, "sqlite", group))
    if package == "eltflow.store":
        assert service_queries(group, "postgres") == load_queries(package, "postgres", group)


def test_override_files_are_named_per_group() -> None:
    assert override_file(COMMON, "postgres") == "postgres.sql"
    assert override_file("items", "sqlite") == "items.sqlite.sql"


def test_an_unknown_dialect_is_refused_not_run_without_its_overrides() -> None:
    with pytest.raises(StoreError, match="no SQL dialect 'postgresql'"):
        load_queries("eltflow.store", "postgresql", "items")


def test_parse_rejects_duplicates_and_empty_queries() -> None:
    with pytest.raises(StoreError, match="defined twice"):
        parse_queries("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;")
    with pytest.raises(StoreError, match="has no SQL"):
        parse_queries("-- name: a\n-- only a comment\n")
    assert parse_queries("-- name: a\n-- why\nSELECT 1;") == {"a": "SELECT 1"}
