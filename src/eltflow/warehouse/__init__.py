"""SQL engines behind one interface (DuckDB, PostgreSQL, real Redshift) that run Redshift SQL.

See :mod:`eltflow.warehouse.base` for the interface, :mod:`eltflow.warehouse.translate` for
the Redshift → DuckDB/PostgreSQL translation and :mod:`eltflow.warehouse.directory` for how
``[warehouses.*]`` in eltflow.toml picks an engine. Engines and sqlglot load lazily.
"""

from __future__ import annotations

from eltflow.warehouse.base import (
    Column,
    RunControl,
    SqlError,
    StatementCancelled,
    StatementResult,
    UnknownWarehouse,
    Warehouse,
)
from eltflow.warehouse.directory import WarehouseDirectory, open_warehouse

__all__ = [
    "Column",
    "RunControl",
    "SqlError",
    "StatementCancelled",
    "StatementResult",
    "UnknownWarehouse",
    "Warehouse",
    "WarehouseDirectory",
    "open_warehouse",
]
