"""Step Functions' ``TestState``: run one state on an input and report what it did.

The state runs as the only real state of a small machine, in memory (``eltflow.execute``,
virtual time so a Wait or a retry backoff doesn't block), with the app's integrations, so a
Task calls the same local service an execution would. Every state it can transition to is a
stub ``Succeed`` state, so the first stub entered is the ``nextState`` and its input is the
tested state's output.

Status as AWS reports it: ``SUCCEEDED``; ``FAILED`` (error and cause); ``CAUGHT_ERROR`` (a
Catch matched: nextState is its target); ``RETRIABLE`` (a Retrier matches the error: TestState
reports that instead of retrying). ``inspectionData`` (DEBUG/TRACE) carries ``input``, and for
Tasks ``afterParameters`` and ``result``; the other fields (afterInputPath,
afterResultSelector, afterResultPath) are not recorded by the runtime and are left out.
``variables``, ``mock``, ``context`` and ``stateConfiguration`` are refused (not supported).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from eltflow.asl.errors import matches
from eltflow.errors import AwsApiError
from eltflow.runtime.local import execute

_STUB = {"Type": "Succeed"}


def test_state(app: Any, p: dict[str, Any]) -> Mapping[str, Any]:
    for unsupported in ("variables", "mock", "context", "stateConfiguration"):
        if p.get(unsupported) is not None:
            raise AwsApiError(
                "ValidationException", f"TestState with {unsupported} is not supported by eltflow"
            )
    name, state = _the_state(p["definition"], p.get("stateName"))
    try:
        value = json.loads(p.get("input") or "{}")
    except ValueError as e:
        raise AwsApiError("InvalidExecutionInput", f"Invalid input: {e}") from None
    wrapper, stubs, catches = _machine(name, state)
    result = execute(wrapper, value, registry=app.registry, virtual_time=True)
    out: dict[str, Any] = {}
    entered = _entered(result.history)
    next_state = next((n for n, _ in entered if n in stubs), None)
    if next_state is not None:
        out["nextState"] = stubs[next_state]
        stub_input = next(i for n, i in entered if n == next_state)
        out["output"] = stub_input
    caught = next_state in catches
    if result.error is not None or caught:
        error, cause = _failure(result.history, result.error, result.cause)
        if caught and not error:
            error, cause = _from_output(out.get("output"))
        out["error"], out["cause"] = error, cause
        retriers = state.get("Retry") or []
        if any(matches(r.get("ErrorEquals", []), error) for r in retriers if isinstance(r, dict)):
            out["status"] = "RETRIABLE"
            out.pop("nextState", None)
            out.pop("output", None)
        elif caught:
            out["status"] = "CAUGHT_ERROR"
        else:
            out["status"] = "FAILED"
    else:
        out["status"] = "SUCCEEDED"
        if next_state is None:  # End: the execution's output is the state's
            out["output"] = json.dumps(result.output, separators=(",", ":"))
    level = p.get("inspectionLevel") or "INFO"
    if level != "INFO":
        out["inspectionData"] = _inspection(result.history, value)
    return out


def _the_state(definition: Any, state_name: str | None) -> tuple[str, dict[str, Any]]:
    try:
        parsed = json.loads(definition) if isinstance(definition, str) else definition
    except ValueError as e:
        raise AwsApiError("InvalidDefinition", f"Invalid State Machine Definition: {e}") from None
    if not isinstance(parsed, dict):
        raise AwsApiError("InvalidDefinition", "The definition must be a JSON object")
    if state_name is not None or "States" in parsed:
        states = parsed.get("States")
        name = state_name or parsed.get("StartAt")
        if not isinstance(states, dict) or not isinstance(states.get(name), dict):
            raise AwsApiError(
                "ValidationException", f"State {name!r} is not in the definition's States"
            )
        return str(name), dict(states[name])
    return "TestState", dict(parsed)


def _machine(name: str, state: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str], set[str]]:
    """The wrapper machine, stub name -> the target it stands for, and the stubs that only a
    Catch leads to (so entering one means the error was caught)."""
    tested = json.loads(json.dumps(state))
    tested.pop("Retry", None)  # TestState reports RETRIABLE instead of retrying
    stubs: dict[str, str] = {}
    catches: set[str] = set()

    def stub(target: Any, suffix: str) -> Any:
        if not isinstance(target, str):
            return target  # the validator reports it
        # Stub names differ from the tested state's (a state may transition to itself).
        name_ = f"{target} ({suffix})"
        stubs[name_] = target
        return name_

    if "Next" in tested:
        tested["Next"] = stub(tested["Next"], "next")
    if "Default" in tested:
        tested["Default"] = stub(tested["Default"], "next")
    for rule in tested.get("Choices") or []:
        if isinstance(rule, dict) and "Next" in rule:
            rule["Next"] = stub(rule["Next"], "next")
    for i, rule in enumerate(tested.get("Catch") or []):
        if isinstance(rule, dict) and "Next" in rule:
            rule["Next"] = stub(rule["Next"], f"catch {i}")
            catches.add(rule["Next"])
    states: dict[str, Any] = {n: dict(_STUB) for n in stubs}
    states[name] = tested
    return {"StartAt": name, "States": states}, stubs, catches


def _entered(history: list[Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for e in history:
        if e.type.endswith("StateEntered"):
            details = e.details.get("stateEnteredEventDetails") or {}
            out.append((str(details.get("name")), str(details.get("input", ""))))
    return out


def _from_output(output: Any) -> tuple[str, str]:
    """A caught error's name and cause from the error output (``{"Error", "Cause"}``) when
    the history has no failure event to read them from (a non-Task state)."""
    try:
        value = json.loads(output) if isinstance(output, str) else None
    except ValueError:
        value = None
    if isinstance(value, dict):
        return str(value.get("Error", "")), str(value.get("Cause", ""))
    return "", ""


def _failure(history: list[Any], error: str | None, cause: str | None) -> tuple[str, str]:
    if error is not None:
        return error, cause or ""
    for e in history:
        if e.type in ("TaskFailed", "TaskTimedOut"):
            key = "taskFailedEventDetails" if e.type == "TaskFailed" else "taskTimedOutEventDetails"
            details = e.details.get(key) or {}
            return str(details.get("error", "")), str(details.get("cause", ""))
    return "", ""


def _inspection(history: list[Any], value: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"input": json.dumps(value, separators=(",", ":"))}
    for e in history:
        if e.type == "TaskScheduled":
            details = e.details.get("taskScheduledEventDetails") or {}
            if "parameters" in details:
                data["afterParameters"] = details["parameters"]
        elif e.type == "TaskSucceeded":
            details = e.details.get("taskSucceededEventDetails") or {}
            if "output" in details:
                data["result"] = details["output"]
    return data
