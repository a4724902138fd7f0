"""A step's history events as the stepper records them, built into ``HistoryEvent`` objects
only when someone reads them.

Building an event (a frozen ``HistoryEvent`` plus its details dicts) cost about half of a Pass
state's time, and an in-memory execution nobody asks the history of (``eltflow.execute`` in a
loop, a Map's result) never needs them. The stepper appends one small tuple per event instead:

- ``(id, previous_id, (type, details))`` for any event already built by an ``events`` builder;
- ``(id, previous_id, builder, *arguments)`` for one an ``events`` builder makes when read
  (``ExecutionStarted`` and ``ExecutionSucceeded``: once per execution, each ~2k
  instructions to build, callgrind);
- ``(id, previous_id, None, state_type, name, text)`` for ``<Type>StateEntered``;
- ``(id, previous_id, None, state_type, name, text, assigned)`` for ``<Type>StateExited``;
- ``(id, previous_id, PASS_ROW, name, following, text)`` for a row of passthrough Pass states
  (``Stepper._pass_row``): ``PassStateExited`` of ``name`` (``id``), then ``PassStateEntered``
  and ``PassStateExited`` of each state of ``following`` in turn, each event following the
  one before, all with the same ``text`` and no assigned variables: ``1 + 2 * len(following)``
  events in one record instead of one record each (most of a Pass state's cost in a row).

Every event of one step shares the step's ``now``. :func:`build` turns the tuples into the
same events, in the same order, with the same details, the eager code made.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, overload

from eltflow.interpreter import events as ev
from eltflow.interpreter.protocol import HistoryEvent

Record = tuple[Any, ...]


class _PassRow:
    """The marker in a record's third place that makes it a row of Pass states."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PASS_ROW"


PASS_ROW: Any = _PassRow()

# Building HistoryEvent through its slot descriptors skips the frozen dataclass's __init__
# (five object.__setattr__ calls): about 2.5x cheaper. The object is the same frozen
# HistoryEvent either way.
_new_event = object.__new__
_slots: dict[str, Any] = dict(vars(HistoryEvent))
_set_id = _slots["id"].__set__
_set_prev = _slots["previous_event_id"].__set__
_set_ts = _slots["timestamp"].__set__
_set_type = _slots["type"].__set__
_set_details = _slots["details"].__set__


def build(records: Sequence[Record], now: datetime) -> list[HistoryEvent]:
    """The events ``records`` stand for, stamped ``now``."""
    out: list[HistoryEvent] = []
    append = out.append
    entered, exited = ev.state_entered, ev.state_exited
    for r in records:
        event = r[2]
        if event is None:
            event = entered(r[3], r[4], r[5]) if len(r) == 6 else exited(r[3], r[4], r[5], r[6])
        elif type(event) is not tuple:
            if event is PASS_ROW:
                out += build(_row_records(r), now)
                continue
            event = event(*r[3:])
        e = _new_event(HistoryEvent)
        _set_id(e, r[0])
        _set_prev(e, r[1])
        _set_ts(e, now)
        _set_type(e, event[0])
        _set_details(e, event[1])
        append(e)
    return out


def _row_records(row: Record) -> list[Record]:
    """A ``PASS_ROW`` record as the one record per event it stands for."""
    eid, prev, _, name, following, text = row
    out: list[Record] = [(eid, prev, None, "Pass", name, text, None)]
    for following_name in following:
        out.append((eid + 1, eid, None, "Pass", following_name, text))
        out.append((eid + 2, eid + 1, None, "Pass", following_name, text, None))
        eid += 2
    return out


def count(records: Sequence[Record]) -> int:
    """How many events ``records`` stand for."""
    return sum(1 if r[2] is not PASS_ROW else 1 + 2 * len(r[4]) for r in records)


class EventLog(Sequence[HistoryEvent]):
    """One or more steps' events, built on first read (then kept).

    A ``Sequence``: ``len`` needs no building; indexing, iterating or :meth:`events` build
    every event once. Steps are added in order with :meth:`add` (records) or :meth:`extend`
    (events already built), before or after the first read.
    """

    __slots__ = ("_built", "_parts")

    def __init__(self, records: list[Record] | None = None, now: datetime | None = None) -> None:
        """An empty log, or one step's ``records`` stamped ``now`` (what :meth:`add` adds)."""
        self._parts: list[tuple[list[Record], datetime] | list[HistoryEvent]] = (
            [(records, now)] if records and now is not None else []
        )
        self._built: list[HistoryEvent] | None = None

    def add(self, records: list[Record], now: datetime) -> None:
        if self._built is not None:
            self._built += build(records, now)
        elif records:
            self._parts.append((records, now))

    def extend(self, events: Sequence[HistoryEvent]) -> None:
        if self._built is not None:
            self._built += events
        elif events:
            self._parts.append(list(events))

    def events(self) -> list[HistoryEvent]:
        """Every event, built (the same list on every call)."""
        built = self._built
        if built is None:
            built = []
            for part in self._parts:
                built += build(*part) if isinstance(part, tuple) else part
            self._built = built
            self._parts = []
        return built

    def last_timestamp(self) -> datetime | None:
        """The last event's timestamp (None when there is none), without building events."""
        if self._built is not None:
            return self._built[-1].timestamp if self._built else None
        if not self._parts:
            return None
        last = self._parts[-1]
        return last[1] if isinstance(last, tuple) else last[-1].timestamp

    def __len__(self) -> int:
        if self._built is not None:
            return len(self._built)
        return sum(count(part[0]) if isinstance(part, tuple) else len(part) for part in self._parts)

    @overload
    def __getitem__(self, index: int) -> HistoryEvent: ...

    @overload
    def __getitem__(self, index: slice) -> list[HistoryEvent]: ...

    def __getitem__(self, index: int | slice) -> HistoryEvent | list[HistoryEvent]:
        return self.events()[index]

    def __iter__(self) -> Iterator[HistoryEvent]:
        return iter(self.events())


__all__ = ["PASS_ROW", "EventLog", "Record", "build", "count"]
