"""The state each history event belongs to (runtime/event_states.py), as
``eltflow executions history`` prints it."""

from __future__ import annotations

from typing import Any

from eltflow.runtime.event_states import details, event_states


def _event(id: int, type: str, previous: int, **detail: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"id": id, "type": type, "previousEventId": previous}
    if detail:
        key = type[0].lower() + type[1:] + "EventDetails"
        event[key] = detail
    return event


HISTORY = [
    _event(1, "ExecutionStarted", 0, input="{}"),
    _event(2, "TaskStateEntered", 1, name="Load"),
    _event(3, "TaskScheduled", 2, resource="invoke"),
    _event(4, "TaskStarted", 3),
    _event(5, "TaskFailed", 4, error="Boom", cause="x"),
    _event(6, "TaskScheduled", 5, resource="invoke"),  # the retry: still Load's
    _event(7, "TaskSucceeded", 6, output="{}"),
    _event(8, "TaskStateExited", 7, name="Load"),
    _event(9, "MapStateEntered", 8, name="Each"),
    _event(10, "MapStateStarted", 9, length=1),
    _event(11, "MapIterationStarted", 10, name="Each", index=0),
    _event(12, "PassStateEntered", 11, name="Inner"),
    _event(13, "PassStateExited", 12, name="Inner"),
    _event(14, "MapIterationSucceeded", 13, name="Each", index=0),
    _event(15, "MapStateSucceeded", 14),
    _event(16, "MapStateExited", 15, name="Each"),
    _event(17, "ExecutionSucceeded", 16, output="{}"),
]


def test_each_event_is_named_by_its_own_state_or_the_one_its_chain_leads_to() -> None:
    assert event_states(HISTORY) == [
        "",  # the execution's own event
        "Load",
        "Load",
        "Load",
        "Load",
        "Load",
        "Load",
        "Load",
        "Each",
        "Each",
        "Each[0]",  # an iteration's events show its index
        "Inner",
        "Inner",
        "Each[0]",
        "",  # its chain reaches a *StateExited (Inner's) first: no state
        "Each",
        "",
    ]


def test_an_event_after_a_state_exit_or_with_a_broken_chain_has_no_state() -> None:
    events = [
        _event(1, "ExecutionStarted", 0),
        _event(2, "TaskStateEntered", 1, name="A"),
        _event(3, "TaskStateExited", 2, name="A"),
        _event(4, "TaskScheduled", 3),  # follows an exit: no state
        _event(5, "TaskStarted", 99),  # its previous event is not in the history
    ]
    assert event_states(events) == ["", "A", "A", "", ""]


def test_details_is_the_events_details_object() -> None:
    assert details(HISTORY[4]) == {"error": "Boom", "cause": "x"}
    assert details(HISTORY[3]) == {}
    assert details({"id": 1, "type": "X", "xEventDetails": "not an object"}) == {}
