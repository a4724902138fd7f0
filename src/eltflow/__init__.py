"""eltflow: run ELT pipelines written in Amazon States Language, locally or on AWS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from eltflow.runtime.local import ExecutionResult, execute
    from eltflow.runtime.teststate import TestStateResult, test_state

__all__ = ["ExecutionResult", "TestStateResult", "__version__", "execute", "test_state"]


def __getattr__(name: str) -> Any:
    # Imported on first use so that ``import eltflow`` (and so ``eltflow --help``) stays fast.
    if name in ("execute", "ExecutionResult"):
        from eltflow.runtime import local

        value = getattr(local, name)
        # Bound here, so the next ``eltflow.execute`` is a plain attribute read (this hook
        # and its import statement were ~4% of a 10-Pass chain's execute).
        globals()[name] = value
        return value
    if name in ("test_state", "TestStateResult"):
        from eltflow.runtime import teststate

        return getattr(teststate, name)
    raise AttributeError(f"module 'eltflow' has no attribute {name!r}")
