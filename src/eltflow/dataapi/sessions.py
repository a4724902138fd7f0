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
from dataclasses import dataclass, field

from eltflow.errors import AwsApiError
from eltflow.warehouse.base import Connection, Warehouse

BUSY = "Session {id} is busy: a statement is running in it, and a session runs one at a time."
GONE = "Session {id} does not exist or has expired."
TOO_MANY = "The number of active sessions exceeds the limit."


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
    """One open session: mutable, changed only under :class:`Sessions`' lock."""

    id: str
    target: Target
    warehouse: Warehouse
    connection: Connection
    keep_alive_us: int
    busy: bool = True  # opened by the statement that runs in it first
    expires_us: int = field(default=0)


class Sessions:
    """The open sessions of one Data API service."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(
        self, target: Target, warehouse: Warehouse, connection: Connection, keep_alive_s: int
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
            )
            self._open[session.id] = session
            return session

    def take(self, session_id: str, now_us: int, keep_alive_s: int | None) -> Session:
        """The session ``session_id``, now busy with a new statement (and kept alive
        ``keep_alive_s`` after it, if given)."""
        with self._lock:
            session = self._open.get(session_id)
            if session is not None and not session.busy and now_us >= session.expires_us:
                del self._open[session_id]
                session.connection.close()
                session = None
            if session is None:
                raise AwsApiError("ResourceNotFoundException", GONE.format(id=session_id))
            if session.busy:
                raise AwsApiError("ValidationException", BUSY.format(id=session_id))
            session.busy = True
            if keep_alive_s is not None:
                session.keep_alive_us = keep_alive_s * 1_000_000
            return session

    def release(self, session: Session, now_us: int) -> None:
        """Its statement ended: it lives on for its keep-alive from ``now_us``."""
        with self._lock:
            session.busy = False
            session.expires_us = now_us + session.keep_alive_us
            if session.keep_alive_us == 0:
                self._open.pop(session.id, None)
                session.connection.close()

    def count(self) -> int:
        """How many sessions are open (busy or kept alive)."""
        with self._lock:
            return len(self._open)

    def reap(self, now_us: int) -> None:
        """Close the sessions whose keep-alive has run out."""
        with self._lock:
            ended = [s for s in self._open.values() if not s.busy and now_us >= s.expires_us]
            for s in ended:
                del self._open[s.id]
        for s in ended:
            s.connection.close()

    def close(self) -> None:
        with self._lock:
            ended, self._open = list(self._open.values()), {}
        for s in ended:
            s.connection.close()
