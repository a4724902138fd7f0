"""The local Redshift Data API service (statements, worker pool, results in the state store)."""

from __future__ import annotations

from eltflow.dataapi.factory import build_dataapi
from eltflow.dataapi.service import DataApiOptions, DataApiService

__all__ = ["DataApiOptions", "DataApiService", "build_dataapi"]
