"""DescribeMapRun, ListMapRuns, UpdateMapRun and ListExecutions(mapRunArn): AWS's shapes over
the store.

Counts are read from the children rows: ``executionCounts`` counts child executions by
status, ``itemCounts`` the items they hold (a batch holds several); items not started yet are
``pending`` (``total`` is the number of items read, once the Map Run has read them). A child
that ended unsuccessfully is redrivable (``pendingRedrive`` while its Map Run is not RUNNING;
``failuresNotRedrivable`` is 0 here: every child can be redriven).
"""

from __future__ import annotations

from eltflow.errors import AwsApiError
from eltflow.runtime import arns
from eltflow.runtime.paging import execution_item, iso, page_token
from eltflow.store.interface import StateStore
from eltflow.store.map_runs import MapRunRow
from eltflow.store.rows import ExecutionRow
from eltflow.types import JSON, JSONObject

_KEYS = {
    "RUNNING": "running",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "TIMED_OUT": "timedOut",
    "ABORTED": "aborted",
}


def _map_run(store: StateStore, arn: str) -> MapRunRow:
    arns.parse_map_run_arn(arn)
    row = store.map_runs.get_map_run(arn)
    if row is None:
        raise AwsApiError("ResourceNotFound", f"Resource not found: '{arn}'")
    return row


def _counts(by_status: dict[str, int], total: int, written: int, closed: bool) -> JSONObject:
    out: JSONObject = {key: by_status.get(status, 0) for status, key in _KEYS.items()}
    started = sum(by_status.values())
    unsuccessful = sum(by_status.get(s, 0) for s in ("FAILED", "TIMED_OUT", "ABORTED"))
    out["pending"] = max(total - started, 0)
    out["total"] = max(total, started)
    out["resultsWritten"] = written
    out["failuresNotRedrivable"] = 0
    out["pendingRedrive"] = unsuccessful if closed else 0
    return out


def describe(store: StateStore, map_run_arn: str) -> JSONObject:
    row = _map_run(store, map_run_arn)
    counts = store.map_runs.counts(row.arn)
    executions = sum(counts.executions.values())
    items_total = row.total_items if row.total_items is not None else sum(counts.items.values())
    closed = row.status != "RUNNING"
    parent = store.get_execution(row.execution_id)
    out: JSONObject = {
        "mapRunArn": row.arn,
        "executionArn": parent.arn if parent is not None else "",
        "status": row.status,
        "startDate": iso(row.start_us),
    }
    if row.stop_us is not None:
        out["stopDate"] = iso(row.stop_us)
    out["maxConcurrency"] = row.max_concurrency
    out["toleratedFailurePercentage"] = row.tolerated_failure_percentage
    out["toleratedFailureCount"] = row.tolerated_failure_count
    # Every ended child's result is written, so the items written are those children's.
    ended = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
    written_items = sum(counts.items.get(s, 0) for s in ended) if row.results_written else 0
    out["itemCounts"] = _counts(counts.items, items_total, written_items, closed)
    out["executionCounts"] = _counts(
        counts.executions, executions, min(row.results_written, executions), closed
    )
    out["redriveCount"] = row.redrive_count
    if row.redrive_us is not None:
        out["redriveDate"] = iso(row.redrive_us)
    return out


def update(
    store: StateStore,
    map_run_arn: str,
    *,
    max_concurrency: int | None,
    tolerated_failure_percentage: float | None,
    tolerated_failure_count: int | None,
) -> JSONObject:
    """UpdateMapRun. At least one setting is needed; the ranges are AWS's (botocore's model
    checks them on the wire too). The message wording is unverified."""
    _map_run(store, map_run_arn)
    given = (max_concurrency, tolerated_failure_percentage, tolerated_failure_count)
    if all(v is None for v in given):
        raise AwsApiError(
            "ValidationException",
            "At least one of maxConcurrency, toleratedFailurePercentage or "
            "toleratedFailureCount is required",
        )
    if max_concurrency is not None and max_concurrency < 0:
        raise AwsApiError("ValidationException", "maxConcurrency must be >= 0")
    if tolerated_failure_count is not None and tolerated_failure_count < 0:
        raise AwsApiError("ValidationException", "toleratedFailureCount must be >= 0")
    pct = tolerated_failure_percentage
    if pct is not None and not 0 <= pct <= 100:
        raise AwsApiError("ValidationException", "toleratedFailurePercentage must be 0 to 100")
    store.map_runs.update_map_run(
        map_run_arn,
        max_concurrency=max_concurrency,
        tolerated_failure_count=tolerated_failure_count,
        tolerated_failure_percentage=None if pct is None else float(pct),
    )
    return {}


def list_map_runs(
    store: StateStore, execution: ExecutionRow, *, max_results: int, offset: int
) -> JSONObject:
    rows = store.map_runs.list_map_runs(execution.id, limit=max_results + 1, offset=offset)
    items: list[JSON] = []
    for r in rows[:max_results]:
        item: JSONObject = {
            "executionArn": execution.arn,
            "mapRunArn": r.arn,
            "stateMachineArn": arns.machine_arn(execution.machine_name),
            "startDate": iso(r.start_us),
        }
        if r.stop_us is not None:
            item["stopDate"] = iso(r.stop_us)
        items.append(item)
    out: JSONObject = {"mapRuns": items}
    if len(rows) > max_results:
        out["nextToken"] = page_token(offset + max_results)
    return out


def list_executions(
    store: StateStore, map_run_arn: str, status: str | None, max_results: int, offset: int
) -> JSONObject:
    _map_run(store, map_run_arn)
    rows = store.map_runs.list_executions(
        map_run_arn, status=status, limit=max_results + 1, offset=offset
    )
    items: list[JSON] = [
        execution_item(r, mapRunArn=map_run_arn, itemCount=count) for r, count in rows[:max_results]
    ]
    out: JSONObject = {"executions": items}
    if len(rows) > max_results:
        out["nextToken"] = page_token(offset + max_results)
    return out
