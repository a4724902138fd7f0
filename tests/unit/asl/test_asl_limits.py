"""Payload and name limits (AWS Step Functions service quotas and API reference)."""

from __future__ import annotations

import pytest

from eltflow.asl import limits
from eltflow.errors import StatesError
from eltflow.types import JSON


def test_payload_size_is_compact_utf8_json() -> None:
    assert limits.payload_size({"a": [1, 2]}) == len('{"a":[1,2]}')
    assert limits.payload_size("é") == len('"é"'.encode())
    assert limits.payload_size(None) == 4


def test_payload_at_the_limit_passes_and_one_byte_more_fails() -> None:
    at_limit: JSON = "x" * (limits.MAX_PAYLOAD_BYTES - 2)  # two quote characters
    limits.check_payload(at_limit, what="Load")
    over: JSON = "x" * (limits.MAX_PAYLOAD_BYTES - 1)
    with pytest.raises(StatesError) as info:
        limits.check_payload(over, what="Load")
    assert info.value.error == "States.DataLimitExceeded"
    assert info.value.cause == (
        "The state/task 'Load' returned a result with a size exceeding the maximum number of "
        "bytes service limit."
    )


def test_multibyte_characters_count_as_bytes() -> None:
    text: JSON = "é" * (limits.MAX_PAYLOAD_BYTES // 2)  # 2 bytes each: over the limit
    with pytest.raises(StatesError):
        limits.check_payload(text, what="S")


def test_constants() -> None:
    assert limits.MAX_PAYLOAD_BYTES == 256 * 1024
    assert limits.MAX_HISTORY_EVENTS == 25_000
    assert limits.MAX_NAME_LENGTH == 80


@pytest.mark.parametrize(
    "name",
    ["job-101", "a", "x" * 80, "Orders_2024.v2", "ünïcödé", "run@host+1=ok!"],
)
def test_valid_names(name: str) -> None:
    assert limits.validate_name(name, "execution") is None


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "must not be empty"),
        ("x" * 81, "81 characters long; the maximum is 80"),
        ("a b", "whitespace"),
        ("a\tb", "whitespace"),
        ("a<b", "'<'"),
        ("a{b", "'{'"),
        ("a[b", "'['"),
        ("a?b", "'?'"),
        ("a*b", "'*'"),
        ('a"b', "'\"'"),
        ("a#b", "'#'"),
        ("a%b", "'%'"),
        ("a\\b", "'\\\\'"),
        ("a^b", "'^'"),
        ("a|b", "'|'"),
        ("a~b", "'~'"),
        ("a`b", "'`'"),
        ("a$b", "'$'"),
        ("a&b", "'&'"),
        ("a,b", "','"),
        ("a;b", "';'"),
        ("a:b", "':'"),
        ("a/b", "'/'"),
        ("a\x00b", "control characters (found U+0000)"),
        ("a\x7fb", "control characters (found U+007F)"),
        ("a\x9fb", "control characters (found U+009F)"),
    ],
)
def test_invalid_resource_names(name: str, fragment: str) -> None:
    problem = limits.validate_name(name, "state machine")
    assert problem is not None and fragment in problem


def test_state_names_only_have_a_length_limit() -> None:
    assert limits.validate_name("Load: customers/suppliers?", "state") is None
    assert limits.validate_name("x" * 81, "state") is not None
