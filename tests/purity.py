"""The pure core reads no clock, never sleeps and does no I/O: an AST check of ``asl/`` and
``interpreter/`` (docs/ARCHITECTURE.md).

The import contracts (``lint-imports``) catch ``import os``; this catches what needs no new
import, such as ``datetime.now()`` where ``datetime`` is already imported for parsing, and any
name bound to a forbidden function however it was imported or aliased.

    python -m tests.purity [SRC_ROOT]     # SRC_ROOT holds the eltflow package; default: src

exits 1 and prints ``path:line:col: what`` for each finding.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.source_check import Finding, run

PURE_PACKAGES = ("asl", "interpreter")

# Reading the clock: the time reaches the pure core as a value, never from the system.
CLOCK = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.monotonic_ns",
        "time.perf_counter",
        "time.perf_counter_ns",
        "time.process_time",
        "time.process_time_ns",
        "time.thread_time",
        "time.localtime",
        "time.gmtime",
        "time.ctime",
        "time.asctime",
    }
)
SLEEP = frozenset({"time.sleep", "asyncio.sleep", "threading.Event.wait"})
# Any use of these modules is I/O, concurrency or process state.
IO_MODULES = frozenset(
    {
        "asyncio",
        "boto3",
        "botocore",
        "duckdb",
        "glob",
        "http",
        "httpx",
        "importlib",
        "io",
        "logging",
        "multiprocessing",
        "os",
        "pathlib",
        "psycopg",
        "secrets",
        "select",
        "shutil",
        "signal",
        "socket",
        "sqlite3",
        "subprocess",
        "sys",
        "tempfile",
        "threading",
        "time",
        "urllib",
    }
)
IO_BUILTINS = frozenset({"open", "print", "input", "breakpoint", "exec", "eval", "__import__"})
# Randomness comes only from the seeded random.Random the interpreter passes in, so a replay
# draws the same numbers; uuid.UUID(int=rng.getrandbits(128)) is fine, uuid4() is not.
HIDDEN_RANDOM = frozenset({"uuid.uuid1", "uuid.uuid4", "random.SystemRandom"})
RANDOM_ALLOWED = frozenset({"random.Random"})


def _aliases(nodes: list[ast.AST]) -> dict[str, str]:
    """Local name -> the dotted name it stands for, from every import in the module."""
    names: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    names[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _bound(nodes: list[ast.AST]) -> set[str]:
    """Names the module binds itself (parameters, assignments, defs): ``input`` as a parameter
    name is not the builtin."""
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
    return names


def _dotted(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """``a.b.c`` with ``a`` replaced by what it was imported as; None if not a plain chain."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    head = aliases.get(node.id)
    if head is None:
        # Not imported: a builtin (open, print) or a local name.
        return node.id if not parts and node.id in IO_BUILTINS else None
    return ".".join([head, *reversed(parts)])


def _classify(name: str, call: ast.Call | None) -> str | None:
    if name in CLOCK:
        return f"reads the clock ({name})"
    if name in SLEEP:
        return f"sleeps ({name})"
    if name in IO_BUILTINS:
        return f"does I/O ({name}())"
    top = name.split(".")[0]
    if top in IO_MODULES:
        return f"does I/O or reads process state ({name})"
    if name in HIDDEN_RANDOM:
        return f"draws unseeded randomness ({name})"
    if name == "random.Random" and call is not None and not call.args and not call.keywords:
        return "draws unseeded randomness (random.Random() without a seed)"
    if top == "random" and name != "random" and name not in RANDOM_ALLOWED:
        return f"draws unseeded randomness ({name}: use the random.Random passed in)"
    return None


def check_source(text: str, path: str) -> list[Finding]:
    nodes = list(ast.walk(ast.parse(text, filename=path)))
    aliases = _aliases(nodes)
    # A builtin counts only where it is the builtin: not bound here, not imported over.
    for builtin in _bound(nodes) & IO_BUILTINS:
        aliases.setdefault(builtin, f"<local>.{builtin}")
    found: list[Finding] = []
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if node.level == 0
                else []
            )
            for module in modules:
                if module.split(".")[0] in IO_MODULES:
                    what = f"imports {module} (I/O, the clock or process state)"
                    found.append(Finding(path, node.lineno, node.col_offset, what))
    # Only the outermost name of a chain (``os.path.join``, not also ``os.path`` and ``os``).
    inner = {id(n.value) for n in nodes if isinstance(n, ast.Attribute)}
    calls = {id(n.func): n for n in nodes if isinstance(n, ast.Call)}
    for node in nodes:
        if not isinstance(node, ast.Name | ast.Attribute) or id(node) in inner:
            continue
        if not isinstance(node.ctx, ast.Load):
            continue
        dotted = _dotted(node, aliases)
        if dotted is None:
            continue
        problem = _classify(dotted, calls.get(id(node)))
        if problem is not None:
            found.append(Finding(path, node.lineno, node.col_offset, problem))
    return sorted(found, key=lambda f: (f.line, f.col))


def _files(src_root: Path) -> Iterator[Path]:
    for package in PURE_PACKAGES:
        yield from sorted((src_root / "eltflow" / package).rglob("*.py"))


def check_tree(src_root: Path) -> list[Finding]:
    """Every finding in the pure packages of the eltflow source under ``src_root``."""
    found: list[Finding] = []
    for path in _files(src_root):
        rel = path.relative_to(src_root).as_posix()
        found.extend(check_source(path.read_text(encoding="utf-8"), rel))
    return found


def main(argv: list[str]) -> int:
    packages = ", ".join(f"{p}/" for p in PURE_PACKAGES)
    return run(
        "purity",
        argv,
        check_tree,
        failed=f"in {packages}",
        passed=f"{packages} read no clock, never sleep, do no I/O",
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
