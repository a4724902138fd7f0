"""wait_until returns the first truthy value and fails with a message naming what it awaited."""

from __future__ import annotations

import threading

import pytest

from tests.support.wait import wait_until


def test_returns_the_first_truthy_value() -> None:
    seen = iter([None, 0, "", "ready"])
    assert wait_until(lambda: next(seen), 5, what="a value") == "ready"


def test_waits_for_another_thread() -> None:
    done = threading.Event()
    threading.Timer(0.01, done.set).start()
    assert wait_until(done.is_set, 5, what="the timer") is True


def test_timeout_names_what_never_happened() -> None:
    with pytest.raises(AssertionError, match=r"timed out after 0.05s waiting for the moon"):
        wait_until(lambda: None, 0.05, what="the moon")
