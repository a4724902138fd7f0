"""GroupCommit on its own, with a fake transaction: a lone write is committed alone and at
once; writes queued while a commit runs share the next transaction, each caller answered with
its own result only after that transaction ended; a failing write sends the batch back to
being written one by one; a failing COMMIT fails every caller of its batch."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from eltflow.errors import ConflictError, StoreError
from eltflow.store.group_commit import GroupCommit

WAIT = 10.0  # seconds: a bound on waiting for an event, not a pause


@dataclass
class FakeStore:
    """Records what was committed: each transaction's writes, and each write made alone."""

    committed: list[list[str]] = field(default_factory=list)
    fail_commit_of: set[str] = field(default_factory=set)  # a COMMIT with these writes fails
    log: list[str] = field(default_factory=list)  # "commit" / "answered <name>", in order
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def transaction(self) -> Iterator[list[str]]:
        writes: list[str] = []
        yield writes
        if self.fail_commit_of & set(writes):
            raise StoreError("COMMIT failed")
        with self.lock:
            self.committed.append(writes)
            self.log.append("commit")

    def write(self, group: GroupCommit, name: str, *, fails: bool = False) -> str:
        def alone() -> str:
            with self.transaction() as writes:
                if fails:
                    raise ConflictError(f"{name} conflicts")
                writes.append(name)
            return f"{name} alone"

        def grouped(writes: list[str]) -> Callable[[], str]:
            if fails:
                raise ConflictError(f"{name} conflicts")
            writes.append(name)
            return lambda: f"{name} grouped"

        out = group.run(alone, grouped)
        with self.lock:
            self.log.append(f"answered {name}")
        return out


def _batch_behind_a_blocked_leader(
    store: FakeStore, group: GroupCommit, pool: ThreadPoolExecutor, names: list[str], **kw: bool
) -> tuple[Future[str], list[Future[str]]]:
    """A leader whose lone write blocks until the writes of ``names`` have queued behind it,
    one after another (in that order); the futures of the leader and of the others."""
    release = threading.Event()
    blocked = threading.Event()

    def leader_alone() -> str:
        blocked.set()
        assert release.wait(WAIT)
        with store.transaction() as writes:
            writes.append("leader")
        return "leader alone"

    leader = pool.submit(group.run, leader_alone, lambda writes: lambda: "unused")
    assert blocked.wait(WAIT)
    others = []
    for i, name in enumerate(names):
        fails = kw.get(f"{name}_fails", False)
        others.append(pool.submit(store.write, group, name, fails=fails))
        assert group.wait_queued(i + 1, WAIT)
    release.set()
    return leader, others


def test_a_lone_write_is_committed_alone() -> None:
    store = FakeStore()
    group = GroupCommit(store.transaction)
    assert store.write(group, "a") == "a alone"
    assert store.committed == [["a"]]
    assert group.commits == 1


def test_writes_queued_meanwhile_share_one_transaction() -> None:
    store = FakeStore()
    group = GroupCommit(store.transaction)
    with ThreadPoolExecutor(4) as pool:
        leader, others = _batch_behind_a_blocked_leader(store, group, pool, ["a", "b", "c"])
        assert leader.result(WAIT) == "leader alone"
        assert [f.result(WAIT) for f in others] == ["a grouped", "b grouped", "c grouped"]
    assert store.committed == [["leader"], ["a", "b", "c"]]
    assert group.commits == 2
    # Nobody of the batch was answered before its COMMIT.
    assert store.log.index("commit", 1) < min(store.log.index(f"answered {n}") for n in "abc")


def test_a_failing_write_fails_only_its_caller() -> None:
    store = FakeStore()
    group = GroupCommit(store.transaction)
    with ThreadPoolExecutor(4) as pool:
        _, others = _batch_behind_a_blocked_leader(
            store, group, pool, ["a", "b", "c"], b_fails=True
        )
        assert others[0].result(WAIT) == "a alone"
        with pytest.raises(ConflictError, match="b conflicts"):
            others[1].result(WAIT)
        assert others[2].result(WAIT) == "c alone"
    # The batch rolled back (never committed), then each was written on its own.
    assert store.committed == [["leader"], ["a"], ["c"]]


def test_a_failing_commit_fails_every_caller_of_its_batch() -> None:
    store = FakeStore(fail_commit_of={"b"})
    group = GroupCommit(store.transaction)
    with ThreadPoolExecutor(4) as pool:
        leader, others = _batch_behind_a_blocked_leader(store, group, pool, ["a", "b"])
        assert leader.result(WAIT) == "leader alone"
        for f in others:
            with pytest.raises(StoreError, match="COMMIT failed") as e:
                f.result(WAIT)
            assert isinstance(e.value.__cause__, StoreError)
    assert store.committed == [["leader"]]
    errors = [f.exception() for f in others]
    assert errors[0] is not errors[1]  # each caller raises an exception of its own


def test_the_next_batch_is_led_by_a_caller_that_queued_meanwhile() -> None:
    # More writes queued than a batch takes: the rest are committed by the next leader.
    store = FakeStore()
    group = GroupCommit(store.transaction, max_batch=2)
    with ThreadPoolExecutor(5) as pool:
        leader, others = _batch_behind_a_blocked_leader(store, group, pool, ["a", "b", "c"])
        assert [f.result(WAIT) for f in others] == ["a grouped", "b grouped", "c alone"]
        leader.result(WAIT)
    assert store.committed == [["leader"], ["a", "b"], ["c"]]
    assert store.write(group, "d") == "d alone"  # nobody leads any more: d leads itself


def _blocked_leader(
    store: FakeStore, group: GroupCommit, pool: ThreadPoolExecutor
) -> tuple[Future[str], threading.Event]:
    """A leader (on a thread of ``pool``) whose lone write blocks until the event is set."""
    release = threading.Event()
    blocked = threading.Event()

    def leader_alone() -> str:
        blocked.set()
        assert release.wait(WAIT)
        with store.transaction() as writes:
            writes.append("leader")
        return "leader alone"

    leader = pool.submit(group.run, leader_alone, lambda writes: lambda: "unused")
    assert blocked.wait(WAIT)
    return leader, release


class _Beside:
    """A write committed alone beside the running commit, from a thread of ``pool`` of its
    own (the others it runs on are blocked), held before its commit until ``release``."""

    def __init__(self, store: FakeStore, group: GroupCommit, pool: ThreadPoolExecutor, name: str):
        self.started = threading.Event()
        self.release = threading.Event()

        def alone() -> str:
            self.started.set()
            assert self.release.wait(WAIT)
            with store.transaction() as writes:
                writes.append(name)
            return f"{name} beside"

        self.future = pool.submit(group.run, alone, lambda writes: lambda: "unused")
        assert self.started.wait(WAIT)  # it is committing while the leader still is


def test_with_fewer_threads_calling_than_group_threads_a_caller_commits_beside_the_leader() -> None:
    store = FakeStore()
    group = GroupCommit(store.transaction, group_threads=3)
    with ThreadPoolExecutor(2) as pool:
        leader, release = _blocked_leader(store, group, pool)
        # Two threads calling (the leader's, this one), fewer than 3: this one's write is
        # committed alone while the leader's still waits.
        assert store.write(group, "a") == "a alone"
        release.set()
        assert leader.result(WAIT) == "leader alone"
    assert store.committed == [["a"], ["leader"]]
    assert group.commits == 2


def test_once_group_threads_threads_call_a_caller_waits_for_the_next_batch() -> None:
    store = FakeStore()
    group = GroupCommit(store.transaction, group_threads=3)
    with ThreadPoolExecutor(5) as pool:
        leader, release = _blocked_leader(store, group, pool)
        beside = _Beside(store, group, pool, "x")  # the second thread: beside the leader
        # The third thread and those after it wait for the next batch.
        queued = []
        for i, name in enumerate("ab"):
            queued.append(pool.submit(store.write, group, name))
            assert group.wait_queued(i + 1, WAIT)
        beside.release.set()
        assert beside.future.result(WAIT) == "x beside"
        release.set()
        assert [f.result(WAIT) for f in queued] == ["a grouped", "b grouped"]
        assert leader.result(WAIT) == "leader alone"
    assert store.committed == [["x"], ["leader"], ["a", "b"]]


def test_the_threads_counted_are_those_of_the_last_calls() -> None:
    store = FakeStore()
    group = GroupCommit(store.transaction, group_threads=3)
    with ThreadPoolExecutor(3) as pool:
        together = threading.Barrier(3, timeout=WAIT)  # each write on a thread of its own

        def write(name: str) -> str:
            together.wait()
            return store.write(group, name)

        for f in [pool.submit(write, name) for name in ("p", "q", "r")]:
            assert f.result(WAIT).endswith("alone")
        # 3 threads have called: a write made while the leader commits waits for a batch.
        leader, release = _blocked_leader(store, group, pool)
        with ThreadPoolExecutor(1) as other:
            a = other.submit(store.write, group, "a")
            assert group.wait_queued(1, WAIT)
            release.set()
            assert a.result(WAIT) == "a alone" and leader.result(WAIT) == "leader alone"
        # Once the last 8 * 3 calls were all made by one thread, two threads calling are
        # two again: a caller commits beside the leader.
        for i in range(8 * 3):
            store.write(group, f"s{i}")
        leader, release = _blocked_leader(store, group, pool)
        assert store.write(group, "b") == "b alone"
        release.set()
        assert leader.result(WAIT) == "leader alone"
    assert store.committed[-2:] == [["b"], ["leader"]]
