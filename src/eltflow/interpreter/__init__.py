"""One step of execution semantics, as a pure function. See :mod:`eltflow.interpreter.protocol`.

``start`` / ``advance`` / ``redrive`` return ``(state, events, effects)``; the driver persists
the events and a snapshot (``state.to_json()``), carries out the effects and feeds outcomes back.
"""

from __future__ import annotations

from eltflow.interpreter.state import ExecutionState, Frame
from eltflow.interpreter.step import EXECUTION_TIMER, Step, advance, redrive, start

__all__ = ["EXECUTION_TIMER", "ExecutionState", "Frame", "Step", "advance", "redrive", "start"]
