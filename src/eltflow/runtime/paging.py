"""What the Step Functions execution APIs share: timestamps, ``nextToken`` paging, the
``ExecutionListItem`` shape (ListExecutions, with or without a Map Run) and an execution row's
part of DescribeExecution's answer."""

from __future__ import annotations

import base64

from eltflow.errors import AwsApiError
from eltflow.runtime import arns
from eltflow.store.rows import ExecutionRow, ExecutionSummaryRow, from_us
from eltflow.types import JSON, JSONObject


def iso(us: int | None) -> str | None:
    return None if us is None else from_us(us).isoformat()


def described(row: ExecutionRow, version_arn: str | None = None) -> JSONObject:
    """DescribeExecution's fields that come from the execution's row (and, if given, its
    version's ARN), in AWS's order: what DescribeExecution answers before its Map Run and
    redrive fields, and what a ``.sync`` task's result is made from."""
    out: JSONObject = {
        "executionArn": row.arn,
        "stateMachineArn": arns.machine_arn(row.machine_name),
        "name": row.name,
        "status": row.status,
        "startDate": iso(row.start_us),
        "input": row.input,
        "inputDetails": {"included": True},
    }
    if version_arn is not None:
        out["stateMachineVersionArn"] = version_arn
    if row.stop_us is not None:
        out["stopDate"] = iso(row.stop_us)
    if row.status == "SUCCEEDED":
        out["output"] = row.output
        out["outputDetails"] = {"included": True}
    if row.error is not None:
        out["error"] = row.error
    if row.cause is not None:
        out["cause"] = row.cause
    return out


def page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def page_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind != "o":
            raise ValueError(kind)
        return int(value)
    except (ValueError, UnicodeDecodeError) as e:
        raise AwsApiError("InvalidToken", f"Invalid nextToken: {token!r}") from e


def execution_item(row: ExecutionSummaryRow, **extra: str | int) -> JSONObject:
    """One ``ExecutionListItem``; ``extra`` holds a Map Run child's ``mapRunArn`` and
    ``itemCount``, placed where AWS's shape has them (before ``redriveCount``)."""
    item: JSONObject = {
        "executionArn": row.arn,
        "stateMachineArn": arns.machine_arn(row.machine_name),
        "name": row.name,
        "status": row.status,
        "startDate": iso(row.start_us),
        **extra,
        "redriveCount": row.redrive_count,
    }
    if row.stop_us is not None:
        item["stopDate"] = iso(row.stop_us)
    if row.redrive_us is not None:
        item["redriveDate"] = iso(row.redrive_us)
    return item


def redrive_filtered(page: JSONObject, redrive_filter: str | None) -> JSONObject:
    """ListExecutions' ``redriveFilter`` on one page: ``REDRIVEN``, the executions redriven at
    least once (AWS's definition); any other value, those never redriven. Applied to the page
    as read, so a page may hold fewer than ``maxResults`` and ``nextToken`` is kept as is."""
    if redrive_filter is None:
        return page
    want = redrive_filter == "REDRIVEN"
    items = page.get("executions")
    kept: list[JSON] = [
        e
        for e in (items if isinstance(items, list) else [])
        if isinstance(e, dict) and (_count(e.get("redriveCount")) > 0) == want
    ]
    return {**page, "executions": kept}


def _count(value: JSON) -> int:
    return value if isinstance(value, int) else 0
