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
