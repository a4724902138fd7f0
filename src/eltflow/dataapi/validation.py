"""Request checks with the Data API's error names and botocore-style messages.

Every failure is an :class:`~eltflow.errors.AwsApiError` whose ``code`` is the exception name
in botocore's ``redshift-data`` model (``ValidationException``...).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from eltflow.errors import AwsApiError

ID_PATTERN = re.compile(r"[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\d+)?")
_CLUSTER = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_WORKGROUP = re.compile(r"[a-z0-9-]{3,63}|arn:aws[a-z-]*:redshift-serverless:.+:workgroup/.+")
_PARAM_NAME = re.compile(r"[0-9a-zA-Z_]+")
MAX_SQL_BYTES = 100 * 1024  # "A statement can be at most 100 KB" (Data API limits)
MAX_BATCH = 40

ALLOWED: dict[str, frozenset[str]] = {
    "ExecuteStatement": frozenset(
        {
            "Sql",
            "ClusterIdentifier",
            "SecretArn",
            "DbUser",
            "Database",
            "WithEvent",
            "StatementName",
            "Parameters",
            "WorkgroupName",
            "ClientToken",
            "ResultFormat",
            "SessionKeepAliveSeconds",
            "SessionId",
            "WaitTimeSeconds",
        }
    ),
    "BatchExecuteStatement": frozenset(
        {
            "Sqls",
            "ClusterIdentifier",
            "SecretArn",
            "DbUser",
            "Database",
            "WithEvent",
            "StatementName",
            "Parameters",
            "WorkgroupName",
            "ClientToken",
            "ResultFormat",
            "SessionKeepAliveSeconds",
            "SessionId",
            "ExecutionMode",
            "WaitTimeSeconds",
        }
    ),
    "DescribeStatement": frozenset({"Id", "WaitTimeSeconds"}),
    "GetStatementResult": frozenset({"Id", "NextToken", "WaitTimeSeconds"}),
    "GetStatementResultV2": frozenset({"Id", "NextToken", "WaitTimeSeconds"}),
    "CancelStatement": frozenset({"Id"}),
    "ListDatabases": frozenset(
        {
            "ClusterIdentifier",
            "Database",
            "SecretArn",
            "DbUser",
            "NextToken",
            "MaxResults",
            "WorkgroupName",
        }
    ),
    "ListSchemas": frozenset(
        {
            "ClusterIdentifier",
            "SecretArn",
            "DbUser",
            "Database",
            "ConnectedDatabase",
            "SchemaPattern",
            "NextToken",
            "MaxResults",
            "WorkgroupName",
        }
    ),
    "ListTables": frozenset(
        {
            "ClusterIdentifier",
            "SecretArn",
            "DbUser",
            "Database",
            "ConnectedDatabase",
            "SchemaPattern",
            "TablePattern",
            "NextToken",
            "MaxResults",
            "WorkgroupName",
        }
    ),
    "DescribeTable": frozenset(
        {
            "ClusterIdentifier",
            "SecretArn",
            "DbUser",
            "Database",
            "ConnectedDatabase",
            "Schema",
            "Table",
            "NextToken",
            "MaxResults",
            "WorkgroupName",
        }
    ),
    "ListSessions": frozenset(
        {
            "NextToken",
            "MaxResults",
            "SessionId",
            "Status",
            "RoleLevel",
            "ClusterIdentifier",
            "WorkgroupName",
            "Database",
        }
    ),
    "ListStatements": frozenset(
        {
            "NextToken",
            "MaxResults",
            "StatementName",
            "Status",
            "RoleLevel",
            "Database",
            "ClusterIdentifier",
            "WorkgroupName",
        }
    ),
}


def invalid(message: str) -> AwsApiError:
    return AwsApiError("ValidationException", message)


def _constraint(value: Any, field: str, rule: str) -> AwsApiError:
    return invalid(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: {rule}"
    )


def check_keys(action: str, request: Mapping[str, Any]) -> None:
    allowed = ALLOWED[action]
    unknown = sorted(k for k in request if k not in allowed)
    if unknown:
        raise invalid(
            f'Unknown parameter in input: "{unknown[0]}", must be one of: '
            + ", ".join(sorted(allowed))
        )


def require_str(request: Mapping[str, Any], key: str, field: str) -> str:
    value = request.get(key)
    if value is None:
        raise invalid(
            f"1 validation error detected: Value null at '{field}' failed to satisfy "
            "constraint: Member must not be null"
        )
    if not isinstance(value, str):
        raise invalid(f"Invalid type for parameter {key}, value: {value!r}, valid types: str")
    return value


def optional_str(request: Mapping[str, Any], key: str) -> str | None:
    value = request.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid(f"Invalid type for parameter {key}, value: {value!r}, valid types: str")
    return value


def statement_id(request: Mapping[str, Any]) -> str:
    sid = require_str(request, "Id", "id")
    if not ID_PATTERN.fullmatch(sid):
        raise _constraint(
            sid, "id", f"Member must satisfy regular expression pattern: {ID_PATTERN.pattern}"
        )
    return sid


def sql_text(sql: str, field: str) -> str:
    if not sql.strip():
        raise invalid(f"{field} must not be empty")
    if len(sql.encode("utf-8")) > MAX_SQL_BYTES:
        raise invalid(
            f"The SQL statement at '{field}' exceeds the maximum size of {MAX_SQL_BYTES} bytes"
        )
    return sql


def target(request: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(ClusterIdentifier, WorkgroupName): exactly one must be given."""
    cluster = optional_str(request, "ClusterIdentifier")
    workgroup = optional_str(request, "WorkgroupName")
    if not cluster and not workgroup:
        raise invalid("Either ClusterIdentifier or WorkgroupName needs to be specified.")
    if cluster and workgroup:
        raise invalid("ClusterIdentifier and WorkgroupName cannot both be specified.")
    if cluster and (len(cluster) > 63 or not _CLUSTER.fullmatch(cluster)):
        raise _constraint(
            cluster,
            "clusterIdentifier",
            f"Member must satisfy regular expression pattern: {_CLUSTER.pattern}",
        )
    if workgroup and not _WORKGROUP.fullmatch(workgroup):
        raise _constraint(
            workgroup, "workgroupName", "Member must satisfy regular expression pattern"
        )
    return cluster, workgroup


def parameters(request: Mapping[str, Any]) -> list[dict[str, str]] | None:
    """Named parameters ``[{name, value}]``: names unique and well formed, values non-empty."""
    raw = request.get("Parameters")
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise _constraint(raw, "parameters", "Member must have length greater than or equal to 1")
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, p in enumerate(raw, start=1):
        if not isinstance(p, Mapping) or set(p) != {"name", "value"}:
            raise invalid(f"Parameters[{i}] must be an object with exactly 'name' and 'value'")
        name, value = p["name"], p["value"]
        if not isinstance(name, str) or not _PARAM_NAME.fullmatch(name):
            raise _constraint(
                name,
                f"parameters.{i}.member.name",
                "Member must satisfy regular expression pattern: [0-9a-zA-Z_]+",
            )
        if not isinstance(value, str):
            raise invalid(
                f"Invalid type for parameter Parameters[{i}].value, value: {value!r}, "
                "valid types: str"
            )
        if value == "":
            raise _constraint(
                value,
                f"parameters.{i}.member.value",
                "Member must have length greater than or equal to 1",
            )
        if name in seen:
            raise invalid(f"Parameter '{name}' is specified more than once.")
        seen.add(name)
        out.append({"name": name, "value": value})
    return out


SESSION_PATTERN = re.compile(r"[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}")


def session_id(request: Mapping[str, Any]) -> str | None:
    """``SessionId``: a UUID (botocore's shape, without a sub-statement suffix)."""
    sid = optional_str(request, "SessionId")
    if sid is not None and not SESSION_PATTERN.fullmatch(sid):
        raise _constraint(
            sid,
            "sessionId",
            f"Member must satisfy regular expression pattern: {SESSION_PATTERN.pattern}",
        )
    return sid


def result_format(request: Mapping[str, Any]) -> str:
    """``ResultFormat``: JSON (the default) or CSV, as botocore's ``ResultFormatString``."""
    value = request.get("ResultFormat")
    if value is None:
        return "JSON"
    if value not in ("JSON", "CSV"):
        raise _constraint(value, "resultFormat", "Member must satisfy enum value set: [JSON, CSV]")
    return str(value)


def int_in(request: Mapping[str, Any], key: str, field: str, lo: int, hi: int) -> int | None:
    value = request.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"Invalid type for parameter {key}, value: {value!r}, valid types: int")
    if value < lo:
        raise _constraint(value, field, f"Member must have value greater than or equal to {lo}")
    if value > hi:
        raise _constraint(value, field, f"Member must have value less than or equal to {hi}")
    return value


def encode_token(value: Mapping[str, Any]) -> str:
    """An opaque NextToken (base64 JSON), read back by :func:`decode_token`."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def decode_token(token: Any, key: str) -> Any:
    """The value under ``key`` of a token from :func:`encode_token`; None for no token.

    An empty string is "no token" (the first page), as the Data API takes it: SDK loops that
    start with ``NextToken=''`` work against AWS.
    """
    if token is None or token == "":
        return None
    if not isinstance(token, str):
        raise invalid("The NextToken is invalid.")
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError):
        raise invalid("The NextToken is invalid.") from None
    if not isinstance(data, dict) or key not in data:
        raise invalid("The NextToken is invalid.")
    return data[key]
