"""``[tables.<Name>]`` in eltflow.toml, and the factory the composition root calls.

[tables.JobAudit]
partition_key = "JobID"          # required
partition_key_type = "S"         # S (default), N or B
sort_key = "RunAt"               # optional
sort_key_type = "S"
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from typing import Any

from eltflow.clock import Clock
from eltflow.config import CONFIG_FILE, Settings
from eltflow.errors import AwsApiError, ConfigError
from eltflow.items.service import DynamoDB
from eltflow.items.storage import ItemStore, TableSpec
from eltflow.store.db import Database

_KEY_TYPES = ("S", "N", "B")


def table_specs(settings: Settings) -> list[TableSpec]:
    """The tables declared in ``[tables.*]``, validated (errors name the key)."""
    specs = []
    for name, body in settings.section("tables").items():
        where = f"{CONFIG_FILE}: [tables.{name}]"
        if not isinstance(body, Mapping):
            raise ConfigError(f"{where} must be a table")
        specs.append(_spec(name, body, where))
    return specs


def _spec(name: str, body: Mapping[str, Any], where: str) -> TableSpec:
    # Unknown keys were refused when the file was read (eltflow.config.SCHEMA).
    if not 3 <= len(name) <= 255 or not re.fullmatch(r"[a-zA-Z0-9_.-]+", name):
        raise ConfigError(
            f"{where}: a table name is 3-255 characters of letters, digits, '_', '-' and '.'"
        )
    pk = body.get("partition_key")
    if not isinstance(pk, str) or not pk:
        raise ConfigError(f"{where}: partition_key is required (the attribute name, e.g. JobID)")
    sk = body.get("sort_key")
    if sk is not None and (not isinstance(sk, str) or not sk):
        raise ConfigError(f"{where}: sort_key must be an attribute name")
    pt = body.get("partition_key_type", "S")
    st = body.get("sort_key_type", "S") if sk else None
    for key, t in (("partition_key_type", pt), ("sort_key_type", st)):
        if t is not None and t not in _KEY_TYPES:
            raise ConfigError(f"{where}: {key} must be one of S, N, B (got {t!r})")
    return TableSpec(name=name, partition_key=pk, partition_type=pt, sort_key=sk, sort_type=st)


def build_items(settings: Settings, db: Database, clock: Clock | None = None) -> DynamoDB:
    """The local DynamoDB service; tables declared in config are created if missing.

    Needs the store migrated first (``eltflow.store.migrate.migrate(db)``).
    """
    service = DynamoDB(ItemStore(db), clock)
    for spec in table_specs(settings):
        if service.store.get_table(spec.name) is None:
            # Another worker may create it at the same moment: that is fine.
            with contextlib.suppress(AwsApiError):
                service.store.create_table(spec, service.clock.now())
    return service
