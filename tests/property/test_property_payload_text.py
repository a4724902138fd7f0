"""Property tests: history text built from cached pieces is the text the encoder writes.

The interpreter joins the already-written texts of a list's / object's elements instead of
encoding them again (Map and Parallel outputs, a Map's input). Whatever was cached first, the
result must be character-identical to encoding the whole value.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from eltflow.asl.parser import parse
from eltflow.interpreter import events as ev
from eltflow.interpreter.protocol import ExecutionContext
from eltflow.interpreter.state import ExecutionState
from eltflow.interpreter.step import Stepper
from eltflow.types import JSON

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
keys = st.text(max_size=8)
json_values: st.SearchStrategy[JSON] = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5),
    max_leaves=30,
)

_MACHINE = parse({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
_NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _stepper() -> Stepper:
    context = ExecutionContext(
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:e",
        execution_name="e",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
        state_machine_name="m",
        start_time=_NOW,
    )
    return Stepper(_MACHINE, ExecutionState(context=context), _NOW)


def _containers(value: JSON) -> list[JSON]:
    """Every list/dict inside ``value`` (itself included), outermost first."""
    out: list[JSON] = []
    if isinstance(value, dict | list):
        out.append(value)
        for child in value.values() if isinstance(value, dict) else value:
            out.extend(_containers(child))
    return out


@settings(max_examples=150)
@given(json_values, st.data())
def test_text_from_cached_parts_equals_the_encoder(value: JSON, data: st.DataObject) -> None:
    stepper = _stepper()
    inner = _containers(value)[1:]
    # Cache an arbitrary subset of the inner containers first, innermost first or not.
    chosen = data.draw(st.lists(st.sampled_from(inner), unique_by=id) if inner else st.just([]))
    for part in chosen:
        assert stepper.payload_text(part, "S") == ev.dumps(part)
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert stepper.payload_text(value, "S") == expected
    assert stepper.payload_text(value, "S") == expected  # and again, from the cache


@given(st.lists(json_values, min_size=1, max_size=6), st.sampled_from(["$", "$.items"]))
def test_map_input_precached_items_give_the_same_text(items: list[JSON], path: str) -> None:
    stepper = _stepper()
    document: JSON = items if path == "$" else {"before": 1, "items": items, "after": [2]}
    state = parse(
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "ItemsPath": path,
                    "ItemProcessor": {
                        "StartAt": "P",
                        "States": {"P": {"Type": "Pass", "End": True}},
                    },
                    "End": True,
                }
            },
        }
    ).states["M"]
    stepper.precache_items(document, state)
    expected = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    assert stepper.payload_text(document, "M") == expected
    for item in items:
        assert stepper.payload_text(item, "P") == ev.dumps(item)


def _json_text(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@settings(max_examples=300)
@given(json_values | st.lists(st.floats(), max_size=8) | st.integers(min_value=-(2**80)))
def test_history_text_is_what_the_json_module_writes(value: JSON) -> None:
    """orjson writes history texts only where its text is the json module's, character for
    character (AWS's formatting as the rest of eltflow writes it)."""
    assert ev.dumps(value) == _json_text(value)


def test_history_text_edge_cases_match_the_json_module() -> None:
    class Key(str):
        pass

    cases: list[object] = [
        1e-05,  # json: 1e-05, orjson: 0.00001
        -9.456011395225814e-07,  # orjson: ...e-7
        [0.0001, 1e-4 / 3, 5e-324, 1e16, 1e15, 1.7976931348623157e308, -0.0],
        [float("nan"), float("inf"), float("-inf")],  # orjson: null
        {"a": None, "b": [None]},
        # orjson writes NaN/Infinity as null: one among real nulls must still be seen.
        [None, float("nan"), None],
        {"a": None, "b": [1, None, {"c": float("nan"), "d": None}], "e": None},
        {"x": [None, {"y": float("inf")}], "z": None},
        [None, float("-inf")],
        float("nan"),
        None,
        [None, [None], {"n": None}],  # nulls only: orjson's text
        {"b": None, "a": -0.0, "c": 1, "d": 1.0, "e": True, "f": 0},  # decodes equal: orjson's text
        (None, 1.5),  # a tuple decodes to an (unequal) list
        2**64,
        -(2**63) - 1,
        {1: "x", 2.5: "y", False: "z", None: "n"},  # non-string keys
        {Key("k"): Key("v")},  # subclasses
        '\x00\x1f\x7f\u2028\b\f\n\r\t"\\ é😀',
        "x\ud800",  # a lone surrogate: json writes it, orjson refuses
        ("a", 1),
        {"t": "time-e-5 1e-5 0.00001 null"},  # suspect text inside a string only
    ]
    for value in cases:
        assert ev.dumps(value) == _json_text(value), value  # type: ignore[arg-type]


nulls_and_floats: st.SearchStrategy[JSON] = st.recursive(
    st.none() | st.floats(allow_nan=True, allow_infinity=True) | st.integers(-3, 3),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300)
@given(nulls_and_floats)
def test_nan_among_nulls_is_written_as_the_json_module_does(value: JSON) -> None:
    """Texts with nulls are orjson's only when no NaN/Infinity became one of them."""
    assert ev.dumps(value) == _json_text(value)
