"""Two apps (two processes' worth of eltflow) on one state store, for tests of what one engine
must notice when another wrote meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from eltflow.app import App, build_app
from eltflow.clock import SystemClock


@contextmanager
def two_apps(store_url: str, machine: str, definition: str) -> Iterator[tuple[App, App]]:
    """Two apps on ``store_url``, the state machine ``machine`` created by the first."""
    app = build_app(state_url=store_url, clock=SystemClock())
    other = build_app(state_url=store_url, clock=SystemClock())
    try:
        app.service.create_state_machine(name=machine, definition=definition)
        yield app, other
    finally:
        other.close()
        app.close()


def start(app: App, machine: str, name: str) -> tuple[str, str]:
    """Start execution ``name`` of ``machine``: its ARN and its store id."""
    arn = str(app.service.start_execution(state_machine_arn=machine, name=name)["executionArn"])
    row = app.store.get_execution_by_arn(arn)
    assert row is not None
    return arn, row.id


def event_types(app: App, arn: str) -> list[str]:
    """The types of the execution's history events, in order."""
    events = app.service.get_execution_history(execution_arn=arn)["events"]
    assert isinstance(events, list)
    return [str(e["type"]) for e in events if isinstance(e, dict)]
