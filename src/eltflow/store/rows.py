"""What the runtime store returns: frozen rows with plain Python types (no driver types).

Times are kept as epoch microseconds in the database (both dialects sort and compare them the
same way); :func:`to_us` / :func:`from_us` convert at the edge.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from eltflow.json_text import dumps
from eltflow.types import JSON, JSONObject

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(when: datetime) -> int:
    """Epoch microseconds of an aware datetime."""
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us // 1_000_000, tz=UTC).replace(microsecond=us % 1_000_000)


@dataclass(frozen=True, kw_only=True, slots=True)
class MachineRow:
    name: str
    arn: str
    current_version_id: int
    role_arn: str
    machine_type: str
    created_us: int
    updated_us: int


@dataclass(frozen=True, kw_only=True, slots=True)
class VersionRow:
    id: int
    machine_name: str
    version: int
    definition: str
    description: str
    created_us: int
    retired_us: int | None = None


class ExecutionVersion(Protocol):
    """The columns of an execution a step's guard compares (:func:`eltflow.runtime.engine.
    _unchanged`): an :class:`ExecutionRow` has them, and so has a :class:`GuardRow`."""

    @property
    def status(self) -> str: ...
    @property
    def snapshot(self) -> str | None: ...
    @property
    def event_count(self) -> int: ...
    @property
    def lease_owner(self) -> str | None: ...
    @property
    def awaited(self) -> bool: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class GuardRow:
    """Only the columns of an execution a step's guard compares, as the SQL stores lock and read
    them before each step's COMMIT (issue 16: building the whole :class:`ExecutionRow` there,
    ~3 times per Task -> Task -> Pass execution, only to compare these)."""

    status: str
    snapshot: str | None
    event_count: int
    lease_owner: str | None
    awaited: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class ExecutionRow:
    id: str
    arn: str
    machine_name: str
    version_id: int
    name: str
    status: str
    input: str
    output: str | None
    error: str | None
    cause: str | None
    start_us: int
    stop_us: int | None
    redrive_count: int
    redrive_us: int | None
    snapshot: str | None
    event_count: int
    wake_us: int | None
    lease_owner: str | None
    lease_expires_us: int | None
    # A .sync task linked itself to it (store/sync_waits.py: watch): its end wakes its parents.
    awaited: bool = False

    @classmethod
    def started(
        cls,
        *,
        id: str,
        arn: str,
        machine_name: str,
        version_id: int,
        name: str,
        input: str,
        start_us: int,
    ) -> ExecutionRow:
        """The row ``insert_execution_txn`` writes for these values (the schema's defaults
        for the rest)."""
        return cls(
            id=id,
            arn=arn,
            machine_name=machine_name,
            version_id=version_id,
            name=name,
            status="RUNNING",
            input=input,
            output=None,
            error=None,
            cause=None,
            start_us=start_us,
            stop_us=None,
            redrive_count=0,
            redrive_us=None,
            snapshot=None,
            event_count=0,
            wake_us=start_us,
            lease_owner=None,
            lease_expires_us=None,
            awaited=False,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class ExecutionSummaryRow:
    id: str
    arn: str
    machine_name: str
    version_id: int
    name: str
    status: str
    start_us: int
    stop_us: int | None
    redrive_count: int
    redrive_us: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class EventRow:
    seq: int
    previous_seq: int
    event_type: str
    timestamp_us: int
    details: JSONObject


class NewEvent(Protocol):
    """A history event as the runtime records it (``interpreter.protocol.HistoryEvent`` has
    this shape): the store encodes it, so a store that needs no encoding keeps it as is."""

    @property
    def id(self) -> int: ...

    @property
    def previous_event_id(self) -> int: ...

    @property
    def timestamp(self) -> datetime: ...

    @property
    def type(self) -> str: ...

    @property
    def details(self) -> JSONObject: ...


class NewTask(Protocol):
    """A task a step starts, as the runtime records it (``interpreter.protocol.RunTask`` has
    this shape)."""

    @property
    def task_id(self) -> str: ...

    @property
    def state_name(self) -> str: ...

    @property
    def resource(self) -> str: ...

    @property
    def parameters(self) -> JSON: ...

    @property
    def timeout_seconds(self) -> float | None: ...

    @property
    def heartbeat_seconds(self) -> float | None: ...

    @property
    def task_token(self) -> str | None: ...


def event_rows(events: Sequence[NewEvent]) -> list[EventRow]:
    """Rows for new events; events of one step share a timestamp, converted once."""
    stamps: dict[datetime, int] = {}
    rows = []
    for e in events:
        ts = stamps.get(e.timestamp)
        if ts is None:
            ts = stamps[e.timestamp] = to_us(e.timestamp)
        rows.append(
            EventRow(
                seq=e.id,
                previous_seq=e.previous_event_id,
                event_type=e.type,
                timestamp_us=ts,
                details=e.details,
            )
        )
    return rows


def history_items(events: Sequence[NewEvent]) -> tuple[int, int, str]:
    """``(first seq, last seq, text)`` of one history row holding ``events`` (non-empty): the
    text is ``json_text.dumps(event_items(events))``. An interpreter EventLog whose events
    were not built yet writes that text from its records (``EventLog.json_items``, issue 16:
    most of a durable Pass chain's encoding), the same text."""
    written = getattr(events, "json_items", None)
    if written is not None:
        found: tuple[int, int, str] | None = written(to_us)
        if found is not None:
            return found
    items = event_items(events)
    return items[0][0], items[-1][0], dumps(items)  # type: ignore[arg-type]


def event_items(events: Sequence[NewEvent]) -> list[list[Any]]:
    """New events as the durable store writes them into one history row: ``[seq,
    previous_seq, type, timestamp_us, details]`` each (no row objects in between: issue 16).
    Events of one step share a timestamp, converted once."""
    items: list[list[Any]] = []
    append = items.append
    stamp: datetime | None = None
    us = 0
    for e in events:
        ts = e.timestamp
        if ts is not stamp:
            stamp, us = ts, to_us(ts)
        append([e.id, e.previous_event_id, e.type, us, e.details])
    return items


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskRow:
    execution_id: str
    task_id: str
    state_name: str
    resource: str
    parameters: str
    timeout_seconds: float | None
    heartbeat_seconds: float | None
    task_token: str | None
    started: bool
    attempt: int
    checkpoint: str | None
    created_us: int
    # A parked .sync task: the child execution it waits for (store/sync_waits.py).
    awaits: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class TimerRow:
    timer_id: str
    due_us: int


@dataclass(frozen=True, kw_only=True, slots=True)
class InboxRow:
    id: int
    kind: str
    payload: str


def build(cls: Any, row: dict[str, Any]) -> Any:
    """Build a row dataclass from a driver row, ignoring columns it doesn't declare."""
    make = _BUILDERS.get(cls)
    if make is None:
        make = _BUILDERS[cls] = _builder(cls)
    return make(row)


_BUILDERS: dict[Any, Callable[[dict[str, Any]], Any]] = {}
_NO_DEFAULT: Any = dataclasses.MISSING


def _builder(cls: Any) -> Callable[[dict[str, Any]], Any]:
    """How :func:`build` makes a ``cls``. A frozen dataclass's ``__init__`` sets each field
    with a call of ``object.__setattr__``; for a slotted one (every row here) setting the slots
    through their descriptors makes the same object about 4x faster (issue 16: an ExecutionRow,
    read at every step, cost ~8 us). Any other dataclass, or a row missing a column without a
    default, goes through ``__init__`` (which raises its TypeError for the latter)."""
    names = cls.__dataclass_fields__

    def init(row: dict[str, Any]) -> Any:
        return cls(**{k: v for k, v in row.items() if k in names})

    fields = dataclasses.fields(cls)
    if (
        "__slots__" not in cls.__dict__
        or hasattr(cls, "__post_init__")
        or any(not f.init or f.default_factory is not _NO_DEFAULT for f in fields)
    ):
        return init
    # Straight-line code, as dataclasses writes __init__: one line per field, no loop.
    env: dict[str, Any] = {"new": object.__new__, "cls": cls, "init": init}
    lines = []
    for i, f in enumerate(fields):
        env[f"set{i}"] = cls.__dict__[f.name].__set__
        if f.default is _NO_DEFAULT:
            lines.append(f"        set{i}(obj, row[{f.name!r}])")
        else:
            env[f"default{i}"] = f.default
            lines.append(f"        set{i}(obj, row.get({f.name!r}, default{i}))")
    body = "\n".join(lines)
    source = (
        "def make(row):\n"
        "    obj = new(cls)\n"
        "    try:\n"
        f"{body}\n"
        "    except KeyError:\n"
        "        return init(row)\n"
        "    return obj\n"
    )
    exec(source, env)  # the text holds only the dataclass's own field names
    make: Callable[[dict[str, Any]], Any] = env["make"]
    return make


def started_params(row: ExecutionRow) -> dict[str, Any]:
    """The columns an INSERT of a just-started execution binds (a top-level start's and a
    Distributed Map child's), by name: the row as its first step projected it."""
    return {
        "id": row.id,
        "arn": row.arn,
        "machine_name": row.machine_name,
        "version_id": row.version_id,
        "name": row.name,
        "status": row.status,
        "input": row.input,
        "output": row.output,
        "error": row.error,
        "cause": row.cause,
        "start_us": row.start_us,
        "stop_us": row.stop_us,
        "snapshot": row.snapshot,
        "event_count": row.event_count,
        "wake_us": row.wake_us,
    }


def row_fields(row: Any) -> dict[str, Any]:
    """A row dataclass's fields by name (``vars`` for slotted dataclasses)."""
    return {k: getattr(row, k) for k in row.__dataclass_fields__}


def project(cls: Any, obj: Any) -> Any:
    """Build row dataclass ``cls`` from the same-named attributes of a wider row ``obj``."""
    return cls(**{k: getattr(obj, k) for k in cls.__dataclass_fields__})
