"""Settings from ``eltflow.toml`` (all keys optional) and the environment.

Each subsystem reads its own table (``[warehouses.*]``, ``[tables.*]``, ``[lambda.functions]``,
``[topics.*]``, ``[schedules.*]``...) from :attr:`Settings.raw`, validating it where it is used
and raising :class:`~eltflow.errors.ConfigError` that names the key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eltflow.errors import ConfigError

CONFIG_FILE = "eltflow.toml"


@dataclass(frozen=True, kw_only=True)
class Settings:
    project_dir: Path
    state_url: str
    warehouse_url: str
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.project_dir / ".eltflow"

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.raw.get(name, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"{CONFIG_FILE}: [{name}] must be a table")
        return value


def load_settings(
    project_dir: Path | str | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read ``eltflow.toml`` in ``project_dir`` (default: ``ELTFLOW_HOME`` or the cwd)."""
    env = os.environ if environ is None else environ
    # Absolute, so the store and warehouse URLs built from it mean the same file to every
    # component (and to a worker started from another folder).
    base = Path(project_dir or env.get("ELTFLOW_HOME") or Path.cwd()).resolve()
    raw: dict[str, Any] = {}
    path = base / CONFIG_FILE
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: {e}") from e
    for key in ("state", "warehouse"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{path}: '{key}' must be a string URL or path")
    data = base / ".eltflow"
    state = env.get("ELTFLOW_STATE") or raw.get("state") or f"sqlite:///{data / 'state.db'}"
    warehouse = (
        env.get("ELTFLOW_WAREHOUSE")
        or raw.get("warehouse")
        # duckdb://<path>, as the warehouse directory reads it; the path is absolute already.
        or f"duckdb://{data / 'warehouse.duckdb'}"
    )
    return Settings(project_dir=base, state_url=state, warehouse_url=warehouse, raw=raw)
