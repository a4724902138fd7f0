"""``build_dataapi``: the one place a Data API service is assembled from settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eltflow.clock import Clock
from eltflow.config import CONFIG_FILE, Settings
from eltflow.dataapi.service import DataApiOptions, DataApiService
from eltflow.errors import ConfigError
from eltflow.store.db import Database
from eltflow.store.migrate import migrate
from eltflow.warehouse.directory import WarehouseDirectory
from eltflow.warehouse.s3local import LocalObjects


def options_from(section: Mapping[str, Any]) -> DataApiOptions:
    """``[dataapi]`` in eltflow.toml: max_workers, page_rows, max_active, max_result_bytes,
    max_sessions, heartbeat_seconds, drain_seconds (all optional)."""
    values: dict[str, Any] = {}
    for key in ("max_workers", "page_rows", "max_active", "max_result_bytes", "max_sessions"):
        if key in section:
            value = section[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{CONFIG_FILE}: [dataapi] {key} must be a positive integer")
            values[key] = value
    if "heartbeat_seconds" in section:
        beat = section["heartbeat_seconds"]
        if isinstance(beat, bool) or not isinstance(beat, int | float) or beat <= 0:
            raise ConfigError(
                f"{CONFIG_FILE}: [dataapi] heartbeat_seconds must be a positive number"
            )
        values["heartbeat_seconds"] = float(beat)
    if "drain_seconds" in section:
        drain = section["drain_seconds"]
        if isinstance(drain, bool) or not isinstance(drain, int | float) or drain < 0:
            raise ConfigError(f"{CONFIG_FILE}: [dataapi] drain_seconds must be 0 or more")
        values["drain_seconds"] = float(drain)
    return DataApiOptions(**values)


def build_dataapi(
    settings: Settings,
    db: Database,
    clock: Clock | None = None,
    s3: LocalObjects | None = None,
    *,
    liveness_clock: Clock | None = None,
) -> DataApiService:
    """A ready service: migrations applied, warehouses resolved from ``[warehouses.*]``, and
    statements orphaned by dead processes (expired heartbeats) marked FAILED. ``s3``: where
    COPY and UNLOAD find objects (the app's S3 service).

    ``liveness_clock`` (wall time by default) dates heartbeats and decides which are expired."""
    migrate(db)
    service = DataApiService(
        db,
        WarehouseDirectory(settings, s3),
        clock=clock,
        options=options_from(settings.section("dataapi")),
        liveness_clock=liveness_clock,
    )
    service.recover()
    return service
