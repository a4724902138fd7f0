"""SQL against the state database is written as named queries in ``.sql`` files, never as text
in Python outside ``store/``: an AST check of the other packages (DESIGN.md §5,
docs/ARCHITECTURE.md "Where SQL lives"). The runtime store, the local services and stacks/ keep
theirs in ``store/sql/*.sql`` (one group each), the scheduler in ``scheduler/sql/*.sql``, each
with per-dialect overrides where the dialects differ, so no module branches on the dialect.

A module outside the exempt packages is reported for

- a string (a literal, an f-string's text, literals joined with ``+``) that names a table of the
  state database (one the migrations create) where SQL names a table: ``FROM sns_topics``,
  ``INTO item_rows``, ``UPDATE dataapi_statements``, ...;
- a string shaped as a SQL statement (``SELECT ... FROM``, ``INSERT INTO``, ``UPDATE t SET``,
  ``DELETE FROM``, ``CREATE TABLE`` / ``INDEX``, ``ALTER TABLE``, ``DROP TABLE``), unless the
  module is one whose SQL runs on the user's warehouse (:data:`WAREHOUSE_SQL`);
- a comparison with a ``dialect`` (``db.dialect == "postgres"``): a query that differs per
  dialect is written once per dialect in the store's SQL files instead.

    python -m tests.state_sql [SRC_ROOT]     # SRC_ROOT holds the eltflow package; default: src

exits 1 and prints ``path:line:col: what`` for each finding.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.source_check import Finding, run

# store/ owns the state database's SQL; warehouse/'s SQL is the user's warehouse (its engines
# have dialects of their own).
EXEMPT_PACKAGES = ("store", "warehouse")

# Modules outside warehouse/ whose SQL runs on the user's warehouse, not on the state database.
WAREHOUSE_SQL = {
    "dataapi/catalog.py": "the Data API's catalog calls read the warehouse's information_schema",
    "pipelines/reference/__init__.py": "the reference pipeline's run history, in the warehouse",
    "pipelines/reference/demo.py": "the demo breaks and repairs a warehouse table",
    "pipelines/reference/warehouse_lock.py": "the job lock is a warehouse table",
    "pipelines/scaffold/handlers/check_counts.py": "a user's handler counts a warehouse table",
}

_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.I | re.M)
_STATEMENT = re.compile(
    r"""^\s*(?:
        SELECT\s.*\bFROM\s+[\w{"]
      | INSERT\s+INTO\s+[\w{"]
      | UPDATE\s+[\w{}"]+\s+SET\s
      | DELETE\s+FROM\s+[\w{"]
      | CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX|VIEW)\s
      | ALTER\s+TABLE\s
      | DROP\s+(?:TABLE|INDEX|VIEW)\s
    )""",
    re.I | re.S | re.X,
)
# Lower-case SQL counts when it has SQL punctuation: "select the rows from the list" is prose.
_PUNCTUATION = re.compile(r"[:*,(=;]|\{\}")
_HOLE = "{}"  # what an f-string's interpolation (or a name joined with +) reads as


def state_tables(src_root: Path) -> frozenset[str]:
    """The tables the state store's migrations create (both dialects create the same)."""
    folder = src_root / "eltflow" / "store" / "migrations" / "sqlite"
    names: set[str] = set()
    for script in sorted(folder.glob("*.sql")):
        names.update(m.lower() for m in _TABLE.findall(script.read_text(encoding="utf-8")))
    return frozenset(names)


def _text(node: ast.expr) -> str | None:
    """The text of a string expression: a literal, an f-string's literal parts around its
    holes, or such parts joined with ``+``; None for anything else."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        parts = [v.value if isinstance(v, ast.Constant) else _HOLE for v in node.values]
        return "".join(str(p) for p in parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        if left is None and right is None:
            return None
        return (left or _HOLE) + (right or _HOLE)
    return None


def _strings(tree: ast.AST) -> Iterator[tuple[ast.expr, str]]:
    """Each outermost string expression with its text (parts of a longer one are not repeated)."""
    inner: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.expr) or id(node) in inner:
            continue
        text = _text(node)
        if text is None:
            continue
        inner.update(id(n) for n in ast.walk(node) if n is not node)
        yield node, text


def _is_statement(text: str) -> bool:
    if not _STATEMENT.match(text):
        return False
    return text.split()[0].isupper() or _PUNCTUATION.search(text) is not None


def _is_dialect(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "dialect") or (
        isinstance(node, ast.Name) and node.id == "dialect"
    )


def check_source(
    text: str, path: str, tables: frozenset[str], *, statements: bool = True
) -> list[Finding]:
    """Findings in one module; ``statements=False`` for a module whose SQL is the warehouse's."""
    tree = ast.parse(text, filename=path)
    named = re.compile(
        r"\b(?:FROM|INTO|UPDATE|JOIN|TABLE|EXISTS)\s+(" + "|".join(sorted(tables)) + r")\b",
        re.I,
    )
    found: list[Finding] = []
    for node, string in _strings(tree):
        table = named.search(string) if tables else None
        if table is not None:
            what = f"SQL on the state table {table.group(1)} (a named query in store/sql)"
            found.append(Finding(path, node.lineno, node.col_offset, what))
        elif statements and _is_statement(string):
            what = f"SQL statement text {string.strip()[:40]!r} (a named query in store/sql)"
            found.append(Finding(path, node.lineno, node.col_offset, what))
    for compare in ast.walk(tree):
        if isinstance(compare, ast.Compare) and any(
            _is_dialect(n) for n in (compare.left, *compare.comparators)
        ):
            what = "branches on the store's dialect (write the query per dialect in store/sql)"
            found.append(Finding(path, compare.lineno, compare.col_offset, what))
    return sorted(found, key=lambda f: (f.line, f.col))


def _files(src_root: Path) -> Iterator[tuple[Path, str]]:
    package = src_root / "eltflow"
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        if rel.split("/")[0] not in EXEMPT_PACKAGES:
            yield path, rel


def check_tree(src_root: Path) -> list[Finding]:
    """Every finding in the eltflow source under ``src_root``, outside the exempt packages."""
    tables = state_tables(src_root)
    found: list[Finding] = []
    for path, rel in _files(src_root):
        text = path.read_text(encoding="utf-8")
        statements = rel not in WAREHOUSE_SQL
        found.extend(check_source(text, f"eltflow/{rel}", tables, statements=statements))
    return found


def main(argv: list[str]) -> int:
    exempt = ", ".join(f"{p}/" for p in EXEMPT_PACKAGES)
    return run(
        "state_sql",
        argv,
        check_tree,
        failed=f"outside {exempt}",
        passed=f"no state-database SQL outside {exempt}",
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
