"""S3 as Task states: ``arn:aws:states:::aws-sdk:s3:<action>`` over local buckets.

Actions: getObject, putObject, headObject, listObjectsV2, copyObject, deleteObject (others fail
with ``States.Runtime`` naming them). Parameters are the S3 API's (``Bucket``, ``Key``,
``Body``...); results are the bare response, as for every ``aws-sdk:*`` integration. Step
Functions returns a GetObject ``Body`` as text (the bytes decoded as UTF-8; AWS documents a
256 KiB payload limit for state data, not enforced here) and timestamps as ISO 8601 strings
(unverified against a live account). Errors are ``S3.<Code>Exception`` (``S3.NoSuchKeyException``,
``S3.NoSuchBucketException``) with the Java SDK v2 cause, like the other ``aws-sdk``
integrations here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote

from eltflow.errors import StatesError
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.integrations.sdk_metadata import request_id, sdk_v2_cause
from eltflow.s3.store import LocalS3, ObjectInfo, S3Error
from eltflow.types import JSON

SDK = "arn:aws:states:::aws-sdk:s3:"


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _str(params: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = params.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise S3Error("InvalidArgument", f"Parameter {name} must be a non-empty string")
    return value


def _head(info: ObjectInfo) -> dict[str, JSON]:
    return {
        "AcceptRanges": "bytes",
        "ContentLength": info.size,
        "ContentType": info.content_type,
        "ETag": info.etag,
        "LastModified": _time(info.last_modified),
        "Metadata": dict(info.metadata),
    }


class S3Integration:
    def __init__(self, store: LocalS3) -> None:
        self.store = store

    def __call__(self, request: TaskRequest) -> JSON:
        if request.resource.endswith((".waitForTaskToken", ".sync")):
            raise StatesError(
                "States.Runtime",
                f"Resource {request.resource!r}: this integration pattern is not supported "
                "locally; use the request-response resource",
            )
        action = request.resource[len(SDK) :]
        params = request.parameters if isinstance(request.parameters, dict) else {}
        handler = getattr(self, f"_{action}", None)
        if handler is None:
            raise StatesError(
                "States.Runtime",
                f"aws-sdk:s3:{action} is not supported locally (getObject, putObject, "
                "headObject, listObjectsV2, copyObject, deleteObject are)",
            )
        try:
            result: JSON = handler(dict(params))
            return result
        except S3Error as e:
            raise StatesError(
                f"S3.{e.code}Exception" if e.code != "S3" else "S3.S3Exception",
                sdk_v2_cause(e.message, "S3", e.status, request_id()),
            ) from e

    def _getObject(self, p: dict[str, Any]) -> JSON:
        info, body = self.store.get_object(str(_str(p, "Bucket")), str(_str(p, "Key")))
        return {"Body": body.decode("utf-8", errors="replace"), **_head(info)}

    def _headObject(self, p: dict[str, Any]) -> JSON:
        return _head(self.store.head_object(str(_str(p, "Bucket")), str(_str(p, "Key"))))

    def _putObject(self, p: dict[str, Any]) -> JSON:
        body = p.get("Body", "")
        data = body.encode("utf-8") if isinstance(body, str) else str(body).encode("utf-8")
        raw_meta = p.get("Metadata")
        metadata = (
            {str(k): str(v) for k, v in raw_meta.items()} if isinstance(raw_meta, dict) else {}
        )
        info = self.store.put_object(
            str(_str(p, "Bucket")),
            str(_str(p, "Key")),
            data,
            _str(p, "ContentType", required=False),
            metadata,
        )
        return {"ETag": info.etag}

    def _deleteObject(self, p: dict[str, Any]) -> JSON:
        self.store.delete_object(str(_str(p, "Bucket")), str(_str(p, "Key")))
        return {}

    def _copyObject(self, p: dict[str, Any]) -> JSON:
        source = unquote(str(_str(p, "CopySource"))).lstrip("/")
        src_bucket, _, src_key = source.partition("/")
        info = self.store.copy_object(
            src_bucket, src_key, str(_str(p, "Bucket")), str(_str(p, "Key"))
        )
        return {"CopyObjectResult": {"ETag": info.etag, "LastModified": _time(info.last_modified)}}

    def _listObjectsV2(self, p: dict[str, Any]) -> JSON:
        max_keys = p.get("MaxKeys", 1000)
        if not isinstance(max_keys, int) or max_keys < 0:
            raise S3Error("InvalidArgument", "MaxKeys must be a non-negative integer")
        out = self.store.list_objects_v2(
            str(_str(p, "Bucket")),
            prefix=_str(p, "Prefix", required=False) or "",
            delimiter=_str(p, "Delimiter", required=False),
            max_keys=max_keys,
            continuation_token=_str(p, "ContinuationToken", required=False),
            start_after=_str(p, "StartAfter", required=False),
        )
        contents = out.get("Contents")
        if isinstance(contents, list):
            out["Contents"] = [
                {**c, "LastModified": _time(c["LastModified"])}
                for c in contents
                if isinstance(c, dict)
            ]
        return out  # type: ignore[return-value]


def register(registry: Registry, store: LocalS3) -> None:
    """Serve every ``arn:aws:states:::aws-sdk:s3:*`` resource from ``store``."""
    registry.add_prefix(SDK, S3Integration(store))
