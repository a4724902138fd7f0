"""S3's REST protocol on the endpoint, with real boto3 (path-style and virtual-hosted) and the
real AWS CLI (``aws s3 cp`` / ``aws s3 ls``, multipart for a file over 8 MB)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.e2e.endpoint.model_check import check_response

from eltflow.app import App
from eltflow.serve import Server


def _code(e: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def _s3(url: str, style: Literal["path", "virtual"]) -> Any:
    made = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": style}),
    )
    made.meta.events.register("after-call", check_response)
    return made


@pytest.fixture(scope="module")
def path_style(server: Server) -> Any:
    return _s3(server.url, "path")


@pytest.fixture(scope="module")
def virtual(server: Server) -> Any:
    """boto3 with virtual-hosted addressing against ``http://localhost:PORT``: it sends
    ``Host: <bucket>.localhost:PORT``. *.localhost need not resolve on this machine, so the
    connection goes to 127.0.0.1 with the Host header boto3 computed (what a resolver that
    maps *.localhost to loopback, as systemd-resolved does, would give)."""
    port = urlsplit(server.url).port
    client = _s3(f"http://localhost:{port}", "virtual")

    def to_loopback(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        request.headers["Host"] = parts.netloc
        request.url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}"))

    client.meta.events.register_first("before-send.s3", to_loopback)
    return client


def test_buckets_and_objects_path_style(path_style: Any, app: App) -> None:
    s3 = path_style
    s3.create_bucket(Bucket="raw")
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="raw")
    assert _code(e) == ("BucketAlreadyOwnedByYou", 409)
    assert "raw" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.head_bucket(Bucket="raw")
    put = s3.put_object(
        Bucket="raw",
        Key="in/a b+c.csv",
        Body=b"1,2\n3,4\n",
        ContentType="text/csv",
        Metadata={"owner": "etl"},
    )
    assert put["ETag"].strip('"') == hashlib.md5(b"1,2\n3,4\n").hexdigest()
    got = s3.get_object(Bucket="raw", Key="in/a b+c.csv")
    assert got["Body"].read() == b"1,2\n3,4\n"
    assert (got["ContentType"], got["Metadata"], got["ETag"]) == (
        "text/csv",
        {"owner": "etl"},
        put["ETag"],
    )
    part = s3.get_object(Bucket="raw", Key="in/a b+c.csv", Range="bytes=4-")
    assert (part["Body"].read(), part["ContentRange"]) == (b"3,4\n", "bytes 4-7/8")
    assert s3.head_object(Bucket="raw", Key="in/a b+c.csv")["ContentLength"] == 8
    # The object is the file COPY reads.
    assert app.s3 is not None
    assert (app.s3.root / "raw" / "in" / "a b+c.csv").read_bytes() == b"1,2\n3,4\n"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="raw", Key="missing")
    assert _code(e) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="raw", Key="missing")
    assert _code(e)[1] == 404
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="raw", Key="in/a b+c.csv", Range="bytes=100-")
    assert _code(e) == ("InvalidRange", 416)
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="no-such-bucket")
    assert _code(e) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket="raw")
    assert _code(e) == ("BucketNotEmpty", 409)


def test_list_copy_and_delete(path_style: Any) -> None:
    s3 = path_style
    s3.create_bucket(Bucket="listing")
    keys = ["a/1", "a/2", "b/x", "c", "d/e/f"]
    for key in keys:
        s3.put_object(Bucket="listing", Key=key, Body=key.encode())
    grouped = s3.list_objects_v2(Bucket="listing", Delimiter="/")
    assert [c["Key"] for c in grouped["Contents"]] == ["c"]
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["a/", "b/", "d/"]
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket="listing", PaginationConfig={"PageSize": 2}
    )
    assert [o["Key"] for page in pages for o in page.get("Contents", [])] == keys
    copied = s3.copy_object(
        Bucket="listing", Key="copy/c", CopySource={"Bucket": "listing", "Key": "c"}
    )
    assert copied["CopyObjectResult"]["ETag"] == s3.head_object(Bucket="listing", Key="c")["ETag"]
    s3.delete_object(Bucket="listing", Key="c")
    s3.delete_object(Bucket="listing", Key="never-was")  # S3: no error
    gone = s3.delete_objects(Bucket="listing", Delete={"Objects": [{"Key": k} for k in keys]})
    assert sorted(d["Key"] for d in gone["Deleted"]) == sorted(keys)
    s3.delete_object(Bucket="listing", Key="copy/c")
    assert s3.list_objects_v2(Bucket="listing")["KeyCount"] == 0
    s3.delete_bucket(Bucket="listing")


def test_keys_cannot_leave_the_bucket(path_style: Any, app: App) -> None:
    s3 = path_style
    s3.create_bucket(Bucket="jail")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="jail", Key="../escaped", Body=b"x")
    assert _code(e)[1] == 400
    assert app.s3 is not None and not (app.s3.root / "escaped").exists()


def test_virtual_hosted_addressing(virtual: Any, path_style: Any) -> None:
    virtual.create_bucket(Bucket="vhost")
    virtual.put_object(Bucket="vhost", Key="k/v.txt", Body=b"virtual")
    assert virtual.get_object(Bucket="vhost", Key="k/v.txt")["Body"].read() == b"virtual"
    assert [o["Key"] for o in virtual.list_objects_v2(Bucket="vhost")["Contents"]] == ["k/v.txt"]
    # The same bucket either way.
    assert path_style.get_object(Bucket="vhost", Key="k/v.txt")["Body"].read() == b"virtual"


def test_multipart_upload_with_boto3(path_style: Any) -> None:
    s3 = path_style
    s3.create_bucket(Bucket="parts")
    upload = s3.create_multipart_upload(Bucket="parts", Key="big")["UploadId"]
    one, two = b"x" * (5 * 1024 * 1024), b"tail"
    e1 = s3.upload_part(Bucket="parts", Key="big", UploadId=upload, PartNumber=1, Body=one)["ETag"]
    e2 = s3.upload_part(Bucket="parts", Key="big", UploadId=upload, PartNumber=2, Body=two)["ETag"]
    done = s3.complete_multipart_upload(
        Bucket="parts",
        Key="big",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    digest = hashlib.md5(hashlib.md5(one).digest() + hashlib.md5(two).digest()).hexdigest()
    assert done["ETag"] == f'"{digest}-2"'
    assert s3.head_object(Bucket="parts", Key="big")["ContentLength"] == len(one) + len(two)


def test_aws_cli_cp_and_ls(aws_cli: Callable[..., Any], path_style: Any, tmp_path: Path) -> None:
    path_style.create_bucket(Bucket="cli")
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * (9 * 1024 * 1024 // 256 + 7))  # > 8 MB: multipart
    small = tmp_path / "small.txt"
    small.write_text("hello\n")
    aws_cli("s3", "cp", str(big), "s3://cli/data/big.bin", raw=True)
    aws_cli("s3", "cp", str(small), "s3://cli/data/small.txt", raw=True)
    listed = aws_cli("s3", "ls", "s3://cli/data/", raw=True)
    assert "big.bin" in listed and "small.txt" in listed
    assert "PRE data/" in aws_cli("s3", "ls", "s3://cli", raw=True)
    head = path_style.head_object(Bucket="cli", Key="data/big.bin")
    assert head["ContentLength"] == big.stat().st_size and head["ETag"].endswith('-2"')
    back = tmp_path / "back.bin"
    aws_cli("s3", "cp", "s3://cli/data/big.bin", str(back), raw=True)
    assert back.read_bytes() == big.read_bytes()


def test_declared_checksums_are_verified(path_style: Any) -> None:
    s3 = path_style
    s3.create_bucket(Bucket="sums")
    # boto3's default: a CRC32 in an aws-chunked trailer; and SHA-256 when asked.
    s3.put_object(Bucket="sums", Key="crc", Body=b"payload")
    s3.put_object(Bucket="sums", Key="sha", Body=b"payload", ChecksumAlgorithm="SHA256")
    assert s3.get_object(Bucket="sums", Key="sha")["Body"].read() == b"payload"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="sums", Key="bad", Body=b"payload", ChecksumCRC32="AAAAAA==")
    assert _code(e) == ("BadDigest", 400)
    other = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="sums", Key="bad", Body=b"payload", ContentMD5=other)
    assert _code(e) == ("BadDigest", 400)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="sums", Key="bad")  # nothing was stored
    assert _code(e)[1] == 404


def test_etag_preconditions(path_style: Any) -> None:
    s3 = path_style
    s3.create_bucket(Bucket="conditions")
    etag = s3.put_object(Bucket="conditions", Key="k", Body=b"v1")["ETag"]
    assert s3.get_object(Bucket="conditions", Key="k", IfMatch=etag)["Body"].read() == b"v1"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="conditions", Key="k", IfMatch='"0"')
    assert _code(e) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="conditions", Key="k", IfNoneMatch=etag)
    assert _code(e)[1] == 304
    with pytest.raises(ClientError) as e:  # conditional write: only if the key is new
        s3.put_object(Bucket="conditions", Key="k", Body=b"v2", IfNoneMatch="*")
    assert _code(e) == ("PreconditionFailed", 412)
    s3.put_object(Bucket="conditions", Key="new", Body=b"v2", IfNoneMatch="*")
