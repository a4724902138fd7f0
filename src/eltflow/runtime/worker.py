"""The worker: claims runnable executions with a lease, runs their tasks on a thread pool and
records every outcome as one step (see :mod:`eltflow.runtime.engine`).

One loop thread does all recording; pool threads only run task callables, so a slow task never
stalls the others (Parallel branches and Map iterations run concurrently, as many as the
interpreter lets run under MaxConcurrency). An execution that only waits on timers is released
with its wake-up time, so thousands of waiting executions cost rows, not memory or threads.
Leases are renewed while tasks run; when a worker dies, its leases lapse and another worker
claims the executions and re-dispatches tasks whose completion was never recorded.

A store that fails (a SQLite lock held past the busy timeout, a PostgreSQL restart or
disconnect, a full disk) does not end the worker: the loop backs off with jitter
(:class:`Backoff`), reports it in :attr:`Worker.health`, and carries on from the store's last
record once it answers again.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from eltflow.clock import Clock, VirtualClock
from eltflow.errors import EltflowError, StoreError
from eltflow.integrations.base import Registry
from eltflow.interpreter.distributed import MAP_RUN_RESOURCE
from eltflow.interpreter.protocol import TaskSubmitted
from eltflow.runtime.crashpoint import CrashPoint
from eltflow.runtime.done_signal import DoneSignal
from eltflow.runtime.engine import Engine, SimulatedCrash, StepInbound, StepResult, is_activity
from eltflow.runtime.map_runs import MapRunDriver
from eltflow.runtime.sync_waits import TaskAwaiting
from eltflow.runtime.tasks import TaskOutcome, run_task
from eltflow.store.interface import StateStore
from eltflow.store.interrupt import Interrupt
from eltflow.store.rows import TaskRow, to_us

log = logging.getLogger(__name__)

GROUP_COMMIT = 64
"""At most this many executions' steps share one transaction (see :meth:`Worker._steps`)."""

HEARD_GAP = 0.02
"""A busy worker that hears of a start claims it at once, or this many seconds after its last
claim if that is later, so that a stream of starts is claimed in batches (see
:meth:`Worker._wait_busy`)."""


class WorkerHost(Protocol):
    """What a worker needs from the application (see :class:`eltflow.app.App`)."""

    @property
    def store(self) -> StateStore: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def registry(self) -> Registry: ...

    @property
    def clock(self) -> Clock: ...


@dataclass
class WorkerStats:
    """What a worker did, for operators and the worker benchmark (issue 16: contention between
    workers shows as empty claims, grouped steps rolled back and leases lost)."""

    claimed: int = 0  # executions leased
    steps: int = 0
    tasks_run: int = 0
    claims: int = 0  # claim transactions run
    empty_claims: int = 0  # ... of which leased nothing
    waits: int = 0  # idle waits for work (wait_for_work)
    woken: int = 0  # ... of which a notification ended
    heard: int = 0  # waits on tasks a notification ended (work for this busy worker)
    group_conflicts: int = 0  # grouped steps rolled back and recorded one by one
    leases_lost: int = 0  # executions another worker took over from this one


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts while the store fails: ``first`` doubling up to ``cap`` seconds,
    each drawn from its upper half ("equal jitter") so that workers that failed together
    don't all come back at the same instant."""

    first: float = 0.1
    cap: float = 30.0

    def delay(self, failures: int, rng: random.Random) -> float:
        base = min(self.cap, self.first * 2.0 ** min(failures - 1, 32))
        return base / 2 + rng.random() * base / 2


@dataclass(frozen=True)
class Health:
    """Whether the worker's last store operation worked; ``failures`` in a row otherwise."""

    ok: bool = True
    failures: int = 0
    error: str | None = None
    since: datetime | None = None  # when the current run of failures started


@dataclass
class _Held:
    arn: str
    tasks: set[str]
    next_timer_us: int | None = None


class Worker:
    def __init__(
        self,
        app: WorkerHost,
        *,
        owner: str | None = None,
        lease_seconds: float = 30.0,
        poll_seconds: float = 0.2,
        threads: int = 16,
        batch: int = 64,
        max_held: int = 1000,
        only: str | None = None,
        idle_seconds: float = 2.0,
        backoff: Backoff | None = None,
        pause: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        wait_for_tasks: bool = True,
        crash_point: CrashPoint | None = None,
    ) -> None:
        """``pause(seconds)`` waits out a store failure (default: the clock's time, cut short
        by :meth:`stop`); ``rng`` draws the backoff jitter."""
        self.app = app
        self.owner = owner or f"worker-{uuid.uuid4().hex[:12]}"
        self.lease_us = int(lease_seconds * 1_000_000)
        self.poll_seconds = poll_seconds
        self.idle_seconds = idle_seconds
        self.threads = threads
        self.batch = batch
        self.max_held = max_held
        self.only = only  # run just this execution (``eltflow start --wait``)
        # When finishing: wait for the tasks in flight and record them (a durable worker hands
        # over cleanly), or leave them behind (one in-memory execution that has ended).
        self.wait_for_tasks = wait_for_tasks
        self.stats = WorkerStats()
        self._held: dict[str, _Held] = {}
        self._inflight: dict[Future[TaskOutcome], tuple[str, str]] = {}
        # A completion queue: each task's future appends itself when done and sets the event.
        # Waiting on all futures in flight (concurrent.futures.wait) costs O(n) per completion,
        # which made a Map of n Tasks O(n^2) (issue 16: 106 -> 265 µs CPU per item, 100 ->
        # 3,000 items); the queue makes it O(1).
        self._completed: deque[Future[TaskOutcome]] = deque()
        self._task_done = DoneSignal()
        # Submissions a running .sync task reported (TaskSubmitted), recorded by the loop like
        # outcomes, each before its task's outcome.
        self._reports: deque[tuple[str, TaskSubmitted]] = deque()
        self._stopping = False
        self._woken = threading.Event()
        # Ends an idle wait for work at once when stopped (else stop waited out idle_seconds).
        self._interrupt = Interrupt()
        self._claim_after = 0.0  # time.monotonic() before which a busy worker does not claim
        # While busy, how long a start notifies this worker ahead of idle ones: it claims at
        # least once a poll interval while busy with room, which renews that.
        self._busy_seconds = max(5 * poll_seconds, 1.0)
        self._listens_busy = False  # set by run(), see _wait_busy
        self._heard = False  # a start was heard while busy, not claimed yet
        self._last_claim = 0.0  # time.monotonic() of the last claim
        # Whether an idle worker should claim: not after a claim came back short until a wait
        # for work ended (see _claim).
        self._may_claim = True
        self.backoff = backoff or Backoff()
        self._pause = pause or self._default_pause
        self._rng = rng or random.Random()
        self.health = Health()
        # Chaos tests only: kill -9 at one recorded effect point (ELTFLOW_CRASH_POINT).
        self.crash_point = crash_point or CrashPoint.from_env(os.environ)
        self._task_states: dict[tuple[str, str], str] = {}  # in flight: (execution, task) -> state
        self._map_run_driver: MapRunDriver | None = None
        self._waits: ThreadPoolExecutor | None = None  # run()'s pool for tasks that wait
        self._map_run_futures: set[Future[TaskOutcome]] = set()

    def stop(self) -> None:
        """Ask the loop to finish the tasks in flight, record them and return. A wait ends
        at once: for work (idle), for a task or the poll (busy), or out a store failure."""
        self._stopping = True
        self._woken.set()
        self._interrupt.set()
        self._task_done.set()  # a busy wait's: the loop only finds no task finished

    def _default_pause(self, seconds: float) -> None:
        clock = self.app.clock
        if isinstance(clock, VirtualClock):
            clock.advance(seconds)
        else:
            self._woken.wait(seconds)

    def _store_failed(self, error: StoreError) -> None:
        failures = self.health.failures + 1
        since = self.health.since or self.app.clock.now()
        self.health = Health(ok=False, failures=failures, error=str(error), since=since)
        delay = self.backoff.delay(failures, self._rng)
        log.warning(
            "the state store failed (%d in a row since %s); retrying in %.1f s: %s",
            failures,
            since.isoformat(timespec="seconds"),
            delay,
            error,
        )
        self._pause(delay)

    def _store_ok(self) -> None:
        if not self.health.ok:
            log.warning("the state store answers again after %d failures", self.health.failures)
            self.health = Health()

    # -- the loop --------------------------------------------------------------------------
    def run(
        self, *, until_idle: bool = False, until: Callable[[], bool] | None = None
    ) -> WorkerStats:
        """Work until stopped; ``until_idle``: until no execution has work left (waiting for
        timers that are still to come); ``until()``: until it returns true."""
        pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="eltflow-task")
        # A Map Run waits for its children on a thread of its own: on the task pool, as many
        # of them as it has threads left the children's tasks no thread, and every one of
        # them waited until its timeout (for ever without one). (A states:startExecution.sync
        # task no longer waits on a thread: its child's end completes it, runtime/sync_waits.)
        self._waits = ThreadPoolExecutor(
            max_workers=max(self.max_held, self.threads), thread_name_prefix="eltflow-wait"
        )
        waits = self._waits
        clock = self.app.clock
        # A worker for one execution takes no one else's work; on a virtual clock nothing
        # starts while it waits.
        self._listens_busy = (
            self.app.store.listens_while_busy
            and self.only is None
            and not isinstance(clock, VirtualClock)
        )
        if self._listens_busy:
            self._task_done.open_pipe()
        renew_every_us = self.lease_us // 3
        last_renew: int | None = None  # None: heartbeat at once
        try:
            while True:
                try:
                    now_us = to_us(clock.now())
                    if last_renew is None or now_us - last_renew >= renew_every_us:
                        self._renew(now_us)
                        self.app.store.heartbeat(self.owner, now_us)
                        last_renew = now_us
                    finishing = self._stopping or (until is not None and until())
                    progressed = self._record(pool, claim=not finishing)
                    if finishing and (not self._inflight or not self.wait_for_tasks):
                        break
                    self._store_ok()
                    if progressed or (self._stopping and not finishing):
                        continue  # (stop() came after `finishing` was read: not to wait)
                    if self._inflight:
                        if not self._virtual_jump(now_us):
                            self._wait_busy(now_us)
                        continue
                    # A wait that ends by itself when the next wake-up comes due needs it
                    # read only to tell when there is nothing left (until_idle).
                    store = self.app.store
                    sees = store.wait_sees_next_wake and not isinstance(clock, VirtualClock)
                    next_wake = None if sees and not until_idle else store.next_wake()
                    if until_idle and next_wake is None and not self._held:
                        break
                    self._sleep(now_us, next_wake)
                except StoreError as e:
                    self._store_failed(e)
        except SimulatedCrash:
            # A simulated kill -9: drop everything, release nothing.
            pool.shutdown(wait=False, cancel_futures=True)
            waits.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            self.app.store.close_listener()
            self._task_done.close_pipe()
            self._interrupt.close()
        pool.shutdown(wait=self.wait_for_tasks, cancel_futures=not self.wait_for_tasks)
        waits.shutdown(wait=self.wait_for_tasks, cancel_futures=not self.wait_for_tasks)
        try:
            self.app.store.worker_gone(self.owner)
        except StoreError as e:  # its leases lapse instead
            log.warning("could not record that worker %s is gone: %s", self.owner, e)
        return self.stats

    def _wait_busy(self, now_us: int) -> None:
        """Wait for a task to end, up to the next held timer or the poll interval. On
        PostgreSQL it also hears the starts that picked this busy worker ahead of idle ones
        (notify_work), and claims them right after, or :data:`HEARD_GAP` after its last
        claim (issue 16: each start woke another idle worker, which ran that one execution
        alone, without group commit: 4 workers fell to half the rate of 1). Their first steps
        share a group with whatever else it records then (:meth:`_record`). A worker that
        never waits claims them at its poll, or when its steps run out, all at once."""
        delay = self._idle_delay(now_us)
        fd = self._task_done.fileno()
        if self._heard:  # to be claimed at _claim_after
            self._task_done.wait(max(min(delay, self._claim_after - time.monotonic()), 0))
        elif fd is None or self._task_done.is_set():
            self._task_done.wait(delay)
        elif self.app.store.wait_while_busy(fd, delay):
            self.stats.heard += 1
            self._heard = True
            self._claim_after = min(self._claim_after, self._last_claim + HEARD_GAP)

    def _idle_delay(self, now_us: int) -> float:
        delay = self.poll_seconds
        for held in self._held.values():
            if held.next_timer_us is not None:
                delay = min(delay, max(held.next_timer_us - now_us, 0) / 1_000_000)
        return delay

    def _sleep(self, now_us: int, next_wake: int | None) -> None:
        clock = self.app.clock
        self._may_claim = True  # after the wait: work may have come, or come due
        if isinstance(clock, VirtualClock):
            # Virtual time: nothing else can happen before the next wake-up, so jump to it.
            clock.advance((next_wake - now_us) / 1_000_000 if next_wake else self.poll_seconds)
            return
        # With notifications (PostgreSQL) a new start wakes us at once, so waiting longer is
        # free; the bound only covers a lost notification. Otherwise poll.
        delay = self.idle_seconds if self.app.store.notifies else self.poll_seconds
        if next_wake is not None:
            delay = min(delay, max(next_wake - now_us, 0) / 1_000_000)
        self.stats.waits += 1
        # A worker for one execution (``only``) must not be told of others' work: it would
        # return at once to a claim that cannot take it; nor be woken for a start in place of
        # a worker that would claim it (claimant).
        only = self.only is not None
        self.stats.woken += self.app.store.wait_for_work(
            max(delay, 0.001),
            runnable_at=None if only else now_us,
            claimant=not only,
            interrupt=self._interrupt,
        )

    # -- steps -----------------------------------------------------------------------------
    def _steps(
        self, pool: ThreadPoolExecutor, todo: list[tuple[str, list[StepInbound], bool]]
    ) -> None:
        """Record one step per ``(execution, inbounds, fresh)``. On a durable store the steps
        of up to :data:`GROUP_COMMIT` executions share one transaction (group commit): one
        COMMIT, and one fsync on PostgreSQL, instead of one per step (issue 16: a worker
        draining Task machines spent a third of its wall time in COMMIT). Nothing of a group
        is acted on (tasks dispatched, executions let go) before its COMMIT; if any step of it
        fails, the group is rolled back and its steps are recorded one at a time, so one
        execution's failure is handled exactly as without grouping."""
        todo = [t for t in todo if t[0] in self._held]
        if len(todo) <= 1 or not self.app.store.durable:
            for execution_id, inbounds, fresh in todo:
                self._step(pool, execution_id, inbounds, fresh=fresh)
            return
        for i in range(0, len(todo), GROUP_COMMIT):
            group = todo[i : i + GROUP_COMMIT]
            results: list[tuple[str, StepResult]] = []
            try:
                with self.app.engine.group():
                    for execution_id, inbounds, fresh in group:
                        results.append((execution_id, self._apply(execution_id, inbounds, fresh)))
            except Exception as e:  # rolled back: each on its own, with its own handling
                self.stats.group_conflicts += 1
                log.info("a group of %d steps failed, recording them one by one: %s", len(group), e)
                for execution_id, inbounds, fresh in group:
                    self._step(pool, execution_id, inbounds, fresh=fresh)
                continue
            for execution_id, result in results:
                self._settle(pool, execution_id, result)

    def _apply(self, execution_id: str, inbounds: list[StepInbound], fresh: bool) -> StepResult:
        held = self._held[execution_id]

        def take(task: TaskRow) -> bool:
            # Asked while the step is evaluated, maybe more than once (a step whose execution
            # changed meanwhile is evaluated again): the tasks taken are in the result.
            return (
                task.task_id not in held.tasks
                and task.awaits is None  # a parked .sync task: its child's end completes it
                and not is_activity(task.resource)
            )

        return self.app.engine.apply(
            execution_id,
            inbounds,
            owner=self.owner,
            due_timers=True,
            inbox=fresh,
            dispatch=take,
            release=lambda: not held.tasks,
        )

    def _step(
        self,
        pool: ThreadPoolExecutor,
        execution_id: str,
        inbounds: list[StepInbound],
        *,
        fresh: bool,
    ) -> None:
        try:
            result = self._apply(execution_id, inbounds, fresh)
        except EltflowError as e:
            # The store failed: leave it to the lease; whoever claims it next retries from the
            # last record.
            log.warning("execution %s: step failed, dropping it: %s", execution_id, e)
            self._held.pop(execution_id, None)
            return
        except Exception as e:
            # A bug, not bad luck: retrying would fail the same way on every worker. End the
            # execution visibly (FAILED, States.Runtime) so it can be redriven once fixed.
            log.exception("execution %s: the interpreter raised; failing it", execution_id)
            self._held.pop(execution_id, None)
            self.app.engine.fail(
                execution_id, "States.Runtime", f"Internal error: {type(e).__name__}: {e}"
            )
            return
        self._settle(pool, execution_id, result)

    def _settle(self, pool: ThreadPoolExecutor, execution_id: str, result: StepResult) -> None:
        """Act on a recorded (committed) step: run the tasks it dispatched, or let go."""
        held = self._held[execution_id]
        self.stats.steps += 1
        held.arn = result.arn or held.arn
        held.next_timer_us = result.next_timer_us
        if result.lost:
            self.stats.leases_lost += 1
            log.warning("execution %s: lease lost; another worker took it over", execution_id)
            self._held.pop(execution_id, None)
            return
        if result.woke:
            self._claim_now()  # a parent waiting for this execution: completed at once
        if result.status != "RUNNING":
            self._held.pop(execution_id, None)
            return
        waits = self._waits
        assert waits is not None  # set by run(), which alone settles steps
        for task in result.dispatch:
            held.tasks.add(task.task_id)
            future: Future[TaskOutcome]
            if task.resource == MAP_RUN_RESOURCE:  # a Distributed Map's Map Run
                future = waits.submit(
                    self._map_runs().run, task.execution_id, task.task_id, task.parameters
                )
                self._map_run_futures.add(future)
                future.add_done_callback(self._map_run_futures.discard)
            else:
                future = pool.submit(
                    run_task,
                    registry=self.app.registry,
                    store=self.app.store,
                    clock=self.app.clock,
                    execution_arn=held.arn,
                    task=task,
                    report=self._reporter(execution_id),
                )
            self._inflight[future] = (execution_id, task.task_id)
            self._task_states[(execution_id, task.task_id)] = task.state_name
            future.add_done_callback(self._on_task_done)
        if not held.tasks:
            self._held.pop(execution_id, None)  # released inside the step

    def _map_runs(self) -> MapRunDriver:
        if self._map_run_driver is None:
            app = self.app
            # The project's local S3 for ItemReader / ResultWriter, where the host has one.
            objects = getattr(app, "s3", None)
            self._map_run_driver = MapRunDriver(
                app.store, app.engine, app.clock, objects, wake=self._claim_now
            )
        return self._map_run_driver

    def _virtual_jump(self, now_us: int) -> bool:
        """On a virtual clock, when the only tasks in flight are Map Runs waiting for their
        children, nothing can happen before the next timer: move the clock to it (else a
        child's Wait would never end). True when the clock moved."""
        clock = self.app.clock
        driver = self._map_run_driver
        if not isinstance(clock, VirtualClock) or driver is None or not driver.waiting():
            return False
        if len(self._map_run_futures) != len(self._inflight):
            return False
        due = [h.next_timer_us for h in self._held.values() if h.next_timer_us is not None]
        children = driver.next_timer()  # children waiting on a timer are not held
        if children is not None:
            due.append(children)
        if not due or min(due) <= now_us:
            return False
        clock.advance((min(due) - now_us) / 1_000_000)
        self._claim_after = 0.0
        self._may_claim = True
        return True

    def _claim_now(self) -> None:
        """A Map Run started children that wait on tasks: claim them now, not a poll later."""
        self._claim_after = 0.0
        self._may_claim = True
        self._task_done.set()

    def _on_task_done(self, future: Future[TaskOutcome]) -> None:
        # On the task's thread (or at once, if it is already done): deque.append is atomic.
        self._completed.append(future)
        self._task_done.set()

    def _reporter(self, execution_id: str) -> Callable[[TaskSubmitted], None]:
        def report(submitted: TaskSubmitted) -> None:
            # On the task's thread: deque.append is atomic; the loop records it.
            self._reports.append((execution_id, submitted))
            self._task_done.set()

        return report

    def _record(self, pool: ThreadPoolExecutor, *, claim: bool) -> bool:
        """Record what came since the last time: the tasks that finished or reported, the
        held timers that came due and (``claim``) what a claim leases, all in one call of
        :meth:`_steps`, so in one group commit (issue 16: a start claimed by a busy worker
        had its first step in a transaction of its own). True if anything was to record."""
        todo, states = self._finished()
        progressed = bool(todo or states)
        if states and self.crash_point is not None:
            self.crash_point.hit(states, "before-record")  # effects done, outcomes unrecorded
        if claim:
            now_us = to_us(self.app.clock.now())
            stepping = {eid for eid, _, _ in todo}  # a step fires its due timers anyway
            due: list[tuple[str, list[StepInbound], bool]] = [
                (eid, [], False)
                for eid, held in self._held.items()
                if held.next_timer_us is not None
                and held.next_timer_us <= now_us
                and eid not in stepping
            ]
            todo += due
            try:
                claimed = self._claim()
            except StoreError:
                self._steps(pool, todo)  # what finished is not lost with the claim
                raise
            todo += [(eid, [], True) for eid in claimed]
            progressed |= bool(due or claimed)
        self._steps(pool, todo)
        if states and self.crash_point is not None:
            self.crash_point.hit(states, "recorded")
        return progressed

    def _finished(self) -> tuple[list[tuple[str, list[StepInbound], bool]], set[str]]:
        """The steps that record the tasks finished and reported since the last call, and
        the states of the tasks finished (empty: none)."""
        # Clear before draining: a task finishing after the drain sets the event again, so
        # the loop's wait cannot miss it.
        self._task_done.clear()
        completed = self._completed
        done = []
        while completed:
            future = completed.popleft()
            if future in self._inflight:
                done.append(future)
        # Reports after outcomes are taken: a task reports before it ends, so every report of
        # a task whose outcome is taken here is taken too, and recorded first.
        reports = self._reports
        by_execution: dict[str, list[StepInbound]] = {}
        states: set[str] = set()
        while reports:
            execution_id, submitted = reports.popleft()
            if execution_id in self._held:  # else: lease lost or ended, not ours to record
                by_execution.setdefault(execution_id, []).append(submitted)
        for future in done:
            execution_id, task_id = self._inflight.pop(future)
            states.add(self._task_states.pop((execution_id, task_id), ""))
            self.stats.tasks_run += 1
            held = self._held.get(execution_id)
            if held is None:
                # Lease lost or execution ended: the outcome is not ours to record. A .sync
                # task's child linked meanwhile is the engine's to let go, though.
                outcome = future.result()
                if isinstance(outcome, TaskAwaiting):
                    self.app.engine.unwait(execution_id, outcome)
                continue
            held.tasks.discard(task_id)
            by_execution.setdefault(execution_id, []).append(future.result())
        return [(eid, inbounds, False) for eid, inbounds in by_execution.items()], states

    def _claim(self) -> list[str]:
        """Lease runnable executions if it is time to; their ids."""
        room = min(self.batch, self.max_held - len(self._held))
        if room <= 0:
            self._heard = False  # full: what it heard is left to others' polls
            return []
        # While busy, a claim that came back short means nothing else is runnable: the next
        # is tried a poll interval later, not after every task that finishes (issue 16: a
        # worker draining Task machines ran one claim transaction per task), unless a start
        # was heard meanwhile (_wait_busy). Nor does a worker that went idle claim before it
        # waits: on PostgreSQL the wait itself finds work that is runnable already (issue 16:
        # every worker that finished its last execution ran an empty claim, one per execution
        # with several workers), elsewhere it returns at once when work was made meanwhile,
        # or after the poll interval.
        busy = bool(self._inflight or self._held)
        if busy and time.monotonic() < self._claim_after:
            return []
        if not busy and not self._may_claim:
            return []
        store = self.app.store
        ids = store.claim(
            owner=self.owner,
            now_us=to_us(self.app.clock.now()),
            lease_us=self.lease_us,
            limit=room,
            only=self.only,
            busy_seconds=self._busy_seconds if self._listens_busy else None,
        )
        self.stats.claims += 1
        self.stats.empty_claims += not ids
        full = len(ids) >= room
        self._claim_after = 0.0 if full else time.monotonic() + self.poll_seconds
        self._may_claim = full
        self._heard = False
        self._last_claim = time.monotonic()
        fresh = []
        for eid in ids:
            self.stats.claimed += 1
            if eid in self._held:  # its own, whose lease lapsed: it records it already
                continue
            # The ARN comes with the first step (which locks and reads the row anyway).
            self._held[eid] = _Held(arn="", tasks=set())
            fresh.append(eid)
        return fresh

    def _renew(self, now_us: int) -> None:
        if not self._held:
            return
        kept = self.app.store.renew(
            owner=self.owner, execution_ids=list(self._held), expires_us=now_us + self.lease_us
        )
        for eid in set(self._held) - kept:
            self.stats.leases_lost += 1
            log.warning("execution %s: lease lost; another worker took it over", eid)
            self._held.pop(eid, None)
