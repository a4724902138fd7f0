"""Execution search: the console's filters AWS's ListExecutions does not have — ``name`` (a
case-insensitive substring of the execution name) and a start-date range (inclusive bounds) —
applied over ListExecutions pages.

A search asks for at most the rows it still needs, so a page never overshoots and
``nextToken`` resumes exactly after the last row read; rows come newest first, so a search
stops at the first row that started before ``started_after``. The pages come from a callable
(the service's ListExecutions with the machine and status filter bound), so the rule is tested
without a store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from eltflow.types import JSON, JSONObject

# A search reads at most this many executions per request, then returns a token to go on.
SCAN_LIMIT = 5000

# (max_results, next_token) -> a ListExecutions page (``executions``, maybe ``nextToken``).
ListPage = Callable[[int, str | None], JSONObject]


class Verdict(Enum):
    TAKE = "take"
    SKIP = "skip"
    STOP = "stop"  # this row and every later one (newest first) started too early


@dataclass(frozen=True, kw_only=True)
class ExecutionSearch:
    """What to look for; an empty search is a plain ListExecutions."""

    name: str = ""  # a substring of the execution name, any case
    started_after: datetime | None = None  # inclusive; aware datetimes
    started_before: datetime | None = None  # inclusive

    @property
    def empty(self) -> bool:
        return not self.name and self.started_after is None and self.started_before is None

    def verdict(self, item: JSON) -> Verdict:
        """Whether an ``ExecutionListItem`` is found, passed over, or ends the search."""
        started = datetime.fromisoformat(str(_field(item, "startDate")))
        if self.started_after is not None and started < self.started_after:
            return Verdict.STOP
        if self.started_before is not None and started > self.started_before:
            return Verdict.SKIP
        if self.name.lower() in str(_field(item, "name")).lower():
            return Verdict.TAKE
        return Verdict.SKIP


def search(
    list_page: ListPage,
    wanted: ExecutionSearch,
    *,
    max_results: int,
    next_token: str | None = None,
    scan_limit: int = SCAN_LIMIT,
) -> JSONObject:
    """A ListExecutions-shaped page of the executions ``wanted`` matches: at most
    ``max_results``, reading at most about ``scan_limit`` rows, with ``nextToken`` when more
    may match."""
    if wanted.empty:
        return list_page(max_results, next_token)
    found: list[JSON] = []
    token = next_token
    scanned = 0
    while len(found) < max_results and scanned < scan_limit:
        page = list_page(max_results - len(found), token)
        rows = page.get("executions")
        assert isinstance(rows, list)
        scanned += len(rows)
        nxt = page.get("nextToken")
        token = nxt if isinstance(nxt, str) else None
        for row in rows:
            verdict = wanted.verdict(row)
            if verdict is Verdict.STOP:
                token = None  # newest first: every later row started earlier still
                break
            if verdict is Verdict.TAKE:
                found.append(row)
        if token is None:
            break
    result: JSONObject = {"executions": found}
    if token is not None:
        result["nextToken"] = token
    return result


def _field(row: JSON, key: str) -> JSON:
    return row.get(key) if isinstance(row, dict) else None
