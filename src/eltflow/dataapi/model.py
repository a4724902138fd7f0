"""A Data API statement as recorded, and its response shapes (DescribeStatement, ListStatements).

Shapes follow botocore's ``redshift-data`` service model: keys and types exactly; timestamps
are timezone-aware ``datetime`` (boto3's form; the Step Functions integration serialises them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from eltflow.types import JSON


class Status(StrEnum):
    SUBMITTED = "SUBMITTED"
    PICKED = "PICKED"
    STARTED = "STARTED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"

    @property
    def final(self) -> bool:
        return self in (Status.FINISHED, Status.FAILED, Status.ABORTED)


ACTIVE = (Status.SUBMITTED, Status.PICKED, Status.STARTED)


def to_us(when: datetime) -> int:
    return int(when.timestamp() * 1_000_000)


def from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)


@dataclass(frozen=True, kw_only=True)
class Statement:
    """One row of ``dataapi_statements``: a statement, a batch, or a batch's sub-statement."""

    id: str
    query_string: str
    status: Status
    created_us: int
    updated_us: int
    parent_id: str | None = None
    seq: int = 0
    is_batch: bool = False
    statement_name: str | None = None
    cluster_identifier: str | None = None
    workgroup_name: str | None = None
    database_name: str | None = None
    db_user: str | None = None
    secret_arn: str | None = None
    query_parameters: list[dict[str, str]] | None = None
    client_token: str | None = None
    with_event: bool = False
    error: str | None = None
    duration_ns: int = -1
    has_result_set: bool = False
    result_rows: int = -1
    result_size: int = -1
    redshift_pid: int | None = None
    server_xact: int | None = None  # the warehouse transaction (PostgreSQL), see migration 0104
    redshift_query_id: int | None = None
    column_metadata: list[JSON] | None = None
    page_count: int = 0
    owner: str = ""
    # JSON (typed Field records, GetStatementResult) or CSV (text, GetStatementResultV2); a
    # batch's sub-statements carry their batch's.
    result_format: str = "JSON"
    session_id: str | None = None  # the session it ran in (dataapi/sessions.py)
    # The execution and state whose task submitted it (:mod:`eltflow.dataapi.origin`), not
    # AWS fields.
    execution_arn: str | None = None
    state_name: str | None = None

    def evolve(self, **changes: Any) -> Statement:
        return replace(self, **changes)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Statement:
        params = row["query_parameters"]
        cols = row["column_metadata"]
        return cls(
            id=row["id"],
            parent_id=row["parent_id"],
            seq=int(row["seq"]),
            is_batch=bool(row["is_batch"]),
            statement_name=row["statement_name"],
            cluster_identifier=row["cluster_identifier"],
            workgroup_name=row["workgroup_name"],
            database_name=row["database_name"],
            db_user=row["db_user"],
            secret_arn=row["secret_arn"],
            query_string=row["query_string"],
            query_parameters=json.loads(params) if params else None,
            client_token=row["client_token"],
            with_event=bool(row["with_event"]),
            status=Status(row["status"]),
            error=row["error"],
            created_us=int(row["created_us"]),
            updated_us=int(row["updated_us"]),
            duration_ns=int(row["duration_ns"]),
            has_result_set=bool(row["has_result_set"]),
            result_rows=int(row["result_rows"]),
            result_size=int(row["result_size"]),
            redshift_pid=row["redshift_pid"],
            server_xact=row["server_xact"],
            redshift_query_id=row["redshift_query_id"],
            column_metadata=json.loads(cols) if cols else None,
            page_count=int(row["page_count"]),
            owner=row["owner"],
            result_format=row["result_format"],
            session_id=row["session_id"],
            execution_arn=row["execution_arn"],
            state_name=row["state_name"],
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "parent_id": self.parent_id,
            "seq": self.seq,
            "is_batch": int(self.is_batch),
            "statement_name": self.statement_name,
            "cluster_identifier": self.cluster_identifier,
            "workgroup_name": self.workgroup_name,
            "database_name": self.database_name,
            "db_user": self.db_user,
            "secret_arn": self.secret_arn,
            "query_string": self.query_string,
            "query_parameters": json.dumps(self.query_parameters)
            if self.query_parameters
            else None,
            "client_token": self.client_token,
            "with_event": int(self.with_event),
            "status": self.status.value,
            "error": self.error,
            "created_us": self.created_us,
            "updated_us": self.updated_us,
            "duration_ns": self.duration_ns,
            "has_result_set": int(self.has_result_set),
            "result_rows": self.result_rows,
            "result_size": self.result_size,
            "redshift_pid": self.redshift_pid,
            "server_xact": self.server_xact,
            "redshift_query_id": self.redshift_query_id,
            "column_metadata": json.dumps(self.column_metadata)
            if self.column_metadata is not None
            else None,
            "page_count": self.page_count,
            "owner": self.owner,
            "result_format": self.result_format,
            "session_id": self.session_id,
            "execution_arn": self.execution_arn,
            "state_name": self.state_name,
        }


def _target(s: Statement) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if s.cluster_identifier:
        out["ClusterIdentifier"] = s.cluster_identifier
    if s.workgroup_name:
        out["WorkgroupName"] = s.workgroup_name
    if s.database_name:
        out["Database"] = s.database_name
    if s.db_user:
        out["DbUser"] = s.db_user
    if s.secret_arn:
        out["SecretArn"] = s.secret_arn
    return out


def submit_response(s: Statement) -> dict[str, Any]:
    """ExecuteStatement / BatchExecuteStatement output."""
    out = {"Id": s.id, "CreatedAt": from_us(s.created_us), **_target(s)}
    if s.session_id:
        out["SessionId"] = s.session_id
    return out


def sub_statement_shape(s: Statement) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Id": s.id,
        "Status": s.status.value,
        "CreatedAt": from_us(s.created_us),
        "UpdatedAt": from_us(s.updated_us),
        "QueryString": s.query_string,
        "Duration": s.duration_ns,
        "HasResultSet": s.has_result_set,
        "ResultRows": s.result_rows,
        "ResultSize": s.result_size,
        "RedshiftQueryId": s.redshift_query_id or 0,
    }
    if s.error:
        out["Error"] = s.error
    return out


def describe_shape(s: Statement, subs: list[Statement]) -> dict[str, Any]:
    """DescribeStatement output for a statement or a batch (with its SubStatements)."""
    out: dict[str, Any] = {
        "Id": s.id,
        **_target(s),
        "Status": s.status.value,
        "CreatedAt": from_us(s.created_us),
        "UpdatedAt": from_us(s.updated_us),
        "Duration": s.duration_ns,
        "HasResultSet": s.has_result_set,
        "QueryString": s.query_string,
        "ResultRows": s.result_rows,
        "ResultSize": s.result_size,
        "RedshiftPid": s.redshift_pid or 0,
        "RedshiftQueryId": s.redshift_query_id or 0,
        "ResultFormat": s.result_format,
    }
    if s.error:
        out["Error"] = s.error
    if s.query_parameters:
        out["QueryParameters"] = [dict(p) for p in s.query_parameters]
    if s.session_id:
        out["SessionId"] = s.session_id
    if s.is_batch:
        out["SubStatements"] = [sub_statement_shape(x) for x in subs]
    return out


def detail_shape(s: Statement, subs: list[Statement]) -> dict[str, Any]:
    """DescribeStatement's shape plus eltflow's own ``StatementName``, ``ExecutionArn`` and
    ``StateName`` (the console's statement rows; never an AWS response)."""
    out = describe_shape(s, subs)
    if s.statement_name:
        out["StatementName"] = s.statement_name
    if s.execution_arn:
        out["ExecutionArn"] = s.execution_arn
    if s.state_name:
        out["StateName"] = s.state_name
    return out


def list_item_shape(s: Statement, subs: list[Statement]) -> dict[str, Any]:
    """One ``StatementData`` entry of ListStatements."""
    out: dict[str, Any] = {
        "Id": s.id,
        "Status": s.status.value,
        "CreatedAt": from_us(s.created_us),
        "UpdatedAt": from_us(s.updated_us),
        "IsBatchStatement": s.is_batch,
        "ResultFormat": s.result_format,
    }
    if s.is_batch:
        out["QueryStrings"] = [x.query_string for x in subs]
    else:
        out["QueryString"] = s.query_string
    if s.statement_name:
        out["StatementName"] = s.statement_name
    if s.secret_arn:
        out["SecretArn"] = s.secret_arn
    if s.query_parameters:
        out["QueryParameters"] = [dict(p) for p in s.query_parameters]
    if s.session_id:
        out["SessionId"] = s.session_id
    return out
