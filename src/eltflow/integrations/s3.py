"""S3 as Task states: ``arn:aws:states:::aws-sdk:s3:<action>`` over the local S3 service.

Actions: getObject, putObject, headObject, listObjectsV2, copyObject, deleteObject,
deleteObjects, createBucket, headBucket, deleteBucket, listBuckets (others fail with
``States.Runtime`` naming them). Parameters are the S3 API's (``Bucket``, ``Key``, ``Body``...);
results are the bare response, as for every ``aws-sdk:*`` integration. Step Functions returns a
GetObject ``Body`` as text (the bytes decoded as UTF-8; AWS documents a 256 KiB payload limit
for state data, not enforced here) and timestamps as ISO 8601 strings (unverified against a
live account). Errors are ``S3.<Code>Exception`` — AWS's rule for aws-sdk integrations is the
service name and the error code with ``Exception`` appended even where the service's own code
has no such suffix (``S3.NoSuchKeyException``, ``S3.BucketAlreadyExistsException``: "Learning
to use AWS service SDK integrations in Step Functions", supported-services-awssdk.html), with
the Java SDK v2 cause like the other ``aws-sdk`` integrations here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from eltflow.errors import AwsApiError, StatesError
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.integrations.sdk_metadata import request_id, sdk_v2_cause
from eltflow.s3.service import ObjectInfo, S3Service, status
from eltflow.types import JSON, JSONObject

SDK = "arn:aws:states:::aws-sdk:s3:"


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _str(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise AwsApiError("InvalidArgument", f"Parameter {name} must be a non-empty string")
    return value


def _opt(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise AwsApiError("InvalidArgument", f"Parameter {name} must be a string")
    return value


def _strings(params: dict[str, Any], name: str) -> dict[str, str]:
    raw = params.get(name)
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def _head(info: ObjectInfo) -> JSONObject:
    return {
        "AcceptRanges": "bytes",
        "ContentLength": info.size,
        "ContentType": info.content_type,
        "ETag": info.etag,
        "LastModified": _time(info.last_modified),
        "Metadata": dict(info.metadata),
    }


class S3Integration:
    def __init__(self, s3: S3Service) -> None:
        self.s3 = s3
        self.actions: dict[str, Callable[[dict[str, Any], TaskRequest], JSON]] = {
            "getObject": self._get_object,
            "headObject": self._head_object,
            "putObject": self._put_object,
            "deleteObject": self._delete_object,
            "deleteObjects": self._delete_objects,
            "copyObject": self._copy_object,
            "listObjectsV2": self._list_objects_v2,
            "createBucket": self._create_bucket,
            "headBucket": self._head_bucket,
            "deleteBucket": self._delete_bucket,
            "listBuckets": self._list_buckets,
        }

    def __call__(self, request: TaskRequest) -> JSON:
        if request.resource.endswith((".waitForTaskToken", ".sync")):
            raise StatesError(
                "States.Runtime",
                f"Resource {request.resource!r}: this integration pattern is not supported "
                "locally; use the request-response resource",
            )
        action = request.resource[len(SDK) :]
        params = request.parameters if isinstance(request.parameters, dict) else {}
        handler = self.actions.get(action)
        if handler is None:
            raise StatesError(
                "States.Runtime",
                f"aws-sdk:s3:{action} is not supported locally ({', '.join(self.actions)} are)",
            )
        try:
            return handler(dict(params), request)
        except AwsApiError as e:
            raise StatesError(
                f"S3.{e.code}Exception",
                sdk_v2_cause(e.message, "S3", status(e.code), request_id()),
            ) from e

    def _get_object(self, p: dict[str, Any], _: TaskRequest) -> JSON:
        info, body = self.s3.read(_str(p, "Bucket"), _str(p, "Key"), _opt(p, "Range"))
        return {"Body": body.decode("utf-8", errors="replace"), **_head(info)}

    def _head_object(self, p: dict[str, Any], _: TaskRequest) -> JSON:
        return _head(self.s3.head_object(_str(p, "Bucket"), _str(p, "Key")))

    def _put_object(self, p: dict[str, Any], _: TaskRequest) -> JSON:
        body = p.get("Body", "")
        data = body.encode("utf-8") if isinstance(body, str) else str(body).encode("utf-8")
        info = self.s3.put_object(
            _str(p, "Bucket"),
            _str(p, "Key"),
            data,
            content_type=_opt(p, "ContentType"),
            metadata=_strings(p, "Metadata"),
        )
        return {"ETag": info.etag}

    def _delete_object(self, p: dict[str, Any], _: TaskRequest) -> JSON:
        self.s3.delete_object(_str(p, "Bucket"), _str(p, "Key"))
        return {}

    def _delete_objects(self, p: dict[str, Any], _: TaskRequest) -> JSON:
        bucket = _str(p, "Bucket")
        delete = p.get("Delete")
        objects = delete.get("Objects") if isinstance(delete, dict) else None
        if not isinstance(objects, list):
            raise AwsApiError("MalformedXML", "Delete.Objects must be a list of {Key}")
        deleted: list[JSON] = []
        errors: list[JSON] = []
        for entry in objects:
            key = entry.get("Key") if isinstance(entry, dict) else None
            try:
                self.s3.delete_object(bucket, str(key))
                deleted.append({"Key": str(key)})
            except AwsApiError as e:
                if e.code == "NoSuchBucket":
                    raise
                errors.append({"Key": str(key), "Code": e.code, "Message": e.message})
        return {"Deleted": deleted, "Errors": errors}

    def _copy_object(self, p: dict[str, Any], _: TaskRequest) -> JSON:
        source = unquote(_str(p, "CopySource")).lstrip("/")
        src_bucket, _sep, src_key = source.partition("/")
        info = self.s3.copy_object(
            src_bucket,
            src_key,
            _str(p, "Bucket"),
            _str(p, "Key"),
            replace_metadata=p.get("MetadataDirective") == "REPLACE",
            content_type=_opt(p, "ContentType"),
            metadata=_strings(p, "Metadata"),
        )
        return {"CopyObjectResult": {"ETag": info.etag, "LastModified": _time(info.last_modified)}}

    def _list_objects_v2(self, p: dict[str, Any], _: TaskRequest) -> JSON:
        max_keys = p.get("MaxKeys", 1000)
        if not isinstance(max_keys, int) or max_keys < 0:
            raise AwsApiError("InvalidArgument", "MaxKeys must be a non-negative integer")
        bucket = _str(p, "Bucket")
        prefix = _opt(p, "Prefix") or ""
        delimiter = _opt(p, "Delimiter") or ""
        token = _opt(p, "ContinuationToken")
        start_after = _opt(p, "StartAfter") or ""
        page = self.s3.list_objects(
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            max_keys=max_keys,
            continuation_token=token,
            start_after=start_after,
        )
        out: JSONObject = {
            "IsTruncated": page.is_truncated,
            "Contents": [
                {
                    "Key": o.key,
                    "LastModified": _time(o.last_modified),
                    "ETag": o.etag,
                    "Size": o.size,
                    "StorageClass": "STANDARD",
                }
                for o in page.contents
            ],
            "Name": bucket,
            "Prefix": prefix,
            "MaxKeys": max_keys,
            "KeyCount": page.key_count,
        }
        if delimiter:
            out["Delimiter"] = delimiter
            out["CommonPrefixes"] = [{"Prefix": c} for c in page.common_prefixes]
        if page.next_token is not None:
            out["NextContinuationToken"] = page.next_token
        if token:
            out["ContinuationToken"] = token
        if start_after:
            out["StartAfter"] = start_after
        return out

    def _create_bucket(self, p: dict[str, Any], request: TaskRequest) -> JSON:
        bucket = _str(p, "Bucket")
        self.s3.create_bucket(bucket, request.clock.now())
        return {"Location": f"/{bucket}"}

    def _head_bucket(self, p: dict[str, Any], _: TaskRequest) -> JSON:
        self.s3.head_bucket(_str(p, "Bucket"))
        return {}

    def _delete_bucket(self, p: dict[str, Any], _: TaskRequest) -> JSON:
        self.s3.delete_bucket(_str(p, "Bucket"))
        return {}

    def _list_buckets(self, p: dict[str, Any], _: TaskRequest) -> JSON:
        return {
            "Buckets": [
                {"Name": b.name, "CreationDate": _time(b.created)} for b in self.s3.list_buckets()
            ],
            "Owner": {"ID": "eltflow", "DisplayName": "eltflow"},
        }


def register(registry: Registry, s3: S3Service) -> None:
    """Serve every ``arn:aws:states:::aws-sdk:s3:*`` resource from the local S3 service."""
    registry.add_prefix(SDK, S3Integration(s3))
