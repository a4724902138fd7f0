"""The state each history event belongs to, as ``eltflow executions history`` names it. An
event whose details name a state (``*StateEntered``, ``*StateExited``, ``MapIteration*``) is
that state's; any other takes the state of the ``*StateEntered`` event its
``previousEventId`` chain leads back to (a Task's ``TaskScheduled``, ``TaskFailed``...), or
none when the chain reaches a ``*StateExited`` or ``Execution*`` event first (the
execution's own events). An event that carries a Map iteration's ``index`` shows it:
``Each[2]``.

A pure function of AWS-shaped history events (GetExecutionHistory's, oldest first); the runs
and statuses per state are :mod:`eltflow.runtime.state_runs`'s fold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def details(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event's ``*EventDetails`` object (empty when it has none)."""
    detail: Any = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
    return detail if isinstance(detail, dict) else {}


def event_states(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """Per event, in order, the name of the state it belongs to ("" for none)."""
    by_id = {e["id"]: e for e in events}
    state_of: dict[int, str] = {}

    def state(e: Any) -> str:
        # Walk back to the event that names the state, then remember the answer for every
        # event on the way, so a long history is walked once.
        seen: list[int] = []
        while e is not None and e["id"] not in state_of:
            detail = details(e)
            if "StateEntered" in e["type"] and isinstance(detail.get("name"), str):
                state_of[e["id"]] = detail["name"]
                break
            if "StateExited" in e["type"] or e["type"].startswith("Execution"):
                state_of[e["id"]] = ""
                break
            seen.append(e["id"])
            e = by_id.get(e.get("previousEventId"))
        name = state_of.get(e["id"], "") if e is not None else ""
        for i in seen:
            state_of[i] = name
        return name

    out = []
    for e in events:
        detail = details(e)
        name = detail["name"] if isinstance(detail.get("name"), str) else state(e)
        if "index" in detail:
            name = f"{name}[{detail['index']}]"
        out.append(name)
    return out
