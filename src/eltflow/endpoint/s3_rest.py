"""S3's REST-XML protocol over the local S3 service (:mod:`eltflow.s3.service`).

Addressing, as the SDKs send it:

- path-style: ``/<bucket>/<key>`` (what botocore uses for an ``endpoint_url`` that is an IP
  address, and with ``addressing_style="path"``);
- virtual-hosted: ``Host: <bucket>.localhost[:port]`` or ``<bucket>.s3.localhost[:port]``, the
  bucket in the host name and the key as the whole path.

Operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation,
ListObjectsV2 (and V1), PutObject, GetObject (``Range``, 206), HeadObject, DeleteObject,
DeleteObjects, CopyObject (``x-amz-copy-source``, ``x-amz-metadata-directive``), and multipart
uploads (CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload),
which ``aws s3 cp`` uses for files over 8 MB. Other sub-resources (``?acl``, ``?tagging``...)
answer S3's ``NotImplemented`` (501).

Request bodies are spooled to a temporary file (in memory up to 8 MB) rather than held whole,
and ``Content-Encoding: aws-chunked`` bodies (botocore's default for uploads with a trailing
checksum) are decoded; declared checksums are verified (see ``_payload``), signatures are
not. Errors are S3's ``<Error>`` document with S3's status; HEAD errors have no body, as S3
sends them.
"""

from __future__ import annotations

import base64
import hashlib
import re
import tempfile
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from email.utils import format_datetime
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from eltflow.endpoint.wire import WireError, rest_xml_error, xml_text
from eltflow.errors import AwsApiError
from eltflow.s3.service import (
    STORED_HEADERS,
    Listing,
    ObjectInfo,
    Part,
    S3Service,
    status,
    stream,
)

if TYPE_CHECKING:
    from eltflow.app import App

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
SPOOL_BYTES = 8 * 1024 * 1024
MAX_XML_BYTES = 1024 * 1024  # CompleteMultipartUpload / DeleteObjects documents
_VIRTUAL = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]*?)(?:\.s3)?\.localhost\.?$")
_NOT_SERVED = frozenset(
    {
        "acl",
        "tagging",
        "versioning",
        "versions",
        "policy",
        "cors",
        "lifecycle",
        "website",
        "encryption",
        "notification",
        "replication",
        "logging",
        "object-lock",
        "retention",
        "legal-hold",
        "restore",
        "select",
        "torrent",
        "uploads-list",
        "accelerate",
        "requestPayment",
        "analytics",
        "inventory",
        "metrics",
        "ownershipControls",
        "publicAccessBlock",
        "intelligent-tiering",
        "attributes",
    }
)


def bucket_from_host(host: str) -> str | None:
    """The bucket of a virtual-hosted request (``b.localhost:8642``, ``b.s3.localhost``)."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    match = _VIRTUAL.match(name.lower())
    if match is None or match.group("bucket") == "s3":
        return None
    return match.group("bucket")


def is_s3_request(scope: Mapping[str, Any]) -> bool:
    """A request addressed to a virtual-hosted bucket (path-style requests are recognised by
    their SigV4 scope, ``.../s3/aws4_request``)."""
    for key, value in scope.get("headers", ()):
        if key.lower() == b"host":
            return bucket_from_host(value.decode("latin-1")) is not None
    return False


class S3RequestError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def handle(app: App, request: Request, rid: str) -> Response:
    head = request.method == "HEAD"
    try:
        s3 = app.s3
        if s3 is None:
            raise S3RequestError("NotImplemented", "No local S3 in this eltflow app")
        bucket, key = _address(request)
        query = dict(parse_qsl(request.url.query, keep_blank_values=True))
        body = await _spool(request)
        try:
            now = app.clock.now()
            return await run_in_threadpool(
                _dispatch, s3, request, bucket, key, query, body, rid, now
            )
        finally:
            body.close()
    except (AwsApiError, S3RequestError) as e:
        error = WireError(e.code, e.message, status(e.code))
        if head:
            return Response(status_code=error.status, headers={"x-amz-request-id": rid})
        return rest_xml_error(error, rid)


def _address(request: Request) -> tuple[str | None, str]:
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = unquote(raw.decode("latin-1").split("?", 1)[0], errors="strict")
    virtual = bucket_from_host(request.headers.get("host", ""))
    if virtual is not None:
        return virtual, path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket or None, key


async def _spool(request: Request) -> IO[bytes]:
    body: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    async for chunk in request.stream():
        body.write(chunk)
    body.seek(0)
    return body


def _dispatch(
    s3: S3Service,
    request: Request,
    bucket: str | None,
    key: str,
    query: dict[str, str],
    body: IO[bytes],
    rid: str,
    now: datetime,
) -> Response:
    method = request.method
    headers = request.headers
    served = _NOT_SERVED.intersection(query)
    if served:
        raise S3RequestError(
            "NotImplemented", f"eltflow's local S3 does not implement ?{sorted(served)[0]}"
        )
    if bucket is None:
        if method == "GET":
            return _xml(_list_buckets(s3), rid)
        raise S3RequestError("MethodNotAllowed", f"{method} / is not an S3 operation")
    if not key:
        if method == "PUT":
            s3.create_bucket(bucket, now)
            return Response(headers={"Location": f"/{bucket}", "x-amz-request-id": rid})
        if method == "HEAD":
            s3.head_bucket(bucket)
            return Response(headers={"x-amz-request-id": rid, "x-amz-bucket-region": "us-east-1"})
        if method == "DELETE":
            s3.delete_bucket(bucket)
            return Response(status_code=204, headers={"x-amz-request-id": rid})
        if method == "GET" and "location" in query:
            s3.head_bucket(bucket)
            return _xml(f'<LocationConstraint xmlns="{NS}"></LocationConstraint>', rid)
        if method == "GET":
            return _xml(_list_objects(s3, bucket, query), rid)
        if method == "POST" and "delete" in query:
            return _xml(_delete_objects(s3, bucket, _read_xml(body)), rid)
        raise S3RequestError("MethodNotAllowed", f"{method} on a bucket is not supported")
    if method in ("GET", "HEAD"):
        info = s3.head_object(bucket, key)
        unchanged = _unchanged(info, headers.get("if-match"), headers.get("if-none-match"))
        if unchanged:
            return Response(status_code=304, headers={"ETag": info.etag, "x-amz-request-id": rid})
        if method == "GET":
            return _get_object(s3, bucket, key, headers.get("range"), rid)
        return Response(headers={**_object_headers(info), "x-amz-request-id": rid})
    if method == "DELETE":
        if "uploadId" in query:
            s3.abort_multipart_upload(bucket, key, query["uploadId"])
        else:
            s3.delete_object(bucket, key)
        return Response(status_code=204, headers={"x-amz-request-id": rid})
    if method == "PUT":
        if "uploadId" in query:
            number = query.get("partNumber", "")
            if not number.isdigit():
                raise S3RequestError("InvalidArgument", "partNumber must be an integer")
            etag = s3.upload_part(
                bucket, key, query["uploadId"], int(number), _payload(request, body)
            )
            return Response(headers={"ETag": etag, "x-amz-request-id": rid})
        source = headers.get("x-amz-copy-source")
        if source is not None:
            return _xml(_copy_object(s3, request, source, bucket, key), rid)
        if headers.get("if-none-match", "").strip() == "*" and _exists(s3, bucket, key):
            # A conditional write (If-None-Match: *): only if no object has the key. Checked,
            # then written: not atomic against a concurrent writer of the same key.
            raise S3RequestError(
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            )
        info = s3.put_object(bucket, key, _payload(request, body), **_stored(request))
        return Response(headers={"ETag": info.etag, "x-amz-request-id": rid})
    if method == "POST" and "uploads" in query:
        upload = s3.create_multipart_upload(bucket, key, **_stored(request))
        return _xml(
            f'<InitiateMultipartUploadResult xmlns="{NS}"><Bucket>{_e(bucket)}</Bucket>'
            f"<Key>{_e(key)}</Key><UploadId>{upload}</UploadId></InitiateMultipartUploadResult>",
            rid,
        )
    if method == "POST" and "uploadId" in query:
        info = s3.complete_multipart_upload(bucket, key, query["uploadId"], _parts(_read_xml(body)))
        return _xml(
            f'<CompleteMultipartUploadResult xmlns="{NS}"><Location>/{_e(bucket)}/{_e(key)}'
            f"</Location><Bucket>{_e(bucket)}</Bucket><Key>{_e(key)}</Key>"
            f"<ETag>{_e(info.etag)}</ETag></CompleteMultipartUploadResult>",
            rid,
        )
    raise S3RequestError("MethodNotAllowed", f"{method} on an object is not supported")


# -- request pieces ---------------------------------------------------------------------------


def _unchanged(info: ObjectInfo, if_match: str | None, if_none_match: str | None) -> bool:
    """HTTP preconditions on the ETag, as S3 applies them to GET and HEAD: ``If-Match`` that
    does not match is 412 ``PreconditionFailed``; ``If-None-Match`` that matches is 304 (True).
    If-Modified-Since / If-Unmodified-Since are not evaluated locally."""
    tags = {t.strip() for t in (if_match or "").split(",") if t.strip()}
    if if_match is not None and "*" not in tags and info.etag not in tags:
        raise S3RequestError(
            "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"
        )
    none = {t.strip() for t in (if_none_match or "").split(",") if t.strip()}
    return if_none_match is not None and ("*" in none or info.etag in none)


def _exists(s3: S3Service, bucket: str, key: str) -> bool:
    try:
        s3.head_object(bucket, key)
    except AwsApiError as e:
        if e.code == "NoSuchKey":
            return False
        raise
    return True


def _stored(request: Request) -> dict[str, Any]:
    """Content-Type, x-amz-meta-* and the other headers S3 stores with an object."""
    headers = request.headers
    return {
        "content_type": headers.get("content-type"),
        "metadata": {
            k[len("x-amz-meta-") :]: v for k, v in headers.items() if k.startswith("x-amz-meta-")
        },
        "headers": {
            h: headers[h]
            for h in STORED_HEADERS
            if h.lower() in headers
            and not (h == "Content-Encoding" and headers[h].strip() == "aws-chunked")
        },
    }


def _payload(request: Request, body: IO[bytes]) -> Iterator[bytes]:
    """The object's bytes, checked against what the client says they are: ``Content-MD5`` and
    an ``x-amz-checksum-*`` header or ``aws-chunked`` trailer (CRC32, SHA-1, SHA-256; CRC32C
    and CRC64NVME are accepted unchecked, as the standard library has no implementation). A
    mismatch is S3's ``BadDigest`` and nothing is stored."""
    encoding = request.headers.get("content-encoding", "")
    sha = request.headers.get("x-amz-content-sha256", "")
    checks: dict[str, str] = {
        k: v for k, v in request.headers.items() if k.startswith("x-amz-checksum-")
    }
    md5 = request.headers.get("content-md5")
    if md5 is not None:
        checks["content-md5"] = md5
    if "aws-chunked" in encoding or sha.startswith("STREAMING-"):
        announced = request.headers.get("x-amz-trailer", "")
        return _checked(_aws_chunks(body, checks), checks, announced)
    return _checked(iter(lambda: body.read(1024 * 1024), b""), checks, "")


_DIGESTS: dict[str, Callable[[], Any]] = {
    "content-md5": lambda: hashlib.md5(usedforsecurity=False),
    "x-amz-checksum-sha1": lambda: hashlib.sha1(usedforsecurity=False),
    "x-amz-checksum-sha256": hashlib.sha256,
    "x-amz-checksum-crc32": lambda: _Crc32(),
}


class _Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


def _checked(chunks: Iterator[bytes], checks: dict[str, str], announced: str) -> Iterator[bytes]:
    """``chunks``, then a ``BadDigest`` if a declared checksum does not match. An aws-chunked
    trailer (named up front by ``x-amz-trailer``: ``announced``) adds to ``checks`` once the
    data has been read."""
    names = {n for n in (*checks, announced.strip().lower()) if n in _DIGESTS}
    digests = {name: _DIGESTS[name]() for name in names}
    for chunk in chunks:
        for digest in digests.values():
            digest.update(chunk)
        yield chunk
    for name, expected in checks.items():
        if name not in digests:
            continue
        if base64.b64encode(digests[name].digest()).decode() != expected.strip():
            what = "Content-MD5" if name == "content-md5" else name[len("x-amz-checksum-") :]
            raise S3RequestError(
                "BadDigest", f"The {what} you specified did not match the calculated checksum."
            )


def _aws_chunks(body: IO[bytes], trailer: dict[str, str]) -> Iterator[bytes]:
    """Decode ``aws-chunked``: ``<hex size>[;chunk-signature=...]\\r\\n<bytes>\\r\\n`` ... a
    zero-size chunk, then trailing headers (the checksum), added to ``trailer``."""
    while True:
        line = body.readline()
        if not line.endswith(b"\r\n"):
            raise S3RequestError("IncompleteBody", "The aws-chunked body ended early")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise S3RequestError("InvalidRequest", "Malformed aws-chunked body") from None
        if size == 0:
            for raw in body.read(64 * 1024).decode("latin-1").split("\r\n"):
                name, sep, value = raw.partition(":")
                if sep and name.strip().lower().startswith("x-amz-checksum-"):
                    trailer[name.strip().lower()] = value.strip()
            return
        data = body.read(size)
        if len(data) != size or body.read(2) != b"\r\n":
            raise S3RequestError("IncompleteBody", "The aws-chunked body ended early")
        yield data


def _read_xml(body: IO[bytes]) -> ET.Element:
    text = body.read(MAX_XML_BYTES + 1)
    if len(text) > MAX_XML_BYTES:
        raise S3RequestError("MalformedXML", "The XML document is too large")
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        raise S3RequestError(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our "
            "published schema",
        ) from None
    for element in root.iter():  # drop the namespace: S3 accepts documents with or without it
        element.tag = element.tag.rsplit("}", 1)[-1]
    return root


def _parts(root: ET.Element) -> list[Part]:
    parts = []
    for part in root.findall("Part"):
        number = part.findtext("PartNumber", "")
        if not number.isdigit():
            raise S3RequestError("MalformedXML", "Each Part needs a PartNumber")
        parts.append(Part(int(number), part.findtext("ETag", "")))
    return parts


def _copy_object(s3: S3Service, request: Request, source: str, bucket: str, key: str) -> str:
    path = unquote(source.split("?", 1)[0]).lstrip("/")
    source_bucket, _, source_key = path.partition("/")
    if not source_key:
        raise S3RequestError("InvalidArgument", f"Copy Source must name an object: {source!r}")
    replace = request.headers.get("x-amz-metadata-directive", "COPY").upper() == "REPLACE"
    info = s3.copy_object(
        source_bucket, source_key, bucket, key, replace_metadata=replace, **_stored(request)
    )
    return (
        f'<CopyObjectResult xmlns="{NS}"><LastModified>{_iso(info.last_modified)}</LastModified>'
        f"<ETag>{_e(info.etag)}</ETag></CopyObjectResult>"
    )


# -- responses --------------------------------------------------------------------------------


def _get_object(s3: S3Service, bucket: str, key: str, byte_range: str | None, rid: str) -> Response:
    info, path, span = s3.get_object(bucket, key, byte_range)
    headers = {**_object_headers(info), "x-amz-request-id": rid}
    if span is None:
        return StreamingResponse(stream(path, None), headers=headers)
    headers["Content-Length"] = str(span[1] - span[0] + 1)
    headers["Content-Range"] = f"bytes {span[0]}-{span[1]}/{info.size}"
    return StreamingResponse(stream(path, span), status_code=206, headers=headers)


def _object_headers(info: ObjectInfo) -> dict[str, str]:
    headers = {
        "Content-Length": str(info.size),
        "Content-Type": info.content_type,
        "ETag": info.etag,
        "Last-Modified": format_datetime(info.last_modified, usegmt=True),
        "Accept-Ranges": "bytes",
        **dict(info.headers),
    }
    headers.update({f"x-amz-meta-{k}": v for k, v in info.metadata.items()})
    return headers


def _list_buckets(s3: S3Service) -> str:
    buckets = "".join(
        f"<Bucket><Name>{_e(b.name)}</Name><CreationDate>{_iso(b.created)}</CreationDate></Bucket>"
        for b in s3.list_buckets()
    )
    return (
        f'<ListAllMyBucketsResult xmlns="{NS}"><Owner><ID>eltflow</ID>'
        f"<DisplayName>eltflow</DisplayName></Owner><Buckets>{buckets}</Buckets>"
        "</ListAllMyBucketsResult>"
    )


def _list_objects(s3: S3Service, bucket: str, query: dict[str, str]) -> str:
    v2 = query.get("list-type") == "2"
    max_text = query.get("max-keys", "1000")
    if not max_text.isdigit():
        raise S3RequestError("InvalidArgument", "max-keys must be a non-negative integer")
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    url = query.get("encoding-type") == "url"
    start = query.get("start-after", "") if v2 else query.get("marker", "")
    token = query.get("continuation-token") if v2 else None
    page = s3.list_objects(
        bucket,
        prefix=prefix,
        delimiter=delimiter,
        max_keys=int(max_text),
        continuation_token=token,
        start_after=start,
    )

    def enc(text: str) -> str:
        return _e(quote(text, safe="/") if url else text)

    parts = [
        f'<ListBucketResult xmlns="{NS}"><Name>{_e(bucket)}</Name><Prefix>{enc(prefix)}</Prefix>',
        f"<MaxKeys>{max_text}</MaxKeys><IsTruncated>{str(page.is_truncated).lower()}</IsTruncated>",
    ]
    if delimiter:
        parts.append(f"<Delimiter>{enc(delimiter)}</Delimiter>")
    if url:
        parts.append("<EncodingType>url</EncodingType>")
    if v2:
        parts.append(f"<KeyCount>{page.key_count}</KeyCount>")
        if token:
            parts.append(f"<ContinuationToken>{_e(token)}</ContinuationToken>")
        if page.next_token:
            parts.append(f"<NextContinuationToken>{_e(page.next_token)}</NextContinuationToken>")
        if start:
            parts.append(f"<StartAfter>{enc(start)}</StartAfter>")
    else:
        parts.append(f"<Marker>{enc(start)}</Marker>")
        if page.is_truncated and delimiter:
            parts.append(f"<NextMarker>{enc(_last(page))}</NextMarker>")
    for o in page.contents:
        parts.append(
            f"<Contents><Key>{enc(o.key)}</Key><LastModified>{_iso(o.last_modified)}"
            f"</LastModified><ETag>{_e(o.etag)}</ETag><Size>{o.size}</Size>"
            "<StorageClass>STANDARD</StorageClass></Contents>"
        )
    for p in page.common_prefixes:
        parts.append(f"<CommonPrefixes><Prefix>{enc(p)}</Prefix></CommonPrefixes>")
    parts.append("</ListBucketResult>")
    return "".join(parts)


def _last(page: Listing) -> str:
    last_key = page.contents[-1].key if page.contents else ""
    last_prefix = page.common_prefixes[-1] if page.common_prefixes else ""
    return max(last_key, last_prefix)


def _delete_objects(s3: S3Service, bucket: str, root: ET.Element) -> str:
    s3.head_bucket(bucket)
    quiet = (root.findtext("Quiet") or "").strip().lower() == "true"
    out = [f'<DeleteResult xmlns="{NS}">']
    for entry in root.findall("Object"):
        key = entry.findtext("Key", "")
        try:
            s3.delete_object(bucket, key)
            if not quiet:
                out.append(f"<Deleted><Key>{_e(key)}</Key></Deleted>")
        except AwsApiError as e:
            out.append(
                f"<Error><Key>{_e(key)}</Key><Code>{_e(e.code)}</Code>"
                f"<Message>{_e(e.message)}</Message></Error>"
            )
    out.append("</DeleteResult>")
    return "".join(out)


def _xml(body: str, rid: str) -> Response:
    return Response(
        '<?xml version="1.0" encoding="UTF-8"?>' + body,
        media_type="application/xml",
        headers={"x-amz-request-id": rid},
    )


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _e(text: str) -> str:
    return xml_text(text)
