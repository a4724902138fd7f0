"""The durable store's history and JSON texts (issue 16): what is written is the json module's
text byte for byte, and GetExecutionHistory reads back exactly what was recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from eltflow.store.db import Database
from eltflow.store.migrate import migrate
from eltflow.store.rows import MachineRow
from eltflow.store.runtime_store import RuntimeStore
from eltflow.types import JSON


class _Key(str):
    pass


# Values whose text orjson and the json module write differently, or that orjson refuses.
AWKWARD: list[JSON] = [
    1e-05,  # json: 1e-05, orjson: 0.00001
    -9.456011395225814e-07,
    [0.0001, 1e-4 / 3, 5e-324, 1e16, 1e15, 1.7976931348623157e308, -0.0, 0.1 + 0.2],
    [float("nan"), float("inf"), float("-inf")],  # orjson: null
    {"a": None, "b": [None], "c": 1.0, "d": True},
    [2**63 - 1, -(2**63), 2**64, -(2**63) - 1, 10**40],  # beyond 64 bits: orjson refuses
    {_Key("k"): _Key("v")},  # str subclasses
    '\x00\x1f\x7f\u2028\b\f\n\r\t"\\ é😀',
    {"t": "time-e-5 1e-5 0.00001 null"},
]


def _json_text(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@pytest.fixture
def store(store_url: str) -> Iterator[RuntimeStore]:
    db = Database(store_url)
    migrate(db)
    store = RuntimeStore(db)
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
