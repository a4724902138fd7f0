"""A SQL load as one Lambda call: submit SQL through the Redshift Data API, wait for it, return
the statement's result summary; a statement that fails raises ``RedshiftData.StatementFailed``.

Plain Python and boto3 only (no eltflow import), so the same file runs in AWS Lambda and here:
``eltflow export cloudformation`` packages it as ``redshift_sql.py`` (handler
``redshift_sql.handler``), and locally it is ``eltflow.lambdas.redshift_sql:handler``, whose
boto3 clients reach eltflow through ``AWS_ENDPOINT_URL`` (process-isolated handlers get it from
``eltflow serve``, ``worker`` and ``start --wait``).

Step Functions names a Lambda task's error after the exception class (AWS's Python runtime
reports ``errorType = type(e).__name__``), so the classes below are named with a service-style
prefix: a Task's ``Retry``/``Catch`` on ``RedshiftData.StatementFailed`` sees SQL errors, and
the Cause (the Lambda error payload as JSON) carries the statement's ``Error`` text as its
``errorMessage``.

The event (keys as the Data API spells them; an event key wins over its environment variable):

- ``ClusterIdentifier`` (``REDSHIFT_CLUSTER_IDENTIFIER``) or ``WorkgroupName``
  (``REDSHIFT_WORKGROUP_NAME``); ``Database`` (``REDSHIFT_DATABASE``, default ``dev``);
  ``DbUser`` (``REDSHIFT_DB_USER``) or ``SecretArn`` (``REDSHIFT_SECRET_ARN``).
- The SQL, one of: ``Sql`` (a text, or a list of statements run as one batch), ``SqlFile`` (a
  file in the function's package — found under ``LAMBDA_TASK_ROOT``, then the handlers' import
  path, as Python finds a module — or an S3 object ``s3://bucket/key``). A text with several
  statements runs as one BatchExecuteStatement (one transaction).
- ``Parameters``: the Data API's ``[{"name": ..., "value": ...}]``, or ``{"name": value}``;
  bound by the Data API (``:name`` in the SQL), never pasted into it.
- ``StatementName``; ``IncludeRecords`` (the last statement's rows as ``Records``, column name
  → value, at most ``MaxRecords``, default 1000).

The result: ``Id``, ``Status``, ``RowsAffected`` (the last statement's ``ResultRows``: rows
inserted/updated/deleted, or selected), ``HasResultSet``, ``Statements`` (how many ran),
``DurationMs``, and ``Records``/``ColumnNames``/``RecordsTruncated`` when asked for.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import NoCredentialsError, NoRegionError

FIRST_POLL_SECONDS = 0.05
POLL_BACKOFF = 1.5  # each wait 1.5x the last: an end is seen at most ~50% late
MAX_POLL_SECONDS = 1.0  # the backoff's ceiling: a long load is seen done within a second
CANCEL_MARGIN_MS = 1500  # cancel the statement this long before the function times out
DEFAULT_MAX_RECORDS = 1000


class RedshiftDataError(Exception):
    """Base of the errors this handler raises (each reports its own ``__name__``)."""


class StatementFailed(RedshiftDataError):
    """The warehouse rejected the statement; the message is the statement's ``Error``."""


class StatementAborted(RedshiftDataError):
    """The statement was cancelled (``ABORTED``) before it finished."""


class StatementTimedOut(RedshiftDataError):
    """The function's time ran out while the statement ran; the statement was cancelled."""


class InvalidEvent(RedshiftDataError):
    """The event does not say what to run or where (a usage error, not worth retrying)."""


class NoEndpoint(RedshiftDataError):
    """boto3 found no region or credentials: the function runs neither in AWS Lambda nor with
    an ``AWS_ENDPOINT_URL`` (under eltflow: ``[lambda] isolation = "process"``)."""


# The names Step Functions shows (``errorType``): ``RedshiftData.StatementFailed`` ...
for _cls in (StatementFailed, StatementAborted, StatementTimedOut, InvalidEvent, NoEndpoint):
    _cls.__name__ = f"RedshiftData.{_cls.__name__}"


def api_error(code: str, message: str) -> RedshiftDataError:
    """A Data API error (``ValidationException``...) under the name Step Functions' own
    ``aws-sdk:redshiftdata`` tasks give it: ``RedshiftData.<code>``."""
    cls: type[RedshiftDataError] = type(f"RedshiftData.{code}", (RedshiftDataError,), {})
    return cls(message)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return _handle(event, context)
    except (NoRegionError, NoCredentialsError) as e:
        raise NoEndpoint(
            f"{e} Outside AWS Lambda the function needs AWS_ENDPOINT_URL, a region and "
            'credentials; eltflow gives them to handlers run with [lambda] isolation = "process"'
        ) from None


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidEvent(f"the event must be a JSON object, got {type(event).__name__}")
    client: Any = boto3.client("redshift-data")
    target = _target(event)
    sqls = _statements(event)
    request: dict[str, Any] = dict(target)
    params = _parameters(event.get("Parameters"))
    if params:
        request["Parameters"] = params
    if event.get("StatementName"):
        request["StatementName"] = str(event["StatementName"])
    started = time.monotonic()
    try:
        if len(sqls) == 1:
            submitted = client.execute_statement(Sql=sqls[0], **request)
        else:
            submitted = client.batch_execute_statement(Sqls=sqls, **request)
    except client.exceptions.ClientError as e:
        raise _from_client_error(e) from None
    sid = str(submitted["Id"])
    desc = _wait(client, sid, context, started)
    took_ms = int((time.monotonic() - started) * 1000)
    subs = desc.get("SubStatements") or [desc]
    last = subs[-1]
    text = " ; ".join(sqls)
    status = desc["Status"]
    if status == "FAILED":
        error = str(desc.get("Error") or "the statement failed")
        # The function's log (CloudWatch Logs on AWS; `eltflow logs ARN` here).
        print(f"statement {sid} FAILED after {took_ms} ms: {error}: {text[:500]}")
        raise StatementFailed(error)
    if status == "ABORTED":
        print(f"statement {sid} ABORTED after {took_ms} ms: {text[:500]}")
        raise StatementAborted(f"statement {sid} was cancelled")
    rows = int(last.get("ResultRows", 0) or 0)
    print(f"statement {sid} FINISHED in {took_ms} ms, {rows} rows: {text[:500]}")
    out: dict[str, Any] = {
        "Id": sid,
        "Status": status,
        "RowsAffected": rows,
        "HasResultSet": bool(last.get("HasResultSet", False)),
        "Statements": len(sqls),
        "DurationMs": took_ms,
    }
    if event.get("IncludeRecords") and out["HasResultSet"]:
        limit = int(event.get("MaxRecords", DEFAULT_MAX_RECORDS))
        out.update(_records(client, str(last.get("Id", sid)), limit))
    return out


def _env_or(event: dict[str, Any], key: str, variable: str) -> str | None:
    value = event.get(key, os.environ.get(variable))
    return None if value in (None, "") else str(value)


def _target(event: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    workgroup = _env_or(event, "WorkgroupName", "REDSHIFT_WORKGROUP_NAME")
    cluster = _env_or(event, "ClusterIdentifier", "REDSHIFT_CLUSTER_IDENTIFIER")
    if "ClusterIdentifier" in event and "WorkgroupName" not in event:
        workgroup = None  # the event's cluster wins over an environment workgroup
    if workgroup is not None:
        out["WorkgroupName"] = workgroup
    elif cluster is not None:
        out["ClusterIdentifier"] = cluster
    else:
        raise InvalidEvent(
            "no ClusterIdentifier or WorkgroupName in the event or the environment "
            "(REDSHIFT_CLUSTER_IDENTIFIER / REDSHIFT_WORKGROUP_NAME)"
        )
    out["Database"] = _env_or(event, "Database", "REDSHIFT_DATABASE") or "dev"
    for key, variable in (("DbUser", "REDSHIFT_DB_USER"), ("SecretArn", "REDSHIFT_SECRET_ARN")):
        value = _env_or(event, key, variable)
        if value is not None:
            out[key] = value
    return out


def _statements(event: dict[str, Any]) -> list[str]:
    given = [k for k in ("Sql", "SqlFile") if event.get(k) not in (None, "", [])]
    if len(given) != 1:
        raise InvalidEvent("the event needs exactly one of Sql (text or list) and SqlFile")
    if given[0] == "Sql":
        sql = event["Sql"]
        if isinstance(sql, list) and all(isinstance(s, str) for s in sql):
            sqls = [s for s in sql if s.strip()]
        elif isinstance(sql, str):
            sqls = split_statements(sql)
        else:
            raise InvalidEvent("Sql must be a text or a list of texts")
    else:
        sqls = split_statements(_read_sql(str(event["SqlFile"])))
    if not sqls:
        raise InvalidEvent("the SQL holds no statement")
    return sqls


def _read_sql(location: str) -> str:
    if location.startswith("s3://"):
        bucket, _, key = location.removeprefix("s3://").partition("/")
        if not bucket or not key:
            raise InvalidEvent(f"SqlFile {location!r}: an S3 location is s3://bucket/key")
        s3: Any = boto3.client("s3")
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except s3.exceptions.ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", "Unknown"))
            cls = type(f"S3.{code}", (RedshiftDataError,), {})
            raise cls(f"SqlFile {location}: {e}") from None
        return bytes(body).decode("utf-8")
    path = Path(location)
    if path.is_absolute() or ".." in path.parts:
        raise InvalidEvent(f"SqlFile {location!r} must be a relative path inside the package")
    roots = [os.environ.get("LAMBDA_TASK_ROOT", ""), *sys.path]
    for root in roots:
        if root and Path(root, location).is_file():
            return Path(root, location).read_text(encoding="utf-8")
    raise InvalidEvent(f"SqlFile {location!r} is not in the function's package")


def _parameters(raw: Any) -> list[dict[str, str]]:
    if raw in (None, [], {}):
        return []
    if isinstance(raw, dict):
        raw = [{"name": k, "value": v} for k, v in raw.items()]
    if not isinstance(raw, list):
        raise InvalidEvent('Parameters must be [{"name": ..., "value": ...}] or {"name": value}')
    out: list[dict[str, str]] = []
    for p in raw:
        if not isinstance(p, dict) or not isinstance(p.get("name"), str) or "value" not in p:
            raise InvalidEvent(f"parameter {p!r} needs a name and a value")
        value = p["value"]
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float)):
            value = str(value)
        elif not isinstance(value, str):
            raise InvalidEvent(f"parameter {p['name']}: the value must be a text or a number")
        out.append({"name": p["name"], "value": value})
    return out


def _wait(client: Any, sid: str, context: Any, started: float) -> dict[str, Any]:
    """DescribeStatement until the statement ends, polling with exponential backoff; cancels
    it and raises when the function's own time is about to run out."""
    delay = FIRST_POLL_SECONDS
    remaining: Callable[[], int] | None = getattr(context, "get_remaining_time_in_millis", None)
    while True:
        desc: dict[str, Any] = client.describe_statement(Id=sid)
        if desc["Status"] in ("FINISHED", "FAILED", "ABORTED"):
            return desc
        if remaining is not None and remaining() < CANCEL_MARGIN_MS + delay * 1000:
            client.cancel_statement(Id=sid)
            took = time.monotonic() - started
            raise StatementTimedOut(
                f"statement {sid} still {desc['Status']} after {took:.1f} s (cancelled)"
            )
        time.sleep(delay)
        delay = min(delay * POLL_BACKOFF, MAX_POLL_SECONDS)


def _records(client: Any, sid: str, limit: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    names: list[str] = []
    token: str | None = None
    truncated = False
    while True:
        page: dict[str, Any] = client.get_statement_result(
            Id=sid, **({"NextToken": token} if token else {})
        )
        names = [str(c.get("name") or c.get("label")) for c in page.get("ColumnMetadata", [])]
        for record in page.get("Records", []):
            if len(rows) >= limit:
                truncated = True
                break
            rows.append(dict(zip(names, (_value(f) for f in record), strict=False)))
        token = page.get("NextToken")
        if truncated or not token:
            break
    return {"ColumnNames": names, "Records": rows, "RecordsTruncated": truncated or bool(token)}


def _value(field: dict[str, Any]) -> Any:
    """A Data API ``Field`` as a plain JSON value."""
    if field.get("isNull"):
        return None
    for key in ("stringValue", "longValue", "doubleValue", "booleanValue"):
        if key in field:
            return field[key]
    return None  # blobValue and arrayValue are not JSON values


def _from_client_error(e: Any) -> RedshiftDataError:
    error = e.response.get("Error", {})
    return api_error(str(error.get("Code", "Unknown")), str(error.get("Message", e)))


def split_statements(text: str) -> list[str]:
    """The statements of a SQL text, split at semicolons outside quotes ('...', "..."),
    dollar quotes ($$...$$, $tag$...$tag$) and comments; comment-only pieces dropped."""
    out: list[str] = []
    start = i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in ("'", '"'):
            i = _skip_quoted(text, i, c)
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c == "$":
            close = text.find("$", i + 1)
            tag = text[i : close + 1] if close > 0 else ""
            if tag and (tag == "$$" or tag[1:-1].replace("_", "a").isalnum()):
                end = text.find(tag, close + 1)
                i = n if end < 0 else end + len(tag)
            else:
                i += 1
        elif c == ";":
            out.append(text[start:i])
            i += 1
            start = i
        else:
            i += 1
    out.append(text[start:])
    return [s.strip() for s in out if _has_code(s)]


def _skip_quoted(text: str, i: int, quote: str) -> int:
    j = i + 1
    while j < len(text):
        if text[j] == quote:
            if text.startswith(quote * 2, j):  # '' or "" escapes the quote
                j += 2
                continue
            return j + 1
        j += 1
    return j


def _has_code(piece: str) -> bool:
    """True when ``piece`` holds more than whitespace and comments."""
    lines = [ln.split("--", 1)[0] for ln in piece.splitlines()]
    text = " ".join(lines)
    while "/*" in text:
        head, _, rest = text.partition("/*")
        text = head + " " + rest.partition("*/")[2]
    return bool(text.strip())
