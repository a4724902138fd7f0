"""``arn:aws:states:::aws-sdk:redshiftdata:<action>``: the Redshift Data API as Task states.

Parameters and results have the API's PascalCase shapes (timestamps as ISO-8601 strings, as
Step Functions serialises SDK responses). A failed call raises ``StatesError`` named
``RedshiftData.<ExceptionName>`` (``RedshiftData.ValidationException``...), which Retry and
Catch match as on AWS. There is no ``.sync`` for the Data API, as on AWS: definitions poll with
DescribeStatement in a Wait/Choice loop.

Submissions are checkpointed: once ExecuteStatement/BatchExecuteStatement returns, its response
is recorded through ``TaskRequest.checkpoint``; a task resumed after a crash with that record
returns it instead of submitting the SQL a second time — unless the local Data API says the
statement died with the process that ran it and its server kept nothing of it (it ran in the
worker that crashed), when the SQL is submitted again, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from eltflow.errors import AwsApiError, StatesError
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.types import JSON

PREFIX = "arn:aws:states:::aws-sdk:redshiftdata:"
ACTIONS: dict[str, str] = {
    "executeStatement": "ExecuteStatement",
    "batchExecuteStatement": "BatchExecuteStatement",
    "describeStatement": "DescribeStatement",
    "getStatementResult": "GetStatementResult",
    "getStatementResultV2": "GetStatementResultV2",
    "cancelStatement": "CancelStatement",
    "listStatements": "ListStatements",
    "listSessions": "ListSessions",
    "listDatabases": "ListDatabases",
    "listSchemas": "ListSchemas",
    "listTables": "ListTables",
    "describeTable": "DescribeTable",
}
_SUBMITS = {"ExecuteStatement", "BatchExecuteStatement"}


def to_json(value: Any) -> JSON:
    """A service response as JSON: datetimes become ISO-8601 UTC strings with milliseconds."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode("ascii")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class RedshiftDataIntegration:
    """The Task integration for every ``aws-sdk:redshiftdata`` action."""

    def __init__(self, service: Any) -> None:
        self.service = service  # anything with call(action, request) -> dict

    def __call__(self, request: TaskRequest) -> JSON:
        action_name = request.resource[len(PREFIX) :] if request.resource.startswith(PREFIX) else ""
        action = ACTIONS.get(action_name)
        if action is None:
            raise StatesError(
                "States.Runtime",
                f"Resource {request.resource!r}: the Redshift Data API action {action_name!r} "
                f"is not supported locally (supported: {', '.join(sorted(ACTIONS))})",
            )
        params = request.parameters if request.parameters is not None else {}
        if not isinstance(params, dict):
            raise StatesError(
                "RedshiftData.ValidationException",
                f"The parameters of {action_name} must be a JSON object, "
                f"got {type(params).__name__}",
            )
        recorded = request.recorded
        # Re-attach: this task already submitted its SQL. Unless its statement died with the
        # process that ran it and nothing of it was kept: then submit it again (below), once.
        if (
            action in _SUBMITS
            and isinstance(recorded, dict)
            and "Id" in recorded
            and not self._lost(str(recorded["Id"]))
        ):
            return recorded
        try:
            response = self.service.call(action, params)
        except AwsApiError as e:
            raise StatesError(f"RedshiftData.{e.code}", e.message) from e
        out = to_json(response)
        if action in _SUBMITS and request.checkpoint is not None:
            request.checkpoint(out)
        return out

    def _lost(self, statement_id: str) -> bool:
        """Whether the statement this task submitted before a crash died unapplied (the local
        Data API can tell: ``DataApiService.lost_with_its_process``; a real one runs it on)."""
        lost = getattr(self.service, "lost_with_its_process", None)
        return bool(lost(statement_id)) if callable(lost) else False


def register(registry: Registry, service: Any) -> None:
    """Serve every ``arn:aws:states:::aws-sdk:redshiftdata:*`` resource with ``service``."""
    registry.add_prefix(PREFIX, RedshiftDataIntegration(service))
