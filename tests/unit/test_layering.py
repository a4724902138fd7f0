"""Imports go one way (DESIGN.md §2): the pure layers import nothing with I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "eltflow"

# layer -> eltflow packages it may import
ALLOWED: dict[str, set[str]] = {
    "asl": {"asl", "errors", "types"},
    "interpreter": {"asl", "interpreter", "errors", "types"},
    "store": {"store", "errors", "types"},
    "warehouse": {"warehouse", "store", "errors", "types", "config", "clock"},
    "scheduler": {"scheduler", "errors", "types", "clock", "store", "runtime", "config"},
}
FORBIDDEN_IN_PURE = {"time", "datetime.datetime.now", "sqlite3", "psycopg", "duckdb", "threading"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    folder = SRC / layer
    bad = []
    for path in folder.rglob("*.py"):
        for name in _imports(path):
            if name.startswith("eltflow."):
                top = name.split(".")[1]
                if top not in ALLOWED[layer]:
                    bad.append(f"{path.relative_to(SRC)} imports {name}")
            elif layer in {"asl", "interpreter"} and name.split(".")[0] in FORBIDDEN_IN_PURE:
                bad.append(f"{path.relative_to(SRC)} imports {name} (pure layer)")
    assert bad == []
