"""Reads the console needs that the runtime service does not offer (yet).

``DescribeStateMachineForExecution`` (the definition an execution actually runs — its recorded
version, not the machine's current one, which may have moved on) and
``ListStateMachineVersions``. Both are AWS APIs; they live here over the runtime store's rows
until :class:`~eltflow.runtime.service.StatesService` grows them, and prefer the service's
method when it exists.
"""

from __future__ import annotations

from typing import Any

from eltflow.errors import AwsApiError
from eltflow.runtime import arns
from eltflow.store.rows import from_us
from eltflow.types import JSON, JSONObject

# Plain, dialect-neutral SQL with bound parameters; the table belongs to the runtime store.
_LIST_VERSIONS = (
    "SELECT version, description, created_us FROM sfn_versions "
    "WHERE machine_name = :name ORDER BY version DESC LIMIT :limit"
)


def _iso(us: int | None) -> str | None:
    return None if us is None else from_us(us).isoformat()


def describe_state_machine_for_execution(app: Any, execution_arn: str) -> JSONObject:
    native = getattr(app.service, "describe_state_machine_for_execution", None)
    if native is not None:
        out: JSONObject = native(execution_arn=execution_arn)
        return out
    arns.parse_execution_arn(execution_arn)
    row = app.store.get_execution_by_arn(execution_arn)
    if row is None:
        raise AwsApiError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{execution_arn}'")
    version = app.store.get_version(row.version_id)
    if version is None:  # the version row is referenced by a foreign key: not expected
        raise AwsApiError(
            "StateMachineDoesNotExist", f"The definition of '{execution_arn}' is gone"
        )
    machine = app.store.get_machine(row.machine_name)
    described: JSONObject = {
        "stateMachineArn": arns.machine_arn(row.machine_name),
        "name": row.machine_name,
        "definition": version.definition,
        "roleArn": machine.role_arn if machine is not None else arns.DEFAULT_ROLE_ARN,
        "updateDate": _iso(version.created_us),
        "revisionId": str(version.id),
        "stateMachineVersionArn": arns.version_arn(row.machine_name, version.version),
    }
    return described


def list_state_machine_versions(app: Any, state_machine_arn: str, limit: int = 100) -> JSONObject:
    native = getattr(app.service, "list_state_machine_versions", None)
    if native is not None:
        out: JSONObject = native(state_machine_arn=state_machine_arn)
        return out
    name = arns.machine_name(state_machine_arn)
    with app.db.transaction() as conn:
        rows = conn.execute(_LIST_VERSIONS, {"name": name, "limit": limit})
    versions: list[JSON] = [
        {
            "stateMachineVersionArn": arns.version_arn(name, int(r["version"])),
            "version": int(r["version"]),
            "description": r["description"],
            "creationDate": _iso(int(r["created_us"])),
        }
        for r in rows
    ]
    return {"stateMachineVersions": versions}
