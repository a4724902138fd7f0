"""``state.new_frame`` makes the Frame the dataclass's ``__init__`` makes, field for field."""

from __future__ import annotations

from dataclasses import fields

import pytest

from eltflow.interpreter.state import Frame, new_frame
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
