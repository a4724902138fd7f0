"""Setting up a project for the reference pipeline: config, staging data, targets, audit item.

Everything here is idempotent, so ``eltflow demo`` can run again and again on the same folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eltflow.config import CONFIG_FILE, Settings
from eltflow.errors import AwsApiError, EltflowError
from eltflow.pipelines import jobs, tpch
from eltflow.pipelines.host import PipelineHost, needed
from eltflow.pipelines.jobs import wait_statement
from eltflow.pipelines.reference import (
    HANDLER,
    LOAD_FUNCTION,
    ReferenceConfig,
    definition,
    sql_statements,
)
from eltflow.warehouse import bulk

DEFAULT_TOML = f"""\
# eltflow project written by `eltflow demo`: the reference ELT pipeline. Edit freely.
# For a shared setup, point both stores at PostgreSQL (or set ELTFLOW_STATE / ELTFLOW_WAREHOUSE):
# state = "postgresql://postgres@127.0.0.1:5432/eltflow"
# warehouse = "postgresql://postgres@127.0.0.1:5432/eltflow"

[pipelines.reference]
cluster = "eltflow-local"       # ClusterIdentifier in the definitions
database = "dev"
audit_table = "JobAudit"
job_id = "101"

[tables.JobAudit]
partition_key = "JobID"

[lambda.functions]
{LOAD_FUNCTION} = {{ handler = "{HANDLER}", timeout = 900 }}

[topics.eltflow-pipeline-events]
subscriptions = [{{ protocol = "file", endpoint = ".eltflow/notifications.jsonl" }}]
"""


STACK_TOML = """\
# eltflow project written by `eltflow demo --from-template`: the reference ELT pipeline deployed
# from its own CloudFormation template (eltflow/pipelines/reference/template.yaml), which makes
# the audit table, the topic, the SQL function and the state machine. Edit freely.

[pipelines.reference]
cluster = "eltflow-local"       # the stack's RedshiftClusterIdentifier
database = "dev"                # its DatabaseName
audit_table = "JobAudit"
job_id = "101"

[lambda]
# The stack's SQL function is plain boto3 (as in AWS Lambda): it reaches eltflow through the
# AWS_ENDPOINT_URL eltflow gives process-isolated handlers.
isolation = "process"
workers = 2
"""


def ensure_config(project_dir: Path, *, from_template: bool = False) -> bool:
    """Write a commented eltflow.toml for the reference pipeline unless one exists (for the
    stack deployed from the template: no tables, functions or topics, the stack makes them)."""
    path = project_dir / CONFIG_FILE
    if path.exists():
        return False
    project_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(STACK_TOML if from_template else DEFAULT_TOML, encoding="utf-8")
    return True


@dataclass(frozen=True)
class StagingReport:
    seconds_generate: float
    seconds_load: float
    rows: dict[str, int]


def load_staging(settings: Settings, config: ReferenceConfig, scale_factor: float) -> StagingReport:
    """Generate TPC-H at ``scale_factor`` (cached per scale) and bulk-load the staging schema."""
    from eltflow.warehouse.directory import WarehouseDirectory

    t0 = time.perf_counter()
    files = tpch.generate(settings.data_dir / "tpch" / f"sf{scale_factor:g}", scale_factor)
    t1 = time.perf_counter()
    url = warehouse_url(WarehouseDirectory(settings), settings, config)
    rows = {table: bulk.load_parquet(url, "staging", table, path) for table, path in files.items()}
    return StagingReport(t1 - t0, time.perf_counter() - t1, rows)


def warehouse_url(directory: Any, settings: Settings, config: ReferenceConfig) -> str:
    """The connection URL the pipeline's cluster name resolves to."""
    if not directory.configured:
        return settings.warehouse_url
    table = settings.section("warehouses").get(config.cluster)
    if table is None:
        raise EltflowError(
            f"{CONFIG_FILE}: [pipelines.reference] cluster {config.cluster!r} is not one of "
            f"the configured warehouses {directory.names()}"
        )
    url = str(table["url"])
    databases = table.get("databases", {})
    return str(databases.get(config.database, url))


def create_targets(app: PipelineHost, config: ReferenceConfig) -> None:
    """The pipeline's target tables and run history (``sql/ddl.sql``, idempotent): what a
    deploy to AWS runs once on the cluster before the first start."""
    run_batch(app.dataapi, config, sql_statements("ddl.sql"))


def prepare(app: PipelineHost, config: ReferenceConfig) -> dict[str, Any]:
    """Targets, the audit item (Ready), and the state machine (created or updated)."""
    dataapi = app.dataapi
    run_batch(dataapi, config, sql_statements("ddl.sql"))
    created = jobs.create_job(needed(app.items, "dynamodb"), config.audit_table, config.job_id)
    text = definition("lambda", config)
    arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{config.state_machine}"
    try:
        out = app.service.describe_state_machine(state_machine_arn=arn)
        if out.get("definition") != text:
            app.service.update_state_machine(state_machine_arn=arn, definition=text)
    except AwsApiError as e:
        if e.code != "StateMachineDoesNotExist":
            raise
        app.service.create_state_machine(name=config.state_machine, definition=text)
    return {"stateMachineArn": arn, "jobCreated": created}


def run_batch(dataapi: Any, config: ReferenceConfig, sqls: list[str], timeout: float = 120) -> None:
    """Run statements as one Data API batch and wait for it; errors carry the SQL error."""
    sid = dataapi.call(
        "BatchExecuteStatement",
        {"Sqls": sqls, "ClusterIdentifier": config.cluster, "Database": config.database},
    )["Id"]
    wait_statement(dataapi, sid, timeout)


def counts(dataapi: Any, config: ReferenceConfig) -> dict[str, int]:
    from eltflow.pipelines.reference import sql_text

    sql = (
        "\n".join(ln for ln in sql_text("validate.sql").splitlines() if not ln.startswith("--"))
        .rstrip()
        .rstrip(";")
    )
    rows = jobs.query(dataapi, sql, cluster=config.cluster, database=config.database)
    return {str(r["table_name"]): int(str(r["row_count"])) for r in rows}


Printer = Callable[[str], None]
