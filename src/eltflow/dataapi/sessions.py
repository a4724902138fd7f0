"""Data API sessions: a warehouse connection held between statements (``SessionKeepAliveSeconds``,
``SessionId``).

A statement submitted with ``SessionKeepAliveSeconds`` opens a session: its response carries a
``SessionId``, and a later statement submitted with that ``SessionId`` (and no target of its
own) runs on the same connection, so temporary tables and ``SET`` persist. A session runs one
statement at a time; it stays alive ``SessionKeepAliveSeconds`` after its last statement ends
(a statement may give a new value), measured on the service's clock, then its connection is
closed (on the service's next heartbeat or submit, or when it closes). At most ``limit``
sessions are open per cluster or workgroup (AWS: 500).

Sessions live in the process that opened them, as the connection does: another process sharing
the store, or this one after a restart, does not know them.

Unverified against AWS: the error a busy session answers and the one an unknown or expired
``SessionId`` answers (the model lists ValidationException and ResourceNotFoundException for
ExecuteStatement; the messages here are eltflow's).
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from eltflow.dataapi.model import from_us
from eltflow.errors import AwsApiError
from eltflow.warehouse.base import Connection, Warehouse

BUSY = "Session {id} is busy: a statement is running in it, and a session runs one at a time."
GONE = "Session {id} does not exist or has expired."
TOO_MANY = "The number of active sessions exceeds the limit."
_LISTED_US = 24 * 3600 * 1_000_000  # ListSessions: the sessions created in the last 24 hours
_CLOSED_KEPT = 1000  # closed sessions kept for ListSessions (this process's memory)


@dataclass(frozen=True, kw_only=True)
class Target:
    """Where a session's statements run (as its first statement named it)."""

    cluster_identifier: str | None
    workgroup_name: str | None
    database_name: str | None
    db_user: str | None
    secret_arn: str | None

    @property
    def name(self) -> str:
        return str(self.cluster_identifier or self.workgroup_name)


@dataclass(eq=False, kw_only=True)
class Session:
    """One session: mutable, changed only under :class:`Sessions`' lock."""

    id: str
    target: Target
    warehouse: Warehouse
    connection: Connection
    keep_alive_us: int
    created_us: int
    updated_us: int
    busy: bool = True  # opened by the statement that runs in it first
    closed: bool = False
    expires_us: int = 0
    statement_id: str | None = None  # the statement running in it, while busy

    @property
    def status(self) -> str:
        return "CLOSED" if self.closed else "BUSY" if self.busy else "AVAILABLE"

    def shape(self) -> dict[str, Any]:
        """ListSessions' ``SessionData``."""
        out: dict[str, Any] = {
            "SessionId": self.id,
            "Status": self.status,
            "CreatedAt": from_us(self.created_us),
            "UpdatedAt": from_us(self.updated_us),
            "SessionAliveSeconds": self.keep_alive_us // 1_000_000,
        }
        for key, value in (
            ("Database", self.target.database_name),
            ("DbUser", self.target.db_user),
            ("ClusterIdentifier", self.target.cluster_identifier),
            ("WorkgroupName", self.target.workgroup_name),
        ):
            if value:
                out[key] = value
        if not self.busy and not self.closed:
            out["SessionTtl"] = from_us(self.expires_us)
        if self.busy and self.statement_id:
            out["CurrentStatementId"] = self.statement_id
        return out


class Sessions:
    """The sessions of one Data API service: the open ones, and those closed within the last
    day (ListSessions lists the sessions created in the last 24 hours)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, Session] = {}
        self._closed: deque[Session] = deque(maxlen=_CLOSED_KEPT)
        self._lock = threading.Lock()

    def open(
        self,
        target: Target,
        warehouse: Warehouse,
        connection: Connection,
        keep_alive_s: int,
        now_us: int,
    ) -> Session:
        """A new session on ``connection``, busy with the statement that opened it."""
        with self._lock:
            active = sum(1 for s in self._open.values() if s.target.name == target.name)
            if active >= self.limit:
                connection.close()
                raise AwsApiError("ActiveSessionsExceededException", TOO_MANY)
            session = Session(
                id=str(uuid.uuid4()),
                target=target,
                warehouse=warehouse,
                connection=connection,
                keep_alive_us=keep_alive_s * 1_000_000,
                created_us=now_us,
                updated_us=now_us,
            )
            self._open[session.id] = session
            return session

    def take(self, session_id: str, now_us: int, keep_alive_s: int | None) -> Session:
        """The session ``session_id``, now busy with a new statement (and kept alive
        ``keep_alive_s`` after it, if given)."""
        with self._lock:
            session = self._open.get(session_id)
            if session is not None and not session.busy and now_us >= session.expires_us:
                self._end(session, session.expires_us)
                session = None
            if session is None:
                raise AwsApiError("ResourceNotFoundException", GONE.format(id=session_id))
            if session.busy:
                raise AwsApiError("ValidationException", BUSY.format(id=session_id))
            session.busy = True
            session.updated_us = now_us
            if keep_alive_s is not None:
                session.keep_alive_us = keep_alive_s * 1_000_000
            return session

    def running(self, session: Session, statement_id: str) -> None:
        """``statement_id`` is the statement the session is busy with."""
        with self._lock:
            session.statement_id = statement_id

    def release(self, session: Session, now_us: int) -> None:
        """Its statement ended: it lives on for its keep-alive from ``now_us``."""
        with self._lock:
            session.busy = False
            session.statement_id = None
            session.updated_us = now_us
            session.expires_us = now_us + session.keep_alive_us
            if session.keep_alive_us == 0:
                self._end(session, now_us)

    def count(self) -> int:
        """How many sessions are open (busy or kept alive)."""
        with self._lock:
            return len(self._open)

    def reap(self, now_us: int) -> None:
        """Close the sessions whose keep-alive has run out."""
        with self._lock:
            for s in [s for s in self._open.values() if not s.busy and now_us >= s.expires_us]:
                self._end(s, s.expires_us)

    def listed(
        self,
        now_us: int,
        *,
        session_id: str | None,
        statuses: frozenset[str],
        cluster: str | None,
        workgroup: str | None,
        database: str | None,
    ) -> list[dict[str, Any]]:
        """ListSessions' ``SessionData`` of the sessions created in the last day that match,
        newest first."""
        self.reap(now_us)
        with self._lock:
            every = [*self._open.values(), *self._closed]
            return [
                s.shape()
                for s in sorted(every, key=lambda s: (s.created_us, s.id), reverse=True)
                if now_us - s.created_us < _LISTED_US
                and (session_id is None or s.id == session_id)
                and (session_id is not None or s.status in statuses)
                and (cluster is None or s.target.cluster_identifier == cluster)
                and (workgroup is None or s.target.workgroup_name == workgroup)
                and (database is None or s.target.database_name == database)
            ]

    def close(self) -> None:
        with self._lock:
            for s in list(self._open.values()):
                self._end(s, s.updated_us)

    def _end(self, session: Session, when_us: int) -> None:
        """Close ``session`` (under the lock) and keep it for ListSessions."""
        self._open.pop(session.id, None)
        session.closed = True
        session.updated_us = when_us
        session.connection.close()
        self._closed.append(session)
