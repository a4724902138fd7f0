"""A boto3-shaped ``redshift-data`` client over the local Data API service.

Method names, keyword arguments and responses are boto3's; failures raise
``botocore.exceptions.ClientError`` subclasses reachable as ``client.exceptions.<Code>``, with
``e.response["Error"]["Code"]`` set as botocore sets it, so ``except`` clauses written for AWS
work here.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from eltflow.dataapi.service import DataApiService
from eltflow.errors import AwsApiError
from eltflow.store.db import Database

ERROR_CODES = (
    "ValidationException",
    "ResourceNotFoundException",
    "ActiveStatementsExceededException",
    "ActiveSessionsExceededException",
    "ActiveWaitingRequestsExceededException",
    "ExecuteStatementException",
    "BatchExecuteStatementException",
    "InternalServerException",
    "QueryTimeoutException",
    "DatabaseConnectionException",
)


class _Exceptions:
    """``client.exceptions``: one ClientError subclass per error code of the service."""

    def __init__(self) -> None:
        self._by_code: dict[str, type[ClientError]] = {
            code: type(code, (ClientError,), {}) for code in ERROR_CODES
        }
        self.ClientError = ClientError

    def __getattr__(self, code: str) -> type[ClientError]:
        try:
            return self._by_code[code]
        except KeyError:
            raise AttributeError(code) from None

    def from_code(self, code: str) -> type[ClientError]:
        return self._by_code.get(code, ClientError)


class LocalRedshiftDataClient:
    """What ``boto3.client("redshift-data")`` offers, answered by :class:`DataApiService`."""

    def __init__(
        self, service: DataApiService, *, owns_service: bool = False, db: Database | None = None
    ) -> None:
        self.service = service
        self.exceptions = _Exceptions()
        self._owns = owns_service
        self._db = db

    def _call(self, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self.service.call(operation, kwargs)
        except AwsApiError as e:
            error_response: Any = {
                "Error": {"Code": e.code, "Message": e.message},
                "ResponseMetadata": {"HTTPStatusCode": 500 if "Internal" in e.code else 400},
            }
            raise self.exceptions.from_code(e.code)(error_response, operation) from None
        response["ResponseMetadata"] = {"HTTPStatusCode": 200, "RetryAttempts": 0}
        return response

    def execute_statement(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("ExecuteStatement", kwargs)

    def batch_execute_statement(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("BatchExecuteStatement", kwargs)

    def describe_statement(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("DescribeStatement", kwargs)

    def get_statement_result(self, **kwargs: Any) -> dict[str, Any]:
        response = self._call("GetStatementResult", kwargs)
        # On the wire blobs are base64; boto3 hands back bytes.
        for row in response["Records"]:
            for f in row:
                if "blobValue" in f:
                    f["blobValue"] = base64.b64decode(f["blobValue"])
        return response

    def get_statement_result_v2(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("GetStatementResultV2", kwargs)

    def cancel_statement(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("CancelStatement", kwargs)

    def list_statements(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("ListStatements", kwargs)

    def list_sessions(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("ListSessions", kwargs)

    def list_databases(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("ListDatabases", kwargs)

    def list_schemas(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("ListSchemas", kwargs)

    def list_tables(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("ListTables", kwargs)

    def describe_table(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("DescribeTable", kwargs)

    def can_paginate(self, operation_name: str) -> bool:
        return operation_name in (
            "get_statement_result",
            "get_statement_result_v2",
            "list_sessions",
            "list_statements",
        )

    def get_paginator(self, operation_name: str) -> _Paginator:
        methods: dict[str, Callable[..., dict[str, Any]]] = {
            "get_statement_result": self.get_statement_result,
            "get_statement_result_v2": self.get_statement_result_v2,
            "list_sessions": self.list_sessions,
            "list_statements": self.list_statements,
        }
        if operation_name not in methods:
            raise ValueError(f"Operation cannot be paginated: {operation_name}")
        return _Paginator(methods[operation_name])

    def close(self) -> None:
        if self._owns:
            self.service.close()
            if self._db is not None:
                self._db.close()

    def __enter__(self) -> LocalRedshiftDataClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Paginator:
    def __init__(self, method: Callable[..., dict[str, Any]]) -> None:
        self._method = method

    def paginate(self, **kwargs: Any) -> Any:
        token: str | None = None
        while True:
            page = self._method(**kwargs, **({"NextToken": token} if token else {}))
            yield page
            token = page.get("NextToken")
            if not token:
                return
