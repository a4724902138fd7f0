"""An execution's logs: what its Lambda handlers printed and logged (function log records,
:mod:`eltflow.lambdas.logs`) and the Data API statements its tasks submitted, read together
and put in one time order — what ``eltflow logs`` prints and ``--follow`` polls.

Reading is :class:`ExecutionLogs` (the two services, either may be absent); ordering
(:func:`merged`) and deciding what a poll may print (:func:`to_print`) are pure functions of
what was read, so they are tested without a project.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from eltflow.lambdas.logs import FunctionLogs

# A log record (``{"timestamp", "state", "function", "requestId", "text", ...}``) or a
# statement as ListStatements-with-details shows it (``Id``, ``CreatedAt``, ``Status``...).
Entry = dict[str, Any]

# A statement's final statuses: before them its duration, rows and error may still change.
ENDED_STATEMENT = frozenset({"FINISHED", "FAILED", "ABORTED"})


class StatementDetails(Protocol):
    """What is read of the Data API (:class:`eltflow.dataapi.service.DataApiService`)."""

    def list_statement_details(
        self, *, execution_arn: str, max_results: int, next_token: str | None
    ) -> dict[str, Any]: ...


class ExecutionLogs:
    """Reads one execution's function log records and Data API statements."""

    def __init__(self, logs: FunctionLogs | None, dataapi: StatementDetails | None) -> None:
        self.logs = logs
        self.dataapi = dataapi

    def records(self, execution_arn: str, state: str | None = None) -> list[Entry]:
        """Function log records of the execution's Task invocations (``state``: of that one)."""
        return self.logs.read(execution_arn, state) if self.logs is not None else []

    def statements(self, execution_arn: str, state: str | None = None) -> list[Entry]:
        """The Data API statements the execution's tasks submitted, oldest first (a
        process-isolated handler's statements reach the Data API without their execution: its
        ``print`` in the function log is their record)."""
        if self.dataapi is None:
            return []
        out: list[Entry] = []
        token: str | None = None
        while True:
            page = self.dataapi.list_statement_details(
                execution_arn=execution_arn, max_results=100, next_token=token
            )
            out += [
                s
                for s in page.get("Statements", [])
                if state is None or s.get("StateName") == state
            ]
            token = page.get("NextToken")
            if not token:
                break
        out.reverse()  # the service lists newest first
        return out


def is_statement(entry: Mapping[str, Any]) -> bool:
    return "Id" in entry


def is_final(entry: Mapping[str, Any]) -> bool:
    """A function log record is final when written; a statement once it has ended."""
    return not is_statement(entry) or entry.get("Status") in ENDED_STATEMENT


def _when(entry: Mapping[str, Any]) -> datetime:
    at = entry.get("CreatedAt") if is_statement(entry) else entry.get("timestamp")
    return at if isinstance(at, datetime) else datetime.fromisoformat(str(at))


def merged(records: Sequence[Entry], statements: Sequence[Entry]) -> list[tuple[str, Entry]]:
    """Log records and statements in time order, each with a key ``--follow`` remembers. A
    statement follows the invocation of its state that was running when it was submitted (a
    log record is written when its invocation ends), so each attempt's SQL is under its
    output; the statements of a task with no function log (``aws-sdk:redshiftdata``) stand
    by their own time."""
    rows: list[tuple[datetime, int, str, Entry]] = []
    pending = sorted(statements, key=_when)
    for i, record in enumerate(records):
        ended = _when(record)
        mine = [
            st for st in pending if st.get("StateName") == record["state"] and _when(st) <= ended
        ]
        pending = [st for st in pending if all(st is not m for m in mine)]
        rows.append((ended, 0, f"log:{i}", record))
        rows += [(ended, n, f"statement:{st['Id']}", st) for n, st in enumerate(mine, 1)]
    rows += [(_when(st), 0, f"statement:{st['Id']}", st) for st in pending]
    rows.sort(key=lambda row: (row[0], row[1]))
    return [(key, entry) for _, _, key, entry in rows]


def to_print(
    entries: Sequence[tuple[str, Entry]], shown: Collection[str], *, ended: bool
) -> list[tuple[str, Entry]]:
    """What one ``--follow`` poll prints of ``entries`` (:func:`merged`): those not ``shown``
    yet that are final, or all of them once the execution has ended (nothing will change
    them any more)."""
    return [(k, e) for k, e in entries if k not in shown and (ended or is_final(e))]
