"""Liveness of Data API service instances sharing one statement store.

Each instance renews a heartbeat row every ``heartbeat_seconds`` and is trusted for three of
them. Statements owned by an instance whose heartbeat expired (its process died) are settled
by whichever live instance notices first, at start-up and on every beat: the warehouse ends
what still runs of them on its server and says whether it committed (``Warehouse.settle``);
the statement is recorded FINISHED if it did; if it was rolled back or never started, the live
instance runs it again under the same id (as on AWS, where a submitted statement runs on the
server whatever becomes of its client: a fire-and-forget INSERT is not lost with the process
that ran it), or records it FAILED (:data:`RESTARTED`) when it cannot (see
``DataApiService._rerun``); FAILED (:data:`UNKNOWN_OUTCOME`) when the server cannot tell.
Nothing is guessed: a statement whose server cannot be reached is left for the next beat.
Time comes from an injected clock (wall time in production: heartbeats are compared across
processes), so tests expire a heartbeat by moving a clock instead of sleeping past it.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

from eltflow.clock import Clock
from eltflow.dataapi.model import Statement, Status, to_us
from eltflow.dataapi.repository import StatementRepository
from eltflow.errors import EltflowError
from eltflow.warehouse.base import Outcome

logger = logging.getLogger(__name__)

RESTARTED = (
    "Statement was interrupted: the eltflow process running it stopped before it finished "
    "(its heartbeat expired, so another Data API service instance marked it failed)."
)
UNKNOWN_OUTCOME = (
    "Statement was interrupted: the eltflow process running it stopped before it recorded "
    "the end (its heartbeat expired), and the warehouse keeps nothing that says whether it "
    "completed first (it ran outside a transaction, or the warehouse cannot be asked): check "
    "its effect before running it again."
)


class Liveness:
    """This instance's heartbeat (a background thread) and the recovery of dead instances'
    statements."""

    def __init__(
        self,
        repo: StatementRepository,
        clock: Clock,
        heartbeat_seconds: float,
        settle: Callable[[Statement], Outcome],
        rerun: Callable[[Statement, list[Statement]], bool],
        on_beat: Callable[[], None] | None = None,
    ) -> None:
        self.repo = repo
        self._settle = settle
        self._rerun = rerun
        self._on_beat = on_beat  # the service's own periodic work (ending idle sessions)
        self.beats = 0  # heartbeats done by the thread (what a test can wait on)
        self.clock = clock
        self.heartbeat_seconds = heartbeat_seconds
        self.instance = uuid.uuid4().hex
        self._stop = threading.Event()
        self.beat()
        self._thread = threading.Thread(
            target=self._loop, name="eltflow-dataapi-heartbeat", daemon=True
        )
        self._thread.start()

    def beat(self) -> None:
        ttl_us = int(self.heartbeat_seconds * 3 * 1_000_000)
        self.repo.heartbeat(self.instance, to_us(self.clock.now()) + ttl_us)

    def recover(self) -> int:
        """Settle statements whose instance's heartbeat expired (or run them again); returns
        how many."""
        now = to_us(self.clock.now())
        count = 0
        for parent in self.repo.orphans(self.instance, now):
            # Stored SUBMITTED: the process died before it recorded STARTED, which it does
            # before running any of the statement's SQL, so nothing of it ran.
            try:
                outcome = (
                    self._settle(parent) if parent.status is Status.STARTED else Outcome.ABORTED
                )
            except EltflowError as e:  # the warehouse cannot be asked now: next beat
                logger.warning("Data API: statement %s not settled yet: %s", parent.id, e)
                continue
            subs = self.repo.children(parent.id) if parent.is_batch else []
            # Nothing of it was kept, so running it again applies it at most once.
            if outcome is Outcome.ABORTED and self._rerun(parent, subs):
                count += 1
                continue
            count += self.repo.settle(settled(parent, subs, outcome, now))
        self.repo.forget_dead_owners(now)
        return count

    def _loop(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            try:
                self.beat()
                self.recover()
                if self._on_beat is not None:
                    self._on_beat()
                self.beats += 1
            except Exception:  # a store hiccup must not kill the heartbeat; retry next beat
                logger.exception("Data API heartbeat failed")

    def stop(self) -> None:
        """Stop beating and retire this instance (its statements are finished by then)."""
        self._stop.set()
        self._thread.join()
        self.repo.retire(self.instance)


def settled(
    parent: Statement, subs: list[Statement], outcome: Outcome, now_us: int
) -> list[Statement]:
    """The final rows of a statement (and its batch's sub-statements) whose process died, from
    what its server said. A committed one is FINISHED without its result (the rows it returned
    died with the process: run a query again to read them)."""
    if outcome is Outcome.COMMITTED:
        done = {"status": Status.FINISHED, "error": None, "updated_us": now_us}
        return [s.evolve(**done) for s in [parent, *subs]]
    error = RESTARTED if outcome is Outcome.ABORTED else UNKNOWN_OUTCOME
    failed = {"status": Status.FAILED, "error": error, "updated_us": now_us}
    return [parent.evolve(**failed), *[s.evolve(**failed) for s in subs if not s.status.final]]
