"""The machine TestState runs a state in: the state, its Retry left out (TestState reports
RETRIABLE instead of retrying), every transition target a stub ``Succeed`` state (the first stub
entered is ``nextState``, its input the state's output). A mocked Map or Parallel runs as a Task
with the fields that process its result: the mock stands for the whole result.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from eltflow.asl.model import AnyState, StateMachine
from eltflow.asl.parser import parse

MOCK_RESOURCE = "arn:aws:states:::eltflow:testState.mock"
# A mocked Map or Parallel runs as a Task with the fields that process its result: the mock
# stands for the whole result, so the fields that make the items or branches are dropped.
_KEEP_FOR_MOCKED_BRANCHES = (
    "Comment",
    "QueryLanguage",
    "InputPath",
    "ResultSelector",
    "ResultPath",
    "OutputPath",
    "Output",
    "Assign",
    "Catch",
    "Next",
    "End",
)


def _stub_name(target: str, tested: str, used: set[str]) -> str:
    # Stub names differ from the tested state's (a state may transition to itself).
    name, n = f"{target} (next)", 1
    while name == tested or name in used:
        n += 1
        name = f"{target} (next {n})"
    return name


def machine(
    raw: Mapping[str, Any],
    name: str,
    query_language: str | None,
    *,
    catch: bool,
    as_written: bool = False,
) -> tuple[StateMachine, dict[str, str]]:
    """The machine the state runs in, and its stubs (stub name -> the target it stands for).
    ``as_written``: the state unchanged (for its model), not made runnable."""
    state = copy.deepcopy(dict(raw)) if as_written else _runnable(raw, catch=catch)
    stubs: dict[str, str] = {}

    def stub(target: Any) -> Any:
        if not isinstance(target, str):
            return target  # the validator reports it
        for stub_name, stub_target in stubs.items():
            if stub_target == target:
                return stub_name
        stub_name = _stub_name(target, name, set(stubs))
        stubs[stub_name] = target
        return stub_name

    if "Next" in state:
        state["Next"] = stub(state["Next"])
    if "Default" in state:
        state["Default"] = stub(state["Default"])
    for rule in state.get("Choices") or []:
        if isinstance(rule, dict) and "Next" in rule:
            rule["Next"] = stub(rule["Next"])
    for rule in state.get("Catch") or []:
        if isinstance(rule, dict) and "Next" in rule:
            rule["Next"] = stub(rule["Next"])
    states: dict[str, Any] = {n: {"Type": "Succeed"} for n in stubs}
    states[name] = state
    definition: dict[str, Any] = {"StartAt": name, "States": states}
    if query_language is not None:
        definition["QueryLanguage"] = query_language
    return parse(definition), stubs


def _runnable(raw: Mapping[str, Any], *, catch: bool) -> dict[str, Any]:
    state = copy.deepcopy(dict(raw))
    if state.get("Type") in ("Map", "Parallel"):
        state = {k: v for k, v in state.items() if k in _KEEP_FOR_MOCKED_BRANCHES}
        state["Type"] = "Task"
        state["Resource"] = MOCK_RESOURCE
    state.pop("Retry", None)  # TestState reports RETRIABLE instead of retrying
    if not catch:
        state.pop("Catch", None)
    return state


def parse_state(raw: Mapping[str, Any], name: str, query_language: str | None) -> AnyState:
    """The tested state as written (Retry, Catch, a Map's fields and all), parsed."""
    written, _ = machine(raw, name, query_language, catch=True, as_written=True)
    return written.states[name]
