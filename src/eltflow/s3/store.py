"""Local S3 object storage: a bucket is a folder, an object a file, its key the path.

The warehouses read the same folders for COPY and write them for UNLOAD
(:mod:`eltflow.warehouse.s3local`). What S3 keeps besides the bytes (Content-Type, user
metadata, the ETag) lives in ``<root>/.eltflow-meta/<bucket>/<key>.json``, outside the
bucket folders (a bucket name cannot start with a dot), so the folders hold exactly the
objects. A file put there by hand is an object too: its ETag is computed when first asked.

Behaviour as AWS documents it (https://docs.aws.amazon.com/AmazonS3/latest/API/): the ETag of
an object uploaded in one part is the MD5 of its bytes, in double quotes; ListObjectsV2 lists
keys in UTF-8 binary order, at most MaxKeys (default 1000) per page, groups keys by
Delimiter into CommonPrefixes, and pages with an opaque NextContinuationToken; DeleteObject
of a missing key succeeds. Multipart uploads are not implemented (their ETag is
``md5(part md5s)-N``); a copy gets the ETag of its bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from eltflow.errors import EltflowError


class S3Error(EltflowError):
    """An S3 error with AWS's code (``NoSuchKey``, ``NoSuchBucket``...) and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        self.code = code
        self.message = message
        self.status = status
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True, kw_only=True)
class ObjectInfo:
    """What HeadObject returns about one object."""

    key: str
    size: int
    etag: str
    last_modified: datetime
    content_type: str = "binary/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)


class LocalS3:
    """Buckets as folders under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # --- paths ------------------------------------------------------------------------------

    def _bucket(self, bucket: str, *, must_exist: bool = True) -> Path:
        if not bucket or "/" in bucket or bucket.startswith(".") or bucket in ("..",):
            raise S3Error("InvalidBucketName", f"The specified bucket is not valid: {bucket!r}")
        path = self.root / bucket
        if must_exist and not path.is_dir():
            raise S3Error("NoSuchBucket", "The specified bucket does not exist", 404)
        return path

    def _file(self, bucket: str, key: str) -> Path:
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts[:-1]):
            raise S3Error("InvalidArgument", f"Key {key!r} cannot be stored locally")
        if parts[-1] in (".", ".."):
            raise S3Error("InvalidArgument", f"Key {key!r} cannot be stored locally")
        return self._bucket(bucket) / key

    def _meta(self, bucket: str, key: str) -> Path:
        return self.root / ".eltflow-meta" / bucket / (key + ".json")

    # --- buckets ----------------------------------------------------------------------------

    def create_bucket(self, bucket: str) -> None:
        self._bucket(bucket, must_exist=False).mkdir(parents=True, exist_ok=True)

    def buckets(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and p.name[0] != ".")

    # --- objects ----------------------------------------------------------------------------

    def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        path = self._file(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader never sees half an object.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".eltflow-upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(body)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        etag = f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'
        self._write_meta(bucket, key, path, etag, content_type, metadata or {})
        return self.head_object(bucket, key)

    def _write_meta(
        self,
        bucket: str,
        key: str,
        path: Path,
        etag: str,
        content_type: str | None,
        metadata: dict[str, str],
    ) -> None:
        meta = self._meta(bucket, key)
        meta.parent.mkdir(parents=True, exist_ok=True)
        stat = path.stat()
        record = {
            "etag": etag,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "content_type": content_type or "binary/octet-stream",
            "metadata": metadata,
        }
        meta.write_text(json.dumps(record), "utf-8")

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        path = self._file(bucket, key)
        if not path.is_file():
            raise S3Error("NoSuchKey", "The specified key does not exist.", 404)
        stat = path.stat()
        record: dict[str, object] = {}
        meta = self._meta(bucket, key)
        if meta.is_file():
            record = json.loads(meta.read_text("utf-8"))
        if record.get("size") != stat.st_size or record.get("mtime_ns") != stat.st_mtime_ns:
            # Put there (or changed) by hand: the ETag of the bytes now, metadata kept.
            digest = hashlib.md5(usedforsecurity=False)
            with path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
            record["etag"] = f'"{digest.hexdigest()}"'
            content_type = record.get("content_type")
            raw_meta = record.get("metadata")
            self._write_meta(
                bucket,
                key,
                path,
                str(record["etag"]),
                content_type if isinstance(content_type, str) else None,
                raw_meta if isinstance(raw_meta, dict) else {},
            )
        raw = record.get("metadata")
        return ObjectInfo(
            key=key,
            size=stat.st_size,
            etag=str(record["etag"]),
            last_modified=datetime.fromtimestamp(int(stat.st_mtime), UTC),
            content_type=str(record.get("content_type") or "binary/octet-stream"),
            metadata={str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {},
        )

    def get_object(self, bucket: str, key: str) -> tuple[ObjectInfo, bytes]:
        info = self.head_object(bucket, key)
        return info, self._file(bucket, key).read_bytes()

    def delete_object(self, bucket: str, key: str) -> None:
        path = self._file(bucket, key)
        path.unlink(missing_ok=True)
        self._meta(bucket, key).unlink(missing_ok=True)

    def copy_object(self, source_bucket: str, source_key: str, bucket: str, key: str) -> ObjectInfo:
        info, body = self.get_object(source_bucket, source_key)
        return self.put_object(bucket, key, body, info.content_type, info.metadata)

    def list_objects_v2(
        self,
        bucket: str,
        prefix: str = "",
        delimiter: str | None = None,
        max_keys: int = 1000,
        continuation_token: str | None = None,
        start_after: str | None = None,
    ) -> dict[str, object]:
        folder = self._bucket(bucket)
        keys = sorted(
            (
                "/".join(p.relative_to(folder).parts)
                for p in folder.rglob("*")
                if p.is_file() and not p.name.startswith(".eltflow-upload-")
            ),
            key=lambda k: k.encode("utf-8"),
        )
        after = start_after or ""
        if continuation_token:
            try:
                after = base64.urlsafe_b64decode(continuation_token.encode()).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                raise S3Error(
                    "InvalidArgument", "The continuation token provided is incorrect"
                ) from None
        contents: list[dict[str, object]] = []
        prefixes: list[str] = []
        last = ""
        truncated = False
        for key in keys:
            if not key.startswith(prefix) or key.encode() <= after.encode():
                continue
            common = None
            if delimiter:
                cut = key.find(delimiter, len(prefix))
                if cut >= 0:
                    common = key[: cut + len(delimiter)]
            if common is not None and prefixes and prefixes[-1] == common:
                continue  # rolled up into the CommonPrefix already counted
            if len(contents) + len(prefixes) >= max_keys:
                truncated = True
                break
            if common is not None:
                prefixes.append(common)
                last = common + "\uffff"  # resume after every key under it
                continue
            info = self.head_object(bucket, key)
            contents.append(
                {
                    "Key": key,
                    "LastModified": info.last_modified,
                    "ETag": info.etag,
                    "Size": info.size,
                    "StorageClass": "STANDARD",
                }
            )
            last = key
        out: dict[str, object] = {
            "IsTruncated": truncated,
            "Contents": contents,
            "Name": bucket,
            "Prefix": prefix,
            "MaxKeys": max_keys,
            "KeyCount": len(contents) + len(prefixes),
        }
        if delimiter:
            out["Delimiter"] = delimiter
            out["CommonPrefixes"] = [{"Prefix": p} for p in prefixes]
        if truncated:
            out["NextContinuationToken"] = base64.urlsafe_b64encode(last.encode()).decode()
        if continuation_token:
            out["ContinuationToken"] = continuation_token
        if start_after:
            out["StartAfter"] = start_after
        return out
