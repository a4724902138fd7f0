"""store/interrupt.py: a set ends a condition wait registered with it and makes its pipe
readable, whether it comes before or during the wait."""

from __future__ import annotations

import select
import threading

from eltflow.store.interrupt import Interrupt


def test_a_set_notifies_the_condition_a_wait_is_on() -> None:
    interrupt, condition = Interrupt(), threading.Condition()
    waiting, woke = threading.Event(), threading.Event()

    def wait() -> None:
        with condition:
            assert interrupt.watch(condition)
            waiting.set()
            condition.wait(60)
            interrupt.unwatch(condition)
        woke.set()

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    assert waiting.wait(10)
    interrupt.set()
    assert woke.wait(5)
    interrupt.set()  # once is enough: no error, nothing left registered
    with condition:
        assert not interrupt.watch(condition)  # a wait that starts now does not wait


def test_its_pipe_is_readable_once_set_also_when_opened_after() -> None:
    interrupt = Interrupt()
    fd = interrupt.fileno()
    assert select.select([fd], [], [], 0)[0] == []
    interrupt.set()
    assert select.select([fd], [], [], 5)[0] == [fd]
    interrupt.close()
    late = interrupt.fileno()  # opened anew after close: readable at once
    assert select.select([late], [], [], 5)[0] == [late]
    interrupt.close()
    assert interrupt.wait(0)
