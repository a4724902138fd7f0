"""Decoded execution states kept between the steps of durable executions (issue 16).

Every step of a durable execution starts from its snapshot. Decoding it (``json.loads`` and
``ExecutionState.from_json``) costs as much as the whole snapshot, which for an inline Map
grows with every iteration. The engine that wrote a snapshot still holds the state it encoded,
so it keeps that state here with the text it wrote, and a later step whose read finds that very
text (compared in full: equal texts are equal states, whoever wrote them) starts from the kept
state instead of decoding. A text written by another process, or by a step of this one that
this cache did not see commit, differs, and the snapshot is decoded as before.

The interpreter advances a state in place, so an entry is handed out at most once:
:meth:`StateCache.take` removes it, and only a step that committed puts its state back
(:meth:`StateCache.keep`). A step that is evaluated but not written (its execution changed, an
expression raised, its group rolled back) never puts back the state it changed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from eltflow.interpreter.state import ExecutionState

MAX_ENTRIES = 64
"""Executions kept: a worker steps a few at a time; the rest decode as before."""
MAX_CHARS = 64_000_000
"""Text kept in all, counting each state's snapshot text and the payload texts it holds for
its next snapshot (``ExecutionState.texts``, about as large again); its objects take a few
times that: bounds memory."""


@dataclass(frozen=True, slots=True)
class _Entry:
    text: str  # the snapshot text written for ``state``
    state: ExecutionState
    chars: int  # counted against ``max_chars``: the text and the state's payload texts


def _chars(text: str, state: ExecutionState) -> int:
    return len(text) + state.texts_chars


class StateCache:
    """The last committed state of recently stepped executions, each with its snapshot text;
    least recently kept first out. Thread-safe."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_chars: int = MAX_CHARS) -> None:
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def take(self, execution_id: str, text: str) -> ExecutionState | None:
        """The state kept for ``execution_id`` if it was written as ``text`` (then it is the
        caller's to change: no longer kept), else None. Either way nothing stays kept."""
        with self._lock:
            entry = self._entries.pop(execution_id, None)
            if entry is not None:
                self._chars -= entry.chars
        if entry is None or entry.text != text:
            return None
        return entry.state

    def keep(self, execution_id: str, text: str, state: ExecutionState) -> None:
        """Keep ``state``, committed as ``text``; the caller must not change it afterwards."""
        with self._lock:
            old = self._entries.pop(execution_id, None)
            if old is not None:
                self._chars -= old.chars
            chars = _chars(text, state)
            if chars > self._max_chars:
                return
            self._entries[execution_id] = _Entry(text, state, chars)
            self._chars += chars
            while len(self._entries) > self._max_entries or self._chars > self._max_chars:
                _, evicted = self._entries.popitem(last=False)
                self._chars -= evicted.chars

    def __len__(self) -> int:
        return len(self._entries)


__all__ = ["MAX_CHARS", "MAX_ENTRIES", "StateCache"]
