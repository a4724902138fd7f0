"""Named SQL queries: ``sql/common.sql`` plus a small override file per dialect, loaded once.

A file is a sequence of ``-- name: xyz`` headers each followed by one statement; comment lines
after the header document the query and are kept out of the SQL sent to the server. A query is
written once in ``common.sql``; only where the dialects really differ (row locks, LISTEN/NOTIFY)
is it written in each ``sql/<dialect>.sql`` instead, under the same name (a test checks every
dialect ends up with the same names), so code never branches on dialect. The runtime store
and the scheduler both load theirs with :func:`load_queries`.
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
def load_queries(package: str, dialect: str) -> dict[str, str]:
    """``package``'s ``sql/common.sql`` with ``sql/<dialect>.sql``'s overrides applied."""
    folder = resources.files(package).joinpath("sql")
    out = parse_queries(folder.joinpath("common.sql").read_text("utf-8"), "sql/common.sql")
    source = f"{package}: sql/{dialect}.sql"
    overrides = parse_queries(folder.joinpath(f"{dialect}.sql").read_text("utf-8"), source)
    shadowed = sorted(set(overrides) & set(out))
    if shadowed:
        # Two texts for one name, one of them never used by this dialect: write it once.
        raise StoreError(f"{source} redefines queries of common.sql: {shadowed}")
    out.update(overrides)
    return out


def queries(dialect: str) -> dict[str, str]:
    """The runtime store's named queries for ``dialect`` (``sqlite`` or ``postgres``)."""
    return load_queries("eltflow.store", dialect)
