"""Liveness of Data API service instances sharing one statement store.

Each instance renews a heartbeat row every ``heartbeat_seconds`` and is trusted for three of
them. Statements owned by an instance whose heartbeat expired (its process died) are failed
with :data:`RESTARTED` by whichever live instance notices first, at start-up and on every beat.
Time comes from an injected clock (wall time in production: heartbeats are compared across
processes), so tests expire a heartbeat by moving a clock instead of sleeping past it.
"""

from __future__ import annotations

import logging
import threading
import uuid

from eltflow.clock import Clock
from eltflow.dataapi.model import to_us
from eltflow.dataapi.repository import StatementRepository

logger = logging.getLogger(__name__)

RESTARTED = (
    "Statement was interrupted: the eltflow process running it stopped before it finished "
    "(its heartbeat expired, so another Data API service instance marked it failed)."
)


class Liveness:
    """This instance's heartbeat (a background thread) and the recovery of dead instances'
    statements."""

    def __init__(self, repo: StatementRepository, clock: Clock, heartbeat_seconds: float) -> None:
        self.repo = repo
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
        """Fail statements whose instance's heartbeat expired; returns how many."""
        return self.repo.abandon(self.instance, RESTARTED, to_us(self.clock.now()))

    def _loop(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            try:
                self.beat()
                self.recover()
            except Exception:  # a store hiccup must not kill the heartbeat; retry next beat
                logger.exception("Data API heartbeat failed")

    def stop(self) -> None:
        """Stop beating and retire this instance (its statements are finished by then)."""
        self._stop.set()
        self._thread.join()
        self.repo.retire(self.instance)
