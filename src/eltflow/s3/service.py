"""The local S3 service: buckets are folders under ``root`` (``.eltflow/s3``), an object is the
file ``<root>/<bucket>/<key>``, so the warehouses' COPY/UNLOAD, Lambda code zips and state
machine definitions read objects as plain files, and a file dropped into a bucket folder by hand
is an object.

What S3 keeps beside the bytes (ETag, Content-Type, ``x-amz-meta-*``) lives in a sidecar per
object under ``<root>/.eltflow-meta/<bucket>/`` (named by the key's SHA-256, so no key can
collide with another's sidecar). A sidecar records the file's size and mtime; when the file
changed behind the service's back (an UNLOAD, an editor), the ETag is recomputed from the bytes
and the stored headers are dropped, as a fresh PutObject would have them.

ETags are S3's: the hex MD5 of the bytes in double quotes for a single PUT, and for a multipart
upload the MD5 of the parts' binary MD5s followed by ``-<number of parts>``. Writes go to a
temporary file first and are renamed into place, so a reader never sees half an object.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from eltflow.errors import AwsApiError
from eltflow.s3.names import check_bucket, check_key

DEFAULT_CONTENT_TYPE = "binary/octet-stream"  # what S3 answers for an object stored without one
MAX_KEYS = 1000
CHUNK = 1024 * 1024
# Headers S3 stores with an object and returns on GET/HEAD (besides Content-Type).
STORED_HEADERS = (
    "Cache-Control",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Expires",
)
MIN_PART_BYTES = 5 * 1024 * 1024  # every part but the last (S3's EntityTooSmall)
_META = ".eltflow-meta"
_TMP = ".eltflow-tmp"
_UPLOADS = ".eltflow-uploads"

Body = bytes | BinaryIO | Iterable[bytes]

# The HTTP status S3 answers each error code with (https://docs.aws.amazon.com/AmazonS3/latest/
# API/ErrorResponses.html); any other code is a 400.
STATUS = {
    "NoSuchBucket": 404,
    "NoSuchKey": 404,
    "NoSuchUpload": 404,
    "BucketAlreadyOwnedByYou": 409,
    "BucketAlreadyExists": 409,
    "BucketNotEmpty": 409,
    "InvalidRange": 416,
    "PreconditionFailed": 412,
    "MethodNotAllowed": 405,
    "AccessDenied": 403,
    "NotImplemented": 501,
    "InternalError": 500,
}


def status(code: str) -> int:
    return STATUS.get(code, 400)


@dataclass(frozen=True)
class ObjectInfo:
    """What HEAD answers about an object."""

    bucket: str
    key: str
    size: int
    etag: str  # with its double quotes, as S3 sends it
    last_modified: datetime
    content_type: str = DEFAULT_CONTENT_TYPE
    metadata: Mapping[str, str] = field(default_factory=dict)  # x-amz-meta-* without the prefix
    headers: Mapping[str, str] = field(default_factory=dict)  # STORED_HEADERS that were set


@dataclass(frozen=True)
class BucketInfo:
    name: str
    created: datetime


@dataclass(frozen=True)
class Listing:
    """One ListObjectsV2 page."""

    contents: tuple[ObjectInfo, ...]
    common_prefixes: tuple[str, ...]
    is_truncated: bool
    next_token: str | None

    @property
    def key_count(self) -> int:
        return len(self.contents) + len(self.common_prefixes)


@dataclass(frozen=True)
class Part:
    number: int
    etag: str


def no_such_bucket(bucket: str) -> AwsApiError:
    return AwsApiError("NoSuchBucket", f"The specified bucket does not exist: {bucket}")


def no_such_key(bucket: str, key: str) -> AwsApiError:
    return AwsApiError("NoSuchKey", f"The specified key does not exist: s3://{bucket}/{key}")


class S3Service:
    """S3's bucket and object operations over the folder ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()

    # -- buckets -----------------------------------------------------------------------------
    def bucket_dir(self, bucket: str) -> Path:
        """The folder of an existing bucket (``NoSuchBucket`` otherwise)."""
        folder = self.root / check_bucket(bucket)
        if not folder.is_dir():
            raise no_such_bucket(bucket)
        return folder

    def create_bucket(self, bucket: str, now: datetime) -> None:
        folder = self.root / check_bucket(bucket)
        with self._lock:
            if folder.exists():
                raise AwsApiError(
                    "BucketAlreadyOwnedByYou",
                    "Your previous request to create the named bucket succeeded and you "
                    f"already own it: {bucket}",
                )
            folder.mkdir(parents=True)
            info = self._meta_dir(bucket)
            info.mkdir(parents=True, exist_ok=True)
            (info / "bucket.json").write_text(json.dumps({"created": now.isoformat()}))

    def head_bucket(self, bucket: str) -> None:
        self.bucket_dir(bucket)

    def list_buckets(self) -> list[BucketInfo]:
        if not self.root.is_dir():
            return []
        found = []
        for entry in sorted(self.root.iterdir()):
            if entry.is_dir() and not entry.name.startswith("."):
                found.append(BucketInfo(entry.name, self._created(entry)))
        return found

    def delete_bucket(self, bucket: str) -> None:
        folder = self.bucket_dir(bucket)
        with self._lock:
            if any(self._walk(folder, folder)):
                raise AwsApiError("BucketNotEmpty", "The bucket you tried to delete is not empty")
            shutil.rmtree(folder)
            shutil.rmtree(self._meta_dir(bucket), ignore_errors=True)

    # -- objects -----------------------------------------------------------------------------
    def object_path(self, bucket: str, key: str) -> Path:
        """The file an object is (or would be) stored in; never outside the bucket folder,
        even through a symbolic link."""
        folder = self.bucket_dir(bucket)
        path = folder.joinpath(*check_key(key).split("/"))
        if not path.resolve().is_relative_to(folder.resolve()):
            raise AwsApiError("InvalidArgument", f"Object key {key!r} leaves its bucket")
        return path

    def put_object(
        self,
        bucket: str,
        key: str,
        body: Body,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        path = self.object_path(bucket, key)
        digest = hashlib.md5(usedforsecurity=False)
        tmp = self._tmp_file()
        try:
            with tmp.open("wb") as out:
                for chunk in _chunks(body):
                    digest.update(chunk)
                    out.write(chunk)
            etag = f'"{digest.hexdigest()}"'
            return self._install(tmp, path, bucket, key, etag, content_type, metadata, headers)
        finally:
            tmp.unlink(missing_ok=True)

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        path = self.object_path(bucket, key)
        if not path.is_file():
            raise no_such_key(bucket, key)
        return self._info(bucket, key, path)

    def get_object(
        self, bucket: str, key: str, byte_range: str | None = None
    ) -> tuple[ObjectInfo, Path, tuple[int, int] | None]:
        """(info, file, (first, last) byte or None for all) — the caller streams the file."""
        info = self.head_object(bucket, key)
        span = parse_range(byte_range, info.size) if byte_range else None
        return info, self.object_path(bucket, key), span

    def read(
        self, bucket: str, key: str, byte_range: str | None = None
    ) -> tuple[ObjectInfo, bytes]:
        """The object's bytes (or a range of them) in memory: for small objects only."""
        info, path, span = self.get_object(bucket, key, byte_range)
        return info, b"".join(stream(path, span))

    def delete_object(self, bucket: str, key: str) -> None:
        """Deleting a missing key succeeds, as in S3."""
        path = self.object_path(bucket, key)
        folder = self.bucket_dir(bucket)
        with self._lock:
            if path.is_file():
                path.unlink()
                self._sidecar(bucket, key).unlink(missing_ok=True)
                _prune(path.parent, folder)

    def copy_object(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        replace_metadata: bool = False,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """CopyObject; the copy keeps the source's headers unless ``replace_metadata``
        (``x-amz-metadata-directive: REPLACE``). Copying an object onto itself without REPLACE
        is S3's ``InvalidRequest``."""
        source = self.head_object(source_bucket, source_key)
        if (source_bucket, source_key) == (bucket, key) and not replace_metadata:
            raise AwsApiError(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes.",
            )
        path = self.object_path(bucket, key)
        tmp = self._tmp_file()
        try:
            shutil.copyfile(self.object_path(source_bucket, source_key), tmp)
            if replace_metadata:
                return self._install(
                    tmp, path, bucket, key, source.etag, content_type, metadata, headers
                )
            return self._install(
                tmp,
                path,
                bucket,
                key,
                source.etag,
                source.content_type,
                source.metadata,
                source.headers,
            )
        finally:
            tmp.unlink(missing_ok=True)

    def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        max_keys: int = MAX_KEYS,
        continuation_token: str | None = None,
        start_after: str = "",
    ) -> Listing:
        """ListObjectsV2: keys in UTF-8 order after ``start_after`` (or the token's position),
        grouped into CommonPrefixes by ``delimiter``; each common prefix counts as one key
        toward ``max_keys`` (at most 1000)."""
        folder = self.bucket_dir(bucket)
        if max_keys < 0:
            raise AwsApiError("InvalidArgument", "max-keys must be >= 0")
        max_keys = min(max_keys, MAX_KEYS)
        after, after_prefix = start_after, False
        if continuation_token:
            after, after_prefix = _decode_token(continuation_token)
        start = _walk_start(folder, prefix)
        keys = sorted(k for k in self._walk(folder, start) if k.startswith(prefix))
        contents: list[ObjectInfo] = []
        prefixes: list[str] = []
        last: tuple[str, bool] | None = None
        truncated = False
        for key in keys:
            if key <= after or (after_prefix and key.startswith(after)):
                continue
            common = None
            if delimiter:
                at = key.find(delimiter, len(prefix))
                if at >= 0:
                    common = key[: at + len(delimiter)]
            if common is not None and prefixes and prefixes[-1] == common:
                continue
            if len(contents) + len(prefixes) >= max_keys:
                truncated = True
                break
            if common is not None:
                prefixes.append(common)
                last = (common, True)
            else:
                contents.append(self._info(bucket, key, folder.joinpath(*key.split("/"))))
                last = (key, False)
        token = _encode_token(*last) if truncated and last is not None else None
        return Listing(tuple(contents), tuple(prefixes), truncated, token)

    # -- multipart uploads -------------------------------------------------------------------
    def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        self.object_path(bucket, key)
        upload_id = uuid.uuid4().hex
        folder = self.root / _UPLOADS / upload_id
        folder.mkdir(parents=True)
        record = {
            "bucket": bucket,
            "key": key,
            "content_type": content_type,
            "metadata": dict(metadata or {}),
            "headers": dict(headers or {}),
        }
        (folder / "upload.json").write_text(json.dumps(record))
        return upload_id

    def upload_part(self, bucket: str, key: str, upload_id: str, number: int, body: Body) -> str:
        folder = self._upload(bucket, key, upload_id)[0]
        if not 1 <= number <= 10000:
            raise AwsApiError(
                "InvalidArgument", "Part number must be an integer between 1 and 10000"
            )
        digest = hashlib.md5(usedforsecurity=False)
        tmp = folder / f"{number}.tmp-{uuid.uuid4().hex}"
        with tmp.open("wb") as out:
            for chunk in _chunks(body):
                digest.update(chunk)
                out.write(chunk)
        os.replace(tmp, folder / str(number))
        (folder / f"{number}.md5").write_text(digest.hexdigest())
        return f'"{digest.hexdigest()}"'

    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: list[Part]
    ) -> ObjectInfo:
        folder, record = self._upload(bucket, key, upload_id)
        if not parts:
            raise AwsApiError(
                "MalformedXML", "You must specify at least one part to complete the upload"
            )
        numbers = [p.number for p in parts]
        if numbers != sorted(set(numbers)):
            raise AwsApiError("InvalidPartOrder", "The list of parts was not in ascending order.")
        digests = []
        for i, part in enumerate(parts):
            md5_file = folder / f"{part.number}.md5"
            if not md5_file.is_file() or part.etag.strip('"') != md5_file.read_text():
                raise AwsApiError(
                    "InvalidPart",
                    "One or more of the specified parts could not be found. The part may not "
                    f"have been uploaded, or the specified entity tag may not match the part's "
                    f"entity tag (part {part.number}).",
                )
            size = (folder / str(part.number)).stat().st_size
            if i < len(parts) - 1 and size < MIN_PART_BYTES:
                raise AwsApiError(
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed object size "
                    f"(part {part.number}: {size} bytes; every part but the last needs 5 MiB).",
                )
            digests.append(bytes.fromhex(md5_file.read_text()))
        etag = f'"{hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()}-{len(parts)}"'
        path = self.object_path(bucket, key)
        tmp = self._tmp_file()
        try:
            with tmp.open("wb") as out:
                for part in parts:
                    with (folder / str(part.number)).open("rb") as src:
                        shutil.copyfileobj(src, out, CHUNK)
            info = self._install(
                tmp,
                path,
                bucket,
                key,
                etag,
                record.get("content_type"),
                record.get("metadata"),
                record.get("headers"),
            )
        finally:
            tmp.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        return info

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        folder = self._upload(bucket, key, upload_id)[0]
        shutil.rmtree(folder, ignore_errors=True)

    # -- internals ---------------------------------------------------------------------------
    def _upload(self, bucket: str, key: str, upload_id: str) -> tuple[Path, dict[str, object]]:
        self.bucket_dir(bucket)
        folder = self.root / _UPLOADS / upload_id
        record_file = folder / "upload.json"
        if not upload_id.isalnum() or not record_file.is_file():
            raise _no_such_upload()
        record: dict[str, object] = json.loads(record_file.read_text())
        if (record["bucket"], record["key"]) != (bucket, key):
            raise _no_such_upload()
        return folder, record

    def _tmp_file(self) -> Path:
        folder = self.root / _TMP
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder)
        os.close(fd)
        return Path(name)

    def _install(
        self,
        tmp: Path,
        path: Path,
        bucket: str,
        key: str,
        etag: str,
        content_type: object,
        metadata: object,
        headers: object,
    ) -> ObjectInfo:
        """Move ``tmp`` into place as ``bucket/key`` and record its sidecar."""
        with self._lock:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                if path.is_dir():
                    raise NotADirectoryError(path)
                os.replace(tmp, path)
            except (NotADirectoryError, FileExistsError, IsADirectoryError):
                raise AwsApiError(
                    "InvalidArgument",
                    f"Object key {key!r}: the local S3 stores keys as paths, and a key cannot "
                    "be both an object and a prefix of another object's key ('a' and 'a/b')",
                ) from None
            stat = path.stat()
            record = {
                "etag": etag,
                "size": stat.st_size,
                "mtime_ns": stat.st_mtime_ns,
                "content_type": content_type or DEFAULT_CONTENT_TYPE,
                "metadata": {str(k).lower(): str(v) for k, v in _pairs(metadata)},
                "headers": {str(k): str(v) for k, v in _pairs(headers)},
            }
            sidecar = self._sidecar(bucket, key)
            sidecar.parent.mkdir(parents=True, exist_ok=True)
            sidecar.write_text(json.dumps(record))
        return self._info(bucket, key, path)

    def _info(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        stat = path.stat()
        modified = datetime.fromtimestamp(stat.st_mtime, UTC).replace(microsecond=0)
        try:
            record = json.loads(self._sidecar(bucket, key).read_text())
        except (OSError, ValueError):
            record = None
        if (
            not isinstance(record, dict)
            or record.get("size") != stat.st_size
            or record.get("mtime_ns") != stat.st_mtime_ns
        ):
            # Written without the service (or changed since): S3's answer for a fresh PUT.
            return ObjectInfo(bucket, key, stat.st_size, _md5_etag(path), modified)
        return ObjectInfo(
            bucket,
            key,
            stat.st_size,
            str(record["etag"]),
            modified,
            str(record["content_type"]),
            dict(record.get("metadata", {})),
            dict(record.get("headers", {})),
        )

    def _meta_dir(self, bucket: str) -> Path:
        return self.root / _META / bucket

    def _sidecar(self, bucket: str, key: str) -> Path:
        name = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return self._meta_dir(bucket) / name[:2] / f"{name}.json"

    def _created(self, folder: Path) -> datetime:
        try:
            data = json.loads((self._meta_dir(folder.name) / "bucket.json").read_text())
            return datetime.fromisoformat(data["created"])
        except (OSError, ValueError, KeyError):
            return datetime.fromtimestamp(folder.stat().st_ctime, UTC).replace(microsecond=0)

    @staticmethod
    def _walk(folder: Path, start: Path) -> Iterator[str]:
        """Keys of the files under ``start`` (a folder inside the bucket ``folder``)."""
        if not start.is_dir():
            return
        for here, dirs, files in os.walk(start):
            dirs[:] = [d for d in dirs if not d.startswith(".eltflow")]
            rel = Path(here).relative_to(folder).parts
            for name in files:
                yield "/".join((*rel, name))


def parse_range(header: str, size: int) -> tuple[int, int]:
    """(first, last) byte of an HTTP ``Range: bytes=...`` over an object of ``size`` bytes.
    One range only (S3 ignores multi-range requests; here they are refused). Unsatisfiable:
    S3's ``InvalidRange`` (416)."""
    unit, _, spec = header.strip().partition("=")
    first_text, dash, last_text = spec.strip().partition("-")
    if unit.strip().lower() != "bytes" or not dash or "," in spec:
        raise AwsApiError("InvalidArgument", f"Unsupported Range header: {header!r}")
    try:
        if not first_text:
            count = int(last_text)
            if count <= 0 or size == 0:
                raise _invalid_range(size)
            return max(size - count, 0), size - 1
        first = int(first_text)
        last = int(last_text) if last_text else size - 1
    except ValueError:
        raise AwsApiError("InvalidArgument", f"Malformed Range header: {header!r}") from None
    if first >= size or last < first:
        raise _invalid_range(size)
    return first, min(last, size - 1)


def stream(path: Path, span: tuple[int, int] | None) -> Iterator[bytes]:
    """The bytes of ``path`` (or of ``span``, inclusive) in chunks."""
    with path.open("rb") as f:
        if span is None:
            while chunk := f.read(CHUNK):
                yield chunk
            return
        f.seek(span[0])
        left = span[1] - span[0] + 1
        while left > 0 and (chunk := f.read(min(CHUNK, left))):
            left -= len(chunk)
            yield chunk


def _invalid_range(size: int) -> AwsApiError:
    return AwsApiError(
        "InvalidRange", f"The requested range is not satisfiable (object size {size})"
    )


def _no_such_upload() -> AwsApiError:
    return AwsApiError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may "
        "have been aborted or completed.",
    )


def _chunks(body: Body) -> Iterator[bytes]:
    if isinstance(body, bytes | bytearray):
        yield bytes(body)
    elif hasattr(body, "read"):
        while chunk := body.read(CHUNK):
            yield chunk
    else:
        yield from body


def _pairs(value: object) -> list[tuple[object, object]]:
    return list(value.items()) if isinstance(value, Mapping) else []


def _md5_etag(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return f'"{digest.hexdigest()}"'


def _prune(folder: Path, bucket: Path) -> None:
    """Remove folders left empty by a delete (a prefix exists only while keys are under it)."""
    while folder != bucket and folder.is_relative_to(bucket):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _walk_start(folder: Path, prefix: str) -> Path:
    """The deepest folder that holds every key starting with ``prefix``."""
    parts = prefix.split("/")[:-1]
    if any(p in ("", ".", "..") for p in parts):
        return folder
    return folder.joinpath(*parts)


def _encode_token(last: str, is_prefix: bool) -> str:
    raw = json.dumps({"k": last, "p": is_prefix}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str) -> tuple[str, bool]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(data["k"]), bool(data["p"])
    except (ValueError, KeyError, TypeError):
        raise AwsApiError(
            "InvalidArgument", "The continuation token provided is incorrect"
        ) from None
