"""ListExecutions' ``redriveFilter`` (runtime/paging.py), on a page and through the service
(what the AWS endpoint passes on from boto3)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eltflow.app import App, build_app
from eltflow.clock import VirtualClock
from eltflow.runtime.paging import redrive_filtered
from eltflow.types import JSON, JSONObject

FLAKY = "arn:aws:lambda:us-east-1:123456789012:function:flaky"


def _page(*counts: int) -> JSONObject:
    items: list[JSON] = [{"name": f"e{i}", "redriveCount": n} for i, n in enumerate(counts)]
    return {"executions": items, "nextToken": "t"}


def _names(page: JSONObject) -> list[str]:
    items = page["executions"]
    assert isinstance(items, list)
    return [str(e["name"]) for e in items if isinstance(e, dict)]


@pytest.mark.parametrize(
    ("redrive_filter", "names"),
    [("REDRIVEN", ["e1", "e2"]), ("NOT_REDRIVEN", ["e0", "e3"]), (None, ["e0", "e1", "e2", "e3"])],
)
def test_redriven_means_redriven_at_least_once(
    redrive_filter: str | None, names: list[str]
) -> None:
    page = redrive_filtered(_page(0, 1, 3, 0), redrive_filter)
    assert _names(page) == names
    assert page["nextToken"] == "t"  # the page's token: the filter does not read further


@pytest.fixture
def app(store_url: str) -> Iterator[App]:
    built = build_app(state_url=store_url, clock=VirtualClock())
    calls: list[int] = []

    def flaky(p: JSON) -> JSON:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the first call fails")
        return {}

    built.register(FLAKY, flaky)
    yield built
    built.close()


def test_the_service_filters_list_executions_by_redrive(app: App) -> None:
    s = app.service
    task = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FLAKY, "End": True}}}
    s.create_state_machine(name="m", definition=task)
    failed = str(s.start_execution(state_machine_arn="m", name="failed-once")["executionArn"])
    app.worker().run(until_idle=True)
    s.redrive_execution(execution_arn=failed)
    s.start_execution(state_machine_arn="m", name="fine")
    app.worker().run(until_idle=True)

    def names(redrive_filter: str | None) -> list[str]:
        return sorted(
            _names(s.list_executions(state_machine_arn="m", redrive_filter=redrive_filter))
        )

    assert names("REDRIVEN") == ["failed-once"]
    assert names("NOT_REDRIVEN") == ["fine"]
    assert names(None) == ["failed-once", "fine"]
