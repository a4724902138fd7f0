"""Job audit items and run history: what the console's Jobs page and ``eltflow jobs`` show.

An audit table is any item table keyed by ``JobID`` (the seed's design). Resetting a job is
the seed's manual repair: ``JobState`` back to ``Ready`` and the lease dropped, so the next
run can take the lock.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eltflow.clock import Clock
from eltflow.errors import AwsApiError, EltflowError
from eltflow.types import JSON, AwsApi, JSONObject

JOB_KEY = "JobID"


AwsShaped = AwsApi  # the local services or a boto3 client behind Boto3Service


def plain(value: Mapping[str, Any]) -> JSON:
    """A DynamoDB attribute value as plain JSON (``{"S": "x"}`` -> ``"x"``)."""
    (kind, raw), *_ = value.items()
    if kind == "N":
        return float(raw) if any(c in raw for c in ".eE") else int(raw)
    if kind == "M":
        return {k: plain(v) for k, v in raw.items()}
    if kind == "L":
        return [plain(v) for v in raw]
    if kind == "NULL":
        return None
    text: str | bool = raw  # S, B (base64 text) or BOOL
    return text


def audit_tables(dynamodb: AwsShaped) -> list[str]:
    names: list[str] = dynamodb.call("ListTables", {}).get("TableNames", [])
    out = []
    for name in names:
        table = dynamodb.call("DescribeTable", {"TableName": name})["Table"]
        hash_keys = [k["AttributeName"] for k in table["KeySchema"] if k["KeyType"] == "HASH"]
        if hash_keys == [JOB_KEY]:
            out.append(name)
    return out


def list_jobs(dynamodb: AwsShaped) -> list[JSONObject]:
    jobs: list[JSONObject] = []
    for table in audit_tables(dynamodb):
        for item in dynamodb.call("Scan", {"TableName": table}).get("Items", []):
            row = {k: plain(v) for k, v in item.items()}
            row["table"] = table
            jobs.append(row)
    return sorted(jobs, key=lambda j: (str(j["table"]), str(j.get(JOB_KEY))))


def create_job(dynamodb: AwsShaped, table: str, job_id: str) -> bool:
    """Create the job's item as ``Ready`` unless it exists; True if it was created."""
    try:
        dynamodb.call(
            "PutItem",
            {
                "TableName": table,
                "Item": {JOB_KEY: {"S": job_id}, "JobState": {"S": "Ready"}},
                "ConditionExpression": "attribute_not_exists(JobID)",
            },
        )
    except AwsApiError as e:
        if e.code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def reset_job(dynamodb: AwsShaped, table: str, job_id: str, now: datetime) -> JSONObject:
    """Force the job back to Ready (the manual repair after a crash or a failed run)."""
    try:
        out = dynamodb.call(
            "UpdateItem",
            {
                "TableName": table,
                "Key": {JOB_KEY: {"S": job_id}},
                "UpdateExpression": "SET JobState = :ready, ResetAt = :now "
                "REMOVE LeaseUntil, RunArn, JobError",
                "ConditionExpression": "attribute_exists(JobID)",
                "ExpressionAttributeValues": {
                    ":ready": {"S": "Ready"},
                    ":now": {"S": now.isoformat()},
                },
                "ReturnValues": "ALL_NEW",
            },
        )
    except AwsApiError as e:
        if e.code == "ConditionalCheckFailedException":
            raise EltflowError(f"job {job_id!r} does not exist in table {table!r}") from e
        raise
    return {k: plain(v) for k, v in out.get("Attributes", {}).items()}


def wait_statement(dataapi: AwsShaped, sid: str, timeout: float) -> dict[str, Any]:
    """Poll DescribeStatement until the statement ends; its description if it FINISHED.

    A FAILED or ABORTED statement raises with the warehouse's error; one still running after
    ``timeout`` seconds is cancelled and raises.
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        desc = dataapi.call("DescribeStatement", {"Id": sid})
        if desc["Status"] == "FINISHED":
            return desc
        if desc["Status"] in ("FAILED", "ABORTED"):
            raise EltflowError(f"statement {sid} {desc['Status']}: {desc.get('Error')}")
        if time.monotonic() > deadline:
            dataapi.call("CancelStatement", {"Id": sid})
            raise EltflowError(f"statement {sid} did not finish within {timeout:g} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def query(
    dataapi: AwsShaped, sql: str, *, cluster: str, database: str, timeout: float = 30.0
) -> list[JSONObject]:
    """Run one read-only statement through the Data API and return its rows as dicts."""
    sid = dataapi.call(
        "ExecuteStatement", {"Sql": sql, "ClusterIdentifier": cluster, "Database": database}
    )["Id"]
    desc = wait_statement(dataapi, sid, timeout)
    if not desc.get("HasResultSet"):
        return []
    rows: list[JSONObject] = []
    token: str | None = None
    while True:
        req: dict[str, Any] = {"Id": sid}
        if token:
            req["NextToken"] = token
        page = dataapi.call("GetStatementResult", req)
        names = [c["name"] for c in page["ColumnMetadata"]]
        for record in page["Records"]:
            rows.append({n: _field(f) for n, f in zip(names, record, strict=True)})
        token = page.get("NextToken")
        if not token:
            return rows


def _field(field: Mapping[str, Any]) -> JSON:
    if field.get("isNull"):
        return None
    (_, value), *_ = field.items()
    scalar: str | int | float | bool = value  # stringValue, longValue, doubleValue...
    return scalar


@dataclass(frozen=True, kw_only=True)
class RunHistory:
    """Where a pipeline records its runs: one warehouse table, read through the Data API."""

    cluster: str
    database: str
    schema: str
    table: str
    sql: str  # the read-only query that lists the newest runs


@dataclass(frozen=True, kw_only=True)
class JobsService:
    """Audit items and run history, what the console's Jobs page and ``eltflow jobs`` show.

    The API and the CLI only translate to and from this; it talks to the DynamoDB-shaped and
    Data-API-shaped services like any client would.
    """

    dynamodb: AwsShaped
    dataapi: AwsShaped | None
    history: RunHistory | None
    clock: Clock

    def jobs(self) -> list[JSONObject]:
        return list_jobs(self.dynamodb)

    def reset(self, table: str, job_id: str) -> JSONObject:
        return reset_job(self.dynamodb, table, job_id, self.clock.now())

    def runs(self, timeout: float = 10.0) -> list[JSONObject]:
        """The newest runs; none before the pipeline has created its run-history table.

        Whether the table exists is asked of the catalog (ListTables) instead of inferred from
        a failed query, so a warehouse that is down or a broken query is an error, not "no
        runs".
        """
        h = self.history
        if self.dataapi is None or h is None or not self._history_exists(h):
            return []
        return query(self.dataapi, h.sql, cluster=h.cluster, database=h.database, timeout=timeout)

    def _history_exists(self, h: RunHistory) -> bool:
        assert self.dataapi is not None
        request: dict[str, Any] = {
            "ClusterIdentifier": h.cluster,
            "Database": h.database,
            "SchemaPattern": h.schema,
            "TablePattern": h.table,
        }
        while True:
            page = self.dataapi.call("ListTables", request)
            # LIKE patterns: "_" matches any character, so compare the names exactly.
            if any(t["schema"] == h.schema and t["name"] == h.table for t in page["Tables"]):
                return True
            if not page.get("NextToken"):
                return False
            request["NextToken"] = page["NextToken"]
