"""Crash points for chaos tests: a worker that kills itself (SIGKILL, as ``kill -9``) at one
recorded effect point, so a test can prove that recovery from exactly there loses nothing and
repeats no effect.

``ELTFLOW_CRASH_POINT=<state>`` names a Task state: the worker dies once a task of that state
has run (its effect is done: the row written, the message sent) and before its outcome is
recorded, the widest window for a repeated effect. ``<state>@recorded`` dies right after the
outcome's step committed instead. Unset (always, outside tests), nothing happens. Read once,
when the worker is built; the pure core never sees it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, NoReturn

ENV = "ELTFLOW_CRASH_POINT"

When = Literal["before-record", "recorded"]


@dataclass(frozen=True)
class CrashPoint:
    state: str
    when: When = "before-record"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> CrashPoint | None:
        text = environ.get(ENV, "").strip()
        if not text:
            return None
        state, _, when = text.partition("@")
        return cls(state=state, when="recorded" if when == "recorded" else "before-record")

    def hit(self, state_names: set[str], when: When) -> None:
        """Die here if one of the tasks just finished is of this point's state."""
        if when == self.when and self.state in state_names:
            die()


def die() -> NoReturn:
    """As ``kill -9``: no cleanup, no flush, no lease given back."""
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable: SIGKILL was sent to this process")
