"""AWS Step Functions quotas that protect users, with AWS's error names and causes.

Sources: the Step Functions "Service quotas" page (256 KiB payloads measured as UTF-8 bytes,
25,000 history events) and the CreateStateMachine/StartExecution API reference (name rules).
"""

from __future__ import annotations

import json
from typing import Final, Literal

from eltflow.asl import errors
from eltflow.errors import StatesError
from eltflow.types import JSON

MAX_PAYLOAD_BYTES: Final = 262_144
"""256 KiB: the largest task/state input or output and execution input, in UTF-8 bytes."""

MAX_HISTORY_EVENTS: Final = 25_000
"""A Standard execution fails once its history would exceed this many events."""

MAX_NAME_LENGTH: Final = 80
"""Execution, state machine, activity, alias and state names are 1-80 characters."""

NameKind = Literal["execution", "state machine", "state", "alias", "activity", "label"]

# CreateStateMachine / StartExecution: "A name must not contain: white space; brackets < > { } [ ];
# wildcard characters ? *; special characters " # % \ ^ | ~ ` $ & , ; : /; control characters
# (U+0000-001F, U+007F-009F)". State names are free text (only the length is limited).
_FORBIDDEN_CHARACTERS: Final = frozenset('<>{}[]?*"#%\\^|~`$&,;:/')


def payload_size(value: JSON) -> int:
    """UTF-8 size of ``value`` serialised as compact JSON, the way AWS measures payloads."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-8"))


def check_payload(value: JSON, *, what: str) -> None:
    """Raise ``States.DataLimitExceeded`` when ``value`` is larger than 256 KiB.

    ``what`` names the state (or task resource) whose result is checked; it is quoted in AWS's
    cause: "The state/task 'X' returned a result with a size exceeding the maximum number of
    bytes service limit." The error is terminal: no Retry or Catch handles it.
    """
    if payload_size(value) > MAX_PAYLOAD_BYTES:
        raise StatesError(
            errors.DATA_LIMIT_EXCEEDED,
            f"The state/task '{what}' returned a result with a size exceeding the maximum "
            "number of bytes service limit.",
        )


def _is_control(character: str) -> bool:
    code = ord(character)
    return code <= 0x1F or 0x7F <= code <= 0x9F


def validate_name(name: str, kind: NameKind) -> str | None:
    """Check a name against AWS's rules; return what is wrong, or ``None`` when it is valid.

    Every kind must be 1-80 characters. Resource names (everything but ``state``) also exclude
    whitespace, ``< > { } [ ] ? * " # % \\ ^ | ~ ` $ & , ; : /`` and control characters.
    """
    if not name:
        return f"The {kind} name must not be empty."
    if len(name) > MAX_NAME_LENGTH:
        return (
            f"The {kind} name '{name[:20]}...' is {len(name)} characters long; "
            f"the maximum is {MAX_NAME_LENGTH}."
        )
    if kind == "state":
        return None
    for character in name:
        if character.isspace():
            return f"The {kind} name '{name}' must not contain whitespace."
        if character in _FORBIDDEN_CHARACTERS:
            return f"The {kind} name '{name}' must not contain the character {character!r}."
        if _is_control(character):
            return (
                f"The {kind} name '{name}' must not contain control characters "
                f"(found U+{ord(character):04X})."
            )
    return None
