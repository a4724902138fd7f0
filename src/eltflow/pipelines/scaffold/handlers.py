"""Lambda handlers of this project, as AWS Lambda would run them: ``handler(event, context)``.

``run_sql`` submits SQL through the Redshift Data API, waits for it and returns the row count.
A statement that fails raises :class:`StatementFailed`, so the Task's ``Retry`` and ``Catch``
see SQL errors under that name (``lambda:invoke`` reports a handler's exception by its class
name). Locally ``eltflow.aws.client`` returns eltflow's Data API; with ``[aws] mode = "aws"``
in eltflow.toml, or deployed to AWS Lambda with boto3, the same code talks to Redshift.

This folder is on the handlers' import path, so ``handlers:run_sql`` in eltflow.toml needs no
PYTHONPATH; add your own modules next to this one.
"""

from __future__ import annotations

import time
from typing import Any


class StatementFailed(Exception):
    """The warehouse rejected the statement; the message is its error."""


class StatementTimedOut(Exception):
    """The statement was still running when the function's time ran out (it is cancelled)."""


def run_sql(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run ``event["Sql"]`` (with bound ``event["Parameters"]``, Data API style
    ``[{"name": ..., "value": ...}]``) or the batch ``event["Sqls"]`` (one transaction, no
    parameters, as BatchExecuteStatement) on ``ClusterIdentifier``/``WorkgroupName`` and
    ``Database``."""
    from eltflow import aws

    client = aws.client("redshift-data")
    target: dict[str, Any] = {"Database": event.get("Database", "dev")}
    if "WorkgroupName" in event:
        target["WorkgroupName"] = event["WorkgroupName"]
    else:
        target["ClusterIdentifier"] = event.get("ClusterIdentifier", "default")
    started = time.monotonic()
    sql = "; ".join(event["Sqls"]) if "Sqls" in event else str(event.get("Sql"))
    if "Sqls" in event:
        submitted = client.batch_execute_statement(Sqls=list(event["Sqls"]), **target)
    else:
        params = event.get("Parameters")
        extra = {"Parameters": params} if params else {}
        submitted = client.execute_statement(Sql=str(event["Sql"]), **target, **extra)
    sid = submitted["Id"]
    delay = 0.01
    while True:
        desc = client.describe_statement(Id=sid)
        status = desc["Status"]
        took = time.monotonic() - started
        if status == "FINISHED":
            last = (desc.get("SubStatements") or [desc])[-1]
            rows = int(last.get("ResultRows", 0) or 0)
            # The function's log (CloudWatch on AWS; `eltflow logs ARN` and the console here).
            print(f"statement {sid} FINISHED in {took:.3f} s, {rows} rows: {sql[:500]}")
            return {"statementId": sid, "rows": rows}
        if status in ("FAILED", "ABORTED"):
            print(f"statement {sid} {status} after {took:.3f} s: {desc.get('Error')}: {sql[:500]}")
            raise StatementFailed(str(desc.get("Error") or status))
        remaining_ms = context.get_remaining_time_in_millis() if context is not None else 60_000
        if remaining_ms < 500:
            client.cancel_statement(Id=sid)
            raise StatementTimedOut(f"statement {sid} still {status}")
        time.sleep(delay)  # short polls: a load's end is seen within 0.2 s
        delay = min(delay * 2, 0.2)
