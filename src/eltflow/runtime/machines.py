"""Parsed state machines by version id, parsed once per process (versions are immutable)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from eltflow.asl.model import StateMachine
from eltflow.errors import NotFoundError
from eltflow.store.interface import StateStore, Txn
from eltflow.store.rows import MachineRow


def insert_machine_txn(
    store: StateStore,
    conn: Txn,
    *,
    name: str,
    arn: str,
    version_id: int,
    role_arn: str,
    machine_type: str,
    now_us: int,
) -> None:
    """Insert a new state machine's row, created and updated at ``now_us``, whose current
    version is ``version_id`` (CreateStateMachine, a Map Run's child machine, a local run)."""
    store.insert_machine_txn(
        conn,
        MachineRow(
            name=name,
            arn=arn,
            current_version_id=version_id,
            role_arn=role_arn,
            machine_type=machine_type,
            created_us=now_us,
            updated_us=now_us,
        ),
    )


def machine_at(machine: StateMachine, path: Sequence[str]) -> StateMachine:
    """The (sub-)machine at ``path`` in ``machine``: (state name, branch index or ``"*"`` for a
    Map's ItemProcessor) pairs, as a frame's path and a Map Run's ``StatePath`` less its last
    name spell it."""
    current: Any = machine
    for i in range(0, len(path), 2):
        state = current.states[path[i]]
        current = state.item_processor if path[i + 1] == "*" else state.branches[int(path[i + 1])]
    result: StateMachine = current
    return result


def parse_definition(definition: str) -> StateMachine:
    """Validate and parse a definition (raises DefinitionError with every diagnostic)."""
    from eltflow.asl.parser import parse

    return parse(definition)


class MachineCache:
    """Parsed versions by id, and the machine rows StartExecution last used by name.

    A version never changes, so its parsed model is cached for good. A machine row does
    (UpdateStateMachine, a delete and a create, in any process): a cached one is only a guess
    that a start checks in its transaction (``insert_started_execution_txn``), as it checked
    the row it had read; a wrong guess costs that start one more evaluation (issue 16: the
    read transaction before each start was a third of a Pass chain's cost on SQLite)."""

    def __init__(self, store: StateStore, size: int = 256) -> None:
        self._store = store
        self._size = size
        self._cache: dict[int, StateMachine] = {}
        self._rows: dict[str, MachineRow] = {}
        self._lock = threading.Lock()

    def current(self, name: str) -> tuple[MachineRow, StateMachine] | None:
        """The row last remembered for machine ``name`` and its current version's model, if
        both are cached (a guess: see the class docstring)."""
        with self._lock:
            row = self._rows.get(name)
            if row is None:
                return None
            parsed = self._cache.get(row.current_version_id)
        return None if parsed is None else (row, parsed)

    def remember(self, row: MachineRow) -> None:
        """Remember ``row`` as machine ``row.name``'s (its version should be cached too)."""
        with self._lock:
            if row.name not in self._rows and len(self._rows) >= self._size:
                self._rows.pop(next(iter(self._rows)))
            self._rows[row.name] = row

    def forget(self, name: str) -> None:
        """Drop the row remembered for machine ``name`` (it changed, or may have)."""
        with self._lock:
            self._rows.pop(name, None)

    def put(self, version_id: int, machine: StateMachine) -> None:
        """Cache a model parsed elsewhere (``eltflow.execute`` parses before it records)."""
        with self._lock:
            if len(self._cache) >= self._size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[version_id] = machine

    def get_txn(self, conn: Txn, version_id: int) -> StateMachine:
        with self._lock:
            found = self._cache.get(version_id)
        if found is not None:
            return found
        row = self._store.get_version_txn(conn, version_id)
        if row is None:
            raise NotFoundError(f"state machine version {version_id} is not recorded")
        machine = parse_definition(row.definition)
        with self._lock:
            if len(self._cache) >= self._size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[version_id] = machine
        return machine
