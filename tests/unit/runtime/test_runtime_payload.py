"""parse_payload reads orjson's value where it equals the json module's, else the json
module's: the same value (types included: an int stays an int at any size) or the same
ValueError message for any text, as the json module alone gave them."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eltflow.runtime.payload import MAX_DEPTH, parse_payload
from eltflow.types import JSON


def _reference(text: str) -> tuple[str, object]:
    """What the json module alone gives for ``text``: ("ok", value) or ("error", message)."""

    def constant(name: str) -> None:
        raise ValueError(f"{name} is not a JSON value")

    def depth(value: object) -> int:
        deepest, stack = 0, [(value, 1)]
        while stack:
            item, level = stack.pop()
            if isinstance(item, dict | list):
                deepest = max(deepest, level)
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, level + 1) for child in children)
        return deepest

    try:
        value = json.loads(text, parse_constant=constant)
    except RecursionError:
        return "error", f"it is nested more than {MAX_DEPTH} levels deep"
    except ValueError as e:
        return "error", str(e)
    found = depth(value)
    if found > MAX_DEPTH:
        return "error", f"it is nested {found} levels deep; the limit is {MAX_DEPTH}"
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as e:
        return "error", f"it has a lone surrogate ({e.reason}), which is not Unicode"
    return "ok", value


def _typed(value: object) -> object:
    """``value`` with each number's type kept, so 1 and 1.0 (and 2**64 as an int or a float)
    compare unequal, and -0.0 unequal to 0.0."""
    if isinstance(value, dict):
        return ("dict", [(k, _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    return (type(value).__name__, repr(value))


def _got(text: str) -> tuple[str, object]:
    try:
        return "ok", parse_payload(text)
    except ValueError as e:
        return "error", str(e)


def _assert_same(text: str) -> None:
    want, got = _reference(text), _got(text)
    assert got[0] == want[0], (text[:80], got, want)
    if want[0] == "ok":
        assert _typed(got[1]) == _typed(want[1]), text[:80]
    else:
        assert got[1] == want[1], text[:80]


EDGES = [
    "{}",
    '{"order": 42, "items": ["a", "b", "c"], "ok": true}',
    "-0",
    "-0.0",
    "1e400",
    "-1e400",
    "1e-400",
    "1.7976931348623157e309",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "123456789012345678901234567890",
    "[1, 123456789012345678901234567890.5]",
    '"1234567890123456789012"',
    "0.30000000000000004",
    "1" * 5000,
    '"\\ud800"',
    '"\\udc00\\ud800"',
    '"\\ud83d\\ude00"',
    '"\ud800"',
    '"\\u0000"',
    '{"a": 1, "b": 2, "a": 3}',
    "\ufeff{}",
    "NaN",
    '{"a": -Infinity}',
    "[1,]",
    "",
    " \n",
    '["[[[[", "{{{{"]' + "[" * 900 + "]" * 900,
]


@pytest.mark.parametrize("text", EDGES, ids=range(len(EDGES)))
def test_edge_texts_read_as_the_json_module_reads_them(text: str) -> None:
    _assert_same(text)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1024, 1025, 10_000])
@pytest.mark.parametrize(("open", "close"), [("[", "]"), ('{"a":', "}")])
def test_nesting_past_the_limit_is_refused(depth: int, open: str, close: str) -> None:
    with pytest.raises(ValueError, match="nested"):
        parse_payload(open * depth + "1" + close * depth)


def test_nesting_up_to_the_limit_is_taken() -> None:
    # MAX_DEPTH exactly, however deep the caller's stack (the json module alone could run
    # out of recursion a little before it, depending on where it was called from).
    value = parse_payload("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    for _ in range(MAX_DEPTH - 1):
        assert isinstance(value, list) and len(value) == 1
        value = value[0]
    assert value == []


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**62, max_value=2**70)
    | st.integers(min_value=-(2**70), max_value=-(2**62))
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values: st.SearchStrategy[JSON] = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans())
def test_any_value_reads_back_as_the_json_module_reads_it(value: JSON, ascii: bool) -> None:
    _assert_same(json.dumps(value, ensure_ascii=ascii))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='[]{}"\\:,0123456789.eE-+ntrufalsNIy \ud800\udc00', max_size=40))
def test_any_text_reads_as_the_json_module_reads_it(text: str) -> None:
    _assert_same(text)
