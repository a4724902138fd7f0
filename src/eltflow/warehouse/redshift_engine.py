"""Real Amazon Redshift behind the warehouse interface, through boto3's ``redshift-data``.

Used when a local runtime should drive a real cluster (``[warehouses.<name>] url =
"redshift://"``). The SQL goes unchanged (it *is* Redshift); a transaction is a
``BatchExecuteStatement``; the run polls ``DescribeStatement`` and cancels with
``CancelStatement``. The boto3 client is passed in (or built lazily) so tests can point it at a
stand-in endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from eltflow.warehouse.base import (
    Column,
    Connection,
    OnStarted,
    OnStatement,
    Outcome,
    Params,
    RunControl,
    ServerRun,
    SqlError,
    StatementCancelled,
    StatementResult,
)

_FINAL = {"FINISHED", "FAILED", "ABORTED"}


class RedshiftWarehouse:
    dialect = "redshift"

    def __init__(
        self,
        name: str,
        options: Mapping[str, Any],
        client: Any = None,
        poll_seconds: float = 0.25,
    ) -> None:
        self.name = name
        self._options = dict(options)
        self._client = client
        self._poll = poll_seconds

    def _boto(self) -> Any:
        if self._client is None:
            import boto3

            region = self._options.get("region")
            self._client = boto3.client("redshift-data", region_name=region)
        return self._client

    def _target(self, database: str | None) -> dict[str, Any]:
        req: dict[str, Any] = {}
        if self._options.get("workgroup_name"):
            req["WorkgroupName"] = self._options["workgroup_name"]
        else:
            req["ClusterIdentifier"] = self._options.get("cluster_identifier", self.name)
        db = database or self._options.get("database")
        if db:
            req["Database"] = db
        for key, api in (("db_user", "DbUser"), ("secret_arn", "SecretArn")):
            if self._options.get(key):
                req[api] = self._options[key]
        return req

    def connect(self) -> Connection:
        """Not offered: a session on a real Redshift is the Data API's own (SessionId) and is
        not held through this engine yet."""
        raise SqlError(f"warehouse '{self.name}': sessions are not supported on Redshift")

    def run(
        self,
        sqls: Sequence[str],
        params: Params | None,
        *,
        database: str | None,
        transaction: bool,
        control: RunControl,
        on_started: OnStarted | None = None,
        on_statement: OnStatement | None = None,
        connection: Connection | None = None,
        statement_id: str | None = None,
    ) -> list[StatementResult]:
        if connection is not None:
            raise SqlError(f"warehouse '{self.name}': sessions are not supported on Redshift")
        client = self._boto()
        req = self._target(database)
        if params:
            req["Parameters"] = [{"name": k, "value": v} for k, v in params.items()]
        control.check()
        if len(sqls) == 1 and not transaction:
            sid = client.execute_statement(Sql=sqls[0], **req)["Id"]
        else:
            sid = client.batch_execute_statement(Sqls=list(sqls), **req)["Id"]
        control.attach(lambda: client.cancel_statement(Id=sid))
        try:
            desc = client.describe_statement(Id=sid)
            if on_started is not None:
                on_started(desc.get("RedshiftPid"), None)
            while desc["Status"] not in _FINAL:
                time.sleep(self._poll)
                desc = client.describe_statement(Id=sid)
        finally:
            control.attach(None)
        if desc["Status"] == "ABORTED":
            raise StatementCancelled("statement was cancelled")
        subs = desc.get("SubStatements") or [desc]
        if desc["Status"] == "FAILED":
            index = next((i for i, s in enumerate(subs) if s.get("Status") == "FAILED"), 0)
            raise SqlError(desc.get("Error", "statement failed"), index)
        results = []
        for i, sub in enumerate(subs):
            result = self._result(client, sub)
            results.append(result)
            if on_statement is not None:
                on_statement(i, result)
        return results

    def _result(self, client: Any, desc: Mapping[str, Any]) -> StatementResult:
        if not desc.get("HasResultSet"):
            return StatementResult(
                has_result_set=False,
                row_count=int(desc.get("ResultRows", -1)),
                duration_ns=int(desc.get("Duration", 0)),
            )
        rows: list[tuple[Any, ...]] = []
        columns: tuple[Column, ...] = ()
        token: str | None = None
        while True:
            page = client.get_statement_result(
                Id=desc["Id"], **({"NextToken": token} if token else {})
            )
            if not columns:
                columns = tuple(
                    Column(
                        name=c.get("name", ""),
                        type_name=c.get("typeName", ""),
                        nullable=int(c.get("nullable", 1)),
                        precision=int(c.get("precision", 0)),
                        scale=int(c.get("scale", 0)),
                        length=int(c.get("length", 0)),
                    )
                    for c in page.get("ColumnMetadata", [])
                )
            rows.extend(tuple(_value(f) for f in record) for record in page["Records"])
            token = page.get("NextToken")
            if not token:
                break
        return StatementResult(
            has_result_set=True,
            columns=columns,
            rows=rows,
            row_count=len(rows),
            duration_ns=int(desc.get("Duration", 0)),
        )

    def interrupt(self, run: ServerRun) -> bool:
        """Not wired to the real service's CancelStatement here (unverified)."""
        return False

    def settle(self, run: ServerRun) -> Outcome:
        """Not asked of the real Data API here (unverified)."""
        return Outcome.UNKNOWN

    def forget(self, statement_id: str) -> None:
        """Nothing recorded here to forget."""

    def close(self) -> None:
        pass


def _value(field: Mapping[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    for key in ("longValue", "doubleValue", "booleanValue", "stringValue", "blobValue"):
        if key in field:
            return field[key]
    return None
