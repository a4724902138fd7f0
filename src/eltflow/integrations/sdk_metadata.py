"""The HTTP metadata Step Functions' optimized integrations add to a result, and AWS-style
request ids and error causes.

Optimized integrations (``dynamodb:getItem``, ``lambda:invoke``, ``sns:publish``) return the
service response plus ``SdkHttpMetadata`` / ``SdkResponseMetadata`` (the Java SDK v1 response
metadata); ``aws-sdk:*`` integrations return the bare response.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from email.utils import format_datetime

from eltflow.types import JSONObject


def request_id() -> str:
    return str(uuid.uuid4())


def http_metadata(
    rid: str, now: datetime, headers: dict[str, str] | None = None, status: int = 200
) -> JSONObject:
    """``SdkHttpMetadata`` + ``SdkResponseMetadata`` as Step Functions shows them."""
    base = {
        "Content-Type": "application/x-amz-json-1.0",
        "Date": format_datetime(now, usegmt=True),
        "x-amzn-RequestId": rid,
        **(headers or {}),
    }
    return {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {k: [v] for k, v in base.items()},
            "HttpHeaders": dict(base),
            "HttpStatusCode": status,
        },
        "SdkResponseMetadata": {"RequestId": rid},
    }


def sdk_v1_cause(message: str, service: str, status: int, code: str, rid: str) -> str:
    """The Cause text of an optimized integration's error (AWS SDK for Java v1 style)."""
    return (
        f"{message} (Service: {service}; Status Code: {status}; Error Code: {code}; "
        f"Request ID: {rid}; Proxy: null)"
    )


def sdk_v2_cause(message: str, service: str, status: int, rid: str) -> str:
    """The Cause text of an ``aws-sdk:*`` integration's error (AWS SDK for Java v2 style)."""
    return f"{message} (Service: {service}, Status Code: {status}, Request ID: {rid})"
