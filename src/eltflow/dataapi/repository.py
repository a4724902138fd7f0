"""Statement and result-page rows in the state store (tables of migration 0100).

All SQL of the Data API lives here, written once with ``:name`` binds for both dialects.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from eltflow.dataapi.model import ACTIVE, Statement, Status
from eltflow.store.db import Database
from eltflow.types import JSON

_COLUMNS = (
    "id, parent_id, seq, is_batch, statement_name, cluster_identifier, workgroup_name, "
    "database_name, db_user, secret_arn, query_string, query_parameters, client_token, "
    "with_event, status, error, created_us, updated_us, duration_ns, has_result_set, "
    "result_rows, result_size, redshift_pid, redshift_query_id, column_metadata, page_count, "
    "owner, execution_arn, state_name"
)
_INSERT = (
    f"INSERT INTO dataapi_statements ({_COLUMNS}) VALUES ("
    + ", ".join(":" + c.strip() for c in _COLUMNS.split(","))
    + ")"
)
_UPDATE = (
    "UPDATE dataapi_statements SET status = :status, error = :error, updated_us = :updated_us, "
    "duration_ns = :duration_ns, has_result_set = :has_result_set, result_rows = :result_rows, "
    "result_size = :result_size, redshift_pid = :redshift_pid, "
    "redshift_query_id = :redshift_query_id, column_metadata = :column_metadata, "
    "page_count = :page_count WHERE id = :id"
)
_ACTIVE_LIST = ", ".join(f"'{s.value}'" for s in ACTIVE)


class StatementRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, statements: Sequence[Statement]) -> None:
        """Insert a statement (and a batch's sub-statements) in one transaction."""
        with self.db.transaction() as conn:
            conn.executemany(_INSERT, [s.to_row() for s in statements])

    def update(self, statements: Sequence[Statement]) -> None:
        with self.db.transaction() as conn:
            conn.executemany(_UPDATE, [s.to_row() for s in statements])

    def finish(
        self, statements: Sequence[Statement], pages: Sequence[tuple[str, int, list[JSON]]]
    ) -> None:
        """Record final states and result pages together, so a result is never half there."""
        with self.db.transaction() as conn:
            if pages:
                conn.executemany(
                    "INSERT INTO dataapi_result_pages (statement_id, page, records) "
                    "VALUES (:statement_id, :page, :records)",
                    [
                        {"statement_id": sid, "page": n, "records": json.dumps(recs)}
                        for sid, n, recs in pages
                    ],
                )
            conn.executemany(_UPDATE, [s.to_row() for s in statements])

    def get(self, statement_id: str) -> Statement | None:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM dataapi_statements WHERE id = :id", {"id": statement_id}
        )
        return Statement.from_row(rows[0]) if rows else None

    def by_token(self, token: str) -> Statement | None:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM dataapi_statements WHERE client_token = :t", {"t": token}
        )
        return Statement.from_row(rows[0]) if rows else None

    def children(self, parent_id: str) -> list[Statement]:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM dataapi_statements WHERE parent_id = :p ORDER BY seq",
            {"p": parent_id},
        )
        return [Statement.from_row(r) for r in rows]

    def page(self, statement_id: str, page: int) -> list[JSON] | None:
        rows = self.db.execute(
            "SELECT records FROM dataapi_result_pages WHERE statement_id = :id AND page = :p",
            {"id": statement_id, "p": page},
        )
        if not rows:
            return None
        records: list[JSON] = json.loads(rows[0]["records"])
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
        """Top-level statements, newest first; keyset paging on (created_us, id)."""
        where = ["parent_id IS NULL"]
        params: dict[str, object] = {"limit": limit}
        if status:
            where.append("status = :status")
            params["status"] = status
        if name:
            # StatementName filter matches by prefix, as the Data API documents.
            where.append("statement_name LIKE :name")
            params["name"] = name.replace("%", r"\%").replace("_", r"\_") + "%"
        for column, value in (
            ("cluster_identifier", cluster),
            ("workgroup_name", workgroup),
            ("database_name", database),
            ("execution_arn", execution_arn),
        ):
            if value:
                where.append(f"{column} = :{column}")
                params[column] = value
        if before_us is not None and before_id is not None:
            where.append("(created_us < :bus OR (created_us = :bus AND id < :bid))")
            params["bus"] = before_us
            params["bid"] = before_id
        sql = (
            f"SELECT {_COLUMNS} FROM dataapi_statements WHERE {' AND '.join(where)} "
            "ORDER BY created_us DESC, id DESC LIMIT :limit"
        )
        if name:
            sql = sql.replace("LIKE :name", "LIKE :name ESCAPE '\\'")
        return [Statement.from_row(r) for r in self.db.execute(sql, params)]

    def count_active(self) -> int:
        rows = self.db.execute(
            "SELECT COUNT(*) AS n FROM dataapi_statements "
            f"WHERE parent_id IS NULL AND status IN ({_ACTIVE_LIST})"
        )
        return int(rows[0]["n"])

    def heartbeat(self, owner: str, expires_us: int) -> None:
        """Record that ``owner`` is alive until ``expires_us``."""
        self.db.execute(
            "INSERT INTO dataapi_owners (owner, expires_us) VALUES (:o, :e) "
            "ON CONFLICT (owner) DO UPDATE SET expires_us = excluded.expires_us",
            {"o": owner, "e": expires_us},
        )

    def retire(self, owner: str) -> None:
        self.db.execute("DELETE FROM dataapi_owners WHERE owner = :o", {"o": owner})

    def abandon(self, me: str, error: str, now_us: int) -> int:
        """Fail statements left active by owners that are not alive (no unexpired heartbeat).

        Returns how many. The statement's work died with its connection, so FAILED is the
        truth; statements of live owners (other processes sharing the store) are left alone.
        """
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id FROM dataapi_statements "
                f"WHERE status IN ({_ACTIVE_LIST}) AND owner <> :me AND owner NOT IN "
                "(SELECT owner FROM dataapi_owners WHERE expires_us >= :now)",
                {"me": me, "now": now_us},
            )
            if rows:
                conn.executemany(
                    "UPDATE dataapi_statements SET status = :status, error = :error, "
                    f"updated_us = :now WHERE id = :id AND status IN ({_ACTIVE_LIST})",
                    [
                        {
                            "status": Status.FAILED.value,
                            "error": error,
                            "now": now_us,
                            "id": r["id"],
                        }
                        for r in rows
                    ],
                )
            conn.execute("DELETE FROM dataapi_owners WHERE expires_us < :now", {"now": now_us})
        return len(rows)
