"""Item tables on the state store (SQLite or PostgreSQL), with atomic read-check-write.

A conditional write is one transaction that reads the item, lets the caller decide, and writes:
- SQLite: :meth:`Database.transaction` starts ``BEGIN IMMEDIATE``, so the write lock is taken
  before the read and two writers (threads or processes) can never interleave.
- PostgreSQL: ``SELECT ... FOR UPDATE`` locks an existing row. A *missing* row cannot be locked,
  so the insert uses ``ON CONFLICT DO NOTHING RETURNING``; if a concurrent transaction inserted
  first, nothing is returned and the whole read-check-write is retried, now seeing that row.

The SQL is the store's named queries ``sql/items.sql`` (``lock_item`` differs per dialect).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from eltflow.errors import ConflictError
from eltflow.items import errors
from eltflow.items.values import Item
from eltflow.store.db import Connection, Database
from eltflow.store.queries import service_queries

T = TypeVar("T")
_MAX_RETRIES = 50


@dataclass(frozen=True, kw_only=True)
class TableSpec:
    """A table's key schema: partition key and optional sort key, each S, N or B."""

    name: str
    partition_key: str
    partition_type: str = "S"
    sort_key: str | None = None
    sort_type: str | None = None
    created_at: datetime | None = None

    @property
    def key_names(self) -> tuple[str, ...]:
        return (
            (self.partition_key,)
            if self.sort_key is None
            else (
                self.partition_key,
                self.sort_key,
            )
        )

    def key_type(self, name: str) -> str:
        return self.partition_type if name == self.partition_key else (self.sort_type or "S")


class _InsertRace(Exception):
    """Another transaction inserted the item we found missing: retry."""


@dataclass(frozen=True)
class Write:
    """What a mutation decided: the item to store (None = delete/leave absent) and a result."""

    item: Item | None
    changed: bool = True


@dataclass(frozen=True)
class Mutation(Generic[T]):
    """One item's read-check-write inside a transaction."""

    table: str
    pk: str
    sk: str
    decide: Callable[[TableSpec, Item | None], tuple[Write, T]]

    @property
    def key(self) -> dict[str, object]:
        return {"t": self.table, "pk": self.pk, "sk": self.sk}

    @property
    def key_tuple(self) -> tuple[str, str, str]:
        return (self.table, self.pk, self.sk)


class ItemStore:
    """SQL access for item tables. Knows nothing of expressions; see ``service``."""

    def __init__(self, db: Database) -> None:
        # Concurrent PostgreSQL transactions are bounded by the Database's connection pool.
        self.db = db
        self.q = service_queries("items", db.dialect)

    # -- tables --------------------------------------------------------------------------------
    def create_table(self, spec: TableSpec, now: datetime) -> TableSpec:
        try:
            with self.db.transaction() as conn:
                conn.execute(
                    self.q["insert_table"],
                    {
                        "n": spec.name,
                        "pk": spec.partition_key,
                        "pt": spec.partition_type,
                        "sk": spec.sort_key,
                        "st": spec.sort_type,
                        "at": now.isoformat(),
                    },
                )
        except ConflictError:
            raise errors.table_exists(spec.name) from None
        return TableSpec(
            name=spec.name,
            partition_key=spec.partition_key,
            partition_type=spec.partition_type,
            sort_key=spec.sort_key,
            sort_type=spec.sort_type,
            created_at=now,
        )

    def get_table(self, name: str, conn: Connection | None = None) -> TableSpec | None:
        rows = (conn or self.db).execute(self.q["get_table"], {"n": name})
        if not rows:
            return None
        return _spec(rows[0])

    def list_tables(self) -> list[TableSpec]:
        return [_spec(r) for r in self.db.execute(self.q["list_tables"])]

    def delete_table(self, name: str) -> TableSpec | None:
        with self.db.transaction() as conn:
            spec = self.get_table(name, conn)
            if spec is not None:
                conn.execute(self.q["delete_table_items"], {"n": name})
                conn.execute(self.q["delete_table"], {"n": name})
        return spec

    def count(self, name: str) -> tuple[int, int]:
        rows = self.db.execute(self.q["count_items"], {"n": name})
        return int(rows[0]["n"]), int(rows[0]["b"])

    # -- items ---------------------------------------------------------------------------------
    def get(self, table: str, pk: str, sk: str) -> Item | None:
        rows = self.db.execute(self.q["get_item"], {"t": table, "pk": pk, "sk": sk})
        return json.loads(rows[0]["item"]) if rows else None

    def partition(self, table: str, pk: str) -> list[Item]:
        rows = self.db.execute(self.q["partition_items"], {"t": table, "pk": pk})
        return [json.loads(r["item"]) for r in rows]

    def scan(self, table: str) -> list[Item]:
        rows = self.db.execute(self.q["scan_items"], {"t": table})
        return [json.loads(r["item"]) for r in rows]

    def mutate(
        self,
        table: str,
        pk: str,
        sk: str,
        decide: Callable[[TableSpec, Item | None], tuple[Write, T]],
    ) -> T:
        """Atomically: read the item, call ``decide(spec, old)``, store what it returns.

        ``decide`` may raise (e.g. ConditionalCheckFailed) to abort without writing. It is
        called again if a PostgreSQL insert race forces a retry, so it must be pure.
        """
        return self.transact([Mutation(table, pk, sk, decide)])[0]

    def transact(
        self, mutations: list[Mutation[T]], verify: Callable[[list[T]], None] | None = None
    ) -> list[T]:
        """Several read-check-writes in one transaction (TransactWriteItems): every ``decide``
        runs first, then ``verify(results)`` may raise to abort before anything is written."""
        for _ in range(_MAX_RETRIES):
            try:
                return self._transact_once(mutations, verify)
            except _InsertRace:
                continue
        raise errors.validation("Too much contention on this item; try again")

    def _transact_once(
        self, mutations: list[Mutation[T]], verify: Callable[[list[T]], None] | None
    ) -> list[T]:
        with self.db.transaction() as conn:
            olds: dict[int, tuple[TableSpec, Item | None]] = {}
            # Lock rows in one global order so two transactions never wait on each other.
            for n, m in sorted(enumerate(mutations), key=lambda e: e[1].key_tuple):
                spec = self.get_table(m.table, conn)
                if spec is None:
                    raise errors.table_not_found()
                rows = conn.execute(self.q["lock_item"], m.key)
                olds[n] = (spec, json.loads(rows[0]["item"]) if rows else None)
            decided = [m.decide(*olds[n]) for n, m in enumerate(mutations)]
            results = [result for _, result in decided]
            if verify is not None:
                verify(results)
            for n, (m, (write, _)) in enumerate(zip(mutations, decided, strict=True)):
                old = olds[n][1]
                if not write.changed:
                    continue
                if write.item is None:
                    if old is not None:
                        conn.execute(self.q["delete_item"], m.key)
                    continue
                body = json.dumps(write.item, separators=(",", ":"), ensure_ascii=False)
                if old is not None:
                    conn.execute(self.q["update_item"], {**m.key, "item": body})
                    continue
                inserted = conn.execute(self.q["insert_item"], {**m.key, "item": body})
                if not inserted:
                    raise _InsertRace()
            return results


def _spec(row: dict[str, object]) -> TableSpec:
    created = row.get("created_at")
    return TableSpec(
        name=str(row["name"]),
        partition_key=str(row["partition_key"]),
        partition_type=str(row["partition_type"]),
        sort_key=None if row.get("sort_key") is None else str(row["sort_key"]),
        sort_type=None if row.get("sort_type") is None else str(row["sort_type"]),
        created_at=datetime.fromisoformat(str(created)) if created else None,
    )
