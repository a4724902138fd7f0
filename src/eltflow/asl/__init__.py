"""Amazon States Language: parse, validate and evaluate definitions. Pure: no I/O, no clock."""

from __future__ import annotations

from eltflow.asl.model import (
    JSONATA,
    JSONPATH,
    AnyState,
    Catcher,
    ChoiceRule,
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    QueryLanguage,
    Retrier,
    State,
    StateMachine,
    SucceedState,
    TaskState,
    Template,
    WaitState,
)
from eltflow.asl.parser import parse, to_dict
from eltflow.asl.validator import validate

__all__ = [
    "JSONATA",
    "JSONPATH",
    "AnyState",
    "Catcher",
    "ChoiceRule",
    "ChoiceState",
    "FailState",
    "MapState",
    "ParallelState",
    "PassState",
    "QueryLanguage",
    "Retrier",
    "State",
    "StateMachine",
    "SucceedState",
    "TaskState",
    "Template",
    "WaitState",
    "parse",
    "to_dict",
    "validate",
]
