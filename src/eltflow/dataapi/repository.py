"""Statement and result-page rows in the state store (tables of migrations 0100-0104).

The SQL is the store's named queries ``sql/dataapi.sql``, the same in both dialects.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence

from eltflow.dataapi.model import Statement
from eltflow.store.db import Database
from eltflow.store.queries import service_queries
from eltflow.types import JSON

# The first page's keyset cursor: after every statement (no created_us is this large).
_NO_CURSOR_US = 2**63 - 1


class StatementRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.q = service_queries("dataapi", db.dialect)

    def insert(self, statements: Sequence[Statement]) -> None:
        """Insert a statement (and a batch's sub-statements) in one transaction."""
        with self.db.transaction() as conn:
            conn.executemany(self.q["insert_statement"], [s.to_row() for s in statements])

    def update(self, statements: Sequence[Statement]) -> None:
        with self.db.transaction() as conn:
            conn.executemany(self.q["update_statement"], [s.to_row() for s in statements])

    def finish(
        self, statements: Sequence[Statement], pages: Sequence[tuple[str, int, JSON]]
    ) -> None:
        """Record final states and result pages together, so a result is never half there."""
        with self.db.transaction() as conn:
            if pages:
                conn.executemany(
                    self.q["insert_result_page"],
                    [
                        {"statement_id": sid, "page": n, "records": json.dumps(recs)}
                        for sid, n, recs in pages
                    ],
                )
            conn.executemany(self.q["update_statement"], [s.to_row() for s in statements])

    def get(self, statement_id: str) -> Statement | None:
        rows = self.db.execute(self.q["get_statement"], {"id": statement_id})
        return Statement.from_row(rows[0]) if rows else None

    def by_token(self, token: str) -> Statement | None:
        rows = self.db.execute(self.q["statement_by_token"], {"t": token})
        return Statement.from_row(rows[0]) if rows else None

    def children(self, parent_id: str) -> list[Statement]:
        rows = self.db.execute(self.q["child_statements"], {"p": parent_id})
        return [Statement.from_row(r) for r in rows]

    def page(self, statement_id: str, page: int) -> JSON:
        """A stored result page: a JSON statement's list of records, a CSV statement's text;
        None if there is no such page."""
        rows = self.db.execute(self.q["result_page"], {"id": statement_id, "p": page})
        if not rows:
            return None
        records: JSON = json.loads(rows[0]["records"])
        return records

    def list(
        self,
        *,
        status: str | None,
        name: str | None,
        cluster: str | None,
        workgroup: str | None,
        database: str | None,
        execution_arn: str | None = None,
        before_us: int | None,
        before_id: str | None,
        limit: int,
    ) -> list[Statement]:
        """Top-level statements, newest first; keyset paging on (created_us, id). An empty
        or None filter is no filter."""
        # StatementName filter matches by prefix, as the Data API documents.
        prefix = name.replace("%", r"\%").replace("_", r"\_") + "%" if name else None
        cursor = before_us is not None and before_id is not None
        params: dict[str, object] = {
            "status": status or None,
            "name": prefix,
            "cluster_identifier": cluster or None,
            "workgroup_name": workgroup or None,
            "database_name": database or None,
            "bus": before_us if cursor else _NO_CURSOR_US,
            "bid": before_id if cursor else "",
            "execution_arn": execution_arn,
            "limit": limit,
        }
        # One execution's statements have a query of their own, which its index serves.
        sql = self.q["list_execution_statements"] if execution_arn else self.q["list_statements"]
        return [Statement.from_row(r) for r in self.db.execute(sql, params)]

    def count_active(self) -> int:
        rows = self.db.execute(self.q["count_active"])
        return int(rows[0]["n"])

    def heartbeat(self, owner: str, expires_us: int) -> None:
        """Record that ``owner`` is alive until ``expires_us``."""
        self.db.execute(self.q["heartbeat_owner"], {"o": owner, "e": expires_us})

    def retire(self, owner: str) -> None:
        self.db.execute(self.q["retire_owner"], {"o": owner})

    def orphans(self, me: str, now_us: int) -> builtins.list[Statement]:
        """Top-level statements left active by owners that are not alive (no unexpired
        heartbeat); statements of live owners (other processes sharing the store) are not."""
        rows = self.db.execute(self.q["orphaned_statements"], {"me": me, "now": now_us})
        return [Statement.from_row(r) for r in rows]

    def settle(self, statements: Sequence[Statement]) -> int:
        """Record the outcome of an orphan (its parent row first, then its batch's rows),
        unless another instance already did; 1 if this call recorded it, else 0."""
        with self.db.transaction() as conn:
            first, *rest = statements
            if not conn.execute(self.q["settle_orphaned_statement"], _outcome(first)):
                return 0
            for s in rest:
                conn.execute(self.q["settle_orphaned_statement"], _outcome(s))
        return 1

    def adopt(self, statement_id: str, old_owner: str, me: str, now_us: int) -> bool:
        """Make ``me`` the owner of a dead owner's active statement (and its batch's rows),
        back to SUBMITTED; False if another instance settled or adopted it first."""
        with self.db.transaction() as conn:
            rows = conn.execute(
                self.q["adopt_orphaned_statement"],
                {"id": statement_id, "old": old_owner, "me": me, "now": now_us},
            )
        return any(r["id"] == statement_id for r in rows)

    def forget_dead_owners(self, now_us: int) -> None:
        self.db.execute(self.q["forget_dead_owners"], {"now": now_us})


def _outcome(s: Statement) -> dict[str, object]:
    return {"status": s.status.value, "error": s.error, "now": s.updated_us, "id": s.id}
