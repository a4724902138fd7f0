"""One driver: every ASL fixture and every AWS conformance case runs in memory
(``eltflow.execute`` over the memory store) and durably (the same engine over SQLite, driven by
a worker) and must end the same way: status, output, error, cause and history.

Both runs share the machine name, the execution name (so the ARNs and the seed of UUID and
random functions agree) and a virtual clock starting at the same instant, so timestamps agree
too. Every Task resource is answered by the same deterministic integration on both sides.
Where tasks run concurrently (on the worker's thread pool) they may finish in either order, so
such histories are compared as a multiset of events plus the order states were entered in, as
the crash tests compare them; every other history is compared event by event, ids and all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from eltflow.app import App, build_app
from eltflow.asl.validator import validate
from eltflow.clock import VirtualClock
from eltflow.errors import AwsApiError, DefinitionError
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.runtime.engine import Engine
from eltflow.runtime.local import LOCAL_MACHINE_NAME, execute
from eltflow.runtime.run import run_to_end
from eltflow.runtime.service import StatesService
from eltflow.types import JSON

TESTS = Path(__file__).resolve().parents[2]
START = datetime(2026, 1, 1, tzinfo=UTC)

FIXTURES = {
    p.stem: p.read_text(encoding="utf-8") for p in sorted(TESTS.glob("fixtures/definitions/*.json"))
}
# Inputs that take each fixture past its first state (the rest start from ``{}``).
FIXTURE_INPUTS: dict[str, JSON] = {
    "choice_state": {"type": "Private", "value": 25},
    "elt_audit_pipeline": {"JobID": "101"},
    "jsonata": {"orders": [{"id": i, "amount": 10 * i} for i in range(12)]},
    "map_item_processor": {"items": [1, 2, 3, 4, 5], "batch": "b1"},
    "map_iterator": {"detail": {"shipped": [{"prod": "R31"}, {"prod": "S39"}, {"prod": "R15"}]}},
    "mixed_languages": {"JobID": "101"},
    "wait_states": {"wait": 5, "expirydate": "2016-03-14T01:59:00Z", "error": "E", "cause": "C"},
}
CASES: dict[str, tuple[str, JSON]] = {}
for _path in sorted(TESTS.glob("conformance/cases/*/*.json")):
    _case = json.loads(_path.read_text(encoding="utf-8"))
    CASES[f"{_path.parent.name}/{_path.stem}"] = (_case["definition"], _case["input"])


def _echo(request: TaskRequest) -> JSON:
    """The same answer on both sides: what the task was given, where it ran."""
    return {"Resource": request.resource, "State": request.state_name, "Echo": request.parameters}


def _registry() -> Registry:
    registry = Registry()
    registry.add_prefix("arn:", _echo)
    return registry


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """One SQLite store for every case: each publishes a new version of the same machine."""
    path = tmp_path_factory.mktemp("differential") / "state.db"
    app = build_app(state_url=f"sqlite:///{path}", registry=_registry())
    yield app
    app.close()


def _in_memory(definition: str, input: JSON, name: str) -> dict[str, Any]:
    result = execute(
        definition,
        input,
        registry=_registry(),
        clock=VirtualClock(START),
        virtual_time=True,
        name=name,
    )
    return {
        "status": result.status,
        "output": result.output,
        "error": result.error,
        "cause": result.cause,
        "events": [e.to_aws() for e in result.history],
    }


def _at_start(app: App) -> App:
    """The shared store, with a clock (and the engine and service reading it) at START: each
    case starts at the same instant as its in-memory twin."""
    clock = VirtualClock(START)
    engine = Engine(app.store, clock)
    return replace(app, clock=clock, engine=engine, service=StatesService(app.store, engine, clock))


def _durable(shared: App, definition: str, input: JSON, name: str) -> dict[str, Any]:
    app = _at_start(shared)
    service = app.service
    try:
        service.create_state_machine(name=LOCAL_MACHINE_NAME, definition=definition)
    except AwsApiError as e:
        assert e.code == "StateMachineAlreadyExists"
        service.update_state_machine(state_machine_arn=LOCAL_MACHINE_NAME, definition=definition)
    started = service.start_execution(
        state_machine_arn=LOCAL_MACHINE_NAME, input=json.dumps(input), name=name
    )
    arn = str(started["executionArn"])
    desc = run_to_end(app, arn, poll_seconds=0.01)
    events: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = service.get_execution_history(execution_arn=arn, max_results=1000, next_token=token)
        found = page["events"]
        assert isinstance(found, list)
        events += [e for e in found if isinstance(e, dict)]
        next_token = page.get("nextToken")
        if not isinstance(next_token, str) or not next_token:
            break
        token = next_token
    output = desc.get("output")
    return {
        "status": desc["status"],
        "output": json.loads(output) if isinstance(output, str) else None,
        "error": desc.get("error"),
        "cause": desc.get("cause"),
        "events": events,
    }


def _concurrent_tasks(events: list[dict[str, Any]]) -> bool:
    """Whether tasks ran on more than one branch or iteration at once (their completions can
    then be recorded in either order)."""
    open_tasks = 0
    for e in events:
        kind = str(e["type"])
        if kind.endswith("Scheduled"):
            open_tasks += 1
            if open_tasks > 1:
                return True
        elif kind.endswith(("Succeeded", "Failed", "TimedOut")) and not kind.startswith(
            ("Execution", "Map", "Parallel")
        ):
            open_tasks = max(open_tasks - 1, 0)
    return False


def _comparable(events: list[dict[str, Any]]) -> tuple[list[tuple[str, str]], list[str]]:
    out = []
    entered = []
    for e in events:
        details = {k: v for k, v in e.items() if k not in ("id", "previousEventId")}
        out.append((str(e["type"]), json.dumps(details, sort_keys=True)))
        if isinstance(e.get("stateEnteredEventDetails"), dict):
            entered.append(str(e["stateEnteredEventDetails"]["name"]))
    return sorted(out), entered


def _assert_same(app: App, definition: str, input: JSON, name: str) -> None:
    if validate(definition):
        with pytest.raises(DefinitionError):
            execute(definition, input)
        with pytest.raises(DefinitionError):
            app.service.create_state_machine(name="rejected", definition=definition)
        return
    memory = _in_memory(definition, input, name)
    durable = _durable(app, definition, input, name)
    for key in ("status", "output", "error", "cause"):
        assert memory[key] == durable[key], key
    mine, theirs = memory["events"], durable["events"]
    assert [e["type"] for e in mine][:1] == [e["type"] for e in theirs][:1] == ["ExecutionStarted"]
    if _concurrent_tasks(mine) or _concurrent_tasks(theirs):
        assert _comparable(mine) == _comparable(theirs)
    else:
        assert mine == theirs


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_every_fixture_ends_the_same_in_memory_and_durably(app: App, fixture: str) -> None:
    _assert_same(app, FIXTURES[fixture], FIXTURE_INPUTS.get(fixture, {}), f"fixture-{fixture}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_conformance_case_ends_the_same_in_memory_and_durably(app: App, case: str) -> None:
    definition, input = CASES[case]
    _assert_same(app, definition, input, f"case-{len(CASES)}-{sorted(CASES).index(case)}")
