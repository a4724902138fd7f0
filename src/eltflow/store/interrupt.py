"""Ending a worker's wait for work at once, for :meth:`Worker.stop`.

An idle worker sleeps in ``wait_for_work`` on its store's own wake-up: a condition (in memory,
and SQLite's in-process wake-ups, :mod:`eltflow.store.wakeup`) or a socket (PostgreSQL's LISTEN
connection). A stop that only set a flag was seen when that wait ended by itself, after the
worker's idle timeout: ``stop(); thread.join()`` took up to ``idle_seconds`` (2 s; 30 s in
tests whose long polls prove that a notification, not a poll, did the work). The worker's
:class:`Interrupt`, passed to the wait, ends it too: it notifies the condition the wait is on
(see :meth:`Interrupt.watch`), and its pipe is readable in the ``select()`` on the socket.
Nothing runs until it is set: a wait costs a registration (~0.5 us), no CPU while it sleeps.
"""

from __future__ import annotations

import os
import threading


class Interrupt:
    """Set once, by another thread, to end the waits made with it (see the module)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()  # the conditions and the pipe
        self._conditions: list[threading.Condition] = []
        self._pipe: tuple[int, int] | None = None

    def set(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            conditions = list(self._conditions)
            if self._pipe is not None:
                os.write(self._pipe[1], b"x")
        # Outside the lock: a waiter holds its condition's lock while it registers.
        for condition in conditions:
            with condition:
                condition.notify_all()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, less if set; whether it is set."""
        return self._event.wait(timeout)

    def watch(self, condition: threading.Condition) -> bool:
        """Have :meth:`set` notify ``condition`` from now on, unless set already: whether it
        was not (then wait on ``condition``, and :meth:`unwatch` it after). Call it holding
        the condition's lock: a set after it notifies the condition once the wait has
        released the lock, so it cannot come between this test and the wait."""
        with self._lock:
            if self._event.is_set():
                return False
            self._conditions.append(condition)
            return True

    def unwatch(self, condition: threading.Condition) -> None:
        with self._lock:
            self._conditions.remove(condition)

    def fileno(self) -> int:
        """A descriptor that is readable once set, to ``select()`` on with a socket. Opened
        on first use, closed by :meth:`close`."""
        with self._lock:
            if self._pipe is None:
                r, w = os.pipe()
                self._pipe = (r, w)
                if self._event.is_set():
                    os.write(w, b"x")
            return self._pipe[0]

    def close(self) -> None:
        """Close the pipe, if :meth:`fileno` opened one (the waits made with it are over)."""
        with self._lock:
            pipe, self._pipe = self._pipe, None
        if pipe is not None:
            os.close(pipe[0])
            os.close(pipe[1])
