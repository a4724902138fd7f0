"""Which engine answers a ClusterIdentifier / WorkgroupName (and Database).

``eltflow.toml``::

    [warehouses.analytics]                 # the cluster identifier or workgroup name
    url = "postgresql://localhost/dw"      # or "duckdb:///path/dw.duckdb", or "redshift://"
    databases = { dev = "postgresql://localhost/dev" }   # optional: Database -> connection
    # redshift only: cluster_identifier / workgroup_name, region, db_user, secret_arn, database

With no ``[warehouses]`` table at all, every name reaches the default warehouse
(:attr:`Settings.warehouse_url`, the embedded DuckDB file): zero setup. Once some are
configured, an unknown name is an error, as it is on AWS.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eltflow.config import CONFIG_FILE, Settings
from eltflow.errors import ConfigError
from eltflow.warehouse.base import UnknownWarehouse, Warehouse
from eltflow.warehouse.s3local import LocalObjects


def open_warehouse(
    name: str,
    url: str,
    options: Mapping[str, Any] | None = None,
    s3_root: Path | LocalObjects | None = None,
) -> Warehouse:
    """Build the engine for one connection URL; ``s3_root`` holds the local S3 buckets (a
    folder, or the S3 service's view of them)."""
    if url.startswith("duckdb://"):
        from eltflow.warehouse.duckdb_engine import DuckDBWarehouse

        # duckdb:///abs/file.duckdb → /abs/file.duckdb; duckdb://rel.duckdb; duckdb:// → memory
        return DuckDBWarehouse(name, url[len("duckdb://") :] or ":memory:", s3_root)
    if url.startswith(("postgresql://", "postgres://")):
        from eltflow.warehouse.postgres_engine import PostgresWarehouse

        return PostgresWarehouse(name, url, s3_root)
    if url.startswith("redshift://"):
        from eltflow.warehouse.redshift_engine import RedshiftWarehouse

        return RedshiftWarehouse(name, options or {})
    raise ConfigError(
        f"{CONFIG_FILE}: warehouse '{name}' url must start with duckdb://, postgresql:// or "
        f"redshift:// (got {url!r})"
    )


class WarehouseDirectory:
    """Resolves names to engines, opening each connection URL once and sharing it."""

    def __init__(self, settings: Settings, s3: LocalObjects | None = None) -> None:
        self._default_url = settings.warehouse_url
        # The app's S3 service (COPY/UNLOAD go through its bucket and key rules), or the
        # project's bucket folders when the directory is built alone.
        self._s3_root: Path | LocalObjects = s3 if s3 is not None else settings.s3_root
        self._configured: dict[str, Mapping[str, Any]] = {}
        raw = settings.section("warehouses")
        for name, table in raw.items():
            if not isinstance(table, Mapping):
                raise ConfigError(f"{CONFIG_FILE}: [warehouses.{name}] must be a table")
            url = table.get("url")
            if not isinstance(url, str):
                raise ConfigError(f'{CONFIG_FILE}: [warehouses.{name}] needs url = "..."')
            dbs = table.get("databases", {})
            if not isinstance(dbs, Mapping) or not all(isinstance(v, str) for v in dbs.values()):
                raise ConfigError(
                    f"{CONFIG_FILE}: [warehouses.{name}] databases must map names to URLs"
                )
            self._configured[str(name)] = table
        self._open: dict[tuple[str, str], Warehouse] = {}
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return bool(self._configured)

    def names(self) -> list[str]:
        return sorted(self._configured)

    def databases(self, name: str) -> list[str]:
        """The Database names configured for ``name`` (``databases = {...}``)."""
        table = self._configured.get(name, {})
        return sorted(table.get("databases", {}))

    def resolve(self, name: str, database: str | None = None) -> Warehouse:
        """The engine for ``name`` (+ ``database``); :class:`UnknownWarehouse` if none."""
        if not self._configured:
            return self._get(name or "default", self._default_url, {})
        table = self._configured.get(name)
        if table is None:
            raise UnknownWarehouse(name)
        url = str(table["url"])
        dbs: Mapping[str, str] = table.get("databases", {})
        if database and database in dbs:
            url = dbs[database]
        return self._get(name, url, table)

    def _get(self, name: str, url: str, options: Mapping[str, Any]) -> Warehouse:
        key = (url, name if url.startswith("redshift://") else "")
        with self._lock:
            wh = self._open.get(key)
            if wh is None:
                wh = open_warehouse(name, url, options, self._s3_root)
                self._open[key] = wh
            return wh

    def close(self) -> None:
        with self._lock:
            open_, self._open = list(self._open.values()), {}
        for wh in open_:
            wh.close()
