"""``wait_until``: the one way tests wait for something another thread or process does.

A test that waits on luck (``sleep(0.2)`` and hope the worker got there) fails on a loaded
machine and passes on a broken one. Tests wait for an observable condition instead, with a
deadline and a failure message that says what never happened.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# The pause between two looks. Only used while polling something that offers no event to
# await (another process's state, a database row, a socket): it bounds CPU, not correctness.
_INTERVAL = 0.01


def wait_until(
    predicate: Callable[[], T | None],
    timeout: float = 30.0,
    *,
    what: str,
    interval: float = _INTERVAL,
) -> T:
    """Call ``predicate`` until it returns something truthy and return that value; raise
    ``AssertionError`` naming ``what`` (and the last value seen) after ``timeout`` seconds.

    Returning the value lets a caller wait and use the result at once, e.g.
    ``desc = wait_until(lambda: final(describe()), what="statement finished")``.
    """
    deadline = time.monotonic() + timeout
    pause = threading.Event()  # never set: ``pause.wait`` is an interruptible sleep
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout:g}s waiting for {what} (last value: {value!r})"
            )
        pause.wait(interval)
