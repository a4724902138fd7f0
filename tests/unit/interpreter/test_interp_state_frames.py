"""``state.new_frame`` and ``state.new_state`` make the objects the dataclasses' ``__init__``
makes, field for field."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

import pytest

from eltflow.interpreter.protocol import ExecutionContext
from eltflow.interpreter.state import ROOT, ExecutionState, Frame, new_frame, new_state
from eltflow.types import JSON


@pytest.mark.parametrize(
    "args",
    [
        ("", None, (), 0, "Start", {"a": [1]}, 0),
        ("/Fork/1", "", ("Fork", "1"), 1, "B0", [1, "x"], 7),
    ],
)
def test_new_frame_is_the_dataclass_built_frame(
    args: tuple[str, str | None, tuple[str, ...], int, str, JSON, int],
) -> None:
    id, parent, path, index, state_name, input, last_event = args
    fast = new_frame(id, parent, path, index, state_name, input, last_event)
    slow = Frame(id, parent, path, index, state_name, input, last_event=last_event)
    # Every slot read (an unset one raises), so a field new_frame forgot fails here.
    assert {f.name: getattr(fast, f.name) for f in fields(Frame)} == {
        f.name: getattr(slow, f.name) for f in fields(Frame)
    }
    assert fast == slow
    assert fast.input is input


def test_new_frames_do_not_share_their_containers() -> None:
    a = new_frame("a", None, (), 0, "S", None, 0)
    b = new_frame("b", None, (), 0, "S", None, 0)
    for name in ("variables", "retry_counts", "children", "results"):
        assert getattr(a, name) is not getattr(b, name)


def test_new_state_is_the_dataclass_built_state() -> None:
    context = ExecutionContext(
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:run-1",
        execution_name="run-1",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
        state_machine_name="m",
        start_time=datetime(2026, 1, 1, tzinfo=UTC),
    )
    root = new_frame(ROOT, None, (), 0, "S", {"a": 1}, 0)
    fast = new_state(context, {"x": 1}, root)
    slow = ExecutionState(context, {"x": 1}, frames={ROOT: root})
    # Every field, those left out of == (texts, texts_chars) too; an unset slot raises.
    assert {f.name: getattr(fast, f.name) for f in fields(ExecutionState)} == {
        f.name: getattr(slow, f.name) for f in fields(ExecutionState)
    }
    assert fast.root is root
    other = new_state(context, None, root)
    assert other.waiting is not fast.waiting and other.texts is not fast.texts
