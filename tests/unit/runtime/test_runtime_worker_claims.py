"""How workers claim and wake (issue 16): several workers run each execution once, an idle
worker runs no claim of its own before it waits, a notification that came while a worker
was busy does not wake it once the work it announced is gone, and a start goes to a busy
worker with room ahead of the idle ones."""

from __future__ import annotations

import json
import os
import select
import threading
import time
from collections import Counter
from functools import partial

from tests.support.wait import wait_until

from eltflow.app import App, build_app
from eltflow.clock import SystemClock
from eltflow.runtime.done_signal import DoneSignal
from eltflow.store.rows import to_us
from eltflow.types import JSON

COUNT = "arn:aws:lambda:us-east-1:123456789012:function:count"
TASK = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": COUNT, "End": True}}}


def _status(app: App, arn: str) -> str:
    return str(app.service.describe_execution(execution_arn=arn)["status"])


def _succeeded(app: App, arn: str) -> bool:
    return _status(app, arn) == "SUCCEEDED"


def _idle_listeners(app: App) -> int:
    with app.db.transaction() as conn:
        rows = conn.execute("SELECT busy_until_us FROM sfn_idle_listeners")
    return sum(1 for r in rows if r["busy_until_us"] is None)


def _listener_rows(app: App) -> dict[str, int | None]:
    """channel -> busy_until_us (None: an idle listener)."""
    with app.db.transaction() as conn:
        rows = conn.execute("SELECT channel, busy_until_us FROM sfn_idle_listeners")
    return {str(r["channel"]): r["busy_until_us"] for r in rows}


def test_workers_given_executions_while_they_run_run_each_once(store_url: str) -> None:
    # Three workers (three apps: on PostgreSQL as three processes would) while executions are
    # started one after another: each start wakes one idle worker, busy ones claim what is
    # left. Every execution ends SUCCEEDED and its task ran exactly once.
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def count(p: JSON) -> JSON:
        assert isinstance(p, dict)
        with lock:
            counts[str(p["n"])] += 1
        return p

    apps = [build_app(state_url=store_url, clock=SystemClock()) for _ in range(3)]
    for a in apps:
        a.register(COUNT, count)
    apps[0].service.create_state_machine(name="once", definition=TASK)
    workers = [a.worker(batch=8, poll_seconds=0.05, idle_seconds=0.5) for a in apps]
    threads = [threading.Thread(target=w.run) for w in workers]
    for t in threads:
        t.start()
    try:
        for n in range(120):
            apps[0].service.start_execution(
                state_machine_arn="once", name=f"e{n}", input=json.dumps({"n": n})
            )
        wait_until(
            lambda: apps[0].store.count_by_status() == {"SUCCEEDED": 120},
            120,
            what="every execution to succeed",
        )
    finally:
        for w in workers:
            w.stop()
        for t in threads:
            t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert len(counts) == 120 and set(counts.values()) == {1}
    assert sum(w.stats.claimed for w in workers) >= 120
    assert sum(w.stats.leases_lost for w in workers) == 0
    for a in apps:
        a.close()


def test_an_idle_postgres_worker_claims_only_when_woken(pg_url: str) -> None:
    # One execution at a time, each started once the worker waits: the start wakes it, it
    # claims that execution and, once it is done, waits again without a claim of its own
    # (its wait finds work that is runnable already). Before issue 16's change every return
    # to idle ran a claim that came back empty. Only the first claim, at startup, is empty.
    app = build_app(state_url=pg_url, clock=SystemClock())
    app.register(COUNT, lambda p: p)
    app.service.create_state_machine(name="one", definition=TASK)
    # Polls far apart: only notifications can make it claim within the test.
    worker = app.worker(poll_seconds=30, idle_seconds=30)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        for n in range(5):
            wait_until(lambda: _idle_listeners(app) == 1, 20, what="the worker to wait")
            arn = str(
                app.service.start_execution(state_machine_arn="one", name=f"e{n}")["executionArn"]
            )
            wait_until(partial(_succeeded, app, arn), 20, what=f"e{n} to succeed")
        wait_until(lambda: _idle_listeners(app) == 1, 20, what="the worker to wait")
    finally:
        worker.stop()
        thread.join(30)
    assert not thread.is_alive()
    stats = worker.stats
    assert stats.empty_claims == 1  # at startup, before its first wait
    assert stats.claimed >= 5
    assert stats.claims == stats.claimed + stats.empty_claims  # one execution per claim
    app.close()


def test_a_postgres_wait_returns_at_once_when_work_is_runnable_already(pg_url: str) -> None:
    # The execution was started before this store listened, so no notification can tell it:
    # the wait finds the runnable execution itself, returns True without waiting out its
    # timeout, and does not put itself among the idle listeners a start would wake.
    starter = build_app(state_url=pg_url, clock=SystemClock())
    waiter = build_app(state_url=pg_url, clock=SystemClock())
    starter.service.create_state_machine(name="w", definition=TASK)
    starter.service.start_execution(state_machine_arn="w")
    clock = SystemClock()
    assert waiter.store.wait_for_work(60, runnable_at=to_us(clock.now())) is True
    assert _idle_listeners(starter) == 0
    # Not asked to look: it waits, as an idle listener.
    assert waiter.store.wait_for_work(0.05) is False
    # Once it is claimed, nothing is runnable: the wait waits.
    claimed = starter.store.claim(
        owner="other", now_us=to_us(clock.now()), lease_us=60_000_000, limit=10
    )
    assert len(claimed) == 1
    assert waiter.store.wait_for_work(0.05, runnable_at=to_us(clock.now())) is False
    # Its wait timed out: it stays an idle listener, idle since it first was (a worker whose
    # wait timed out is no more recently idle than before).
    with starter.db.transaction() as conn:
        first = conn.execute("SELECT since_us FROM sfn_idle_listeners")
    assert waiter.store.wait_for_work(0.05, runnable_at=to_us(clock.now())) is False
    with starter.db.transaction() as conn:
        assert conn.execute("SELECT since_us FROM sfn_idle_listeners") == first
    assert _idle_listeners(starter) == 1
    starter.close()
    waiter.close()


def test_a_notification_that_came_while_busy_does_not_wake_a_postgres_waiter(
    pg_url: str,
) -> None:
    # The waiter listens but is busy (not waiting) when a start notifies everyone; another
    # worker claims that execution. The notification is stale by the time the waiter waits:
    # it must not end the wait (before issue 16's change it did, and the woken worker ran an
    # empty claim).
    starter = build_app(state_url=pg_url, clock=SystemClock())
    waiter = build_app(state_url=pg_url, clock=SystemClock())
    starter.service.create_state_machine(name="s", definition=TASK)
    assert waiter.store.wait_for_work(0.01) is False  # listening now, then busy
    assert _idle_listeners(starter) == 0
    starter.service.start_execution(state_machine_arn="s")  # nobody idle: notifies all
    listener = waiter.store._listener  # the waiter's LISTEN connection
    ready, _, _ = select.select([listener.fileno()], [], [], 30)
    assert ready, "the notification reached the waiter's connection"
    clock = SystemClock()
    claimed = starter.store.claim(
        owner="other", now_us=to_us(clock.now()), lease_us=60_000_000, limit=10
    )
    assert len(claimed) == 1
    assert waiter.store.wait_for_work(0.5, runnable_at=to_us(clock.now())) is False
    starter.close()
    waiter.close()


def _has_waited(app: App, listener: object) -> bool:
    """Whether the LISTEN connection ``listener`` has run its wait's listener_idle and sits
    idle: the worker that owns it is waiting on its notifications."""
    pid = listener.info.backend_pid  # type: ignore[attr-defined]
    with app.db.transaction() as conn:
        rows = conn.execute(
            "SELECT state, query FROM pg_stat_activity WHERE pid = :pid", {"pid": pid}
        )
    return bool(rows) and rows[0]["state"] == "idle" and "runnable" in str(rows[0]["query"])


def test_a_worker_for_one_execution_takes_no_wake_up_meant_for_other_workers(
    pg_url: str,
) -> None:
    # `eltflow start --wait` runs a worker for its one execution. Waiting, it must not stand
    # among the idle listeners a start notifies: before, it was the most recently idle one,
    # so the next start woke it (to find nothing it may claim) instead of the real worker,
    # and that start waited out the real worker's poll.
    starter = build_app(state_url=pg_url, clock=SystemClock())
    starter.register(COUNT, lambda p: p)
    starter.service.create_state_machine(name="quick", definition=TASK)
    hour = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    starter.service.create_state_machine(name="hour", definition=hour)
    waiting = starter.service.start_execution(state_machine_arn="hour")["executionArn"]
    waiting_id = starter.store.get_execution_by_arn(str(waiting))
    assert waiting_id is not None
    real_app = build_app(state_url=pg_url, clock=SystemClock())
    real_app.register(COUNT, lambda p: p)
    real = real_app.worker(poll_seconds=30, idle_seconds=30)  # only a wake-up makes it claim
    cli_app = build_app(state_url=pg_url, clock=SystemClock())
    cli = cli_app.worker(only=waiting_id.id, poll_seconds=30, idle_seconds=1)
    threads = [threading.Thread(target=real.run), threading.Thread(target=cli.run)]
    threads[0].start()
    wait_until(lambda: _idle_listeners(starter) == 1, 20, what="the real worker to wait")
    threads[1].start()
    wait_until(
        lambda: (
            cli_app.store._listener is not None and _has_waited(starter, cli_app.store._listener)
        ),
        20,
        what="the worker for one execution to wait",
    )
    try:
        assert cli_app.store._channel not in _listener_rows(starter)
        arn = str(starter.service.start_execution(state_machine_arn="quick")["executionArn"])
        wait_until(partial(_succeeded, starter, arn), 10, what="the start to wake the worker")
    finally:
        real.stop()
        cli.stop()
        for t in threads:
            t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert _status(starter, str(waiting)) == "RUNNING"  # still waiting out its hour
    for a in (starter, real_app, cli_app):
        a.close()


BLOCK = "arn:aws:lambda:us-east-1:123456789012:function:block"


def test_starts_while_a_postgres_worker_is_busy_go_to_it_not_to_the_idle_ones(
    pg_url: str,
) -> None:
    # Three workers; one runs a task that holds until the test lets it go. The executions
    # started meanwhile are given to that busy worker, which hears them while it waits on its
    # task and claims them; no idle worker is woken (issue 16: each start woke another idle
    # worker, which ran that one execution alone, without group commit).
    release, running = threading.Event(), threading.Event()

    def block(p: JSON) -> JSON:
        running.set()
        release.wait(60)
        return p

    apps = [build_app(state_url=pg_url, clock=SystemClock()) for _ in range(3)]
    for a in apps:
        a.register(BLOCK, block)
        a.register(COUNT, lambda p: p)
    apps[0].service.create_state_machine(
        name="block",
        definition={
            "StartAt": "B",
            "States": {"B": {"Type": "Task", "Resource": BLOCK, "End": True}},
        },
    )
    apps[0].service.create_state_machine(name="quick", definition=TASK)
    # Polls far apart: only notifications can make a worker claim within the test.
    workers = [a.worker(poll_seconds=30, idle_seconds=30) for a in apps]
    threads = [threading.Thread(target=w.run) for w in workers]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: _idle_listeners(apps[0]) == 3, 20, what="all three to wait")
        apps[0].service.start_execution(state_machine_arn="block")
        assert running.wait(20), "the blocking task to run"
        (busy,) = [w for w in workers if w.stats.claimed]
        idle = [w for w in workers if w is not busy]
        for n in range(5):
            arn = str(
                apps[0].service.start_execution(state_machine_arn="quick", name=f"q{n}")[
                    "executionArn"
                ]
            )
            wait_until(partial(_succeeded, apps[0], arn), 20, what=f"q{n} to succeed")
        assert _idle_listeners(apps[0]) == 2  # the idle two still wait, never picked
        assert [w.stats.woken for w in idle] == [0, 0]
        assert [w.stats.claims for w in idle] == [1, 1]  # at startup, before the first wait
        assert busy.stats.claimed == 6
        assert busy.stats.heard >= 1
        # A claim per start heard at most, none of them empty (after the one at startup).
        assert busy.stats.empty_claims == 1
    finally:
        release.set()
        for w in workers:
            w.stop()
        for t in threads:
            t.join(30)
    assert not any(t.is_alive() for t in threads)
    for a in apps:
        a.close()


def test_a_start_notifies_a_busy_claimant_ahead_of_an_idle_listener(pg_url: str) -> None:
    # The claimant said it will be busy (busy_seconds): a start notifies it, not the idle
    # listener, whose row stays. Once the claimant's row is gone, the idle one is woken.
    starter, claimant, waiter = (build_app(state_url=pg_url, clock=SystemClock()) for _ in "abc")
    starter.service.create_state_machine(name="b", definition=TASK)
    clock = SystemClock()
    woke: list[bool] = []
    waiting = threading.Thread(
        target=lambda: woke.append(waiter.store.wait_for_work(30, runnable_at=to_us(clock.now())))
    )
    waiting.start()
    wait_until(lambda: _idle_listeners(starter) == 1, 20, what="the waiter to wait")
    assert (
        claimant.store.claim(
            owner="c", now_us=to_us(clock.now()), lease_us=60_000_000, limit=10, busy_seconds=60
        )
        == []
    )
    rows = _listener_rows(starter)
    assert sorted(v is None for v in rows.values()) == [False, True]  # one busy, one idle
    starter.service.start_execution(state_machine_arn="b")
    r, w = os.pipe()
    try:
        assert claimant.store.wait_while_busy(r, 30) is True
        assert _listener_rows(starter) == rows  # the busy row stays; the idle one untouched
        claimant.store.close_listener()  # gone: takes its row
        starter.service.start_execution(state_machine_arn="b")
        waiting.join(30)
        assert woke == [True]
    finally:
        os.close(r)
        os.close(w)
    for a in (starter, claimant, waiter):
        a.close()


def test_a_full_claim_of_a_busy_claimant_wakes_an_idle_listener_to_share(pg_url: str) -> None:
    # Starts go to a busy worker ahead of idle ones; when its claim comes back full there may
    # be more than it takes at once, so one idle worker is woken to take a share. A claim
    # that is not full wakes nobody.
    starter, claimant, waiter = (build_app(state_url=pg_url, clock=SystemClock()) for _ in "abc")
    starter.service.create_state_machine(name="f", definition=TASK)
    clock = SystemClock()
    woke: list[bool] = []

    def wait() -> None:
        woke.append(waiter.store.wait_for_work(30, runnable_at=to_us(clock.now())))

    waiting = threading.Thread(target=wait)
    waiting.start()
    wait_until(lambda: _idle_listeners(starter) == 1, 20, what="the waiter to wait")
    claim = partial(claimant.store.claim, owner="c", lease_us=60_000_000, limit=2, busy_seconds=60)
    assert claim(now_us=to_us(clock.now())) == []  # not full: the waiter's row stays idle
    assert _idle_listeners(starter) == 1
    for n in range(3):  # each start goes to the busy claimant
        starter.service.start_execution(state_machine_arn="f", name=f"f{n}")
    assert _idle_listeners(starter) == 1
    assert len(claim(now_us=to_us(clock.now()))) == 2  # full: wakes the waiter
    waiting.join(30)
    assert woke == [True]
    for a in (starter, claimant, waiter):
        a.close()


def test_a_worker_going_idle_leaves_the_starts_a_busy_claimant_was_told_of_to_it(
    pg_url: str,
) -> None:
    # A start goes to a busy claimant ahead of idle workers, which claims it a little later,
    # with the others it hears of. Meanwhile another worker runs out of work: its wait does
    # not find that start runnable (nor due), so it does not return to claim it but waits as
    # an idle listener (issue 16: workers running out of work took the starts meant for the
    # busy one, so 4 workers each ran a few at a time: 5x the claims and transactions per
    # execution of one worker). Once no busy claimant stands, the start is its to claim.
    starter, claimant, waiter = (build_app(state_url=pg_url, clock=SystemClock()) for _ in "abc")
    starter.service.create_state_machine(name="g", definition=TASK)
    clock = SystemClock()
    assert (
        claimant.store.claim(
            owner="c", now_us=to_us(clock.now()), lease_us=60_000_000, limit=10, busy_seconds=60
        )
        == []
    )
    starter.service.start_execution(state_machine_arn="g")  # goes to the busy claimant
    started = time.monotonic()
    assert waiter.store.wait_for_work(0.3, runnable_at=to_us(clock.now())) is False
    assert time.monotonic() - started >= 0.25  # waited: neither runnable nor due for it
    assert _idle_listeners(starter) == 1  # the waiter's row; the claimant's stays busy
    claimant.store.close_listener()  # gone: takes its row
    started = time.monotonic()
    assert waiter.store.wait_for_work(30, runnable_at=to_us(clock.now())) is True
    assert time.monotonic() - started < 10
    for a in (starter, claimant, waiter):
        a.close()


def test_the_busy_claimant_the_starts_go_to_takes_them_itself_while_another_is_busy(
    pg_url: str,
) -> None:
    # Two busy claimants: starts go to the one busy longer. When it runs out of work, its wait
    # finds them runnable and returns to claim them, though the other one is busy too (it must
    # not leave them to that one, which was told of none); the other one's wait leaves them.
    starter, first, second = (build_app(state_url=pg_url, clock=SystemClock()) for _ in "abc")
    starter.service.create_state_machine(name="t", definition=TASK)
    clock = SystemClock()
    for claimant in (first, second):  # ``first`` is busy since earlier
        claimant.store.claim(
            owner="c", now_us=to_us(clock.now()), lease_us=60_000_000, limit=10, busy_seconds=60
        )
        time.sleep(0.01)
    starter.service.start_execution(state_machine_arn="t")  # goes to ``first``
    started = time.monotonic()
    assert first.store.wait_for_work(30, runnable_at=to_us(clock.now())) is True
    assert time.monotonic() - started < 10
    assert second.store.wait_for_work(0.2, runnable_at=to_us(clock.now())) is False
    for a in (starter, first, second):
        a.close()


def test_a_busy_row_that_lapsed_counts_as_an_idle_one(pg_url: str) -> None:
    # A claimant that stopped renewing its busy row (it died, say) is not given every start
    # from then on: its row lapsed, so a start takes it as it would an idle worker's.
    starter, claimant = (build_app(state_url=pg_url, clock=SystemClock()) for _ in "ab")
    starter.service.create_state_machine(name="l", definition=TASK)
    clock = SystemClock()
    claimant.store.claim(
        owner="c", now_us=to_us(clock.now()), lease_us=60_000_000, limit=10, busy_seconds=0
    )
    assert len(_listener_rows(starter)) == 1
    starter.service.start_execution(state_machine_arn="l")
    assert _listener_rows(starter) == {}
    r, w = os.pipe()
    try:
        assert claimant.store.wait_while_busy(r, 30) is True  # and its channel was notified
    finally:
        os.close(r)
        os.close(w)
    for a in (starter, claimant):
        a.close()


def test_the_task_done_signal_is_readable_as_a_pipe_while_set() -> None:
    # A busy PostgreSQL worker waits on its tasks and its LISTEN connection in one select():
    # its task-done signal must be readable exactly while it is set.
    done = DoneSignal()
    done.set()  # before the pipe: carried over when it opens
    done.open_pipe()
    fd = done.fileno()
    assert fd is not None
    assert select.select([fd], [], [], 0)[0] == [fd]
    done.clear()
    assert not done.is_set() and select.select([fd], [], [], 0)[0] == []
    done.set()
    done.set()  # a second set writes nothing more: one clear empties it
    assert done.wait(0) and select.select([fd], [], [], 0)[0] == [fd]
    done.clear()
    assert select.select([fd], [], [], 0)[0] == []
    done.close_pipe()
    assert done.fileno() is None
    done.set()  # a task ending after the worker: no write to a closed pipe
    assert done.is_set()
