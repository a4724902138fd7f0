"""An execution's logs (runtime/execution_logs.py): function log records and Data API
statements read together, put in one time order, and what a ``--follow`` poll may print."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eltflow.lambdas.logs import FunctionLogs
from eltflow.runtime.execution_logs import ExecutionLogs, is_final, merged, to_print

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ARN = "arn:aws:states:us-east-1:123456789012:execution:m:e"


def _log(state: str, second: int) -> dict[str, Any]:
    # Records keep their time as ISO text (they are JSON lines), statements as datetimes.
    return {"state": state, "timestamp": (T0 + timedelta(seconds=second)).isoformat()}


def _statement(id: str, state: str, second: int, status: str = "FINISHED") -> dict[str, Any]:
    return {
        "Id": id,
        "StateName": state,
        "CreatedAt": T0 + timedelta(seconds=second),
        "Status": status,
    }


def test_a_statement_follows_the_invocation_of_its_state_that_was_running() -> None:
    records = [_log("Load", 10), _log("Load", 20)]  # two attempts, logged when each ends
    statements = [_statement("b", "Load", 15), _statement("a", "Load", 5)]
    assert [key for key, _ in merged(records, statements)] == [
        "log:0",
        "statement:a",
        "log:1",
        "statement:b",
    ]


def test_statements_without_an_invocation_stand_by_their_own_time() -> None:
    # aws-sdk:redshiftdata tasks write no function log; another state's log does not adopt them.
    records = [_log("Check", 10)]
    statements = [_statement("late", "Check", 30), _statement("sdk", "Load", 5)]
    assert [key for key, _ in merged(records, statements)] == [
        "statement:sdk",
        "log:0",
        "statement:late",
    ]


def test_merged_with_nothing_is_empty() -> None:
    assert merged([], []) == []


def test_a_record_is_final_when_written_a_statement_once_ended() -> None:
    assert is_final(_log("Load", 0))
    for status in ("FINISHED", "FAILED", "ABORTED"):
        assert is_final(_statement("s", "Load", 0, status))
    for status in ("SUBMITTED", "PICKED", "STARTED"):
        assert not is_final(_statement("s", "Load", 0, status))


def test_a_poll_prints_what_is_new_and_final_then_everything_once_ended() -> None:
    entries = merged(
        [_log("Load", 10)],
        [_statement("done", "Load", 5), _statement("running", "Other", 20, "STARTED")],
    )
    first = to_print(entries, set(), ended=False)
    assert [k for k, _ in first] == ["log:0", "statement:done"]
    shown = {k for k, _ in first}
    assert [k for k, _ in to_print(entries, shown, ended=False)] == []
    assert [k for k, _ in to_print(entries, shown, ended=True)] == ["statement:running"]


class _Statements:
    """A Data API listing newest first in pages of ``size``, like the service's."""

    def __init__(self, newest_first: list[dict[str, Any]], size: int) -> None:
        self.rows = newest_first
        self.size = size
        self.asked: list[str | None] = []

    def list_statement_details(
        self, *, execution_arn: str, max_results: int, next_token: str | None
    ) -> dict[str, Any]:
        assert execution_arn == ARN
        self.asked.append(next_token)
        start = int(next_token or 0)
        page: dict[str, Any] = {"Statements": self.rows[start : start + self.size]}
        if start + self.size < len(self.rows):
            page["NextToken"] = str(start + self.size)
        return page


def test_statements_are_read_across_pages_oldest_first_and_by_state() -> None:
    newest_first = [_statement(str(i), "Load" if i % 2 else "Check", i) for i in range(5, 0, -1)]
    api = _Statements(newest_first, size=2)
    logs = ExecutionLogs(None, api)
    assert [s["Id"] for s in logs.statements(ARN)] == ["1", "2", "3", "4", "5"]
    assert api.asked == [None, "2", "4"]
    assert [s["Id"] for s in logs.statements(ARN, "Load")] == ["1", "3", "5"]


def test_absent_services_read_as_no_logs(tmp_path: Path) -> None:
    assert ExecutionLogs(None, None).records(ARN) == []
    assert ExecutionLogs(None, None).statements(ARN) == []
    function_logs = FunctionLogs(tmp_path)
    function_logs.append(ARN, _log("Load", 1))
    function_logs.append(ARN, _log("Check", 2))
    logs = ExecutionLogs(function_logs, None)
    assert [r["state"] for r in logs.records(ARN)] == ["Load", "Check"]
    assert [r["state"] for r in logs.records(ARN, "Check")] == ["Check"]
