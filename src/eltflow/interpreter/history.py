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

from collections.abc import Callable, Container, Iterator, Sequence
from datetime import datetime
from typing import Any, overload

from eltflow.interpreter import events as ev
from eltflow.interpreter.protocol import HistoryEvent
from eltflow.json_text import dumps, encode_key

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


# --- the records as JSON text, no events built ------------------------------------------------
# A durable store writes a step's events as one JSON text, ``[[id, previous_id, type,
# timestamp_us, details], ...]`` (store/rows.event_items, then json_text.dumps). For the hot
# records (state entered / exited, rows of Pass states, ExecutionStarted / ExecutionSucceeded)
# :func:`json_items` writes that text from the records themselves: no HistoryEvent, no details
# dicts, no encoding of the whole (issue 16: ~30 us of a durable 10-Pass chain's start). The
# details' text comes from a template made by calling the event's own builder once with
# placeholder strings and encoding its details with dumps, so its shape is the builder's by
# construction; each string is filled in as the json module writes a string (encode_key:
# json.encoder.encode_basestring, which dumps' text uses for every string), and json's text is
# compositional, so the whole is the text dumps writes for the built events.
_HOLES = ("\ue000eltflow-hole-0\ue001", "\ue000eltflow-hole-1\ue001")
Template = tuple[str, tuple[str, ...]]  # (the type, encoded; the text around each string)
_templates: dict[Any, Template | None] = {}


def _template(
    key: Any, builder: Callable[..., ev.Event], fixed: tuple[Any, ...], holes: int
) -> Template | None:
    """The template of ``builder(*fixed, <string>, ...)``'s event with ``holes`` strings (its
    type must not depend on them), or None where the strings do not each appear once, as
    themselves (a builder that transforms them has no template)."""
    if key in _templates:
        return _templates[key]
    event_type, details = builder(*fixed, *_HOLES[:holes])
    rest = dumps(details)
    pieces: list[str] = []
    found: Template | None = None
    for hole in _HOLES[:holes]:
        encoded = encode_key(hole)
        if rest.count(encoded) != 1:
            break
        head, rest = rest.split(encoded)
        pieces.append(head)
    else:
        pieces.append(rest)
        found = (encode_key(event_type), tuple(pieces))
    _templates[key] = found
    return found


def _entered(state_type: str) -> Template | None:
    return _template(("entered", state_type), ev.state_entered, (state_type,), 2)


def _exited(state_type: str) -> Template | None:
    return _template(("exited", state_type), ev.state_exited, (state_type,), 2)


def _record_texts(records: Sequence[Record], now: datetime, stamp: int, out: list[str]) -> None:
    """Append each event's ``[id,previous_id,type,stamp,details]`` text (see above)."""
    append = out.append
    us = str(stamp)
    for r in records:
        event = r[2]
        template: Template | None = None
        args: tuple[str, ...] = ()
        if event is None:
            if len(r) == 6:
                template, args = _entered(r[3]), (r[4], r[5])
            elif not r[6]:
                template, args = _exited(r[3]), (r[4], r[5])
        elif event is PASS_ROW:
            eid, prev, _, name, following, text = r
            exited, entered = _exited("Pass"), _entered("Pass")
            if exited is not None and entered is not None:
                x_type, (x0, x1, x2) = exited
                n_type, (n0, n1, n2) = entered
                t = encode_key(text)
                x_mid, x_end = x1 + t + x2 + "]", f",{x_type},{us},{x0}"
                n_mid, n_end = n1 + t + n2 + "]", f",{n_type},{us},{n0}"
                append(f"[{eid},{prev}{x_end}{encode_key(name)}{x_mid}")
                for following_name in following:
                    key = encode_key(following_name)
                    append(f"[{eid + 1},{eid}{n_end}{key}{n_mid}")
                    append(f"[{eid + 2},{eid + 1}{x_end}{key}{x_mid}")
                    eid += 2
                continue
        elif event is ev.execution_started:
            template, args = _template(event, event, (), 2), r[3:]
        elif event is ev.execution_succeeded:
            template, args = _template(event, event, (), 1), r[3:]
        if template is None:
            for e in build([r], now):  # any other record: built, then encoded
                append(dumps([e.id, e.previous_event_id, e.type, stamp, e.details]))
            continue
        event_type, pieces = template
        text = [f"[{r[0]},{r[1]},{event_type},{us},{pieces[0]}"]
        for arg, piece in zip(args, pieces[1:], strict=True):
            text.append(encode_key(arg))
            text.append(piece)
        text.append("]")
        append("".join(text))


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

    def json_items(self, us_of: Callable[[datetime], int]) -> tuple[int, int, str] | None:
        """``(first id, last id, text)``: the JSON text of ``[[id, previous_id, type,
        timestamp_us, details], ...]`` for every event (``us_of`` turns a timestamp into
        ``timestamp_us``), exactly as ``dumps`` writes it for the built events, but written
        from the records where none was built yet (see :func:`_record_texts`). None when
        the events were built already (their encoding is the caller's) or there are none."""
        if self._built is not None or not self._parts:
            return None
        out: list[str] = []
        for part in self._parts:
            if not isinstance(part, tuple):
                return None  # events added already built (extend): the caller's
            records, now = part
            _record_texts(records, now, us_of(now), out)
        first = self._parts[0]
        last = self._parts[-1]
        assert isinstance(first, tuple) and isinstance(last, tuple)
        final = last[0][-1]
        last_id = final[0] + 2 * len(final[4]) if final[2] is PASS_ROW else final[0]
        return first[0][0][0], last_id, "[" + ",".join(out) + "]"

    def matching(self, types: Container[str]) -> list[tuple[int, str, datetime]]:
        """``(id, type, timestamp)`` of each event whose type is in ``types``, in order, read
        from the records where the events were not built (a state's entry or exit, or a row
        of Pass states, is known by its type alone; another record is built by itself)."""
        if self._built is not None:
            return [(e.id, e.type, e.timestamp) for e in self._built if e.type in types]
        out: list[tuple[int, str, datetime]] = []
        for part in self._parts:
            if not isinstance(part, tuple):
                out += [(e.id, e.type, e.timestamp) for e in part if e.type in types]
                continue
            records, now = part
            for r in records:
                event = r[2]
                if event is None:
                    kinds = ev.ENTERED if len(r) == 6 else ev.EXITED
                    if kinds[r[3]] in types:
                        out.append((r[0], kinds[r[3]], now))
                elif event is PASS_ROW:
                    if ev.ENTERED["Pass"] in types or ev.EXITED["Pass"] in types:
                        out += [(e.id, e.type, now) for e in build([r], now) if e.type in types]
                else:
                    event_type = event[0] if type(event) is tuple else event(*r[3:])[0]
                    if event_type in types:
                        out.append((r[0], event_type, now))
        return out

    def succeeded_output(self) -> str | None:
        """The output text of the ExecutionSucceeded event that ends the log, if one does
        (None otherwise), read from its record where the events were not built."""
        last = self._parts[-1] if self._built is None and self._parts else None
        if isinstance(last, tuple):
            final = last[0][-1]
            return final[3] if final[2] is ev.execution_succeeded else None
        events = self.events()
        if events and events[-1].type == "ExecutionSucceeded":
            details = events[-1].details.get("executionSucceededEventDetails")
            if isinstance(details, dict) and isinstance(details.get("output"), str):
                return str(details["output"])
        return None

    def last_timestamp(self) -> datetime | None:
        """The last event's timestamp (None when there is none), without building events."""
        if self._built is not None:
            return self._built[-1].timestamp if self._built else None
        if not self._parts:
            return None
        last = self._parts[-1]
        return last[1] if isinstance(last, tuple) else last[-1].timestamp

    def __bool__(self) -> bool:
        # Without it, ``if log:`` counts every record (__len__); parts are never empty.
        return bool(self._parts) if self._built is None else bool(self._built)

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
