"""eltflow: run ELT pipelines written in Amazon States Language, locally or on AWS."""

from __future__ import annotations

__version__ = "0.1.0"

from eltflow.runtime.local import ExecutionResult, execute

__all__ = ["ExecutionResult", "__version__", "execute"]
