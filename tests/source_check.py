"""What the source checks run by `make check` share (``tests.purity``, ``tests.state_sql``):
a finding's shape and the command line around a tree check."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    col: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.what}"


def run(
    name: str,
    argv: list[str],
    check_tree: Callable[[Path], Sequence[Finding]],
    *,
    failed: str,
    passed: str,
) -> int:
    """``python -m tests.NAME [SRC_ROOT]``: print each finding, exit 1 if any (``failed``
    follows the count on stderr), 0 with ``passed`` if none, 2 without an eltflow package."""
    src_root = Path(argv[0]) if argv else Path("src")
    if not (src_root / "eltflow").is_dir():
        print(f"{name}: no eltflow package under {src_root}", file=sys.stderr)
        return 2
    found = check_tree(src_root)
    for f in found:
        print(f)
    if found:
        print(f"{name}: {len(found)} finding(s) {failed}", file=sys.stderr)
        return 1
    print(f"{name}: {passed}")
    return 0
