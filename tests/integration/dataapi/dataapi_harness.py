"""What the Data API tests share: a service and the helpers to submit, wait and read."""

from __future__ import annotations

from typing import Any

from tests.support.wait import wait_until

from eltflow.config import Settings
from eltflow.dataapi import DataApiService

FINAL = {"FINISHED", "FAILED", "ABORTED"}


class Harness:
    """A service plus the helpers every test needs."""

    def __init__(self, service: DataApiService, engine: str, settings: Settings) -> None:
        self.service = service
        self.engine = engine
        self.settings = settings

    def submit(self, sql: str, **extra: Any) -> str:
        request = {"Sql": sql, "ClusterIdentifier": "dw", "Database": "dev", **extra}
        return str(self.service.execute_statement(request)["Id"])

    def batch(self, sqls: list[str], **extra: Any) -> str:
        request = {"Sqls": sqls, "ClusterIdentifier": "dw", "Database": "dev", **extra}
        return str(self.service.batch_execute_statement(request)["Id"])

    def wait(self, sid: str, timeout: float = 30.0) -> dict[str, Any]:
        def final() -> dict[str, Any] | None:
            desc: dict[str, Any] = self.service.describe_statement({"Id": sid})
            return desc if desc["Status"] in FINAL else None

        return wait_until(final, timeout, what=f"statement {sid} to finish")

    def run(self, sql: str, **extra: Any) -> dict[str, Any]:
        return self.wait(self.submit(sql, **extra))

    def rows(self, sql: str, **extra: Any) -> list[list[Any]]:
        desc = self.run(sql, **extra)
        assert desc["Status"] == "FINISHED", desc.get("Error")
        out: list[list[Any]] = []
        token: str | None = None
        while True:
            req: dict[str, Any] = {"Id": desc["Id"]}
            if token:
                req["NextToken"] = token
            page = self.service.get_statement_result(req)
            out.extend(page["Records"])
            token = page.get("NextToken")
            if not token:
                return out

    def long_query(self) -> str:
        """A statement that runs for far longer than any test waits."""
        if self.engine == "duckdb":
            return "select count(*) from range(1000000000) a, range(1000000) b"
        return "select pg_sleep(30)"
