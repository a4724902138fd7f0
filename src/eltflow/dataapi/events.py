"""The Data API's EventBridge event: "Redshift Data Statement Status Change", sent when a
statement submitted with ``WithEvent`` ends (``state`` FINISHED, FAILED or ABORTED).

The shape is the example of the Amazon Redshift Management Guide ("Monitoring events for the
Amazon Redshift Data API in Amazon EventBridge"): ``source`` ``aws.redshift-data``, the
cluster's ARN in ``resources``, and ``detail`` with ``principal``, ``statementName``,
``statementId``, ``redshiftQueryId``, ``state``, ``rows`` and ``expireAt`` (epoch seconds, a day
after the event in that example: when the result expires). Unverified: a serverless
workgroup's resource ARN (here ``arn:aws:redshift-serverless:…:workgroup/<name>``; AWS's carries
the workgroup's id), ``statementName`` when none was given (omitted here), and what a batch's
``rows`` counts (here its last sub-statement's, as DescribeStatement's ``ResultRows``).
"""

from __future__ import annotations

import uuid
from typing import Any

from eltflow.dataapi.model import Statement, from_us

DETAIL_TYPE = "Redshift Data Statement Status Change"
SOURCE = "aws.redshift-data"
RESULT_LIFETIME_S = 24 * 3600  # the Data API keeps results 24 hours
PRINCIPAL = "arn:aws:iam::{account}:user/eltflow"  # every local caller is one user


def status_change(s: Statement, *, region: str, account: str) -> dict[str, Any]:
    """The event for ``s``, which has ended."""
    if s.cluster_identifier:
        resource = f"arn:aws:redshift:{region}:{account}:cluster:{s.cluster_identifier}"
    else:
        resource = f"arn:aws:redshift-serverless:{region}:{account}:workgroup/{s.workgroup_name}"
    detail: dict[str, Any] = {"principal": PRINCIPAL.format(account=account)}
    if s.statement_name:
        detail["statementName"] = s.statement_name
    detail.update(
        {
            "statementId": s.id,
            "redshiftQueryId": s.redshift_query_id if s.redshift_query_id is not None else -1,
            "state": s.status.value,
            "rows": max(s.result_rows, 0),
            "expireAt": s.updated_us // 1_000_000 + RESULT_LIFETIME_S,
        }
    )
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": SOURCE,
        "account": account,
        "time": from_us(s.updated_us).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [resource],
        "detail": detail,
    }
