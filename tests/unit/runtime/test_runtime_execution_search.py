"""Execution search (runtime/execution_search.py): the console's name and start-date filters
over ListExecutions pages, newest first, resumable by ``nextToken``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from eltflow.runtime.execution_search import ExecutionSearch, Verdict, search
from eltflow.types import JSON, JSONObject

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class _Listing:
    """ListExecutions over ``run-12`` ... ``run-16`` (one an hour), newest first, offset tokens;
    it records each page's ``max_results``."""

    def __init__(self, hours: int = 5) -> None:
        self.items: list[JSON] = [
            {"name": f"run-{12 + h}", "startDate": (T0 + timedelta(hours=h)).isoformat()}
            for h in reversed(range(hours))
        ]
        self.asked: list[int] = []

    def __call__(self, max_results: int, token: str | None) -> JSONObject:
        self.asked.append(max_results)
        start = int(token or 0)
        page: JSONObject = {"executions": self.items[start : start + max_results]}
        if start + max_results < len(self.items):
            page["nextToken"] = str(start + max_results)
        return page


def _names(page: JSONObject) -> list[str]:
    rows = page["executions"]
    assert isinstance(rows, list)
    return [str(r["name"]) for r in rows if isinstance(r, dict)]


def _at(hour: int, minute: int = 0) -> datetime:
    return T0.replace(hour=hour, minute=minute)


def test_an_empty_search_is_one_plain_page() -> None:
    listing = _Listing()
    page = search(listing, ExecutionSearch(), max_results=2)
    assert page == listing(2, None)
    assert listing.asked == [2, 2]


@pytest.mark.parametrize(
    ("wanted", "names"),
    [
        (
            ExecutionSearch(started_after=_at(13), started_before=_at(15)),
            ["run-15", "run-14", "run-13"],
        ),
        (ExecutionSearch(started_before=_at(12, 30)), ["run-12"]),
        (ExecutionSearch(started_after=_at(16)), ["run-16"]),
        (ExecutionSearch(name="RUN-1", started_after=_at(13, 30)), ["run-16", "run-15", "run-14"]),
        (ExecutionSearch(name="n-13"), ["run-13"]),
        (ExecutionSearch(name="nothing"), []),
    ],
)
def test_bounds_are_inclusive_and_names_match_in_any_case(
    wanted: ExecutionSearch, names: list[str]
) -> None:
    assert _names(search(_Listing(), wanted, max_results=100)) == names


def test_a_page_never_overshoots_and_its_token_resumes_after_the_last_row_read() -> None:
    listing = _Listing()
    wanted = ExecutionSearch(started_before=_at(15))
    first = search(listing, wanted, max_results=2)
    # 16 is passed over, 15 and 14 found: the second read asks only for the one row missing.
    assert _names(first) == ["run-15", "run-14"]
    assert listing.asked == [2, 1]
    token = first["nextToken"]
    assert isinstance(token, str)
    rest = search(listing, wanted, max_results=2, next_token=token)
    assert _names(rest) == ["run-13", "run-12"] and "nextToken" not in rest


def test_a_row_started_before_the_range_ends_the_search() -> None:
    listing = _Listing()
    page = search(listing, ExecutionSearch(started_after=_at(15)), max_results=1)
    assert _names(page) == ["run-16"] and "nextToken" in page
    listing.asked.clear()
    page = search(listing, ExecutionSearch(started_after=_at(15), name="zzz"), max_results=10)
    assert _names(page) == [] and "nextToken" not in page
    assert listing.asked == [10]  # one read: run-14 started too early, nothing after can match


def test_the_scan_limit_returns_a_token_to_go_on() -> None:
    listing = _Listing()
    page = search(listing, ExecutionSearch(name="run-12"), max_results=1, scan_limit=3)
    assert _names(page) == [] and page["nextToken"] == "3"
    assert _names(
        search(listing, ExecutionSearch(name="run-12"), max_results=1, next_token="3")
    ) == ["run-12"]


def test_verdicts() -> None:
    item: JSON = {"name": "Nightly-7", "startDate": _at(14).isoformat()}
    assert ExecutionSearch(name="nightly").verdict(item) is Verdict.TAKE
    assert ExecutionSearch(name="daily").verdict(item) is Verdict.SKIP
    assert ExecutionSearch(started_before=_at(13)).verdict(item) is Verdict.SKIP
    assert ExecutionSearch(started_after=_at(15)).verdict(item) is Verdict.STOP
    assert ExecutionSearch(started_after=_at(14), started_before=_at(14)).verdict(item) is (
        Verdict.TAKE
    )
