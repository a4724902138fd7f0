"""Step Functions activities in the state store (``sfn_activities``, migration 0004), and the
activity tasks waiting for a worker: rows of ``sfn_tasks`` whose resource is the activity's ARN
and that no GetActivityTask has taken yet (``started = 0``)."""

from __future__ import annotations

from dataclasses import dataclass

from eltflow.store.db import Database


@dataclass(frozen=True, slots=True)
class ActivityRow:
    name: str
    arn: str
    created_us: int


@dataclass(frozen=True, slots=True)
class WaitingTask:
    execution_id: str
    task_id: str


class ActivityStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, name: str, arn: str, now_us: int) -> ActivityRow:
        """The activity, created now unless it exists (CreateActivity is idempotent)."""
        with self.db.transaction() as conn:
            rows = conn.execute("SELECT * FROM sfn_activities WHERE name = :n", {"n": name})
            if not rows:
                conn.execute(
                    "INSERT INTO sfn_activities (name, arn, created_us) VALUES (:n, :a, :c)",
                    {"n": name, "a": arn, "c": now_us},
                )
                return ActivityRow(name=name, arn=arn, created_us=now_us)
        return _row(rows[0])

    def get(self, arn: str) -> ActivityRow | None:
        rows = self.db.execute("SELECT * FROM sfn_activities WHERE arn = :a", {"a": arn})
        return _row(rows[0]) if rows else None

    def page(self, *, after: str = "", limit: int = 100) -> list[ActivityRow]:
        rows = self.db.execute(
            "SELECT * FROM sfn_activities WHERE name > :after ORDER BY name LIMIT :limit",
            {"after": after, "limit": limit},
        )
        return [_row(r) for r in rows]

    def delete(self, arn: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sfn_activities WHERE arn = :a", {"a": arn})

    def waiting_tasks(self, arn: str, limit: int = 10) -> list[WaitingTask]:
        """Tasks of running executions scheduled on activity ``arn`` and not yet handed to a
        worker, oldest first."""
        rows = self.db.execute(
            "SELECT t.execution_id, t.task_id FROM sfn_tasks t "
            "JOIN sfn_executions e ON e.id = t.execution_id "
            "WHERE t.resource = :a AND t.started = 0 AND e.status = 'RUNNING' "
            "ORDER BY t.created_us LIMIT :limit",
            {"a": arn, "limit": limit},
        )
        return [WaitingTask(str(r["execution_id"]), str(r["task_id"])) for r in rows]


def _row(row: dict[str, object]) -> ActivityRow:
    return ActivityRow(
        name=str(row["name"]), arn=str(row["arn"]), created_us=int(str(row["created_us"]))
    )
