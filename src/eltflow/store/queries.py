"""Named SQL queries: ``sql/common.sql`` plus a small override file per dialect, loaded once.

All SQL against the state database is written here, in ``.sql`` files, never inline in Python
(``tests/state_sql.py`` checks that no module outside ``store/`` holds any). The runtime store's
queries are the ``common`` group; each local service that keeps data in the store has a group of
its own (``sql/items.sql``, ``sql/dataapi.sql``, ...), with the same override mechanism.

A file is a sequence of ``-- name: xyz`` headers each followed by one statement; comment lines
after the header document the query and are kept out of the SQL sent to the server. A query is
written once in ``common.sql``; only where the dialects really differ (row locks, LISTEN/NOTIFY)
is it written in each ``sql/<dialect>.sql`` instead, under the same name (a test checks every
dialect ends up with the same names), so code never branches on dialect. The runtime store,
the scheduler and the services all load theirs with :func:`load_queries`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
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


COMMON = "common"  # the runtime store's group (and the scheduler's, in its own package)
DIALECTS = ("sqlite", "postgres")


def override_file(group: str, dialect: str) -> str:
    """The file holding ``dialect``'s texts of ``group``: ``sqlite.sql`` for the ``common``
    group (the names it has always had), ``items.sqlite.sql`` for a service's group."""
    return f"{dialect}.sql" if group == COMMON else f"{group}.{dialect}.sql"


@functools.cache
def load_queries(package: str, dialect: str, group: str = COMMON) -> dict[str, str]:
    """``package``'s ``sql/<group>.sql`` with ``dialect``'s overrides applied
    (:func:`override_file`; a group whose SQL is the same in every dialect has none)."""
    if dialect not in DIALECTS:
        # Else a misspelt dialect would silently run the common texts without its overrides.
        raise StoreError(f"no SQL dialect {dialect!r}: one of {', '.join(DIALECTS)}")
    folder = resources.files(package).joinpath("sql")
    base = f"{group}.sql"
    out = parse_queries(folder.joinpath(base).read_text("utf-8"), f"{package}: sql/{base}")
    override = folder.joinpath(override_file(group, dialect))
    if not override.is_file():
        return out
    source = f"{package}: sql/{override_file(group, dialect)}"
    overrides = parse_queries(override.read_text("utf-8"), source)
    shadowed = sorted(set(overrides) & set(out))
    if shadowed:
        # Two texts for one name, one of them never used by this dialect: write it once.
        raise StoreError(f"{source} redefines queries of sql/{base}: {shadowed}")
    out.update(overrides)
    return out


def queries(dialect: str) -> dict[str, str]:
    """The runtime store's named queries for ``dialect`` (``sqlite`` or ``postgres``)."""
    return load_queries("eltflow.store", dialect)


def service_queries(service: str, dialect: str) -> Mapping[str, str]:
    """The named queries of one local service (``sql/<service>.sql``) for ``dialect``."""
    return load_queries("eltflow.store", dialect, service)
