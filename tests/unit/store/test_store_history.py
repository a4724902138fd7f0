"""The durable store's history and JSON texts (issue 16): what is written is the json module's
text byte for byte, and GetExecutionHistory reads back exactly what was recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eltflow.app import build_app
from eltflow.clock import VirtualClock
from eltflow.errors import ConflictError
from eltflow.store.db import Database
from eltflow.store.interface import StateStore
from eltflow.store.memory import MemoryStore
from eltflow.store.migrate import migrate
from eltflow.store.rows import EventRow, MachineRow, to_us
from eltflow.store.runtime_store import RuntimeStore
from eltflow.types import JSON, JSONObject


class _Key(str):
    pass


# Values whose text orjson and the json module write differently, or that orjson refuses.
AWKWARD: list[JSON] = [
    1e-05,  # json: 1e-05, orjson: 0.00001
    -9.456011395225814e-07,
    [0.0001, 1e-4 / 3, 5e-324, 1e16, 1e15, 1.7976931348623157e308, -0.0, 0.1 + 0.2],
    [float("nan"), float("inf"), float("-inf")],  # orjson: null
    {"none": None, "nan": float("nan"), "inf": [None, float("inf")]},  # a null of each kind
    {"a": None, "b": [None], "c": 1.0, "d": True},
    [2**63 - 1, -(2**63), 2**64, -(2**63) - 1, 10**40],  # beyond 64 bits: orjson refuses
    {_Key("k"): _Key("v")},  # str subclasses
    '\x00\x1f\x7f\u2028\b\f\n\r\t"\\ é😀',
    {"t": "time-e-5 1e-5 0.00001 null"},
]


def _json_text(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _add_execution(store: StateStore) -> None:
    """Machine ``m`` and its execution ``e``."""
    with store.transaction() as conn:
        vid = store.insert_version_txn(
            conn, machine_name="m", version=1, definition="{}", description="", created_us=1
        )
        store.insert_machine_txn(
            conn,
            MachineRow(
                name="m",
                arn="arn:m",
                current_version_id=vid,
                role_arn="r",
                machine_type="STANDARD",
                created_us=1,
                updated_us=1,
            ),
        )
        store.insert_execution_txn(
            conn,
            id="e",
            arn="arn:exec:e",
            machine_name="m",
            version_id=vid,
            name="e",
            input="{}",
            start_us=1,
        )


@pytest.fixture
def store(store_url: str) -> Iterator[RuntimeStore]:
    db = Database(store_url)
    migrate(db)
    store = RuntimeStore(db)
    _add_execution(store)
    yield store
    db.close()


@pytest.mark.parametrize("value", AWKWARD, ids=range(len(AWKWARD)))
def test_stored_json_is_the_json_modules_text(store: RuntimeStore, value: JSON) -> None:
    with store.transaction() as conn:
        store.insert_task_txn(
            conn,
            execution_id="e",
            task_id="t",
            state_name="S",
            resource="r",
            parameters=value,
            timeout_seconds=None,
            heartbeat_seconds=None,
            task_token=None,
            now_us=1,
        )
    [task] = store.tasks("e")
    assert task.parameters == _json_text(value)


# --- history rows ------------------------------------------------------------------------------

T0 = datetime(2026, 12, 6, 1, 2, 3, 456789, tzinfo=UTC)


@dataclass(frozen=True)
class _Event:
    """A history event as the engine hands it over (``NewEvent``)."""

    id: int
    previous_event_id: int
    timestamp: datetime
    type: str
    details: JSONObject


def _steps(sizes: list[int]) -> list[list[_Event]]:
    """Steps of ``sizes`` events, numbered from 1; each step's events share its timestamp."""
    steps, seq = [], 0
    for n, size in enumerate(sizes):
        when = T0 + timedelta(seconds=n, microseconds=n)
        step = []
        for _ in range(size):
            seq += 1
            value: JSON = AWKWARD[seq % len(AWKWARD)]
            details: JSONObject = {"d": {"input": json.dumps(value), "value": value}}
            step.append(_Event(seq, seq - 1 - seq % 2, when, f"Type{seq % 3}", details))
        steps.append(step)
    return steps


def _rows(steps: list[list[_Event]]) -> list[EventRow]:
    return [
        EventRow(
            seq=e.id,
            previous_seq=e.previous_event_id,
            event_type=e.type,
            timestamp_us=to_us(e.timestamp),
            details=e.details,
        )
        for step in steps
        for e in step
    ]


def _text(rows: list[EventRow]) -> str:
    """Rows as JSON text, for comparison (NaN equals itself there)."""
    return _json_text([asdict(r) for r in rows])


SIZES = [1, 3, 22, 1, 7, 2, 5, 1]  # 42 events in 8 rows


def _new_store(kind: str, url: str) -> StateStore:
    if kind == "memory":
        return MemoryStore()
    db = Database(url)
    migrate(db)
    return RuntimeStore(db)


@pytest.fixture(params=["durable", "memory"])
def recorded(request: pytest.FixtureRequest, store_url: str) -> Iterator[StateStore]:
    """A store holding execution ``e`` with the events of :data:`SIZES`, step by step."""
    store = _new_store(request.param, store_url)
    _add_execution(store)
    for step in _steps(SIZES):
        with store.transaction() as conn:
            assert store.append_history_txn(conn, "e", step) == len(step)
    yield store
    if isinstance(store, RuntimeStore):
        store.db.close()


def test_every_page_of_the_history_is_the_recorded_slice(recorded: StateStore) -> None:
    full = _rows(_steps(SIZES))
    total = len(full)
    assert _text(recorded.history("e")) == _text(full)
    for limit in (1, 2, 3, 5, 22, 23, total, 1001):
        for after in range(total + 2):
            got = recorded.history("e", after_seq=after, limit=limit)
            assert _text(got) == _text(full[after : after + limit]), (after, limit)
            below = full[: after - 1] if after else full
            got = recorded.history("e", after_seq=after, limit=limit, reverse=True)
            assert _text(got) == _text(below[::-1][:limit]), (after, limit, "reverse")


def test_get_execution_history_pages_chain_to_the_whole_history(store_url: str) -> None:
    """Through the service: every maxResults, both orders, nextToken to nextToken."""
    app = build_app(state_url=store_url, clock=VirtualClock())
    try:
        s: Any = app.service
        states: JSONObject = {
            f"P{i}": {"Type": "Pass", "Result": {"i": i, "f": 1e-05 * i}, "Next": f"P{i + 1}"}
            for i in range(4)
        }
        states["P4"] = {"Type": "Wait", "Seconds": 0, "Next": "P5"}
        states["P5"] = {"Type": "Pass", "End": True}
        s.create_state_machine(name="m", definition={"StartAt": "P0", "States": states})
        arn = str(
            s.start_execution(state_machine_arn="m", input='{"a":[1,null,"é"]}')["executionArn"]
        )
        app.worker().run(until_idle=True)
        full = s.get_execution_history(execution_arn=arn)["events"]
        assert [e["id"] for e in full] == list(range(1, len(full) + 1))
        assert full[-1]["type"] == "ExecutionSucceeded"
        for reverse in (False, True):
            for size in range(1, len(full) + 2):
                got: list[Any] = []
                token = None
                while True:
                    page = s.get_execution_history(
                        execution_arn=arn, max_results=size, next_token=token, reverse_order=reverse
                    )
                    assert 0 < len(page["events"]) <= size
                    got += page["events"]
                    token = page.get("nextToken")
                    if token is None:
                        break
                want = full[::-1] if reverse else full
                assert json.dumps(got) == json.dumps(want), (size, reverse)
    finally:
        app.close()


def test_a_step_numbered_again_is_a_conflict(store: RuntimeStore) -> None:
    first, second = _steps([3, 2])
    with store.transaction() as conn:
        store.append_history_txn(conn, "e", first)
    with pytest.raises(ConflictError), store.transaction() as conn:
        store.append_history_txn(conn, "e", first)
        # The queued insert fails at the step's next read. (At a PostgreSQL COMMIT with no
        # read before it, the connection layer reports it as a ConflictError or, when
        # psycopg saw the failure first, as "pipeline aborted": that is store/db.py's.)
        store.get_execution_txn(conn, "e")
    with store.transaction() as conn:
        store.append_history_txn(conn, "e", second)
    assert _text(store.history("e")) == _text(_rows([first, second]))


def test_idempotent_appends_keep_ids_dense(store: RuntimeStore) -> None:
    rows = _rows(_steps([6]))
    with store.transaction() as conn:
        assert store.append_events_txn(conn, "e", rows[:2]) == 2
    with store.transaction() as conn:
        assert store.append_events_txn(conn, "e", rows[1:4]) == 2  # 2 again, 3 and 4 new
    for gap in (rows[5:], [rows[5], rows[4]]):  # 6 after 4, in its own batch or before 5
        with (
            pytest.raises(ConflictError, match="event 6 does not follow event 4"),
            store.transaction() as conn,
        ):
            store.append_events_txn(conn, "e", gap)
    assert _text(store.history("e")) == _text(rows[:4])


def test_a_gap_in_the_ids_gives_no_short_page(store: RuntimeStore) -> None:
    """The engine never leaves one, but a page over a gap still holds ``limit`` events and
    the pages after it go on."""
    rows = _rows(_steps([3, 4, 2]))
    kept = rows[:3] + rows[5:]  # ids 4 and 5 missing
    with store.transaction() as conn:
        for part in (kept[:3], kept[3:5], kept[5:]):
            items = [[r.seq, r.previous_seq, r.event_type, r.timestamp_us, r.details] for r in part]
            conn.write(
                store.q["insert_history_step"],
                {
                    "execution_id": "e",
                    "first_seq": part[0].seq,
                    "last_seq": part[-1].seq,
                    "events": _json_text(items),
                },
            )
    for limit in range(1, 9):
        for after in (0, 1, 3, 4, 6):
            want = [r for r in kept if r.seq > after][:limit]
            assert _text(store.history("e", after_seq=after, limit=limit)) == _text(want)
        for before in (0, 10, 7, 6, 4, 2):
            want = [r for r in kept[::-1] if not before or r.seq < before][:limit]
            got = store.history("e", after_seq=before, limit=limit, reverse=True)
            assert _text(got) == _text(want), (before, limit)


# --- upgrading a database that holds one row per event -----------------------------------------

_OLD_INSERT = (
    "INSERT INTO sfn_history (execution_id, seq, previous_seq, event_type, timestamp_us, details)"
    " VALUES (:execution_id, :seq, :previous_seq, :event_type, :timestamp_us, :details)"
)


def test_an_upgraded_database_reads_its_old_events_back_unchanged(store_url: str) -> None:
    db = Database(store_url)
    migrate(db, until=10)  # the layout before 0011: one row per event
    store = RuntimeStore(db)
    _add_execution(store)
    steps = _steps([2, 1, 4])
    old = _rows(steps[:2])
    with db.transaction() as conn:
        for r in old:  # as the json module wrote them
            conn.execute(
                _OLD_INSERT, {**asdict(r), "execution_id": "e", "details": _json_text(r.details)}
            )
    assert "0011_runtime_history_steps.sql" in migrate(db)
    assert _text(store.history("e")) == _text(old)
    with store.transaction() as conn:  # new steps go on after the old rows
        store.append_history_txn(conn, "e", steps[2])
    full = _rows(steps)
    assert _text(store.history("e")) == _text(full)
    for after in range(len(full) + 1):
        assert _text(store.history("e", after_seq=after, limit=2)) == _text(full[after : after + 2])
        below = full[: after - 1] if after else full
        got = store.history("e", after_seq=after, limit=2, reverse=True)
        assert _text(got) == _text(below[::-1][:2])
    db.close()
