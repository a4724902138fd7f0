"""eltflow: run ELT pipelines written in Amazon States Language, locally or on AWS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from eltflow.runtime.local import ExecutionResult, execute

__all__ = ["ExecutionResult", "__version__", "execute"]


def __getattr__(name: str) -> Any:
    # Imported on first use so that ``import eltflow`` (and so ``eltflow --help``) stays fast.
    if name in ("execute", "ExecutionResult"):
        from eltflow.runtime import local

        return getattr(local, name)
    raise AttributeError(f"module 'eltflow' has no attribute {name!r}")
