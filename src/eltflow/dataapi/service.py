"""The local Redshift Data API: statements run asynchronously on a worker pool.

Requests and responses have the shapes of botocore's ``redshift-data`` model (PascalCase keys,
``datetime`` timestamps); errors are :class:`~eltflow.errors.AwsApiError` with the model's
exception names. Every statement is recorded in the state store when submitted and again when
it ends (with its result pages), so DescribeStatement and GetStatementResult answer after a
restart. While a statement runs, its live state (PICKED, STARTED, sub-statement progress) is
kept in memory by the process running it; that avoids a store write per transition, which is
what keeps ``select 1`` round trips around a millisecond.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from eltflow.clock import Clock, SystemClock
from eltflow.dataapi import catalog, events, origin
from eltflow.dataapi import validation as v
from eltflow.dataapi.liveness import RESTARTED, Liveness
from eltflow.dataapi.model import (
    Statement,
    Status,
    describe_shape,
    detail_shape,
    list_item_shape,
    submit_response,
    to_us,
)
from eltflow.dataapi.records import column_metadata, csv_records, record
from eltflow.dataapi.repository import StatementRepository
from eltflow.dataapi.sessions import Session, Sessions, Target
from eltflow.errors import AwsApiError, ConflictError
from eltflow.store.db import Database
from eltflow.types import JSON
from eltflow.warehouse import script
from eltflow.warehouse.base import (
    Outcome,
    RunControl,
    ServerRun,
    SqlError,
    StatementCancelled,
    StatementResult,
    UnknownWarehouse,
    Warehouse,
)
from eltflow.warehouse.directory import WarehouseDirectory

logger = logging.getLogger(__name__)

NOT_FOUND = "Query does not exist."
NO_RESULT = "Query does not have result. Please check query status with DescribeStatement."
BATCH_RESULT = "BatchExecuteStatement result can only be retrieved with sub-statement id."
NO_ENDPOINT = "Redshift endpoint doesn't exist in this region."
JSON_FORMAT, CSV = "JSON", "CSV"
# What fetching a result in the other format answers. Unverified against AWS: the API
# reference says only which format each operation serves, so these name the right one.
WRONG_FORMAT = {
    CSV: "The statement's ResultFormat is CSV: fetch its result with GetStatementResultV2.",
    JSON_FORMAT: "The statement's ResultFormat is JSON: fetch its result with GetStatementResult.",
}
_POLL_YIELD_SECONDS = 0.0005
TOKEN_TTL_US = 8 * 3600 * 1_000_000  # ClientToken idempotency lasts 8 hours
_SENT_EVENTS_KEPT = 100
_SESSION_STATUSES = ("AVAILABLE", "BUSY", "CLOSED")
EventSubscriber = Callable[[list[dict[str, Any]]], object]
# A query runs for 24 hours at most ("Amazon Redshift Data API quotas"): a dead process's
# statement older than that is not run again (nor one that keeps killing its process forever).
MAX_RUN_US = 24 * 3600 * 1_000_000


@dataclass(frozen=True, kw_only=True)
class DataApiOptions:
    max_workers: int = 4
    page_rows: int = 1000  # records per GetStatementResult page
    max_active: int = 200  # ActiveStatementsExceededException past this (AWS: 200)
    max_result_bytes: int = 500 * 1024 * 1024  # the Data API's result size limit (500 MB)
    cancel_wait_seconds: float = 2.0
    # Liveness of this instance in the shared store: renewed every heartbeat, trusted for
    # three. Statements of an instance whose heartbeat expired are settled by recover().
    heartbeat_seconds: float = 5.0
    # How long close() lets submitted statements finish before cancelling the rest: callers
    # fire and forget (the pipeline's run-history INSERT), so closing must not abort them.
    drain_seconds: float = 30.0
    max_sessions: int = 500  # per cluster or workgroup (AWS: 500), ActiveSessionsExceeded past it


@dataclass
class _Live:
    """A statement running in this process: its current rows and how to stop it."""

    parent: Statement
    subs: list[Statement]
    warehouse: Warehouse
    session: Session | None = None
    control: RunControl = field(default_factory=RunControl)
    done: threading.Event = field(default_factory=threading.Event)
    session_released: bool = False


class DataApiService:
    """ExecuteStatement, BatchExecuteStatement (ResultFormat JSON or CSV, sessions, WithEvent),
    DescribeStatement, GetStatementResult, GetStatementResultV2, CancelStatement, ListStatements
    and the catalog operations — with request/response dicts as in the AWS API."""

    def __init__(
        self,
        db: Database,
        warehouses: WarehouseDirectory,
        clock: Clock | None = None,
        options: DataApiOptions | None = None,
        liveness_clock: Clock | None = None,
    ) -> None:
        self.repo = StatementRepository(db)
        self.warehouses = warehouses
        self.clock = clock or SystemClock()
        # Liveness is compared across processes, so by default it runs on wall time even when
        # this service's timestamps come from a virtual clock (tests, the in-memory driver).
        # It is its own parameter so a test can expire a dead process's heartbeat by advancing
        # a clock instead of sleeping past it.
        self.liveness_clock = liveness_clock or SystemClock()
        self.options = options or DataApiOptions()
        self._live: dict[str, _Live] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(
            max_workers=self.options.max_workers, thread_name_prefix="eltflow-dataapi"
        )
        self._closed = False
        self.sessions = Sessions(self.options.max_sessions)
        # WithEvent: who gets the status-change events (EventBridge rules, wired by the app),
        # and the last ones sent, for a look at what went out.
        self.region, self.account = "us-east-1", "123456789012"
        self._subscribers: list[tuple[EventSubscriber, Callable[[], bool]]] = []
        self.sent_events: deque[dict[str, Any]] = deque(maxlen=_SENT_EVENTS_KEPT)
        # Held while a dead process's statement is adopted and queued, so close() can stop
        # adoptions once it stops waiting for statements (see _rerun).
        self._adopt_lock = threading.Lock()
        self._adopting = True
        self.liveness = Liveness(
            self.repo,
            self.liveness_clock,
            self.options.heartbeat_seconds,
            self._settle,
            self._rerun,
            on_beat=lambda: self.sessions.reap(self._now()),
        )
        self.instance = self.liveness.instance

    # -- lifecycle ---------------------------------------------------------------------------
    def recover(self) -> int:
        """Settle statements whose process died while they ran (FINISHED if they committed,
        run again here if nothing of them was kept, else FAILED); returns how many.

        A process is dead when its heartbeat expired (see ``DataApiOptions.heartbeat_seconds``),
        so this is safe while other processes share the store. Called at start-up by
        :func:`~eltflow.dataapi.build_dataapi` and on every heartbeat.
        """
        return self.liveness.recover()

    def lost_with_its_process(self, statement_id: str) -> bool:
        """Whether ``statement_id`` died with the process that ran it and its server kept
        nothing of it (rolled back, or never started): submitting its SQL again then runs it
        once. A statement still active in another process is waited for until that process
        is known alive or dead (its heartbeat's lifetime, then it is settled: see
        :mod:`eltflow.dataapi.liveness`); one that finished, or whose outcome cannot be read
        back, was not lost (or cannot be known to be) and is kept. Asked by a task resumed
        after a crash that re-attaches to the statement it had submitted (the Redshift Data API
        integration's checkpoint): on AWS the statement runs on, whatever became of its
        client; here the Data API that ran it may have died with the worker. Such a statement
        is normally run again under its id by the live instance that settles it (the task
        then re-attaches to it: False); True only when it could not be (see ``_rerun``)."""
        parent_id = _parent_id(statement_id)
        # Three heartbeats make an owner dead; one more lets a beat pass after that.
        deadline = time.monotonic() + 4 * self.options.heartbeat_seconds + 1
        while True:
            with self._lock:
                if parent_id in self._live:
                    return False  # this process runs it
            stmt = self.repo.get(parent_id)
            if stmt is None:
                return False
            if stmt.status.final:
                return stmt.status is Status.FAILED and stmt.error == RESTARTED
            if time.monotonic() > deadline:
                return False  # its process is alive: it runs on
            self.recover()  # settles it once its owner's heartbeat has expired
            time.sleep(min(self.options.heartbeat_seconds / 4, 0.25))  # nothing to await

    def _warehouse_of(self, s: Statement) -> Warehouse:
        """The warehouse ``s`` was submitted to (raises :class:`UnknownWarehouse` when it is no
        longer configured)."""
        return self.warehouses.resolve(
            str(s.cluster_identifier or s.workgroup_name), s.database_name
        )

    def _settle(self, s: Statement) -> Outcome:
        """What the warehouse's server says became of ``s``, whose process died (see
        :meth:`Warehouse.settle`); a warehouse no longer configured cannot be asked."""
        try:
            warehouse = self._warehouse_of(s)
        except UnknownWarehouse:
            return Outcome.UNKNOWN
        return warehouse.settle(
            ServerRun(pid=s.redshift_pid, xact=s.server_xact, statement_id=s.id)
        )

    def _rerun(self, parent: Statement, subs: list[Statement]) -> bool:
        """Take over a dead process's statement that its server says did not commit (rolled
        back, or never started) and run it again under the same id; True when it was taken
        (or must be left for a live instance: this one is closing), False when it cannot be
        run again (older than a query may run, of a session, or its warehouse is no longer
        configured) and
        is to be recorded FAILED. The rows the old run returned died with it; the new run's
        are the statement's result. A statement of a session is not run again: the session
        (its connection, temporary tables, settings) died with the process, and the SQL may
        mean something else without it."""
        now = self._now()
        if now - parent.created_us > MAX_RUN_US or parent.session_id is not None:
            return False
        try:
            warehouse = self._warehouse_of(parent)
        except UnknownWarehouse:
            return False
        with self._adopt_lock:
            if not self._adopting:
                return True
            if not self.repo.adopt(parent.id, parent.owner, self.instance, now):
                return True  # another instance settled or adopted it first
            again = {
                "status": Status.SUBMITTED,
                "error": None,
                "updated_us": now,
                "owner": self.instance,
                "redshift_pid": None,
                "server_xact": None,
            }
            live = _Live(
                parent=parent.evolve(**again),
                subs=[sub.evolve(**again) for sub in subs],
                warehouse=warehouse,
            )
            with self._lock:
                self._live[parent.id] = live
            self._pool.submit(self._run, live)
        logger.warning(
            "Data API: statement %s died with its process before it committed; running it again",
            parent.id,
        )
        return True

    def close(self) -> None:
        """Refuse new statements, let the submitted ones finish (``drain_seconds`` at most),
        cancel what still runs then (recorded ABORTED), wait for the workers, release
        warehouses. Idempotent."""
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + self.options.drain_seconds
        # Until the deadline, also for statements adopted meanwhile (see _rerun).
        while True:
            with self._lock:
                live = list(self._live.values())
            if not live or time.monotonic() >= deadline:
                break
            live[0].done.wait(max(deadline - time.monotonic(), 0))
        with self._adopt_lock:
            self._adopting = False
        with self._lock:
            live = list(self._live.values())
        if live:
            logger.warning(
                "Data API closing: cancelling %d statement(s) still running after %.0f s: %s",
                len(live),
                self.options.drain_seconds,
                ", ".join(item.parent.id for item in live),
            )
        for item in live:
            item.control.cancel()
        self._pool.shutdown(wait=True, cancel_futures=False)
        self.sessions.close()
        self.liveness.stop()
        self.warehouses.close()

    def __enter__(self) -> DataApiService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- dispatch ----------------------------------------------------------------------------
    def call(self, action: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """Call an operation by its API name (``ExecuteStatement``...)."""
        handler: Callable[[Mapping[str, Any]], dict[str, Any]] | None = {
            "ExecuteStatement": self.execute_statement,
            "BatchExecuteStatement": self.batch_execute_statement,
            "DescribeStatement": self.describe_statement,
            "GetStatementResult": self.get_statement_result,
            "GetStatementResultV2": self.get_statement_result_v2,
            "CancelStatement": self.cancel_statement,
            "ListStatements": self.list_statements,
            "ListDatabases": self.list_databases,
            "ListSchemas": self.list_schemas,
            "ListTables": self.list_tables,
            "DescribeTable": self.describe_table,
            "ListSessions": self.list_sessions,
        }.get(action)
        if handler is None:
            raise AwsApiError(
                "ValidationException",
                f"The Data API operation {action} is not supported by eltflow's local service",
            )
        return handler(request)

    # -- submit ------------------------------------------------------------------------------
    def execute_statement(self, request: Mapping[str, Any]) -> dict[str, Any]:
        v.check_keys("ExecuteStatement", request)
        sql = v.sql_text(v.require_str(request, "Sql", "sql"), "sql")
        return self._submit(request, [sql], batch=False)

    def batch_execute_statement(self, request: Mapping[str, Any]) -> dict[str, Any]:
        v.check_keys("BatchExecuteStatement", request)
        sqls = request.get("Sqls")
        if not isinstance(sqls, list) or not sqls:
            raise v.invalid(
                "1 validation error detected: Value at 'sqls' failed to satisfy constraint: "
                "Member must have length greater than or equal to 1"
            )
        if len(sqls) > v.MAX_BATCH:
            raise v.invalid(
                f"1 validation error detected: Value at 'sqls' failed to satisfy constraint: "
                f"Member must have length less than or equal to {v.MAX_BATCH}"
            )
        checked = []
        for i, sql in enumerate(sqls, start=1):
            if not isinstance(sql, str):
                raise v.invalid(f"Invalid type for parameter Sqls[{i - 1}], valid types: str")
            checked.append(v.sql_text(sql, f"sqls.{i}.member"))
        mode = request.get("ExecutionMode", "TRANSACTION")
        if mode != "TRANSACTION":
            raise v.invalid(
                f"ExecutionMode {mode!r} is not supported locally; batches run as one TRANSACTION"
            )
        return self._submit(request, checked, batch=True)

    def _submit(
        self, request: Mapping[str, Any], sqls: list[str], *, batch: bool
    ) -> dict[str, Any]:
        if self._closed:
            raise AwsApiError("InternalServerException", "The Data API service is shut down")
        v.parameters(request)  # checked before anything is resolved or opened
        token = v.optional_str(request, "ClientToken")
        name = v.optional_str(request, "StatementName")
        if not isinstance(request.get("WithEvent", False), bool):
            raise v.invalid(
                f"Invalid type for parameter WithEvent, value: {request['WithEvent']!r}, "
                "valid types: bool"
            )
        wait = v.int_in(request, "WaitTimeSeconds", "waitTimeSeconds", 1, 30)
        keep_alive = v.int_in(
            request, "SessionKeepAliveSeconds", "sessionKeepAliveSeconds", 0, 86400
        )
        session_id = v.session_id(request)
        result_format = v.result_format(request)
        if name is not None and len(name) > 2048:
            raise v.invalid("StatementName must be at most 2048 characters")
        if token is not None and not 1 <= len(token) <= 64:
            raise v.invalid("ClientToken must be 1 to 64 characters")
        target: Target | None = None
        warehouse: Warehouse | None = None
        if session_id is None:
            target = _target_of(request)
            try:
                warehouse = self.warehouses.resolve(target.name, target.database_name)
            except UnknownWarehouse:
                raise v.invalid(NO_ENDPOINT) from None
        now = self._now()
        if token is not None:
            existing = self.repo.by_token(token)
            if existing is not None and now - existing.created_us < TOKEN_TTL_US:
                return self._submitted(existing, wait)
        with self._lock:
            if len(self._live) >= self.options.max_active:
                raise AwsApiError(
                    "ActiveStatementsExceededException",
                    "The number of active statements exceeds the limit.",
                )
        self.sessions.reap(now)
        session = self._session_for(request, session_id, keep_alive, target, warehouse, now)
        if session is not None:
            target, warehouse = session.target, session.warehouse
        assert target is not None and warehouse is not None
        try:
            return self._enqueue(
                request, sqls, batch, target, warehouse, session, result_format, now, wait
            )
        except BaseException:
            if session is not None:
                self.sessions.release(session, now)  # the statement never reached a worker
            raise

    def _session_for(
        self,
        request: Mapping[str, Any],
        session_id: str | None,
        keep_alive: int | None,
        target: Target | None,
        warehouse: Warehouse | None,
        now: int,
    ) -> Session | None:
        """The session the statement runs in: the one ``SessionId`` names (now busy), a new one
        when ``SessionKeepAliveSeconds`` is given without it, else none."""
        if session_id is not None:
            session = self.sessions.take(session_id, now, keep_alive)
            try:
                _same_target(request, session.target)
            except AwsApiError:
                self.sessions.release(session, now)
                raise
            return session
        if not keep_alive or target is None or warehouse is None:
            return None  # 0 keeps nothing alive after the statement: no session (unverified)
        try:
            connection = warehouse.connect()
        except SqlError as e:
            raise v.invalid(f"Cannot open a session: {e.message}") from None
        return self.sessions.open(target, warehouse, connection, keep_alive, now)

    def _enqueue(
        self,
        request: Mapping[str, Any],
        sqls: list[str],
        batch: bool,
        target: Target,
        warehouse: Warehouse,
        session: Session | None,
        result_format: str,
        now: int,
        wait: int | None,
    ) -> dict[str, Any]:
        """Record the statement and hand it to a worker (which releases ``session``)."""
        token = v.optional_str(request, "ClientToken")
        params = v.parameters(request)
        sid = str(uuid.uuid4())
        by = origin.submitter()
        parent = Statement(
            id=sid,
            query_string="; ".join(sqls),  # a batch's texts joined; a lone statement's text
            status=Status.SUBMITTED,
            created_us=now,
            updated_us=now,
            is_batch=batch,
            statement_name=v.optional_str(request, "StatementName"),
            cluster_identifier=target.cluster_identifier,
            workgroup_name=target.workgroup_name,
            database_name=target.database_name,
            db_user=target.db_user,
            secret_arn=target.secret_arn,
            session_id=session.id if session is not None else None,
            query_parameters=params,
            client_token=token,
            with_event=bool(request.get("WithEvent", False)),
            result_format=result_format,
            redshift_query_id=_query_id(sid),
            owner=self.instance,
            execution_arn=by.execution_arn if by is not None else None,
            state_name=by.state_name if by is not None else None,
        )
        subs = (
            [
                Statement(
                    id=f"{sid}:{i}",
                    parent_id=sid,
                    seq=i,
                    query_string=sql,
                    status=Status.SUBMITTED,
                    created_us=now,
                    updated_us=now,
                    redshift_query_id=_query_id(sid) + i,
                    owner=self.instance,
                    result_format=result_format,
                )
                for i, sql in enumerate(sqls, start=1)
            ]
            if batch
            else []
        )
        try:
            self.repo.insert([parent, *subs])
        except ConflictError:
            # Another request with the same ClientToken won the race: answer with its id.
            existing = self.repo.by_token(token or "")
            if existing is None:
                raise
            if session is not None:
                self.sessions.release(session, now)
            return self._submitted(existing, wait)
        if session is not None:
            self.sessions.running(session, sid)
        live = _Live(
            parent=parent,
            subs=subs,
            warehouse=warehouse,
            session=session,
        )
        with self._lock:
            self._live[sid] = live
        self._pool.submit(self._run, live)
        return self._submitted(parent, wait)

    def _submitted(self, s: Statement, wait: int | None) -> dict[str, Any]:
        out = submit_response(s)
        if wait is not None:
            self._wait(s.id, float(wait))
            current, _ = self._load(s.id)
            out["Status"] = current.status.value
            out["HasResultSet"] = current.has_result_set
        return out

    # -- the worker --------------------------------------------------------------------------
    def _run(self, live: _Live) -> None:
        try:
            self._execute(live)
        except Exception as e:  # a bug or a store failure must not leave the statement hanging
            logger.exception("Data API statement %s crashed", live.parent.id)
            self._end(live, Status.FAILED, f"internal error: {e}", [], {})
        finally:
            self._release_session(live)
            live.done.set()
            with self._lock:
                self._live.pop(live.parent.id, None)
            if live.parent.with_event:
                self._send_event(live.parent)

    def subscribe_events(
        self, subscriber: EventSubscriber, interested: Callable[[], bool] | None = None
    ) -> None:
        """Hand ``subscriber`` the "Redshift Data Statement Status Change" event of each
        ``WithEvent`` statement once it ends; ``interested()`` (cheap) says whether it wants
        any now. Delivery is best effort, from the worker that ran the statement, after the
        statement shows as ended."""
        with self._lock:
            self._subscribers.append((subscriber, interested or (lambda: True)))

    def _send_event(self, stmt: Statement) -> None:
        if not stmt.status.final:
            return
        event = events.status_change(stmt, region=self.region, account=self.account)
        self.sent_events.append(event)
        logger.info("Data API event: statement %s %s", stmt.id, stmt.status.value)
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber, interested in subscribers:
            try:
                if interested():
                    subscriber([event])
            except Exception:  # one failing subscriber must not fail the statement or others
                logger.exception("a Data API event subscriber failed")

    def _release_session(self, live: _Live) -> None:
        """Free the statement's session for the next one (once: another statement may hold
        it right after)."""
        if live.session is not None and not live.session_released:
            live.session_released = True
            self.sessions.release(live.session, self._now())

    def _execute(self, live: _Live) -> None:
        if live.control.cancelled:
            self._end(live, Status.ABORTED, None, [], {})
            return
        self._transition(live, Status.PICKED)
        started_ns = time.perf_counter_ns()
        statements = (
            [s.query_string for s in live.subs] if live.subs else [live.parent.query_string]
        )

        def on_started(pid: int | None, xact: int | None) -> None:
            self._transition(live, Status.STARTED, pid=pid, xact=xact)

        def on_statement(index: int, result: StatementResult) -> None:
            if live.subs:
                now = self._now()
                with self._lock:
                    live.subs[index] = live.subs[index].evolve(
                        status=Status.FINISHED,
                        updated_us=now,
                        duration_ns=result.duration_ns,
                        has_result_set=result.has_result_set,
                        result_rows=_rows(result),
                    )

        try:
            results = live.warehouse.run(
                statements,
                {p["name"]: p["value"] for p in live.parent.query_parameters or []} or None,
                database=live.parent.database_name,
                # A batch, or one Sql holding several statements, is one transaction, as on
                # AWS; a lone statement runs as written (VACUUM cannot run inside one).
                transaction=bool(live.subs) or len(script.statements(statements[0])) > 1,
                control=live.control,
                on_started=on_started,
                on_statement=on_statement,
                connection=live.session.connection if live.session is not None else None,
                statement_id=live.parent.id,
            )
        except StatementCancelled:
            self._end(live, Status.ABORTED, None, [], {}, started_ns=started_ns)
            return
        except SqlError as e:
            self._end(live, Status.FAILED, e.message, [], {}, started_ns=started_ns, failed=e.index)
            return
        by_index = dict(enumerate(results))
        self._end(live, Status.FINISHED, None, results, by_index, started_ns=started_ns)

    def _transition(
        self, live: _Live, status: Status, pid: int | None = None, xact: int | None = None
    ) -> None:
        now = self._now()
        # Only this statement's worker thread changes its rows (here, in on_statement and in
        # _end), so building the new rows from a copy and publishing them later loses nothing.
        with self._lock:
            parent = live.parent.evolve(
                status=status,
                updated_us=now,
                redshift_pid=pid if pid is not None else live.parent.redshift_pid,
                server_xact=xact if xact is not None else live.parent.server_xact,
            )
            subs = [
                s.evolve(status=status, updated_us=now) if not s.status.final else s
                for s in live.subs
            ]
        if status is Status.STARTED:
            # Recorded so another process (or a restart) can see the statement was running;
            # stored before this process shows it, so no reader here or elsewhere sees STARTED
            # while the store still says SUBMITTED (another process read SUBMITTED in the gap).
            self.repo.update([parent, *subs])
        with self._lock:
            live.parent, live.subs = parent, subs

    def _end(
        self,
        live: _Live,
        status: Status,
        error: str | None,
        results: list[StatementResult],
        by_index: dict[int, StatementResult],
        *,
        started_ns: int | None = None,
        failed: int | None = None,
    ) -> None:
        now = self._now()
        duration = time.perf_counter_ns() - started_ns if started_ns is not None else 0
        pages: list[tuple[str, int, JSON]] = []

        def finished(s: Statement, result: StatementResult) -> Statement:
            cols = column_metadata(result.columns) if result.has_result_set else None
            size = 0
            count = 0
            if result.has_result_set:
                step = self.options.page_rows
                csv_names = [c.name for c in result.columns] if s.result_format == CSV else None
                for n, start in enumerate(range(0, len(result.rows), step)):
                    rows = result.rows[start : start + step]
                    chunk: JSON
                    if csv_names is None:
                        chunk = [record(r) for r in rows]
                        size += len(json.dumps(chunk))
                    else:
                        # The header line opens the first page only.
                        chunk = csv_records(csv_names if n == 0 else None, rows)
                        size += len(chunk.encode())
                    if size > self.options.max_result_bytes:
                        raise _ResultTooLarge(
                            f"ERROR: the result of statement {s.id} exceeds the Data API's "
                            f"result size limit of {self.options.max_result_bytes} bytes; write "
                            "large results into a table instead"
                        )
                    pages.append((s.id, n, chunk))
                    count += 1
            return s.evolve(
                status=Status.FINISHED,
                updated_us=now,
                duration_ns=result.duration_ns if s.parent_id else duration,
                has_result_set=result.has_result_set,
                result_rows=_rows(result),
                result_size=size,
                column_metadata=cols,
                page_count=count,
            )

        with self._lock:
            parent = live.parent
            subs = list(live.subs)
        if status is Status.FINISHED:
            try:
                subs = [finished(s, by_index[i]) for i, s in enumerate(subs)]
                if not subs:
                    parent = finished(parent, by_index[0])
            except _ResultTooLarge as e:
                self._end(live, Status.FAILED, str(e), [], {}, started_ns=started_ns)
                return
            if subs:
                last = by_index[len(subs) - 1]
                parent = parent.evolve(
                    status=Status.FINISHED,
                    updated_us=now,
                    duration_ns=duration,
                    has_result_set=any(r.has_result_set for r in results),
                    result_rows=_rows(last),
                    result_size=sum(s.result_size for s in subs),
                )
        else:
            parent = parent.evolve(status=status, error=error, updated_us=now, duration_ns=duration)
            new_subs = []
            for i, s in enumerate(subs):
                if failed is not None and i == failed:
                    s = s.evolve(status=Status.FAILED, error=error, updated_us=now)
                elif failed is not None and i < failed:
                    pass  # ran, then was rolled back with the batch: keeps FINISHED, as on AWS
                else:
                    s = s.evolve(status=Status.ABORTED, updated_us=now)
                new_subs.append(s)
            subs = new_subs
        # Store first, then show: a caller that sees FINISHED must find the result pages, and
        # its session free for the next statement.
        self.repo.finish([parent, *subs], pages)
        self._release_session(live)
        if parent.server_xact is not None:
            live.warehouse.forget(parent.id)  # its outcome is recorded: see Warehouse.settle
        with self._lock:
            live.parent, live.subs = parent, subs

    # -- read --------------------------------------------------------------------------------
    def _load(self, sid: str) -> tuple[Statement, list[Statement]]:
        """The statement (live view if it runs here) and, for a batch, its sub-statements."""
        parent_id = _parent_id(sid)
        with self._lock:
            live = self._live.get(parent_id)
            if live is not None:
                if sid == parent_id:
                    return live.parent, list(live.subs)
                for s in live.subs:
                    if s.id == sid:
                        return s, []
        stored = self.repo.get(sid)
        if stored is None:
            raise AwsApiError("ResourceNotFoundException", NOT_FOUND)
        subs = self.repo.children(sid) if stored.is_batch else []
        return stored, subs

    def _wait(self, sid: str, seconds: float) -> None:
        with self._lock:
            live = self._live.get(_parent_id(sid))
        if live is not None:
            live.done.wait(seconds)

    def describe_statement(self, request: Mapping[str, Any]) -> dict[str, Any]:
        v.check_keys("DescribeStatement", request)
        sid = v.statement_id(request)
        wait = v.int_in(request, "WaitTimeSeconds", "waitTimeSeconds", 1, 30)
        # A caller polling in a tight loop would hold the GIL and starve the worker it waits
        # for; a short wait on the statement's completion event lets the worker run.
        self._wait(sid, float(wait) if wait is not None else _POLL_YIELD_SECONDS)
        stmt, subs = self._load(sid)
        return describe_shape(stmt, subs)

    def get_statement_result(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """A page of a JSON-format statement's result: typed Field records."""
        stmt, page_no, records = self._result_page("GetStatementResult", request, JSON_FORMAT)
        return self._result(stmt, page_no, {"Records": records or []})

    def get_statement_result_v2(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """A page of a CSV-format statement's result: ``Records`` is a list of one
        ``{"CSVRecords": text}`` per page (none for an empty result), plus ``ResultFormat``."""
        stmt, page_no, text = self._result_page("GetStatementResultV2", request, CSV)
        records = [{"CSVRecords": text}] if isinstance(text, str) else []
        return self._result(stmt, page_no, {"Records": records, "ResultFormat": CSV})

    def _result(self, stmt: Statement, page_no: int, out: dict[str, Any]) -> dict[str, Any]:
        out["ColumnMetadata"] = stmt.column_metadata or []
        out["TotalNumRows"] = stmt.result_rows
        if page_no + 1 < stmt.page_count:
            out["NextToken"] = v.encode_token({"page": page_no + 1})
        return out

    def _result_page(
        self, action: str, request: Mapping[str, Any], result_format: str
    ) -> tuple[Statement, int, JSON]:
        """The statement and the stored page a GetStatementResult(V2) request asks for, once
        the statement is known to have finished with a result in ``result_format``."""
        v.check_keys(action, request)
        sid = v.statement_id(request)
        wait = v.int_in(request, "WaitTimeSeconds", "waitTimeSeconds", 1, 30)
        if wait is not None:
            self._wait(sid, float(wait))
        stmt, _ = self._load(sid)
        if stmt.is_batch:
            raise v.invalid(BATCH_RESULT)
        if stmt.status is not Status.FINISHED or not stmt.has_result_set:
            raise AwsApiError("ResourceNotFoundException", NO_RESULT)
        if stmt.result_format != result_format:
            raise v.invalid(WRONG_FORMAT[stmt.result_format])
        page = v.decode_token(request.get("NextToken"), "page")
        page_no = int(page) if page is not None else 0
        if page_no < 0 or (page_no > 0 and page_no >= stmt.page_count):
            raise v.invalid("The NextToken is invalid.")
        return stmt, page_no, self.repo.page(stmt.id, page_no) if stmt.page_count else None

    def cancel_statement(self, request: Mapping[str, Any]) -> dict[str, Any]:
        v.check_keys("CancelStatement", request)
        sid = _parent_id(v.statement_id(request))
        with self._lock:
            live = self._live.get(sid)
        if live is None:
            stmt, _ = self._load(sid)
            if stmt.status.final:
                raise v.invalid(
                    f"Could not cancel a query that is already in {stmt.status.value} state."
                )
            return self._cancel_elsewhere(stmt)
        live.control.cancel()
        # Wait (briefly) for the worker to roll back and record ABORTED, so the caller's next
        # DescribeStatement already shows it.
        live.done.wait(self.options.cancel_wait_seconds)
        return {"Status": True}

    def _cancel_elsewhere(self, stmt: Statement) -> dict[str, Any]:
        """Cancel a statement another process runs: on its warehouse's server (PostgreSQL's
        ``pg_cancel_backend`` on the backend recorded when it started); the process running it
        then records ABORTED, which is waited for briefly, as for a local cancel."""
        try:
            warehouse = self._warehouse_of(stmt)
            run = ServerRun(pid=stmt.redshift_pid, xact=stmt.server_xact)
            cancelled = stmt.status is Status.STARTED and warehouse.interrupt(run)
        except (UnknownWarehouse, SqlError) as e:
            raise AwsApiError(
                "InternalServerException", f"Could not cancel the statement: {e}"
            ) from e
        if not cancelled:
            raise AwsApiError(
                "InternalServerException",
                "The statement runs in another eltflow process whose warehouse cannot be "
                "reached from here (DuckDB is opened by one process); cancel it there.",
            )
        deadline = time.monotonic() + self.options.cancel_wait_seconds
        while time.monotonic() < deadline:
            current = self.repo.get(stmt.id)
            if current is None or current.status.final:
                break
            time.sleep(0.02)  # another process records the outcome: no event to wait on
        return {"Status": True}

    # -- catalog (synchronous, as on AWS) -----------------------------------------------------
    def _catalog_warehouse(self, action: str, request: Mapping[str, Any]) -> Warehouse:
        v.check_keys(action, request)
        cluster, workgroup = v.target(request)
        database = v.optional_str(request, "ConnectedDatabase") or v.optional_str(
            request, "Database"
        )
        try:
            return self.warehouses.resolve(str(cluster or workgroup), database)
        except UnknownWarehouse:
            raise v.invalid(NO_ENDPOINT) from None

    def list_databases(self, request: Mapping[str, Any]) -> dict[str, Any]:
        warehouse = self._catalog_warehouse("ListDatabases", request)
        name = str(request.get("ClusterIdentifier") or request.get("WorkgroupName"))
        return catalog.list_databases(warehouse, request, self.warehouses.databases(name))

    def list_schemas(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return catalog.list_schemas(self._catalog_warehouse("ListSchemas", request), request)

    def list_tables(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return catalog.list_tables(self._catalog_warehouse("ListTables", request), request)

    def describe_table(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return catalog.describe_table(self._catalog_warehouse("DescribeTable", request), request)

    def list_sessions(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """ListSessions: this process's sessions created in the last 24 hours (AVAILABLE and
        BUSY unless ``Status`` says otherwise), newest first, paged by ``MaxResults``."""
        v.check_keys("ListSessions", request)
        limit = v.int_in(request, "MaxResults", "maxResults", 0, 100) or 100
        session_id = v.session_id(request)
        status = v.optional_str(request, "Status")
        cluster = v.optional_str(request, "ClusterIdentifier")
        workgroup = v.optional_str(request, "WorkgroupName")
        database = v.optional_str(request, "Database")
        if session_id is not None and any(
            x is not None for x in (status, cluster, workgroup, database)
        ):
            raise v.invalid(
                "When SessionId is specified, Status, ClusterIdentifier, WorkgroupName and "
                "Database cannot be specified."
            )
        if cluster and workgroup:
            raise v.invalid("ClusterIdentifier and WorkgroupName cannot both be specified.")
        if status is not None and status not in _SESSION_STATUSES:
            raise v.invalid(
                f"1 validation error detected: Value '{status}' at 'status' failed to satisfy "
                "constraint: Member must satisfy enum value set: [AVAILABLE, BUSY, CLOSED]"
            )
        found = self.sessions.listed(
            self._now(),
            session_id=session_id,
            statuses=frozenset({status}) if status else frozenset({"AVAILABLE", "BUSY"}),
            cluster=cluster,
            workgroup=workgroup,
            database=database,
        )
        start = v.decode_token(request.get("NextToken"), "offset") or 0
        if not isinstance(start, int) or start < 0:
            raise v.invalid("The NextToken is invalid.")
        out: dict[str, Any] = {"Sessions": found[start : start + limit]}
        if start + limit < len(found):
            out["NextToken"] = v.encode_token({"offset": start + limit})
        return out

    def list_statements(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return self._list(request, list_item_shape, execution_arn=None)

    def _list(
        self,
        request: Mapping[str, Any],
        shape: Callable[[Statement, list[Statement]], dict[str, Any]],
        *,
        execution_arn: str | None,
    ) -> dict[str, Any]:
        """A ListStatements page, each statement as ``shape`` shows it."""
        v.check_keys("ListStatements", request)
        limit = v.int_in(request, "MaxResults", "maxResults", 0, 100) or 100
        status = v.optional_str(request, "Status")
        if status is not None and status not in {*Status.__members__, "ALL"}:
            raise v.invalid(
                f"1 validation error detected: Value '{status}' at 'status' failed to satisfy "
                "constraint: Member must satisfy enum value set: [SUBMITTED, PICKED, STARTED, "
                "FINISHED, ABORTED, FAILED, ALL]"
            )
        cursor = v.decode_token(request.get("NextToken"), "after")
        before_us = before_id = None
        if cursor is not None:
            if not (isinstance(cursor, list) and len(cursor) == 2):
                raise v.invalid("The NextToken is invalid.")
            before_us, before_id = int(cursor[0]), str(cursor[1])
        rows = self.repo.list(
            status=None if status in (None, "ALL") else status,
            name=v.optional_str(request, "StatementName"),
            cluster=v.optional_str(request, "ClusterIdentifier"),
            workgroup=v.optional_str(request, "WorkgroupName"),
            database=v.optional_str(request, "Database"),
            execution_arn=execution_arn,
            before_us=before_us,
            before_id=before_id,
            limit=limit + 1,
        )
        items = []
        for row in rows[:limit]:
            stmt, subs = self._load(row.id)
            items.append(shape(stmt, subs))
        out: dict[str, Any] = {"Statements": items}
        if len(rows) > limit:
            last = rows[limit - 1]
            out["NextToken"] = v.encode_token({"after": [last.created_us, last.id]})
        return out

    def list_statement_details(
        self,
        *,
        status: str | None = None,
        execution_arn: str | None = None,
        max_results: int = 100,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """A ListStatements page (newest first; only those ``execution_arn`` submitted, if
        given) with each statement as DescribeStatement shows it (duration, rows, error,
        sub-statements) plus ``ExecutionArn`` and ``StateName``, the execution and state whose
        task submitted it, when there is one: what the console's statements page and an
        execution's SQL tab list. Not an AWS operation (the endpoint does not serve it), so its
        extra fields never reach boto3."""
        request: dict[str, Any] = {"MaxResults": max_results}
        if status:
            request["Status"] = status
        if next_token:
            request["NextToken"] = next_token
        return self._list(request, detail_shape, execution_arn=execution_arn)

    def _now(self) -> int:
        return to_us(self.clock.now())


class _ResultTooLarge(Exception):
    pass


def _target_of(request: Mapping[str, Any]) -> Target:
    cluster, workgroup = v.target(request)
    return Target(
        cluster_identifier=cluster,
        workgroup_name=workgroup,
        database_name=v.optional_str(request, "Database"),
        db_user=v.optional_str(request, "DbUser"),
        secret_arn=v.optional_str(request, "SecretArn"),
    )


def _same_target(request: Mapping[str, Any], target: Target) -> None:
    """A statement in a session runs where the session does: naming another cluster,
    workgroup or database is refused (unverified: AWS's docs submit such statements with the
    SessionId alone)."""
    given = {
        "ClusterIdentifier": (
            v.optional_str(request, "ClusterIdentifier"),
            target.cluster_identifier,
        ),
        "WorkgroupName": (v.optional_str(request, "WorkgroupName"), target.workgroup_name),
        "Database": (v.optional_str(request, "Database"), target.database_name),
    }
    for key, (value, session_value) in given.items():
        if value is not None and value != session_value:
            raise v.invalid(
                f"{key} {value!r} is not the session's ({session_value!r}): a statement with a "
                "SessionId runs where its session does"
            )


def _parent_id(sid: str) -> str:
    """The statement a sub-statement id (``<parent>:<n>``) belongs to; a statement's own id
    as is."""
    return sid.split(":", 1)[0]


def _rows(result: StatementResult) -> int:
    return result.row_count if result.row_count >= 0 else 0


def _query_id(sid: str) -> int:
    # A stable pseudo query id (Redshift's are integers) derived from the statement id.
    return int(sid.replace("-", "")[:7], 16)
