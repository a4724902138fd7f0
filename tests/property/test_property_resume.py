"""Replay equivalence: for a random definition and any crash point, resuming with a new worker
gives the same output and the same events (ids and timestamps aside; concurrent branches may
interleave differently) as running straight through. The crash is the engine's fault hook
``crash_after_events=N``: the process "dies" right after the transaction that recorded the N-th
event commits."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eltflow.app import App, build_app
from eltflow.clock import VirtualClock
from eltflow.runtime.engine import SimulatedCrash

STEP = "arn:aws:lambda:us-east-1:123456789012:function:step"


def step(p: Any) -> Any:
    return {"trail": [*p["trail"], p["name"]]}


@dataclass
class Namer:
    n: int = 0

    def __call__(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"


def _state(kind: tuple[str, int], names: Namer) -> tuple[str, dict[str, Any]]:
    what, arg = kind
    if what == "task":
        name = names("T")
        return name, {
            "Type": "Task",
            "Resource": STEP,
            "Parameters": {"trail.$": "$.trail", "name": name},
        }
    if what == "pass":
        name = names("P")
        return name, {"Type": "Pass", "Parameters": {"trail.$": "$.trail", "last": name}}
    if what == "wait":
        return names("W"), {"Type": "Wait", "Seconds": arg}
    if what == "parallel":
        branches = []
        for _ in range(2 + arg % 2):
            inner, body = _state(("task", 0), names)
            branches.append({"StartAt": inner, "States": {inner: {**body, "End": True}}})
        return names("Par"), {
            "Type": "Parallel",
            "Branches": branches,
            "ResultSelector": {"trail.$": "$[0].trail", "others.$": "$[1:].trail"},
        }
    inner, body = _state(("task", 0), names)
    return names("Map"), {
        "Type": "Map",
        "ItemsPath": "$.trail",
        "MaxConcurrency": 1 + arg % 3,
        "ItemSelector": {"trail": [], "name.$": "$$.Map.Item.Value"},
        "ItemProcessor": {"StartAt": inner, "States": {inner: {**body, "End": True}}},
        "ResultPath": "$.mapped",
    }


def build_definition(kinds: list[tuple[str, int]]) -> dict[str, Any]:
    names = Namer()
    states = [_state(k, names) for k in kinds]
    out: dict[str, Any] = {}
    for i, (name, body) in enumerate(states):
        if i + 1 < len(states):
            body["Next"] = states[i + 1][0]
        else:
            body["End"] = True
        out[name] = body
    return {"StartAt": states[0][0], "States": out}


kinds_strategy = st.lists(
    st.tuples(st.sampled_from(["task", "pass", "wait", "parallel", "map"]), st.integers(0, 50)),
    min_size=1,
    max_size=6,
).map(lambda ks: [("task", 0), *ks])  # a task first, so Map always has items


def _app(url: str, clock: VirtualClock, crash_after: int | None = None) -> App:
    app = build_app(state_url=url, clock=clock, crash_after_events=crash_after)
    app.register(STEP, step)
    return app


def _run(
    url: str, definition: dict[str, Any], crash_after: int | None
) -> tuple[Any, Any, int, bool]:
    """Run once; with ``crash_after``, crash there and let a second worker finish. Returns the
    outcome, the comparable history, its length and whether the first worker crashed."""
    clock = VirtualClock()
    app = _app(url, clock)
    app.service.create_state_machine(name="m", definition=definition)
    app.close()
    first = _app(url, clock, crash_after)
    crashed = False
    try:
        arn = str(
            first.service.start_execution(state_machine_arn="m", name="e", input='{"trail": []}')[
                "executionArn"
            ]
        )
        first.worker(lease_seconds=30).run(until_idle=True)
    except SimulatedCrash:
        crashed = True
        arn = "arn:aws:states:us-east-1:123456789012:execution:m:e"
    finally:
        first.close()
    second = _app(url, clock)
    if crashed:
        clock.advance(31)  # the dead worker's lease lapses
        second.worker().run(until_idle=True)
    desc = second.service.describe_execution(execution_arn=arn)
    events = second.service.get_execution_history(execution_arn=arn)["events"]
    second.close()
    assert isinstance(events, list)
    # Ids aside: concurrent branches may interleave differently from run to run (that is
    # concurrency, crash or not), which renumbers events; the events themselves must agree.
    skip = ("timestamp", "id", "previousEventId")
    history = sorted(
        (str(e["type"]), json.dumps({k: v for k, v in e.items() if k not in skip}, sort_keys=True))
        for e in events
        if isinstance(e, dict)
    )
    return (desc["status"], desc.get("output")), history, len(history), crashed


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(kinds=kinds_strategy, crash_fraction=st.floats(0, 1))
def test_resume_after_any_crash_equals_straight_run(
    kinds: list[tuple[str, int]], crash_fraction: float
) -> None:
    definition = build_definition(kinds)
    with tempfile.TemporaryDirectory() as tmp:
        straight, straight_history, n_events, straight_crashed = _run(
            f"sqlite:///{Path(tmp) / 'a.db'}", definition, None
        )
        assert straight[0] == "SUCCEEDED", straight
        assert not straight_crashed
        crash_after = 1 + int(crash_fraction * (n_events - 1))
        resumed, resumed_history, _, crashed = _run(
            f"sqlite:///{Path(tmp) / 'b.db'}", definition, crash_after
        )
    # Without this the property is vacuous for any crash point the engine never reaches.
    assert crashed, f"no crash after event {crash_after} of {n_events}"
    assert resumed == straight
    # The same events: no state ran twice, none was skipped.
    assert resumed_history == straight_history
