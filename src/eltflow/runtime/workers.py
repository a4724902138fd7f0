"""Which workers are running, from the heartbeats they write to the state store.

A worker heartbeats when it starts and every third of its lease (``Worker.run``), and deletes
its row when it stops cleanly. One that has not heartbeated within :data:`LIVENESS_WINDOW`
(two default leases: a worker on the default 30 s lease misses five beats first) is taken for
gone, killed or hung. The clock is injected, so tests decide "now" instead of sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from eltflow.clock import Clock
from eltflow.store.rows import to_us
from eltflow.store.runtime_store import RuntimeStore

LIVENESS_WINDOW = timedelta(seconds=60)


@dataclass(frozen=True)
class Workers:
    store: RuntimeStore
    clock: Clock
    window: timedelta = LIVENESS_WINDOW

    def live(self) -> list[str]:
        """Owners of the workers that heartbeated within the window, sorted."""
        return self.store.live_workers(to_us(self.clock.now() - self.window))

    def any_running(self) -> bool:
        """Whether some worker will pick up a started execution."""
        return bool(self.live())
