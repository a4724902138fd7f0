"""The reference ELT pipeline (DESIGN.md §1): definitions, SQL and handlers as package data.

Definitions use ``${Name}`` placeholders exactly like CloudFormation's DefinitionSubstitutions,
so the same files deploy to AWS unchanged; :func:`definition` fills them from
``[pipelines.reference]`` in eltflow.toml (all keys optional).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from eltflow.asl import substitutions as substitutions_
from eltflow.config import CONFIG_FILE, Settings
from eltflow.errors import ConfigError
from eltflow.pipelines.jobs import RunHistory

VARIANTS = ("lambda", "sdk", "warehouse-lock")
LOAD_FUNCTION = "eltflow-reference-load"
HANDLER = "eltflow.pipelines.reference.handlers:load_table"
RUN_HISTORY_SCHEMA, RUN_HISTORY_TABLE = "public", "etl_run_history"  # made by sql/ddl.sql
RUN_HISTORY_SQL = (
    "SELECT execution_arn, job_id, started_at, ended_at, outcome, rows_loaded, error "
    f"FROM {RUN_HISTORY_SCHEMA}.{RUN_HISTORY_TABLE} ORDER BY started_at DESC LIMIT 200"
)


@dataclass(frozen=True, kw_only=True)
class ReferenceConfig:
    cluster: str = "eltflow-local"
    database: str = "dev"
    audit_table: str = "JobAudit"
    job_id: str = "101"
    topic_name: str = "eltflow-pipeline-events"
    lease_seconds: int = 3600
    state_machine: str = "reference-elt"

    @property
    def topic_arn(self) -> str:
        return f"arn:aws:sns:us-east-1:123456789012:{self.topic_name}"


def settings_for(settings: Settings | None) -> ReferenceConfig:
    section: Mapping[str, Any] = {}
    if settings is not None:
        pipelines = settings.section("pipelines")
        raw = pipelines.get("reference", {})
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{CONFIG_FILE}: [pipelines.reference] must be a table")
        section = raw
    # Unknown keys were refused when the file was read (eltflow.config.SCHEMA).
    return ReferenceConfig(**dict(section))


def sql_text(name: str) -> str:
    return resources.files(__name__).joinpath("sql", name).read_text(encoding="utf-8")


def sql_statements(name: str) -> list[str]:
    """The statements of a SQL file, without comments, in order."""
    lines = [ln for ln in sql_text(name).splitlines() if not ln.lstrip().startswith("--")]
    return [s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip()]


def substitutions(config: ReferenceConfig) -> dict[str, str]:
    """Values for every ``${Name}`` in the reference definitions, already JSON-ready text."""
    return {
        "AuditTable": config.audit_table,
        "ClusterId": config.cluster,
        "Database": config.database,
        "TopicArn": config.topic_arn,
        "LoadFunction": LOAD_FUNCTION,
        "LeaseSeconds": str(config.lease_seconds),
        "LoadSupplierSqls": json.dumps(sql_statements("load_supplier.sql")),
        "LoadCustomerSqls": json.dumps(sql_statements("load_customer.sql")),
        "LoadFactSqls": json.dumps(sql_statements("load_fact.sql")),
        # The warehouse-lock variant's single statements (each file holds one).
        "AcquireLockSql": sql_statements("lock_acquire.sql")[0],
        "ReleaseLockSql": sql_statements("lock_release.sql")[0],
        "MarkFailedSql": sql_statements("lock_mark_failed.sql")[0],
    }


def substitute(template: str, values: Mapping[str, str]) -> str:
    """Replace ``${Name}`` placeholders; an unknown name is an error that names it."""
    text = substitutions_.substitute(template, values)
    left = substitutions_.placeholder_names(text)
    if left:
        raise ConfigError(f"definition placeholder ${{{left[0]}}} has no value")
    return text


def definition(variant: str, config: ReferenceConfig) -> str:
    if variant not in VARIANTS:
        raise ConfigError(f"unknown pipeline variant {variant!r}; choose one of {VARIANTS}")
    template = resources.files(__name__).joinpath(
        "definitions", f"elt_{variant.replace('-', '_')}.asl.json"
    )
    return substitute(template.read_text(encoding="utf-8"), substitutions(config))


def run_history(config: ReferenceConfig) -> RunHistory:
    """Where the reference pipeline records its runs (what the Jobs page lists)."""
    return RunHistory(
        cluster=config.cluster,
        database=config.database,
        schema=RUN_HISTORY_SCHEMA,
        table=RUN_HISTORY_TABLE,
        sql=RUN_HISTORY_SQL,
    )
