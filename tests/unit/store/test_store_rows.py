"""store.rows.build makes the row dataclass ``__init__`` would make from a driver row: equal,
frozen, extra columns ignored, defaults applied, a missing column refused the same way."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pytest

from eltflow.store.rows import (
    ExecutionRow,
    ExecutionSummaryRow,
    InboxRow,
    MachineRow,
    TaskRow,
    TimerRow,
    VersionRow,
    build,
)

SAMPLES: list[tuple[Any, dict[str, Any]]] = [
    (
        ExecutionRow,
        {
            "id": "e",
            "arn": "arn:e",
            "machine_name": "m",
            "version_id": 3,
            "name": "n",
            "status": "RUNNING",
            "input": "{}",
            "output": None,
            "error": None,
            "cause": None,
            "start_us": 1,
            "stop_us": None,
            "redrive_count": 0,
            "redrive_us": None,
            "snapshot": '{"version":4}',
            "event_count": 2,
            "wake_us": 5,
            "lease_owner": "w",
            "lease_expires_us": 9,
        },
    ),
    (
        MachineRow,
        {
            "name": "m",
            "arn": "arn:m",
            "current_version_id": 1,
            "role_arn": "r",
            "machine_type": "STANDARD",
            "created_us": 1,
            "updated_us": 2,
        },
    ),
    (
        VersionRow,
        {
            "id": 1,
            "machine_name": "m",
            "version": 1,
            "definition": "{}",
            "description": "",
            "created_us": 1,
            "retired_us": 7,
        },
    ),
    (TimerRow, {"timer_id": "t", "due_us": 3}),
    (InboxRow, {"id": 1, "kind": "stop", "payload": "{}"}),
]


@pytest.mark.parametrize(("cls", "row"), SAMPLES, ids=lambda v: getattr(v, "__name__", ""))
def test_build_makes_what_init_makes(cls: Any, row: dict[str, Any]) -> None:
    built = build(cls, {**row, "extra_column": "ignored"})
    made = cls(**row)
    assert built == made and hash(built) == hash(made) and repr(built) == repr(made)
    assert type(built) is cls
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.__setattr__(next(iter(row)), None)


def test_a_missing_column_with_a_default_takes_it() -> None:
    row = dict(SAMPLES[2][1])
    del row["retired_us"]
    assert build(VersionRow, row).retired_us is None


def test_a_missing_column_without_a_default_is_refused_as_init_refuses_it() -> None:
    with pytest.raises(TypeError, match="missing"):
        build(VersionRow, {"id": 1})


def test_a_dataclass_without_slots_is_built_by_init() -> None:
    @dataclass
    class Plain:
        a: int
        b: list[int] = dataclasses.field(default_factory=list)

    assert build(Plain, {"a": 1, "c": 2}) == Plain(a=1)


def test_null_columns_are_kept() -> None:
    assert build(ExecutionSummaryRow, dict.fromkeys(ExecutionSummaryRow.__dataclass_fields__))
    assert build(TaskRow, dict.fromkeys(TaskRow.__dataclass_fields__)).task_id is None
