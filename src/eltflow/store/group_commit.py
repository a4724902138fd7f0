"""Group commit: writes of concurrent callers committed in one transaction (issue 16).

A caller hands :meth:`GroupCommit.run` its write twice over: ``alone()`` commits it by
itself (what a caller does with nobody else writing), ``grouped(conn)`` writes it into a
transaction the caller does not own. The first caller to arrive leads: it takes every write
queued so far (its own included) and commits them; callers that arrive while it commits wait,
and the first of them leads the next batch once the commit is done. So a lone caller pays no
delay (no timer, no wait: its batch is itself, written with ``alone``), and under concurrency
a batch is whatever queued while the previous commit ran.

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
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from eltflow.errors import StoreError

R = TypeVar("R")


@dataclass(eq=False)
class _Job(Generic[R]):
    alone: Callable[[], R]
    grouped: Callable[[Any], Callable[[], R]]
    woken: threading.Event  # set when answered, or to lead the next batch
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
    """

    def __init__(
        self, transaction: Callable[[], AbstractContextManager[Any]], *, max_batch: int = 64
    ) -> None:
        self._transaction = transaction
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Job[Any]] = []
        self._leading = False
        self.commits = 0
        """Transactions that committed writes (alone or a batch), for benchmarks and tests."""
        self._queued = threading.Condition(self._lock)  # notified when a write is queued

    def wait_queued(self, count: int, timeout: float) -> bool:
        """Block until ``count`` writes are queued (the batch being committed is not), for
        tests that make a batch form; False if ``timeout`` seconds passed first."""
        with self._queued:
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
            if self._leading:
                job = queued = _Job(alone, grouped, threading.Event())
                self._queue.append(queued)
                self._queued.notify_all()
            else:
                self._leading = True
        if job is None:
            # Nobody else is committing: this one, alone and at once.
            try:
                out = alone()
                self.commits += 1
            finally:
                self._hand_on()
            return out
        job.woken.wait()
        if not job.leads:
            return job.answer()
        # Woken to lead: commit what queued meanwhile, this one's first.
        batch: list[_Job[Any]] = []
        try:
            with self._lock:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
            self._commit(batch)
        finally:
            for other in batch:
                if not other.answered:  # an exception (KeyboardInterrupt...) left the commit
                    other.error = StoreError("the group commit this write was in was cut short")
                    other.answered = True
                if other is not job:
                    other.woken.set()
            self._hand_on()
        return job.answer()

    def _hand_on(self) -> None:
        """After a commit: the first write queued meanwhile leads the next, if there is one."""
        with self._lock:
            if self._queue:
                following = self._queue[0]
                following.leads = True
                following.woken.set()
            else:
                self._leading = False

    def _commit(self, batch: list[_Job[Any]]) -> None:
        if len(batch) == 1:
            self.commits += batch[0].run_alone()
            return
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
                for job in batch:
                    self.commits += job.run_alone()
                return
            for job in batch:  # BEGIN or COMMIT failed: nothing of the batch is recorded
                job.error = _copy(e)
                job.answered = True
            return
        self.commits += 1
        for job, result in zip(batch, results, strict=True):
            job.result = result
            job.answered = True


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
