"""CheckCounts: after the loads, fail the run when a table holds fewer rows than expected.

Your own Lambda handler, in plain Python and boto3 (nothing of eltflow), so this file runs
unchanged in AWS Lambda: `eltflow export cloudformation` zips this folder as the check-counts
function. eltflow runs it as Lambda would (eltflow.toml: code = "handlers", handler =
"check_counts.handler"), its boto3 client reaching eltflow's Redshift Data API through the
AWS_ENDPOINT_URL eltflow gives process-isolated handlers. Its prints are the function's log
(`eltflow logs ARN --state CheckCounts`; CloudWatch Logs on AWS).

Step Functions names a Lambda error after the exception's class, so pipeline.asl.json's Catch
on "DataQuality.EmptyLoad" sees EmptyLoad below, and its Cause carries the message.

The event: ClusterIdentifier (or WorkgroupName), Database, and DbUser or SecretArn if needed,
as the Data API spells them; Table ("schema.table"); MinRows (default 1).
"""

from __future__ import annotations

import re
import time
from typing import Any

import boto3

# A table's name cannot be a bound parameter (only values can), so it must look like one.
TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")
TARGET = ("ClusterIdentifier", "WorkgroupName", "Database", "DbUser", "SecretArn")


class EmptyLoad(Exception):
    """The table holds fewer than MinRows rows."""


class CheckFailed(Exception):
    """The count could not be taken: a bad event, or the statement failed."""


# The error names Step Functions sees (a Lambda error's errorType is the class's __name__).
EmptyLoad.__name__ = "DataQuality.EmptyLoad"
CheckFailed.__name__ = "DataQuality.CheckFailed"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    table = str(event.get("Table", ""))
    if not TABLE.fullmatch(table):
        raise CheckFailed(f"Table must be a name such as public.orders (got {table!r})")
    minimum = int(event.get("MinRows", 1))
    client: Any = boto3.client("redshift-data")
    target = {key: str(event[key]) for key in TARGET if event.get(key)}
    submitted = client.execute_statement(
        Sql=f"SELECT count(*) FROM {table}", StatementName="CheckCounts", **target
    )
    rows = count(client, str(submitted["Id"]))
    print(f"{table}: {rows} rows, at least {minimum} expected")
    if rows < minimum:
        raise EmptyLoad(f"{table} has {rows} rows, fewer than MinRows {minimum}")
    return {"Table": table, "Rows": rows}


def count(client: Any, statement_id: str) -> int:
    """Wait for the statement (the Data API returns at once), then read its one value."""
    delay = 0.05
    while True:
        described = client.describe_statement(Id=statement_id)
        status = described["Status"]
        if status == "FINISHED":
            break
        if status in ("FAILED", "ABORTED"):
            raise CheckFailed(str(described.get("Error") or f"the count was {status}"))
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)
    result = client.get_statement_result(Id=statement_id)
    return int(result["Records"][0][0]["longValue"])
