"""The worker's "a task finished" signal: a :class:`threading.Event` that can also be waited
on with ``select()`` alongside a socket (issue 16: a busy PostgreSQL worker waits on its tasks
and on its LISTEN connection at once, so that a start given to it is heard while it waits)."""

from __future__ import annotations

import contextlib
import os
import threading


class DoneSignal:
    """Set when a task finished or reported, like a :class:`threading.Event`; once
    :meth:`open_pipe` ran (a worker that listens for work while it waits on its tasks), also
    readable as a pipe, so that one ``select()`` waits on both."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._pipe: tuple[int, int] | None = None

    def open_pipe(self) -> None:
        r, w = os.pipe()
        os.set_blocking(r, False)
        os.set_blocking(w, False)
        with self._lock:
            self._pipe = (r, w)
            if self._event.is_set():
                os.write(w, b"x")

    def close_pipe(self) -> None:
        # Under the lock: a task that ends after the worker must not write to a closed fd,
        # whose number may be something else's by then.
        with self._lock:
            pipe, self._pipe = self._pipe, None
        if pipe is not None:
            os.close(pipe[0])
            os.close(pipe[1])

    def fileno(self) -> int | None:
        pipe = self._pipe
        return None if pipe is None else pipe[0]

    def set(self) -> None:
        # On a task's thread. Once set, later ones need not write (the pipe is readable).
        if self._event.is_set():
            return
        self._event.set()
        if self._pipe is not None:
            with self._lock:
                if self._pipe is not None:
                    with contextlib.suppress(BlockingIOError):  # full: readable anyway
                        os.write(self._pipe[1], b"x")

    def is_set(self) -> bool:
        return self._event.is_set()

    def clear(self) -> None:
        self._event.clear()
        pipe = self._pipe
        if pipe is not None:
            with contextlib.suppress(BlockingIOError, OSError):
                while os.read(pipe[0], 4096):
                    pass

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)
