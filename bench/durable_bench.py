"""Issue 16's durable targets, as ratios to the same workload in memory in the same run.

- **Throughput on one worker**: the 10-Pass chain and Task -> Task -> Pass, executions/s on
  SQLite (WAL) and PostgreSQL against ``eltflow.execute`` (in memory). A durable round is a
  batch of StartExecution calls drained by one worker of the same process; rounds of each side
  are interleaved (:func:`bench.common.measure_interleaved`) so the shared machine's load hits
  them alike. Targets: SQLite >= 0.5x on both; PostgreSQL >= 0.25x (Pass chain), >= 0.2x (Task).
- **Round trips**: transactions, statements and server round trips (a pipeline's statements
  share one) per execution of each machine, counted at the store's connection layer.
- **Latency**: StartExecution -> SUCCEEDED of the Task machine with a worker thread in the same
  process, p50/p90 (targets: p50 <= 20 ms SQLite, <= 15 ms PostgreSQL); and with the worker in
  another process (``eltflow worker``, starts from the CLI or the HTTP endpoint), with that
  worker's CPU while idle.
- **Workers**: 1, 2 and 4 worker *processes* on PostgreSQL draining one batch of Task
  machines, started beforehand or while they run; executions/s and CPU (ms) per execution
  summed over the workers, with what tells contention apart from a busy machine: the
  PostgreSQL backends' CPU, transactions and round trips, claims and empty claims, idle waits
  and wake-ups, busy workers' waits that a start ended (heard) (WorkerStats), grouped steps
  rolled back or leases lost, context switches, the busiest worker's share of the claims,
  and how many cores the run kept busy (workers, starter, backends: at the core count, more
  workers only share the cores). ``--scale-rounds`` interleaves rounds of 1, 2, 4.
  Target: the rate does not fall as workers are added. (On 2 cores, 4 processes add no CPU:
  there the same work costs more CPU per execution just from sharing the cores.)
- **Concurrent starts**: 1, 4 and 16 threads calling StartExecution on one store (no worker):
  starts/s, CPU per start, SQLite WAL pages per start (:mod:`bench.concurrent_starts_bench`).

PostgreSQL runs where ``--pg URL`` (default: ``$ELTFLOW_TEST_PG``) reaches a server; otherwise
its rows say why they are missing. Run with ``python -m bench.durable_bench``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import eltflow
from bench.common import (
    Case,
    Rate,
    machine_note,
    measure_interleaved,
    pass_chain_case,
    start_to_succeeded_ms,
    table,
    timed_starts_ms,
)
from eltflow.app import App, build_app
from eltflow.types import JSON

STEP = "arn:aws:lambda:us-east-1:123456789012:function:step"
TARGETS = {("sqlite", "pass-chain"): 0.5, ("sqlite", "tasks"): 0.5}
TARGETS |= {("postgres", "pass-chain"): 0.25, ("postgres", "tasks"): 0.2}
LATENCY_TARGET_MS = {"sqlite": 20.0, "postgres": 15.0}


def step(value: JSON) -> JSON:
    """The Task states' work: negligible, so the figures are the runtime's own cost."""
    assert isinstance(value, dict)
    n = value.get("n", 0)
    assert isinstance(n, int)
    return {**value, "n": n + 1}


def task_case() -> Case:
    definition: dict[str, JSON] = {
        "Comment": "Task -> Task -> Pass",
        "StartAt": "First",
        "States": {
            "First": {"Type": "Task", "Resource": STEP, "Next": "Second"},
            "Second": {"Type": "Task", "Resource": STEP, "Next": "Done"},
            "Done": {"Type": "Pass", "End": True},
        },
    }
    return Case(name="tasks", title="Task -> Task -> Pass", definition=definition, input={"n": 0})


def cases() -> list[Case]:
    return [pass_chain_case(), task_case()]


# --- stores ------------------------------------------------------------------------------------


def _pg_reachable(url: str | None) -> str | None:
    """None when PostgreSQL answers at ``url``, else why it is skipped."""
    if not url:
        return "no --pg URL and ELTFLOW_TEST_PG unset"
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as e:
        return f"PostgreSQL at {url} unreachable: {e}"
    return None


@contextmanager
def _pg_database(url: str) -> Iterator[str]:
    """A fresh database on the server of ``url`` for one benchmark, dropped afterwards."""
    import psycopg
    from psycopg import sql

    name = f"eltflow_bench_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def store_url(dialect: str, pg_url: str | None) -> Iterator[str]:
    if dialect == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'state.db'}"
    else:
        assert pg_url is not None
        with _pg_database(pg_url) as url:
            yield url


def _open(url: str) -> App:
    app = build_app(state_url=url)
    app.register(STEP, step)
    return app


# --- throughput --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Throughput:
    case: Case
    in_memory: Rate
    durable: dict[str, Rate | str]  # dialect -> rate, or why it was skipped

    def ratio(self, dialect: str) -> float | None:
        got = self.durable.get(dialect)
        if not isinstance(got, Rate) or self.in_memory.per_second == 0:
            return None
        return got.per_second / self.in_memory.per_second


class _Durable:
    """Rounds of ``batch`` StartExecution calls, drained by one worker, on one store."""

    def __init__(self, app: App, case: Case, batch: int) -> None:
        self.app = app
        self.case = case
        self.batch = batch
        self.text = json.dumps(case.input)
        self.counter = itertools.count()
        self.expected: JSON = None
        app.service.create_state_machine(name=case.name, definition=case.definition_text)

    def round(self) -> None:
        service = self.app.service
        arns = [
            str(
                service.start_execution(
                    state_machine_arn=self.case.name,
                    input=self.text,
                    name=f"r{next(self.counter)}",
                )["executionArn"]
            )
            for _ in range(self.batch)
        ]
        self.app.worker(threads=4, batch=64, max_held=1000).run(until_idle=True)
        last = service.describe_execution(execution_arn=arns[-1])
        got = json.loads(str(last.get("output")))
        if last["status"] != "SUCCEEDED" or (self.expected is not None and got != self.expected):
            raise AssertionError(f"{self.case.name}: {last['status']} {got}")


def throughput(
    case: Case, *, dialects: Sequence[str], pg_url: str | None, seconds: float, batch: int
) -> Throughput:
    tasks = {STEP: step}

    def in_memory() -> None:
        eltflow.execute(case.definition, case.input, tasks=tasks)

    expected = eltflow.execute(case.definition, case.input, tasks=tasks).output
    skipped: dict[str, Rate | str] = {}
    runners: list[Callable[[], object]] = [in_memory]
    names: list[str] = []
    with contextlib.ExitStack() as stack:
        for dialect in dialects:
            if dialect == "postgres" and (why := _pg_reachable(pg_url)):
                skipped[dialect] = why
                continue
            url = stack.enter_context(store_url(dialect, pg_url))
            app = _open(url)
            stack.callback(app.close)
            durable = _Durable(app, case, batch)
            durable.round()  # warm-up, and the output checked against the in-memory one
            durable.expected = expected
            durable.round()
            runners.append(durable.round)
            names.append(dialect)
        rates = measure_interleaved(runners, seconds=seconds)
    durable_rates: dict[str, Rate | str] = dict(skipped)
    for name, rate in zip(names, rates[1:], strict=True):
        durable_rates[name] = Rate(
            runs=rate.runs * batch, seconds=rate.seconds, cpu_seconds=rate.cpu_seconds
        )
    return Throughput(case=case, in_memory=rates[0], durable=durable_rates)


# --- round trips -------------------------------------------------------------------------------


@dataclass
class Counts:
    transactions: int = 0
    statements: int = 0
    round_trips: int = 0


@contextmanager
def counting(app: App) -> Iterator[Counts]:
    """Count what reaches the server while the block runs: transactions (BEGIN ... COMMIT),
    statements, and round trips (BEGIN and COMMIT are one each; a batch sent in one pipeline
    is one; PostgreSQL's queued writes travel with the next read or COMMIT). SQLite has no
    server: its "round trips" are calls into the library. Wraps the connection layer's
    methods for the block only."""
    from eltflow.store import db as dbmod

    counts = Counts()
    saved: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, add: Callable[[Any, tuple[Any, ...]], None]) -> None:
        original = getattr(owner, name)
        saved.append((owner, name, original))

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            add(self, args)
            return original(self, *args, **kwargs)

        setattr(owner, name, wrapper)

    def one(_: Any, args: tuple[Any, ...]) -> None:
        counts.statements += 1
        counts.round_trips += 1

    def many(_: Any, args: tuple[Any, ...]) -> None:
        counts.statements += len(args[1])
        counts.round_trips += 1

    def reads(_: Any, args: tuple[Any, ...]) -> None:  # execute_all: one round trip
        counts.statements += len(args[0])
        counts.round_trips += 1

    def queued(_: Any, args: tuple[Any, ...]) -> None:  # write: sent with the next one
        counts.statements += 1

    def queued_many(_: Any, args: tuple[Any, ...]) -> None:
        counts.statements += len(args[1])

    for cls in (dbmod.SqliteConnection, dbmod.PostgresConnection):
        wrap(cls, "execute", one)
        wrap(cls, "executemany", many)
    # SQLite's write and execute_all call execute, which counts them. (getattr: the bench
    # also counts an eltflow from before these existed, for before/after figures.)
    for name, add in (("execute_all", reads), ("write", queued), ("write_many", queued_many)):
        if hasattr(dbmod.PostgresConnection, name):
            wrap(dbmod.PostgresConnection, name, add)
    if hasattr(dbmod.PostgresConnection, "queue"):
        # A queued read is a statement; its round trip is counted when asking for its rows
        # sends what is queued (a later one, or COMMIT, may have sent it already).
        original_queue = dbmod.PostgresConnection.queue
        saved.append((dbmod.PostgresConnection, "queue", original_queue))

        def queue(self: Any, *args: Any, **kwargs: Any) -> Any:
            counts.statements += 1
            found = original_queue(self, *args, **kwargs)

            def rows() -> Any:
                before = self._syncs
                try:
                    return found.rows()
                finally:
                    counts.round_trips += self._syncs - before

            return dbmod.Queued(rows=rows, answered=found.answered)

        dbmod.PostgresConnection.queue = queue  # type: ignore[method-assign]
    db = app.db
    original_txn = db.transaction

    @contextmanager
    def transaction() -> Iterator[Any]:
        outer = getattr(counting_local, "depth", 0) == 0
        counting_local.depth = getattr(counting_local, "depth", 0) + 1
        try:
            if outer:
                counts.transactions += 1
                counts.round_trips += 2  # BEGIN and COMMIT
            with original_txn() as conn:
                yield conn
        finally:
            counting_local.depth -= 1

    original_read = getattr(db, "read_transaction", None)

    @contextmanager
    def read_transaction() -> Iterator[Any]:
        # SQLite reads in BEGIN ... ROLLBACK; PostgreSQL's reads need no transaction.
        if db.dialect == "sqlite" and getattr(counting_local, "depth", 0) == 0:
            counts.transactions += 1
            counts.round_trips += 2
        assert original_read is not None
        with original_read() as conn:
            yield conn

    original_statement = getattr(db, "statement", None)

    @contextmanager
    def statement() -> Iterator[Any]:
        # A transaction of its own: SQLite's has BEGIN and COMMIT, PostgreSQL's (autocommit)
        # is the statement's round trip alone.
        if getattr(counting_local, "depth", 0) == 0:
            counts.transactions += 1
            if db.dialect == "sqlite":
                counts.round_trips += 2
        assert original_statement is not None
        with original_statement() as conn:
            yield conn

    counting_local = threading.local()
    db.transaction = transaction  # type: ignore[method-assign]
    if original_read is not None:
        db.read_transaction = read_transaction  # type: ignore[method-assign]
    if original_statement is not None:
        db.statement = statement  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        db.transaction = original_txn  # type: ignore[method-assign]
        if original_read is not None:
            db.read_transaction = original_read  # type: ignore[method-assign]
        if original_statement is not None:
            db.statement = original_statement  # type: ignore[method-assign]
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def round_trips(app: App, case: Case, runs: int = 20) -> tuple[Counts, Counts]:
    """(StartExecution alone, the whole execution on one worker) per execution."""
    service = app.service
    service.create_state_machine(name=f"rt-{case.name}", definition=case.definition_text)
    text = json.dumps(case.input)
    with counting(app) as start:
        for i in range(runs):
            service.start_execution(state_machine_arn=f"rt-{case.name}", input=text, name=f"s{i}")
    app.worker(threads=4).run(until_idle=True)  # not counted: drains the starts above
    with counting(app) as whole:
        for i in range(runs):
            service.start_execution(state_machine_arn=f"rt-{case.name}", input=text, name=f"w{i}")
        app.worker(threads=4).run(until_idle=True)

    def per(c: Counts) -> Counts:
        return Counts(
            transactions=round(c.transactions / runs),
            statements=round(c.statements / runs),
            round_trips=round(c.round_trips / runs),
        )

    return per(start), per(whole)


# --- latency -----------------------------------------------------------------------------------


def latency_ms(url: str, runs: int = 40) -> tuple[float, float]:
    """(p50, p90) ms StartExecution -> SUCCEEDED of Task -> Task -> Pass with a worker thread of
    the same App (the caller polls DescribeExecution every 0.5 ms)."""
    case = task_case()
    app = _open(url)
    app.service.create_state_machine(name="latency", definition=case.definition_text)
    try:
        # the first three warm up caches and connections
        return start_to_succeeded_ms(app, input_text='{"n": 0}', runs=runs, warmup=3)
    finally:
        app.close()


_LATENCY_WORKER_CODE = """
import sys, time
from bench.durable_bench import _open
app = _open(sys.argv[1])
worker = app.worker(threads=4)
import threading
thread = threading.Thread(target=worker.run)
thread.start()
print("ready", flush=True)
sys.stdin.readline()  # stop
worker.stop()
thread.join()
app.close()
"""


def _process_cpu_seconds(pid: int) -> float:
    """CPU (user + system) seconds so far of process ``pid``, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cross_process_latency_ms(
    url: str, runs: int = 40, idle_seconds: float = 3.0
) -> tuple[float, float, float]:
    """(p50, p90, idle CPU %) of StartExecution -> SUCCEEDED of the Task machine started by
    this process while a worker runs in another one (as with ``eltflow worker`` and starts
    from the CLI or the HTTP endpoint): what the worker learns of a start made elsewhere.
    Idle CPU: the worker process's CPU over ``idle_seconds`` with nothing to do."""
    case = task_case()
    app = _open(url)
    app.service.create_state_machine(name="latency", definition=case.definition_text)
    proc = subprocess.Popen(
        [sys.executable, "-c", _LATENCY_WORKER_CODE, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the worker process did not start")
        # the first three warm up caches and connections
        p50, p90 = timed_starts_ms(app, input_text='{"n": 0}', runs=runs, warmup=3)
        cpu = _process_cpu_seconds(proc.pid)
        time.sleep(idle_seconds)  # measuring what idling costs: nothing to await
        idle = (_process_cpu_seconds(proc.pid) - cpu) / idle_seconds * 100
        proc.stdin.write("stop\n")
        proc.stdin.flush()
    finally:
        proc.wait(60)
        app.close()
    return p50, p90, idle


# --- worker scaling ----------------------------------------------------------------------------

_WORKER_CODE = """
import json, resource, sys, threading, time
from bench.durable_bench import _open, counting
app = _open(sys.argv[1])
worker = app.worker(threads=4, batch=int(sys.argv[2]))
print("ready", flush=True)
sys.stdin.readline()  # go
with counting(app) as counts:
    cpu = time.process_time()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    switches = usage.ru_nvcsw + usage.ru_nivcsw
    thread = threading.Thread(target=worker.run)
    thread.start()
    sys.stdin.readline()  # stop
    cpu = time.process_time() - cpu
    usage = resource.getrusage(resource.RUSAGE_SELF)
    worker.stop()
    thread.join()
stats = {**worker.stats.__dict__, **counts.__dict__}
stats["context_switches"] = usage.ru_nvcsw + usage.ru_nivcsw - switches
print(json.dumps({"cpu": cpu, "stats": stats}), flush=True)
app.close()
"""


@dataclass(frozen=True)
class Scaling:
    workers: int
    streamed: bool  # started while the workers run (each start notifies), else beforehand
    executions: int
    seconds: float
    cpu_seconds: float
    server_cpu_seconds: float  # the PostgreSQL backends serving the workers, summed
    stats: dict[str, int]  # WorkerStats summed over the workers
    starter_cpu_seconds: float = 0.0  # this process's: the starts (while running), its polls

    @property
    def cores_busy(self) -> float:
        """How many cores the run kept busy on average: workers, starter and server backends
        (one machine). At the machine's core count, adding workers cannot add throughput:
        they only share the cores (more processes than cores: each runs slower)."""
        cpu = self.cpu_seconds + self.server_cpu_seconds + self.starter_cpu_seconds
        return cpu / self.seconds

    @property
    def per_second(self) -> float:
        return self.executions / self.seconds

    @property
    def cpu_ms_per_execution(self) -> float:
        return self.cpu_seconds / self.executions * 1000

    @property
    def server_cpu_ms_per_execution(self) -> float:
        return self.server_cpu_seconds / self.executions * 1000

    def per_execution(self, name: str) -> float:
        return self.stats.get(name, 0) / self.executions


def _backend_cpu(app: App) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to ``app``'s database, this
    process's too (the starts' and polls'), from /proc (the server is local in the bench).
    Empty where /proc is not readable or the store is not PostgreSQL: the column is then 0."""
    if app.db.dialect != "postgres":
        return {}
    with app.db.transaction() as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for row in rows:
        pid = int(row["pid"])
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return out


def scaling(
    url: str, workers: int, executions: int, *, streamed: bool, claim_batch: int = 64
) -> Scaling:
    """``workers`` worker processes run ``executions`` Task machines, started beforehand or,
    ``streamed``, one after another by this process while they run (each start notifies an
    idle worker). Seconds run from "go" until none is RUNNING."""
    case = task_case()
    app = _open(url)
    name = f"scale{workers}"
    app.service.create_state_machine(name=name, definition=case.definition_text)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER_CODE, url, str(claim_batch)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        for _ in range(workers)
    ]
    stats: dict[str, int] = {}
    try:
        for p in procs:
            assert p.stdout is not None
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError("a worker process did not start")

        def start_all() -> None:
            for i in range(executions):
                app.service.start_execution(state_machine_arn=name, input='{"n": 0}', name=f"e{i}")

        if not streamed:
            start_all()
        server_before = _backend_cpu(app)
        starter_cpu = time.process_time()
        started = time.perf_counter()
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        if streamed:
            start_all()
        while True:
            with app.db.transaction() as conn:
                left = conn.execute(
                    "SELECT COUNT(*) AS n FROM sfn_executions WHERE status = 'RUNNING'"
                )[0]["n"]
            if left == 0:
                break
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        starter_cpu = time.process_time() - starter_cpu
        server_after = _backend_cpu(app)
        cpu = 0.0
        for p in procs:
            assert p.stdin is not None and p.stdout is not None
            p.stdin.write("stop\n")
            p.stdin.flush()
            got = json.loads(p.stdout.readline())
            cpu += got["cpu"]
            for key, value in got["stats"].items():
                stats[key] = stats.get(key, 0) + int(value)
            stats["most_claimed"] = max(stats.get("most_claimed", 0), int(got["stats"]["claimed"]))
    finally:
        for p in procs:
            p.wait(60)
        app.close()
    # Streamed: this process's starts have a backend of their own, counted too (the same for
    # every worker count); a backend that ended meanwhile is missed.
    server = sum(cpu - server_before.get(pid, 0.0) for pid, cpu in server_after.items())
    return Scaling(
        workers=workers,
        streamed=streamed,
        executions=executions,
        seconds=seconds,
        cpu_seconds=cpu,
        server_cpu_seconds=server,
        stats=stats,
        starter_cpu_seconds=starter_cpu,
    )


def _scaling_rows(results: Sequence[Scaling]) -> list[list[str]]:
    return [
        [
            "while running" if s.streamed else "beforehand",
            str(s.workers),
            f"{s.per_second:,.0f}",
            f"{s.cpu_ms_per_execution:.2f}",
            f"{s.server_cpu_ms_per_execution:.2f}",
            f"{s.per_execution('transactions'):.1f} / {s.per_execution('round_trips'):.1f}",
            f"{s.per_execution('claims'):.2f}",
            f"{s.per_execution('empty_claims'):.2f}",
            f"{s.per_execution('waits'):.2f} / {s.per_execution('woken'):.2f}"
            f" / {s.per_execution('heard'):.2f}",
            str(s.stats.get("group_conflicts", 0) + s.stats.get("leases_lost", 0)),
            f"{s.per_execution('context_switches'):.1f}",
            f"{s.stats.get('most_claimed', 0) / max(s.stats.get('claimed', 0), 1):.0%}",
            f"{s.cores_busy:.2f}",
        ]
        for s in results
    ]


SCALING_HEADERS = [
    "started",
    "workers",
    "executions/s",
    "ms CPU/exec",
    "server ms/exec",
    "txns / round trips per exec",
    "claims/exec",
    "empty/exec",
    "waits / woken / heard per exec",
    "conflicts",
    "ctx switches/exec",
    "top worker's share",
    "cores busy",
]


# --- main --------------------------------------------------------------------------------------


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.durable_bench")
    p.add_argument("--seconds", type=float, default=3.0, help="time per side per case")
    p.add_argument("--batch", type=int, default=50, help="executions per durable round")
    p.add_argument("--pg", default=os.environ.get("ELTFLOW_TEST_PG"), help="PostgreSQL URL")
    p.add_argument(
        "--only",
        nargs="+",
        choices=["throughput", "round-trips", "latency", "workers", "concurrent-starts"],
        help="run only these parts (default: all)",
    )
    p.add_argument("--scale-executions", type=int, default=600)
    p.add_argument("--scale-rounds", type=int, default=1, help="interleaved rounds per count")
    p.add_argument(
        "--scale-started",
        choices=["beforehand", "while-running", "both"],
        default="both",
        help="workers: when the executions are started",
    )
    args = p.parse_args(argv)
    parts = set(
        args.only or ["throughput", "round-trips", "latency", "workers", "concurrent-starts"]
    )
    pg_skip = _pg_reachable(args.pg)
    dialects = ["sqlite", "postgres"]
    missed: list[str] = []
    print(f"\nDurable vs in memory (issue 16), one worker, same run ({machine_note()})")

    if "throughput" in parts:
        rows = []
        for case in cases():
            r = throughput(
                case, dialects=dialects, pg_url=args.pg, seconds=args.seconds, batch=args.batch
            )
            for dialect in dialects:
                got = r.durable.get(dialect)
                ratio = r.ratio(dialect)
                target = TARGETS[(dialect, case.name)]
                if isinstance(got, Rate):
                    met = ratio is not None and ratio >= target
                    if not met:
                        missed.append(f"{dialect} {case.name}")
                    rows.append(
                        [
                            f"{case.title} / {dialect}",
                            f"{r.in_memory.per_second:,.0f}",
                            f"{got.per_second:,.0f}",
                            f"{got.cpu_seconds / got.runs * 1000:.2f}",
                            _fmt_ratio(ratio),
                            f">= {target}x {'MET' if met else 'NOT MET'}",
                        ]
                    )
                else:
                    rows.append([f"{case.title} / {dialect}", "-", "-", "-", "-", str(got)])
        headers = ["case / store", "in memory/s", "durable/s", "ms CPU/exec", "ratio", "target"]
        print(table(headers, rows))

    if "round-trips" in parts:
        rows = []
        for dialect in dialects:
            if dialect == "postgres" and pg_skip:
                rows.append([dialect, "-", "-", "-", pg_skip])
                continue
            with store_url(dialect, args.pg) as url:
                app = _open(url)
                try:
                    for case in cases():
                        start, whole = round_trips(app, case)
                        rows.append(
                            [
                                f"{case.title} / {dialect}",
                                f"{start.transactions} / {start.statements} / {start.round_trips}",
                                f"{whole.transactions} / {whole.statements} / {whole.round_trips}",
                            ]
                        )
                finally:
                    app.close()
        print("\nPer execution: transactions / statements / round trips (BEGIN, COMMIT count)")
        print(table(["case / store", "StartExecution", "whole execution"], rows))

    if "latency" in parts:
        print(
            "\nStartExecution -> SUCCEEDED, Task -> Task -> Pass, worker thread in-process"
            " (and worker in another process, with its CPU while idle)"
        )
        for dialect in dialects:
            if dialect == "postgres" and pg_skip:
                print(f"  {dialect}: skipped ({pg_skip})")
                continue
            with store_url(dialect, args.pg) as url:
                p50, p90 = latency_ms(url)
            with store_url(dialect, args.pg) as url:
                x50, x90, idle = cross_process_latency_ms(url)
            target = LATENCY_TARGET_MS[dialect]
            met = p50 <= target
            if not met:
                missed.append(f"{dialect} latency")
            print(
                f"  {dialect}: p50 {p50:.1f} ms, p90 {p90:.1f} ms "
                f"(target p50 <= {target:g} ms: {'MET' if met else 'NOT MET'}); "
                f"another process: p50 {x50:.1f} ms, p90 {x90:.1f} ms, idle CPU {idle:.2f}%"
            )

    if "workers" in parts:
        print(
            f"\nPostgreSQL worker processes running {args.scale_executions} Task -> Task -> "
            f"Pass executions (CPU: the workers' own, summed; server: the database's backends;"
            f" cores busy: workers + this process + server CPU over the wall time, of"
            f" {os.cpu_count()})"
        )
        if pg_skip:
            print(f"  skipped ({pg_skip})")
        else:
            rows = []
            met = True
            fell: list[str] = []
            modes = {"beforehand": [False], "while-running": [True], "both": [False, True]}
            for streamed in modes[args.scale_started]:
                # Rounds interleave the worker counts (1, 2, 4, 1, 2, 4, ...) so the shared
                # machine's load hits them alike; each count's best rate is compared.
                by_count: dict[int, list[Scaling]] = {1: [], 2: [], 4: []}
                for _ in range(args.scale_rounds):
                    for n in by_count:
                        with store_url("postgres", args.pg) as url:
                            one = scaling(url, n, args.scale_executions, streamed=streamed)
                        by_count[n].append(one)
                results = [s for n in by_count for s in by_count[n]]
                rows += _scaling_rows(results)
                rates = [max(s.per_second for s in by_count[n]) for n in by_count]
                # "Does not fall": within 10% of the best rate with fewer workers (the noise
                # of a shared 2-core machine).
                for i, n in enumerate(by_count):
                    if i and rates[i] < 0.9 * max(rates[:i]):
                        met = False
                        best = max(by_count[n], key=lambda s: s.per_second)
                        when = "while running" if streamed else "beforehand"
                        fell.append(f"{n} workers {when}: {best.cores_busy:.2f} cores busy")
            print(table(SCALING_HEADERS, rows))
            print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            if not met:
                missed.append("worker scaling")
            print(f"target: rate does not fall as workers are added: {'MET' if met else 'NOT MET'}")
            if fell:
                # More worker processes than cores: each runs slower on the shared cores (the
                # same instructions per execution cost more CPU time), so the rate can fall
                # with no more work per execution (the columns above tell if there is more).
                print(f"  where it fell, of {os.cpu_count()} cores: {'; '.join(fell)}")

    if "concurrent-starts" in parts:  # group commit: N StartExecution callers, one store
        from bench import concurrent_starts_bench

        concurrent_starts_bench.main(["--pg", args.pg] if args.pg else [])

    print(f"durable targets: {'all MET' if not missed else 'NOT MET: ' + ', '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
