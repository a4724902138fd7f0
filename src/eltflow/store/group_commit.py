"""Group commit: writes of concurrent callers committed in one transaction (issue 16).

A caller hands :meth:`GroupCommit.run` its write twice over: ``alone()`` commits it by
itself (what a caller does with nobody else writing), ``grouped(conn)`` writes it into a
transaction the caller does not own. The first caller to arrive leads: it takes every write
queued so far (its own included) and commits them; callers that arrive while it commits wait,
and the first of them leads the next batch once the commit is done. So a lone caller pays no
delay (no timer, no wait: its batch is itself, written with ``alone``), and under concurrency
a batch is whatever queued while the previous commit ran.

Waiting for a batch costs each waiting caller a hand-off between threads (it sleeps, the
leader wakes it), which a batch pays for only where a commit costs more than that: on
PostgreSQL (a commit is a round trip and a flush) from two callers, on SQLite (a WAL commit is
~16 µs) only with many. So the store says from how many threads calling (``group_threads``:
the threads that made the last ``8 * group_threads`` calls) a caller that finds a commit
running waits for the next batch; with fewer it commits alone beside it, as it would with no
group commit (on SQLite the database's busy handler queues it for the write lock). Threads,
not the callers in :meth:`GroupCommit.run` at an instant: callers spend most of their time
outside it (evaluating the start, one at a time under the GIL), so even 16 threads are often
only 2 or 3 in it, and a rule on those would commit many of their starts beside the leader.
Measured (issue 16, SQLite, CPU per start): with 4 starter threads on a quiet machine batches
of ~2 cost ~+90 µs per start for a commit saved of ~16 µs; with 16 grouping saved CPU and
doubled the rate.

Each caller is answered only once its write is committed (or has failed): AWS answers
StartExecution only once the execution is recorded. One caller's failing write does not fail
the others: the batch's transaction rolls back and every write of it is committed again on
its own (``alone``), each caller getting its own answer. A failure of the batch's transaction
itself (BEGIN, COMMIT) is every caller's: none of its writes is recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from eltflow.errors import StoreError

R = TypeVar("R")


def _held() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass(eq=False)
class _Job(Generic[R]):
    alone: Callable[[], R]
    grouped: Callable[[Any], Callable[[], R]]
    # Held from the start; released (once) when answered, or to lead the next batch: the
    # cheapest hand-off between threads (an Event is a Condition, a lock and a waiter lock).
    woken: threading.Lock = field(default_factory=_held)
    leads: bool = False  # woken to lead the next batch, not answered
    answered: bool = False
    result: Any = None
    error: BaseException | None = None

    def answer(self) -> R:
        if self.error is not None:
            raise self.error
        out: R = self.result
        return out

    def run_alone(self) -> bool:
        """Commit it alone; whether that committed."""
        try:
            self.result = self.alone()
        except Exception as e:
            self.error = e
        self.answered = True
        return self.error is None


class GroupCommit:
    """One store's queue of writes to commit together (see the module's docstring).

    Args:
        transaction: opens the store's transaction that a batch is written in.
        max_batch: the most writes one transaction takes (the rest wait for the next).
        group_threads: from how many threads among those of the last ``8 *
            group_threads`` calls a caller that finds a commit running waits to be committed
            in the next batch; with fewer it commits alone at once. 2 or less: every caller
            that finds a commit running waits (and no threads are counted).
    """

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[Any]],
        *,
        max_batch: int = 64,
        group_threads: int = 2,
    ) -> None:
        self._transaction = transaction
        self._max_batch = max_batch
        self.group_threads = group_threads
        self._lock = threading.Lock()
        self._queue: list[_Job[Any]] = []
        self._leading = False
        # Each calling thread's last call (numbered): the threads of the last
        # 8 * group_threads calls are those whose last call is among them.
        self._calls = 0
        self._last_call: dict[int, int] = {}
        self.commits = 0
        """Transactions that committed writes (alone or a batch), for benchmarks and tests."""
        self._queued = threading.Condition(self._lock)  # notified when a write is queued
        self._watched = False  # wait_queued was called: run() notifies _queued

    def wait_queued(self, count: int, timeout: float) -> bool:
        """Block until ``count`` writes are queued (the batch being committed is not), for
        tests that make a batch form; False if ``timeout`` seconds passed first."""
        with self._queued:
            self._watched = True
            return self._queued.wait_for(lambda: len(self._queue) >= count, timeout)

    def run(self, alone: Callable[[], R], grouped: Callable[[Any], Callable[[], R]]) -> R:
        """Commit one write, alone or with those queued meanwhile; its answer once committed.

        Args:
            alone: commits the write by itself and returns its answer.
            grouped: writes it in the open transaction it is given (nothing committed yet)
                and returns how to read its answer (called before COMMIT, after every write
                of the batch was written); it must write nothing when the answer says so
                (as ``alone``), and have no effect outside the transaction: a batch rolled
                back is written again with ``alone``.
        """
        job: _Job[R] | None = None
        with self._lock:
            counts = self.group_threads > 2
            if counts:
                self._calls += 1
                self._last_call[threading.get_ident()] = self._calls
                if len(self._last_call) > 64 * self.group_threads:
                    self._forget()  # threads long gone (a server's thread per request...)
            if not self._leading:
                self._leading = True
                leads = True
            elif counts and not self._many_threads():
                leads = False  # too few threads for a batch to pay: alone, beside the leader
            else:
                leads = False
                job = queued = _Job(alone, grouped)
                self._queue.append(queued)
                if self._watched:
                    self._queued.notify_all()
        if job is None:
            committed = 0
            try:
                out = alone()
                committed = 1
            finally:
                if leads:  # nobody else was committing: this one, alone and at once
                    self._hand_on(committed)
                else:
                    with self._lock:
                        self.commits += committed
            return out
        job.woken.acquire()
        if not job.leads:
            return job.answer()
        # Woken to lead: commit what queued meanwhile, this one's first.
        batch: list[_Job[Any]] = []
        committed = 0
        try:
            with self._lock:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
            committed = self._commit(batch)
        finally:
            for other in batch:
                if not other.answered:  # an exception (KeyboardInterrupt...) left the commit
                    other.error = StoreError("the group commit this write was in was cut short")
                    other.answered = True
            with self._lock:
                self.commits += committed  # counted before any caller is answered
            for other in batch:
                if other is not job:
                    other.woken.release()
            # Then the next leader: woken once these are, its batch takes what queued
            # meanwhile (woken first, it took fewer: PostgreSQL, 16 threads, 0.11 -> 0.12
            # commits per start).
            self._hand_on(0)
        return job.answer()

    def _many_threads(self) -> bool:
        """Whether ``group_threads`` threads or more made the last ``8 * group_threads``
        calls (under the lock; only asked when a caller finds a commit running)."""
        since = self._calls - 8 * self.group_threads
        recent = 0
        for n in self._last_call.values():
            if n > since:
                recent += 1
                if recent >= self.group_threads:
                    return True
        return False

    def _forget(self) -> None:
        """Drop the threads that made none of the last ``8 * group_threads`` calls."""
        since = self._calls - 8 * self.group_threads
        self._last_call = {t: n for t, n in self._last_call.items() if n > since}

    def _hand_on(self, committed: int) -> None:
        """After a commit (``committed`` transactions that committed writes): the first write
        queued meanwhile leads the next, if there is one."""
        with self._lock:
            self.commits += committed
            if self._queue:
                following = self._queue[0]
                following.leads = True
                following.woken.release()
            else:
                self._leading = False

    def _commit(self, batch: list[_Job[Any]]) -> int:
        """Commit ``batch``; how many transactions committed writes of it."""
        if len(batch) == 1:
            return int(batch[0].run_alone())
        stage = "begin"  # where an error came from: BEGIN, a write, or COMMIT
        try:
            with self._transaction() as conn:
                stage = "write"
                finishes = [job.grouped(conn) for job in batch]
                results = [finish() for finish in finishes]
                stage = "commit"
        except Exception as e:
            if stage == "write":
                # A write failed and the transaction rolled back: each on its own now, so
                # only a write that fails again fails its caller.
                return sum(job.run_alone() for job in batch)
            for job in batch:  # BEGIN or COMMIT failed: nothing of the batch is recorded
                job.error = _copy(e)
                job.answered = True
            return 0
        for job, result in zip(batch, results, strict=True):
            job.result = result
            job.answered = True
        return 1


def _copy(error: Exception) -> Exception:
    """The batch's failure as each caller raises it: an exception of its own (one instance
    raised by several threads would share one traceback), the original as its cause."""
    kind = type(error) if isinstance(error, StoreError) else StoreError
    try:
        out = kind(str(error))
    except TypeError:  # a StoreError subclass that takes other arguments
        out = StoreError(str(error))
    out.__cause__ = error
    return out
