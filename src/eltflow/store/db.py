"""A thin, dialect-neutral connection layer over sqlite3 and psycopg 3.

SQL is written once with ``:name`` placeholders (sqlite3's named style); for PostgreSQL they are
rewritten once per text to psycopg's positional ``%s`` (:func:`pg_query`). Values are always
bound, never pasted into SQL. Driver
exceptions are wrapped in :class:`~eltflow.errors.StoreError` so no driver type leaks out —
including those of a transaction's BEGIN and COMMIT (a SQLite lock held past the busy timeout,
a PostgreSQL connection the server dropped), which callers retry.
"""

from __future__ import annotations

import contextlib
import functools
import re
import select
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from eltflow.errors import ConflictError, StoreError
from eltflow.open_errors import postgres_connect_failure, redact

Dialect = Literal["sqlite", "postgres"]
Row = dict[str, Any]
Params = Mapping[str, Any]

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@functools.lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """Rewrite ``:name`` placeholders to ``%(name)s`` (leaving ``::casts`` alone). Cached: the
    same few dozen texts are converted at every statement.

    >>> to_pyformat("select :a::int, '%' || :b")
    "select %(a)s::int, '%%' || %(b)s"
    """
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


@dataclass(frozen=True)
class PgQuery:
    """A statement as psycopg takes it: positional ``%s`` placeholders, as bytes, and the
    parameter name of each placeholder in order (a name used twice is bound twice)."""

    text: bytes
    names: tuple[str, ...]

    def bind(self, params: Params | None) -> list[Any]:
        """The positional values of ``params`` (a missing one is a :class:`StoreError`, as
        psycopg's own "query parameter missing")."""
        if not self.names:
            return []
        try:
            return [params[n] for n in self.names]  # type: ignore[index]
        except (KeyError, TypeError) as e:
            missing = sorted(set(self.names) - set(params or {}))
            raise StoreError(f"query parameter missing: {', '.join(missing)}") from e


@functools.lru_cache(maxsize=1024)
def pg_query(sql: str, encoding: str = "utf-8") -> PgQuery:
    """``sql`` with ``:name`` placeholders converted once for psycopg (issue 16: rewriting and
    re-encoding the text, and reordering a dict of parameters, at every statement was a tenth
    of a worker's CPU). Bytes in the connection's encoding: psycopg then neither re-encodes
    the text nor hashes a new copy to find its own cached parse.

    >>> pg_query("select :a::int, '%' || :b, :a")
    PgQuery(text=b"select %s::int, '%%' || %s, %s", names=('a', 'b', 'a'))
    """
    names: list[str] = []

    def positional(m: re.Match[str]) -> str:
        names.append(m.group(1))
        return "%s"

    text = _NAMED.sub(positional, sql.replace("%", "%%"))
    return PgQuery(text.encode(encoding), tuple(names))


@dataclass(frozen=True)
class Queued:
    """A read sent later (:meth:`Connection.queue`)."""

    rows: Callable[[], list[Row]]
    """Its rows, sending what is queued if need be; raises if a statement sent with it failed."""
    answered: Callable[[], list[Row] | None]
    """Its rows if its answer is in (even when a statement queued after it failed), else
    None; sends nothing and raises nothing."""


class Connection(Protocol):
    dialect: Dialect

    def execute(self, sql: str, params: Params | None = None) -> list[Row]: ...

    def executemany(self, sql: str, rows: Sequence[Params]) -> None: ...

    def write(self, sql: str, params: Params | None = None) -> None:
        """Run a statement whose result nobody reads (see :meth:`PostgresConnection.write`)."""
        ...

    def execute_all(self, statements: Sequence[tuple[str, Params]]) -> list[list[Row]]:
        """Run several reads; PostgreSQL sends them in one round trip."""
        ...

    def write_many(self, sql: str, rows: Sequence[Params]) -> None:
        """:meth:`write` once per row of ``rows``."""
        ...

    def queue(self, sql: str, params: Params | None = None) -> Queued:
        """Run a read whose rows are wanted later (:class:`Queued`). SQLite reads at once;
        PostgreSQL queues the read with the writes (:meth:`write`) and sends them all in one
        round trip when the rows are first asked for (see :attr:`deferred`)."""
        ...

    @property
    def deferred(self) -> bool:
        """Whether :meth:`write` and :meth:`queue` reach the server only later, so a check
        of what :meth:`queue` read comes after the writes queued behind it have been sent."""
        ...

    def executescript(self, sql: str) -> None: ...


@dataclass
class SqliteConnection:
    raw: sqlite3.Connection
    dialect: Dialect = "sqlite"

    def execute(self, sql: str, params: Params | None = None) -> list[Row]:
        try:
            # sqlite3 binds named parameters from a dict only: a dict is passed as is, uncopied.
            cur = self.raw.execute(sql, params if type(params) is dict else dict(params or {}))
            if cur.description is None:
                return []
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        except sqlite3.IntegrityError as e:
            raise ConflictError(str(e)) from e
        except sqlite3.Error as e:
            raise StoreError(f"{e} (in: {sql.strip()[:200]})") from e

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        try:
            self.raw.executemany(sql, [dict(r) for r in rows])
        except sqlite3.IntegrityError as e:
            raise ConflictError(str(e)) from e
        except sqlite3.Error as e:
            raise StoreError(str(e)) from e

    def write(self, sql: str, params: Params | None = None) -> None:
        self.execute(sql, params)  # no round trips to save in process

    def execute_all(self, statements: Sequence[tuple[str, Params]]) -> list[list[Row]]:
        return [self.execute(sql, params) for sql, params in statements]

    def write_many(self, sql: str, rows: Sequence[Params]) -> None:
        self.executemany(sql, rows)

    def queue(self, sql: str, params: Params | None = None) -> Queued:
        rows = self.execute(sql, params)
        return Queued(rows=lambda: rows, answered=lambda: rows)

    @property
    def deferred(self) -> bool:
        return False

    def executescript(self, sql: str) -> None:
        # sqlite3.executescript commits first; run statements one by one to stay transactional.
        for stmt in split_statements(sql):
            self.execute(stmt)


@dataclass
class Cursors:
    """A psycopg connection's cursors, kept for its next transactions (issue 16: a cursor is
    a dozen Python objects; a worker made several per transaction). A cursor is used by one
    statement at a time and set up again by psycopg at each execute."""

    writer: Any = None  # the cursor queued writes share (their results are never read)
    readers: list[Any] = field(default_factory=list)  # cursors free for reading


@dataclass
class PostgresConnection:
    """One PostgreSQL transaction's connection.

    Writes whose result nobody reads (:meth:`write`, :meth:`write_many`) are queued in
    psycopg's pipeline mode and reach the server together with the next statement that reads,
    or with COMMIT: a runtime step's dozen writes cost one round trip instead of one each
    (issue 16: a Task machine's execution was 58 statements, each a round trip). A queued
    write that fails raises there, as a :class:`ConflictError` or :class:`StoreError`, and the
    transaction rolls back as if it had failed where it was written.

    Per statement it does as little as it can in Python (issue 16: psycopg's per-statement
    work was most of a worker's CPU): statements are converted once (:func:`pg_query`), rows
    are built from the result's field names (no ``cursor.description``, which builds a
    ``Column`` per column of every result), and the queued writes share one cursor.
    """

    raw: Any  # psycopg.Connection; typed loosely so psycopg stays a lazy import
    dialect: Dialect = "postgres"
    pipeline: Any = None  # psycopg.Pipeline, entered at the first write
    _pipeline_block: Any = None  # its context manager
    cursors: Cursors = field(default_factory=lambda: Cursors())  # kept with ``raw``
    _encoding: str = ""
    _syncs: int = 0  # pipeline syncs so far: a queued read made before the last one is answered

    @property
    def deferred(self) -> bool:
        return True

    def _sync(self) -> None:
        """Send what is queued and wait for every answer (one round trip)."""
        self.pipeline.sync()
        self._syncs += 1

    def _query(self, sql: str) -> PgQuery:
        if not self._encoding:
            self._encoding = self.raw.info.encoding
        return pg_query(sql, self._encoding)

    def _reader(self) -> Any:
        readers = self.cursors.readers
        return readers.pop() if readers else self.raw.cursor()

    def _rows(self, cur: Any) -> list[Row]:
        """The rows of ``cur``'s result as dicts ([] for a statement that returns none); the
        cursor is free for another read afterwards."""
        res = cur.pgresult
        rows: list[Row] = []
        if res is not None and res.status == _TUPLES_OK:
            enc = self._encoding
            names = [res.fname(i).decode(enc) for i in range(res.nfields)]
            rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        self.cursors.readers.append(cur)
        return rows

    def execute(self, sql: str, params: Params | None = None) -> list[Row]:
        import psycopg

        try:
            q = self._query(sql)
            cur = self._reader()
            cur.execute(q.text, q.bind(params))
            if self.pipeline is not None:
                self._sync()  # the queued writes and this read: one round trip
            return self._rows(cur)
        except psycopg.errors.UniqueViolation as e:
            raise ConflictError(str(e)) from e
        except psycopg.Error as e:
            raise StoreError(f"{e} (in: {sql.strip()[:200]})") from e

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        import psycopg

        try:
            q = self._query(sql)
            with self.raw.cursor() as cur:
                cur.executemany(q.text, [q.bind(r) for r in rows])
                if self.pipeline is not None:
                    self._sync()  # callers of executemany expect errors here
        except psycopg.errors.UniqueViolation as e:
            raise ConflictError(str(e)) from e
        except psycopg.Error as e:
            raise StoreError(str(e)) from e

    def execute_all(self, statements: Sequence[tuple[str, Params]]) -> list[list[Row]]:
        import psycopg

        if not statements:
            return []
        sql = ""
        try:
            self._enter_pipeline()
            cursors = []
            for sql, params in statements:
                q = self._query(sql)
                cur = self._reader()  # each holds its result until read below
                cur.execute(q.text, q.bind(params))
                cursors.append(cur)
            self._sync()
            return [self._rows(cur) for cur in cursors]
        except psycopg.errors.UniqueViolation as e:
            raise ConflictError(str(e)) from e
        except psycopg.Error as e:
            raise StoreError(f"{e} (in: {sql.strip()[:200]})") from e

    def queue(self, sql: str, params: Params | None = None) -> Queued:
        import psycopg

        try:
            q = self._query(sql)
            self._enter_pipeline()
            cur = self._reader()  # held until its rows are read
            cur.execute(q.text, q.bind(params))
        except psycopg.errors.UniqueViolation as e:
            raise ConflictError(str(e)) from e
        except psycopg.Error as e:
            raise StoreError(f"{e} (in: {sql.strip()[:200]})") from e
        queued_at = self._syncs
        got: list[list[Row]] = []

        def answered() -> list[Row] | None:
            # psycopg resets a cursor's result when it is executed and sets it when the
            # answer arrives, in order: a later statement's failure leaves this one's in place.
            if not got and cur.pgresult is not None:
                got.append(self._rows(cur))
            return got[0] if got else None

        def rows() -> list[Row]:
            try:
                if not got and cur.pgresult is None and self._syncs == queued_at:
                    self._sync()  # it, and every write queued since: one round trip
            except psycopg.errors.UniqueViolation as e:
                raise ConflictError(str(e)) from e
            except psycopg.Error as e:
                raise StoreError(f"{e} (in: {sql.strip()[:200]})") from e
            found = answered()
            if found is None:
                raise StoreError(f"no answer to a queued read (in: {sql.strip()[:200]})")
            return found

        return Queued(rows=rows, answered=answered)

    def _enter_pipeline(self) -> None:
        if self.pipeline is None:
            self._pipeline_block = self.raw.pipeline()
            self.pipeline = self._pipeline_block.__enter__()

    def _queue(self) -> Any:
        """The cursor for a queued write, in pipeline mode."""
        self._enter_pipeline()
        cursors = self.cursors
        if cursors.writer is None:
            cursors.writer = self.raw.cursor()
        return cursors.writer

    def write(self, sql: str, params: Params | None = None) -> None:
        import psycopg

        try:
            q = self._query(sql)
            self._queue().execute(q.text, q.bind(params))
        except psycopg.errors.UniqueViolation as e:
            raise ConflictError(str(e)) from e
        except psycopg.Error as e:
            raise StoreError(f"{e} (in: {sql.strip()[:200]})") from e

    def write_many(self, sql: str, rows: Sequence[Params]) -> None:
        import psycopg

        if not rows:
            return
        try:
            q = self._query(sql)
            self._queue().executemany(q.text, [q.bind(r) for r in rows])
        except psycopg.errors.UniqueViolation as e:
            raise ConflictError(str(e)) from e
        except psycopg.Error as e:
            raise StoreError(str(e)) from e

    def end_pipeline(self, error: BaseException | None) -> None:
        """Leave pipeline mode (sending what is queued); with ``error``, quietly."""
        block, self._pipeline_block, self.pipeline = self._pipeline_block, None, None
        if block is None:
            return
        self._syncs += 1  # leaving sends and answers everything queued
        if error is None:
            block.__exit__(None, None, None)
            return
        import psycopg

        with contextlib.suppress(psycopg.Error):
            block.__exit__(type(error), error, error.__traceback__)

    def executescript(self, sql: str) -> None:
        for stmt in split_statements(sql):
            self.execute(stmt)


_TUPLES_OK = 2
"""libpq's PGRES_TUPLES_OK (psycopg.pq.ExecStatus.TUPLES_OK): a result that has rows."""


def split_statements(script: str) -> list[str]:
    """Split a migration script on ``;`` at line ends (our scripts keep one statement per
    ``;``), except inside a ``$$``-quoted function body, whose statements end with ``;`` too."""
    statements: list[str] = []
    current: list[str] = []
    quoted = False  # inside $$ ... $$
    for line in script.splitlines():
        if not quoted and line.strip().startswith("--"):
            continue
        quoted ^= line.count("$$") % 2 == 1
        if not quoted and re.search(r";\s*$", line):
            current.append(re.sub(r";\s*$", "", line))
            statements.append("\n".join(current))
            current = []
        else:
            current.append(line)
    statements.append("\n".join(current))
    return [s.strip() for s in statements if s.strip()]


class Database:
    """A connection factory for one store URL, with a transaction context manager.

    ``sqlite:///path/state.db`` (or a bare path), ``sqlite://:memory:`` or ``postgresql://...``.
    SQLite connections are per thread; PostgreSQL connections come from a bounded pool: at
    most ``max_connections`` threads hold one at a time (others wait up to ``connect_wait``
    seconds for a slot), so 200 racing threads cannot exhaust the server's max_connections.
    """

    def __init__(
        self,
        url: str,
        *,
        busy_timeout: float = 30.0,
        connect_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        max_connections: int = 8,
    ) -> None:
        """``busy_timeout``: how long a SQLite writer queues for the lock. ``connect_wait``:
        how long (in ``sleep`` time) to wait for a PostgreSQL server that has no connection
        slot free, as when many eltflow processes start at once."""
        self.url = url
        self.busy_timeout = busy_timeout
        self.connect_wait = connect_wait
        self._sleep = sleep
        self.dialect: Dialect = (
            "postgres" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
        )
        self._local = threading.local()
        self._pool: list[Any] = []
        self._pool_lock = threading.Lock()
        self._all: list[Any] = []
        self.max_connections = max_connections
        # One slot per thread holding a PostgreSQL connection. Per thread, not per connection:
        # a transaction opened inside another on the same thread must not wait for a slot its
        # own thread holds (that would deadlock once every slot is such a thread).
        self._slots = threading.BoundedSemaphore(max_connections)
        if self.dialect == "sqlite":
            path = sqlite_path(url)
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._sqlite_path = path
            self._file_checked = False

    # -- sqlite ------------------------------------------------------------------------------
    def _refuse_empty_file(self) -> None:
        """SQLite takes a 0-byte file as a new, empty database, so a state file truncated by a
        full disk or a failed copy would silently become a fresh store, losing every
        execution. eltflow never leaves one behind (the first connection writes the header),
        so one is refused, and left as it is."""
        if self._file_checked or self._sqlite_path in (":memory:", ""):
            return
        path = Path(self._sqlite_path)
        if path.is_file() and path.stat().st_size == 0:
            raise StoreError(
                f"the SQLite state store {path} is empty (0 bytes), so it is not the store "
                f"eltflow wrote: restore it from a backup, or delete it to start a new store"
            )
        # Once: another thread's first connection may be writing the header of a new store.
        self._file_checked = True

    def _sqlite(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self._refuse_empty_file()
            # isolation_level=None: we issue BEGIN IMMEDIATE ourselves so that writers take the
            # lock up front instead of failing on upgrade; check_same_thread is moot (per-thread).
            timeout = self.busy_timeout
            conn = sqlite3.connect(self._sqlite_path, isolation_level=None, timeout=timeout)
            # WAL lets readers run while one writer commits; busy_timeout makes writers queue
            # instead of failing; foreign keys are off by default in SQLite.
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as e:  # e.g. "file is not a database"
                conn.close()
                raise StoreError(
                    f"cannot open the SQLite state store {self._sqlite_path}: {e}"
                ) from e
            self._local.conn = conn
            with self._pool_lock:
                self._all.append(conn)
        return conn

    # -- postgres ----------------------------------------------------------------------------
    def _pg_get(self) -> tuple[Any, bool]:
        """A connection, and whether it was pooled (it may have died while idle). A pooled one
        whose socket has something to read is dropped: an idle connection is sent nothing
        unless the server ended it (restart, ``pg_terminate_backend``, an idle timeout)."""
        while True:
            with self._pool_lock:
                pg = self._pool.pop() if self._pool else None
            if pg is None:
                return self._pg_connect(), False
            if not pg.closed and not _readable(pg):
                return pg, True
            with contextlib.suppress(Exception):
                pg.close()

    def _pg_connect(self) -> Any:
        import psycopg

        waited, delay = 0.0, 0.05
        while True:
            try:
                conn = psycopg.connect(self.url, autocommit=True)
                break
            except psycopg.Error as e:
                if not _out_of_connections(e) or waited >= self.connect_wait:
                    raise StoreError(postgres_connect_failure(self.url, e)) from e
                self._sleep(delay)  # a slot frees up as other processes finish
                waited += delay
                delay = min(delay * 2, 2.0)
        with self._pool_lock:
            self._all.append(conn)
        return conn

    @staticmethod
    def _cursors_of(pg: Any) -> Cursors:
        """``pg``'s :class:`Cursors`, kept on the connection object itself, so they go with
        it (only the thread holding ``pg`` uses them)."""
        found: Cursors | None = getattr(pg, "eltflow_cursors", None)
        if found is None:
            found = pg.eltflow_cursors = Cursors()
        return found

    def _pg_put(self, conn: Any) -> None:
        with self._pool_lock:
            if conn.closed or len(self._pool) >= 8:
                if not conn.closed:
                    conn.close()
                return
            self._pool.append(conn)

    def _pg_begin(self) -> tuple[Any, Any]:
        """A connection with a transaction begun. A pooled connection found dead at BEGIN
        (server restart, ``pg_terminate_backend``, an idle timeout) is dropped and replaced
        by a new one: nothing has run on it, so trying again is safe."""
        import psycopg

        while True:
            pg, pooled = self._pg_get()
            txn = pg.transaction()
            try:
                txn.__enter__()
            except psycopg.Error as e:
                with contextlib.suppress(psycopg.Error):
                    pg.close()
                if pooled:
                    continue
                raise StoreError(f"cannot begin a transaction on {redact(self.url)}: {e}") from e
            return pg, txn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction; commits on success, rolls back on any exception.

        A failing BEGIN or COMMIT raises :class:`StoreError`; a failed COMMIT rolls back, so
        the connection is ready for the next transaction.
        """
        if self.dialect == "sqlite":
            yield from self._sqlite_transaction()
            return
        with self._slot():
            yield from self._pg_transaction()

    @contextmanager
    def statement(self) -> Iterator[Connection]:
        """A connection whose statements each commit by themselves, for a write that is one
        statement (atomic on its own). PostgreSQL: the pooled connection is in autocommit,
        so no BEGIN or COMMIT is sent (two round trips less); inside an open transaction of
        the same thread use :meth:`transaction`, which joins it. SQLite: a transaction."""
        if self.dialect == "sqlite":
            yield from self._sqlite_transaction()
            return
        with self._slot():
            yield from self._pg_read()

    @contextmanager
    def _slot(self) -> Iterator[None]:
        depth = getattr(self._local, "pg_depth", 0)
        if depth == 0 and not self._slots.acquire(timeout=self.connect_wait):
            raise StoreError(
                f"no PostgreSQL connection free on {redact(self.url)} after "
                f"{self.connect_wait:g} s ({self.max_connections} in use by other threads)"
            )
        self._local.pg_depth = depth + 1
        try:
            yield
        finally:
            self._local.pg_depth = depth
            if depth == 0:
                self._slots.release()

    @contextmanager
    def read_transaction(self) -> Iterator[Connection]:
        """A transaction for reading only: one consistent view that takes no write lock.

        SQLite: a deferred ``BEGIN``, a WAL read snapshot, so writers in this and other
        processes go on while it is open (``BEGIN IMMEDIATE`` would queue them). PostgreSQL:
        an ordinary transaction, which locks nothing it only reads. Inside an open transaction
        of the same thread it joins that one. Writing in it is a caller's bug (on SQLite it
        may fail with "database is locked" instead of queueing).
        """
        if self.dialect == "postgres":
            with self._slot():
                yield from self._pg_read()
            return
        raw = self._sqlite()
        if raw.in_transaction:
            yield SqliteConnection(raw)
            return
        self._sqlite_control(raw, "BEGIN")
        try:
            yield SqliteConnection(raw)
        finally:
            _sqlite_rollback(raw)  # nothing was written: ending the read is all there is

    def _pg_read(self) -> Iterator[Connection]:
        """Reads without BEGIN and COMMIT (two round trips less, issue 16): under READ
        COMMITTED each statement takes its own snapshot inside a transaction too, so an
        explicit one made the reads no more consistent. :meth:`PostgresConnection.execute_all`
        still sends several in one round trip. A pooled connection that died while idle is
        not handed out (:meth:`_pg_get`)."""
        pg, _ = self._pg_get()
        conn = PostgresConnection(pg, cursors=self._cursors_of(pg))
        try:
            try:
                yield conn
            except BaseException as e:
                conn.end_pipeline(e)
                _pg_reset(pg)
                raise
            try:
                conn.end_pipeline(None)
            except Exception as e:
                _pg_reset(pg)
                raise StoreError(f"a read failed on {redact(self.url)}: {e}") from e
        finally:
            self._pg_put(pg)

    def _pg_transaction(self) -> Iterator[Connection]:
        import psycopg

        pg, txn = self._pg_begin()
        conn = PostgresConnection(pg, cursors=self._cursors_of(pg))
        try:
            try:
                yield conn
            except BaseException as e:
                # Leave pipeline mode first: a rollback cannot be sent into an aborted one.
                conn.end_pipeline(e)
                # A dead connection cannot roll back, and needn't: the server already did.
                with contextlib.suppress(psycopg.Error):
                    txn.__exit__(type(e), e, e.__traceback__)
                _pg_reset(pg)
                raise
            try:
                txn.__exit__(None, None, None)  # COMMIT, in the pipeline with queued writes
                conn.end_pipeline(None)
            except psycopg.Error as e:
                conn.end_pipeline(e)
                _pg_reset(pg)
                conflict = _unique_violation(e)
                if conflict is not None:
                    raise ConflictError(str(conflict)) from e  # a queued write's conflict
                raise StoreError(f"COMMIT failed on {redact(self.url)}: {e}") from e
        finally:
            self._pg_put(pg)

    def _sqlite_transaction(self) -> Iterator[Connection]:
        raw = self._sqlite()
        if raw.in_transaction:  # nested use in the same thread joins the outer transaction
            yield SqliteConnection(raw)
            return
        self._sqlite_control(raw, "BEGIN IMMEDIATE")
        try:
            yield SqliteConnection(raw)
        except BaseException:
            _sqlite_rollback(raw)
            raise
        try:
            self._sqlite_control(raw, "COMMIT")
        except StoreError:
            # A COMMIT that fails (busy, a deferred constraint) leaves the transaction open.
            _sqlite_rollback(raw)
            raise

    def _sqlite_control(self, raw: sqlite3.Connection, sql: str) -> None:
        try:
            raw.execute(sql)
        except sqlite3.IntegrityError as e:
            raise ConflictError(f"{e} (at {sql})") from e
        except sqlite3.Error as e:
            raise StoreError(f"state store {self._sqlite_path}: {sql} failed: {e}") from e

    def execute(self, sql: str, params: Params | None = None) -> list[Row]:
        """Run one statement in its own transaction."""
        with self.transaction() as conn:
            return conn.execute(sql, params)

    def close(self) -> None:
        with self._pool_lock:
            conns, self._all, self._pool = self._all, [], []
        for c in conns:
            with contextlib.suppress(Exception):  # closing is best effort
                c.close()
        self._local = threading.local()


def _out_of_connections(error: Exception) -> bool:
    """SQLSTATE 53300: the server (max_connections) or the role is out of connection slots.
    A failed connect often carries no SQLSTATE, only the server's FATAL message."""
    text = str(error)
    return getattr(error, "sqlstate", None) == "53300" or any(
        m in text for m in ("too many connections", "remaining connection slots are reserved")
    )


def _unique_violation(e: BaseException) -> BaseException | None:
    """The unique-key violation that made ``e``, if one did. Leaving pipeline mode (COMMIT
    with queued writes and no read since) reports the first failed statement's error, but
    psycopg fetches the results left in a ``finally`` (``Pipeline._exit_gen``), and when the
    failed write's answer came in the first batch and COMMIT's in the next, the COMMIT's
    "pipeline aborted" replaces it: the violation is then its ``__context__``."""
    import psycopg

    seen: BaseException | None = e
    for _ in range(8):  # a short chain: the error, and what it was raised while handling
        if seen is None:
            return None
        if isinstance(seen, psycopg.errors.UniqueViolation):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _readable(pg: Any) -> bool:
    try:
        ready, _, _ = select.select([pg.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True  # no usable socket: as good as dead
    return bool(ready)


def _pg_reset(pg: Any) -> None:
    """Leave a psycopg connection outside any transaction after a failed one: a queued write
    that fails at COMMIT leaves the transaction aborted but open. One that cannot be reset is
    closed, so the pool drops it."""
    import psycopg

    if pg.closed or pg.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        return
    try:
        pg.execute("ROLLBACK")
    except psycopg.Error:
        with contextlib.suppress(psycopg.Error):
            pg.close()


def _sqlite_rollback(raw: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open: SQLite ends some itself (disk full, I/O)."""
    if raw.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            raw.execute("ROLLBACK")


def sqlite_path(url: str) -> str:
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///") :]
    if url.startswith("sqlite://"):
        return url[len("sqlite://") :] or ":memory:"
    return url
