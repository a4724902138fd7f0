"""Inputs for tests that drive the pure interpreter (start / advance) without a runtime."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from eltflow.asl.model import StateMachine
from eltflow.asl.parser import parse
from eltflow.interpreter.protocol import ExecutionContext

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def context() -> ExecutionContext:
    """The context of execution ``e`` of state machine ``m``, started at ``T0``."""
    return ExecutionContext(
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:e",
        execution_name="e",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
        state_machine_name="m",
        start_time=T0,
        seed="seed",
    )


def task_machine(resource: str, **task: Any) -> StateMachine:
    """A state machine of one Task state ``T`` on ``resource`` (``task``: its other fields)."""
    return parse(
        {
            "StartAt": "T",
            "States": {"T": {"Type": "Task", "Resource": resource, **task, "End": True}},
        }
    )
