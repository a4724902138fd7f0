"""Lambda handlers of the console tests' project (copied into its folder, which is on the
handlers' import path): what they print and log is an execution's Logs tab, the SQL they submit
through the Data API its SQL tab."""

from __future__ import annotations

import logging
import time
from typing import Any


def chatty(event: dict[str, Any], context: Any) -> dict[str, Any]:
    print("loading", event["table"])
    logging.getLogger("chatty").warning("slow warehouse")
    if event.get("fail"):
        raise ValueError("bad row in " + event["table"])
    return {"rows": 3}


def counter(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from eltflow import aws

    out = aws.client("redshift-data").execute_statement(
        ClusterIdentifier="default", Database="dev", Sql="SELECT 1 AS in_lambda"
    )
    return {"Id": out["Id"]}


class StatementFailed(Exception):
    """The warehouse rejected the statement (its error is the message)."""


def loader(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run ``event["sql"]`` and wait for it, as a SQL load step does; a failed statement fails
    the invocation with its error."""
    from eltflow import aws

    client = aws.client("redshift-data")
    print("loading with:", event["sql"])
    sid = client.execute_statement(ClusterIdentifier="default", Database="dev", Sql=event["sql"])[
        "Id"
    ]
    while True:
        described = client.describe_statement(Id=sid)
        if described["Status"] == "FINISHED":
            print("loaded", described["ResultRows"], "rows")
            return {"statementId": sid}
        if described["Status"] in ("FAILED", "ABORTED"):
            logging.getLogger("loader").error("statement %s failed", sid)
            raise StatementFailed(described.get("Error", described["Status"]))
        time.sleep(0.02)
