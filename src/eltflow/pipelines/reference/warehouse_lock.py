"""Setup for the warehouse-lock variant: the audit lock is a row of ``public.etl_job_audit``.

The seed's suggested extension: no item table at all, the warehouse is the audit store. The
definition (``elt_warehouse_lock.asl.json``) takes the lock with one conditional UPDATE through
the Data API and reads ``ResultRows`` to know whether it won. Here: the table and the job's
row (``audit_lock_ddl.sql``), the state machine, and reading the row back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eltflow.errors import AwsApiError
from eltflow.pipelines import jobs
from eltflow.pipelines.host import PipelineHost
from eltflow.pipelines.jobs import wait_statement
from eltflow.pipelines.reference import ReferenceConfig, definition, sql_statements
from eltflow.pipelines.reference.project import run_batch
from eltflow.warehouse.translate import placeholders

VARIANT = "warehouse-lock"
AUDIT_TABLE = "public.etl_job_audit"


def machine_name(config: ReferenceConfig) -> str:
    return f"{config.state_machine}-{VARIANT}"


def execute(
    dataapi: Any,
    config: ReferenceConfig,
    sql: str,
    params: Mapping[str, str],
    timeout: float = 60,
) -> dict[str, Any]:
    """Run one statement with bound parameters and wait; returns its DescribeStatement.

    Only the parameters the statement names are sent: the Data API rejects unused ones.
    """
    used = placeholders(sql)
    missing = [n for n in used if n not in params]
    if missing:
        raise ValueError(f"no value for parameter(s) {missing} of: {sql[:120]}")
    request: dict[str, Any] = {
        "Sql": sql,
        "ClusterIdentifier": config.cluster,
        "Database": config.database,
    }
    if used:
        request["Parameters"] = [{"name": n, "value": params[n]} for n in used]
    sid = dataapi.call("ExecuteStatement", request)["Id"]
    return wait_statement(dataapi, sid, timeout)


def ensure_audit(dataapi: Any, config: ReferenceConfig) -> None:
    """Create ``public.etl_job_audit`` and the job's row (``Ready``) unless they exist."""
    for sql in sql_statements("audit_lock_ddl.sql"):
        execute(dataapi, config, sql, {"job_id": config.job_id})


def prepare(app: PipelineHost, config: ReferenceConfig) -> dict[str, Any]:
    """Targets, the audit table and row, and the state machine (created or updated)."""
    dataapi = app.dataapi
    run_batch(dataapi, config, sql_statements("ddl.sql"))
    ensure_audit(dataapi, config)
    text = definition(VARIANT, config)
    name = machine_name(config)
    arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"
    try:
        out = app.service.describe_state_machine(state_machine_arn=arn)
        if out.get("definition") != text:
            app.service.update_state_machine(state_machine_arn=arn, definition=text)
    except AwsApiError as e:
        if e.code != "StateMachineDoesNotExist":
            raise
        app.service.create_state_machine(name=name, definition=text)
    return {"stateMachineArn": arn}


def lock_row(dataapi: Any, config: ReferenceConfig) -> dict[str, Any] | None:
    """The job's audit row, or None when it does not exist."""
    # jobs.query takes no parameters; the job id is read back from the row set instead of
    # being pasted into SQL.
    rows = jobs.query(
        dataapi,
        f"SELECT job_id, job_state, job_start, job_end, lease_until, run_arn, job_error "
        f"FROM {AUDIT_TABLE}",
        cluster=config.cluster,
        database=config.database,
    )
    return next((r for r in rows if str(r["job_id"]) == config.job_id), None)
