"""Work notifications for a SQLite store, which has no LISTEN/NOTIFY.

In process: a commit that made an execution runnable bumps :attr:`Wakeup.generation` and
wakes every thread waiting in ``RuntimeStore.wait_for_work``; a waiter that has not seen the
current generation returns at once, so a notification sent while it was busy (claiming) is
not lost.

Across processes: a FIFO next to the database file (``state.db-wake``, where SQLite keeps
``state.db-wal``). A process whose worker waits for work reads it, on one thread per process
and file that sleeps in ``select`` (no CPU while idle), and turns what it reads into the
in-process wake-up above. A commit that made work writes the committing process's pid to it:
one ``write`` on a kept descriptor, or a failed ``open`` when no process reads it. Issue 16: a
start made by another process (``eltflow start``, the HTTP endpoint) waited for the worker's
0.2 s poll, start -> SUCCEEDED ~200 ms against ~2 ms in process.

Each message wakes one reading process, the one that reads it: with several worker processes
on one SQLite file, the others see that start at their poll, as before. Where FIFOs are not
available (Windows, a read-only folder, a FIFO that cannot be made) workers poll.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import stat
import struct
import threading
from collections.abc import Callable

from eltflow.store.db import Database, sqlite_path

log = logging.getLogger(__name__)

_PID = struct.Struct("=i")  # a message: the writer's pid (a reader skips its own process's)


class Wakeup:
    """The work notifications of one SQLite file in this process (see the module)."""

    def __init__(self, fifo: str | None) -> None:
        """``fifo``: the FIFO's path, None for in-process notifications only."""
        self.condition = threading.Condition()
        self.generation = 0
        self.fifo = fifo if hasattr(os, "mkfifo") else None
        self._lock = threading.Lock()  # the writer and the reader
        self._writer: int | None = None  # kept open: one write per notification
        self._reader: _Reader | None = None
        self._listeners = 0  # the stores of this process that read the FIFO

    def notify(self) -> None:
        """Wake this process's waiting workers and, unless this process reads the FIFO (its
        own workers take the work then), one reading process."""
        self.wake_here()
        if self.fifo is not None and self._reader is None:
            self._send()

    def wake_here(self) -> None:
        with self.condition:
            self.generation += 1
            self.condition.notify_all()

    def _send(self) -> None:
        message = _PID.pack(os.getpid())
        with self._lock:
            for _ in range(2):  # a kept descriptor whose readers all left: once more, anew
                if self._writer is None:
                    self._writer = _open_fifo(self.fifo, os.O_WRONLY)
                    if self._writer is None:
                        return  # nobody reads it (or there is none yet)
                try:
                    os.write(self._writer, message)
                    return
                except BlockingIOError:
                    return  # full: its reader has a wake-up to read already
                except OSError:  # EPIPE: every reader left
                    os.close(self._writer)
                    self._writer = None

    def listen(self) -> bool:
        """A store of this process waits for work: read the FIFO from now on (one reader
        for all of them). True if this started reading: what was committed just before
        sent its message to nobody, so the caller should look for work once more."""
        if self.fifo is None:
            return False
        with self._lock:
            self._listeners += 1
            if self._reader is not None:
                return False
            try:
                self._reader = _Reader(self.fifo, self.wake_here)
            except OSError as e:
                log.info("no wake-ups from other processes (polling instead): %s", e)
                self.fifo = None
                return False
            return True

    def unlisten(self) -> None:
        """A store that :meth:`listen`\\ ed is done waiting; the last one stops the reader."""
        with self._lock:
            self._listeners -= 1
            reader = self._reader if self._listeners <= 0 else None
            if reader is not None:
                self._reader = None
                reader.close()


def _open_fifo(path: str | None, mode: int) -> int | None:
    """A non-blocking descriptor of the FIFO at ``path``; None if there is none, or (write
    mode) no process reads it. Anything but a FIFO there is refused: never written."""
    if path is None:
        return None
    try:
        fd = os.open(path, mode | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:  # ENOENT: no worker waited yet; ENXIO: no reader now
        return None
    if not stat.S_ISFIFO(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


class _Reader:
    """The thread that reads the FIFO for this process."""

    def __init__(self, path: str, heard: Callable[[], None]) -> None:
        with contextlib.suppress(FileExistsError):
            os.mkfifo(path, 0o600)
        fd = _open_fifo(path, os.O_RDONLY)
        if fd is None:
            raise OSError(f"{path} is not a FIFO")
        # A write end of its own: without one, a read returns end-of-file (at once, again and
        # again) whenever no other process has the FIFO open for writing.
        keep = _open_fifo(path, os.O_WRONLY)
        self._fds = [fd, keep] if keep is not None else [fd]
        self._stop_r, self._stop_w = os.pipe()
        self._heard = heard
        self._thread = threading.Thread(
            target=self._run, args=(fd,), name="eltflow-sqlite-wakeup", daemon=True
        )
        self._thread.start()

    def _run(self, fd: int) -> None:
        own = _PID.pack(os.getpid())
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            selector.register(self._stop_r, selectors.EVENT_READ)
            while True:
                ready = {key.fd for key, _ in selector.select()}
                if self._stop_r in ready:
                    break
                try:
                    data = os.read(fd, 4096)  # whole messages: each write is one, atomic
                except BlockingIOError:
                    continue  # another process read it first
                size = _PID.size
                if any(data[i : i + size] != own for i in range(0, len(data), size)):
                    self._heard()
        for each in (*self._fds, self._stop_r):
            os.close(each)

    def close(self) -> None:
        os.write(self._stop_w, b"x")
        os.close(self._stop_w)
        self._thread.join(5)


_WAKEUPS: dict[str, Wakeup] = {}
_WAKEUPS_LOCK = threading.Lock()


def wakeup_for(db: Database) -> Wakeup:
    """The notifications of ``db``'s SQLite file in this process, shared by its stores."""
    with _WAKEUPS_LOCK:
        found = _WAKEUPS.get(db.url)
        if found is None:
            path = sqlite_path(db.url)
            in_memory = path in ("", ":memory:") or path.startswith("file:")
            found = _WAKEUPS[db.url] = Wakeup(None if in_memory else f"{path}-wake")
        return found
