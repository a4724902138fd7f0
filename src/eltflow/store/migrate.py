"""Numbered migrations per dialect: ``migrations/<dialect>/NNNN_<component>.sql``.

Components own number ranges so work on one never renumbers another's:
0001-0099 runtime (machines, executions, history, timers), 0100-0199 Data API statements,
0200-0299 item tables / topics / lambda, 0300-0399 scheduler, 0400-0499 pipelines,
0500-0599 CloudFormation stacks.
Applied in numeric order, each in its own transaction, recorded in ``eltflow_migrations``.
"""

from __future__ import annotations

from importlib import resources

from eltflow.store.db import Database

_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS eltflow_migrations "
    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
)


def available(dialect: str) -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` for every migration file of ``dialect``, in order."""
    folder = resources.files("eltflow.store").joinpath("migrations", dialect)
    out = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            out.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(out)


def migrate(db: Database, *, until: int | None = None) -> list[str]:
    """Apply pending migrations (those numbered up to ``until`` only, if given: a database
    as an older release left it, for upgrade tests); return the names applied. Safe to call
    concurrently."""
    applied: list[str] = []
    with db.transaction() as conn:
        conn.execute(_VERSION_TABLE)
    for version, name, sql in available(db.dialect):
        if until is not None and version > until:
            break
        with db.transaction() as conn:
            if db.dialect == "postgres":
                # Serialise concurrent migrators (two workers starting at once).
                conn.execute("SELECT pg_advisory_xact_lock(724166)")
            done = conn.execute(
                "SELECT 1 AS x FROM eltflow_migrations WHERE version = :v", {"v": version}
            )
            if done:
                continue
            conn.executescript(sql)
            conn.execute(
                "INSERT INTO eltflow_migrations (version, name) VALUES (:v, :n)",
                {"v": version, "n": name},
            )
            applied.append(name)
    return applied
