"""StartExecution from N concurrent callers against one store (issue 16: group commit).

Each of N starter threads of one process calls ``app.service.start_execution`` (or, over HTTP,
boto3's ``start_execution`` against ``eltflow``'s AWS endpoint) for the Task -> Task -> Pass
machine, whose first step only schedules a task: no worker runs, so every figure is the cost
of recording a start. Per thread count, over rounds interleaved across the counts (1, 4, 16,
1, 4, 16, ...) so the shared machine's load hits them alike:

- starts/s (wall clock: noisy on a shared machine, printed with the load);
- CPU µs per start: this process's CPU (all threads) per start, and on PostgreSQL the
  server backends' CPU too;
- SQLite WAL pages per start: frames appended to the write-ahead log (the starter threads'
  connections do not checkpoint during a round; the log is emptied before each);
- commits per start, where the store groups starts (``RuntimeStore.starts``).

Run with ``python -m bench.durable_bench --only concurrent-starts`` (also part of
``make bench``) or ``python -m bench.concurrent_starts_bench``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import sqlite3
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import machine_note, table
from eltflow.app import App

THREADS = (1, 4, 16)
_ROUNDS = itertools.count()


@dataclass(frozen=True)
class Sample:
    """One round: ``starts`` recorded by ``threads`` callers."""

    threads: int
    starts: int
    seconds: float
    cpu_seconds: float
    server_cpu_seconds: float
    wal_frames: int | None  # SQLite only
    commits: int | None  # where the store counts its start batches


@dataclass(frozen=True)
class Summary:
    label: str
    threads: int
    samples: list[Sample]

    def _median(self, value: Callable[[Sample], float]) -> float:
        return statistics.median(value(s) for s in self.samples)

    @property
    def per_second(self) -> float:
        return sum(s.starts for s in self.samples) / sum(s.seconds for s in self.samples)

    @property
    def cpu_us(self) -> float:
        return self._median(lambda s: s.cpu_seconds / s.starts * 1e6)

    @property
    def server_cpu_us(self) -> float:
        return self._median(lambda s: s.server_cpu_seconds / s.starts * 1e6)

    @property
    def wal_pages(self) -> float | None:
        if any(s.wal_frames is None for s in self.samples):
            return None
        return self._median(lambda s: (s.wal_frames or 0) / s.starts)

    @property
    def commits(self) -> float | None:
        if any(s.commits is None for s in self.samples):
            return None
        return self._median(lambda s: (s.commits or 0) / s.starts)


Start = Callable[[str], object]
"""Starts one execution named by its argument, from the calling thread."""


class _Starters:
    """A fixed pool of starter threads (a thread's store connection lives as long as it does,
    so rounds do not pay for opening connections) and the round they run."""

    def __init__(self, app: App, start: Start, *, max_threads: int) -> None:
        self.app = app
        self.start = start
        self.pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="starter")
        self.sqlite_path = _sqlite_path(app)

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def round(self, threads: int, starts: int) -> Sample:
        # Names new to the store in every round of every run (a name started before would be
        # an idempotent start, which writes nothing).
        tag = f"r{next(_ROUNDS)}"
        per = starts // threads
        ready = threading.Barrier(threads + 1, timeout=60)
        go = threading.Barrier(threads + 1, timeout=60)

        def starter(i: int) -> None:
            ready.wait()
            go.wait()
            for k in range(per):
                self.start(f"{tag}-{i}-{k}")

        futures = [self.pool.submit(starter, i) for i in range(threads)]
        ready.wait()  # every starter is ready: empty the log, then go
        if self.sqlite_path is not None:
            _wal(self.sqlite_path, "TRUNCATE")
        commits_before = _commits(self.app)
        server_before = _backend_cpu(self.app)
        cpu, wall = time.process_time(), time.perf_counter()
        go.wait()
        for f in futures:
            f.result()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        server_after = _backend_cpu(self.app)
        commits_after = _commits(self.app)
        frames = _wal(self.sqlite_path, "PASSIVE") if self.sqlite_path is not None else None
        return Sample(
            threads=threads,
            starts=per * threads,
            seconds=wall,
            cpu_seconds=cpu,
            server_cpu_seconds=sum(
                v - server_before.get(pid, 0.0) for pid, v in server_after.items()
            ),
            wal_frames=frames,
            commits=None
            if commits_before is None or commits_after is None
            else commits_after - commits_before,
        )


def _sqlite_path(app: App) -> str | None:
    if app.db.dialect != "sqlite":
        return None
    from eltflow.store.db import sqlite_path

    return sqlite_path(app.db.url)


@contextlib.contextmanager
def _no_autocheckpoint(app: App) -> Iterator[None]:
    """Every SQLite connection of ``app``'s store (the starters', the endpoint's threads')
    leaves the log alone while the block runs, so the frames a round appended can be counted
    at its end: each connection is set once, when first handed out."""
    if app.db.dialect != "sqlite":
        yield
        return
    db = app.db
    original = db._sqlite
    seen: set[int] = set()

    def connection() -> sqlite3.Connection:
        conn = original()
        if id(conn) not in seen:
            conn.execute("PRAGMA wal_autocheckpoint=0")
            seen.add(id(conn))
        return conn

    db._sqlite = connection  # type: ignore[method-assign]
    try:
        yield
    finally:
        del db._sqlite


def _wal(path: str, mode: str) -> int:
    """Run a checkpoint of ``mode`` on ``path`` from a connection of its own; the number of
    frames the log held."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        busy, log, _ = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    if busy:
        raise RuntimeError(f"wal_checkpoint({mode}) was blocked")
    return int(log)


def _commits(app: App) -> int | None:
    """How many transactions committed starts, where the store groups them (and counts)."""
    found = getattr(getattr(app.store, "starts", None), "commits", None)
    return found if isinstance(found, int) else None


def _backend_cpu(app: App) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend of ``app``'s database, from /proc (the
    server is local in the bench), asked on a connection of its own: the store's pooled ones
    are the starters' (empty where /proc is not readable, or on SQLite)."""
    if app.db.dialect != "postgres":
        return {}
    import psycopg

    with psycopg.connect(app.db.url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for (pid,) in rows:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[int(pid)] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return out


def run(
    app: App,
    start: Start,
    *,
    label: str,
    threads: Sequence[int],
    starts: int,
    rounds: int,
) -> list[Summary]:
    """``rounds`` rounds of ``starts`` starts per thread count, interleaved, after a warm-up
    round at the largest count (every pool thread opens its connection)."""
    starters = _Starters(app, start, max_threads=max(threads))
    try:
        with _no_autocheckpoint(app):
            starters.round(max(threads), starts)
            samples: dict[int, list[Sample]] = {n: [] for n in threads}
            for _ in range(rounds):
                for n in threads:
                    samples[n].append(starters.round(n, starts))
    finally:
        starters.close()
    return [Summary(label=label, threads=n, samples=samples[n]) for n in threads]


def in_process(app: App, machine: str, text: str) -> Start:
    def start(name: str) -> object:
        return app.service.start_execution(state_machine_arn=machine, input=text, name=name)

    return start


@contextlib.contextmanager
def over_http(app: App, machine: str, text: str) -> Iterator[Start]:
    """StartExecution through boto3 against the AWS endpoint served from this process, one
    client per starter thread (a boto3 client's connection pool is its own)."""
    import boto3
    from botocore.config import Config

    from eltflow.serve import endpoint_thread

    arn = str(app.service.describe_state_machine(state_machine_arn=machine)["stateMachineArn"])
    with endpoint_thread(app) as url:
        local = threading.local()
        session = boto3.session.Session()
        lock = threading.Lock()

        def client() -> Any:
            found = getattr(local, "client", None)
            if found is None:
                with lock:  # creating clients is not thread-safe
                    found = local.client = session.client(
                        "stepfunctions",
                        endpoint_url=url,
                        region_name="us-east-1",
                        aws_access_key_id="bench",
                        aws_secret_access_key="bench",
                        config=Config(retries={"max_attempts": 1}, max_pool_connections=4),
                    )
            return found

        def start(name: str) -> object:
            return client().start_execution(stateMachineArn=arn, name=name, input=text)

        yield start


def render(summaries: Sequence[Summary]) -> str:
    rows = []
    for s in summaries:
        wal = s.wal_pages
        commits = s.commits
        server = f"{s.server_cpu_us:,.0f}" if s.server_cpu_us else "-"
        rows.append(
            [
                s.label,
                str(s.threads),
                f"{s.per_second:,.0f}",
                f"{s.cpu_us:,.0f}",
                server,
                "-" if wal is None else f"{wal:.2f}",
                "-" if commits is None else f"{commits:.2f}",
            ]
        )
    headers = [
        "store / path",
        "threads",
        "starts/s",
        "CPU µs/start",
        "server CPU µs/start",
        "WAL pages/start",
        "commits/start",
    ]
    return table(headers, rows)


def main(argv: Sequence[str] | None = None) -> int:
    from bench.durable_bench import _open, _pg_reachable, store_url, task_case

    p = argparse.ArgumentParser(prog="python -m bench.concurrent_starts_bench")
    p.add_argument("--threads", type=int, nargs="+", default=list(THREADS))
    p.add_argument("--starts", type=int, default=192, help="starts per round (all threads)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds per thread count")
    p.add_argument("--pg", default=os.environ.get("ELTFLOW_TEST_PG"), help="PostgreSQL URL")
    p.add_argument("--http", action="store_true", help="also through boto3 and the endpoint")
    p.add_argument("--dialects", nargs="+", choices=["sqlite", "postgres"])
    args = p.parse_args(argv)
    if any(n < 1 for n in args.threads) or args.starts < max(args.threads) or args.rounds < 1:
        p.error("--threads >= 1, --starts >= the most threads, --rounds >= 1")
    case = task_case()
    text = json.dumps(case.input)
    print(
        f"\nConcurrent StartExecution callers, one store, {case.title}, no worker "
        f"({args.starts} starts per round, {args.rounds} rounds; {machine_note()})"
    )
    summaries: list[Summary] = []
    for dialect in args.dialects or ["sqlite", "postgres"]:
        if dialect == "postgres" and (why := _pg_reachable(args.pg)):
            print(f"  postgres: skipped ({why})")
            continue
        with store_url(dialect, args.pg) as url:
            app = _open(url)
            try:
                app.service.create_state_machine(name=case.name, definition=case.definition_text)
                opts = {"threads": args.threads, "starts": args.starts, "rounds": args.rounds}
                start = in_process(app, case.name, text)
                summaries += run(app, start, label=f"{dialect} / in process", **opts)
                if args.http:
                    with over_http(app, case.name, text) as start:
                        summaries += run(app, start, label=f"{dialect} / boto3 HTTP", **opts)
            finally:
                app.close()
    print(render(summaries))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
