"""What every AWS protocol shares: request ids, SigV4 credential scopes, error bodies.

Signatures are not verified (there is no secret to verify them with); the credential scope is
read because it names the service (``.../us-east-1/sns/aws4_request``), which routes query
protocol requests, and its access key is how a client proves it knows the server's token.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape as _escape

from starlette.responses import Response

# What XML 1.0 can carry at all; S3 keys and user text may hold the rest (control characters,
# lone surrogates), which no escaping makes well-formed.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` as XML character data: escaped, and each character XML 1.0 cannot carry
    replaced by U+FFFD, so the document still parses. (What AWS writes for such a key in an
    error message is unverified; its listings avoid the problem with ``EncodingType=url``.)"""
    return _escape(_NOT_XML.sub("\ufffd", text))


_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Credential:
    """The SigV4 credential scope of a request (``Authorization`` or ``X-Amz-Credential``)."""

    access_key: str
    region: str
    service: str


def credential(authorization: str | None, query_credential: str | None = None) -> Credential | None:
    text = authorization or ""
    if query_credential:
        text = f"Credential={query_credential}"
    match = _CREDENTIAL.search(text)
    if match is None:
        return None
    return Credential(access_key=match.group(1), region=match.group(3), service=match.group(4))


def request_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class WireError:
    """An error to answer with: AWS's code, message, HTTP status and extra modeled members
    (DynamoDB's ``Item`` and ``CancellationReasons``)."""

    code: str
    message: str
    status: int = 400
    extra: tuple[tuple[str, Any], ...] = ()


def json_error(error: WireError, content_type: str, rid: str) -> Response:
    """awsJson1_0/1_1 and rest-json: ``{"__type": code, "message": ...}``; botocore reads the
    code from ``__type`` (or the ``x-amzn-ErrorType`` header for rest-json)."""
    body: dict[str, Any] = {"__type": error.code, "message": error.message}
    body.update(dict(error.extra))
    return Response(
        json.dumps(body, separators=(",", ":"), default=str),
        status_code=error.status,
        media_type=content_type,
        headers={"x-amzn-RequestId": rid, "x-amzn-ErrorType": error.code},
    )


def xml_error(error: WireError, namespace: str, rid: str) -> Response:
    """The query protocol's ``<ErrorResponse>`` (SNS, CloudFormation...)."""
    kind = "Receiver" if error.status >= 500 else "Sender"
    body = (
        f'<ErrorResponse xmlns="{xml_text(namespace)}"><Error><Type>{kind}</Type>'
        f"<Code>{xml_text(error.code)}</Code><Message>{xml_text(error.message)}</Message>"
        f"</Error><RequestId>{rid}</RequestId></ErrorResponse>"
    )
    return Response(
        body, status_code=error.status, media_type="text/xml", headers={"x-amzn-RequestId": rid}
    )


def rest_xml_error(error: WireError, rid: str) -> Response:
    """The REST-XML protocol's (S3's) ``<Error>`` document."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{xml_text(error.code)}</Code><Message>{xml_text(error.message)}</Message>"
        f"<RequestId>{rid}</RequestId></Error>"
    )
    return Response(
        body,
        status_code=error.status,
        media_type="application/xml",
        headers={"x-amz-request-id": rid},
    )
