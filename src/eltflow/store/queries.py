"""Named SQL queries, one file per dialect (``sql/<dialect>.sql``), loaded once.

A file is a sequence of ``-- name: xyz`` headers each followed by one statement; comment lines
after the header document the query and are kept out of the SQL sent to the server. Both
dialect files define the same names (checked by a test), so code never branches on dialect.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from eltflow.errors import StoreError

_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.M)


def parse_queries(text: str, source: str = "<sql>") -> dict[str, str]:
    """Split a named-query file into ``{name: sql}``.

    >>> parse_queries("-- name: one\\nSELECT 1;\\n-- name: two\\n-- why\\nSELECT 2;")
    {'one': 'SELECT 1', 'two': 'SELECT 2'}
    """
    parts = _HEADER.split(text)
    out: dict[str, str] = {}
    # parts = [preamble, name1, body1, name2, body2, ...]
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        lines = [ln for ln in body.splitlines() if not ln.strip().startswith("--")]
        sql = "\n".join(lines).strip().rstrip(";").strip()
        if name in out:
            raise StoreError(f"{source}: query {name!r} is defined twice")
        if not sql:
            raise StoreError(f"{source}: query {name!r} has no SQL")
        out[name] = sql
    return out


@functools.cache
def queries(dialect: str) -> dict[str, str]:
    """The named queries of ``dialect`` (``sqlite`` or ``postgres``), read once per process."""
    path = resources.files("eltflow.store").joinpath("sql", f"{dialect}.sql")
    return parse_queries(path.read_text(encoding="utf-8"), source=f"sql/{dialect}.sql")
