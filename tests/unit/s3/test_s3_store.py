"""Local S3 objects as AWS documents them (ETag, listing order and paging, errors)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from eltflow.s3 import LocalS3, S3Error


def _keys(page: dict[str, Any]) -> list[str]:
    return [str(c["Key"]) for c in page["Contents"]]


@pytest.fixture
def s3(tmp_path: Path) -> LocalS3:
    store = LocalS3(tmp_path / "s3")
    store.create_bucket("bkt")
    return store


def test_put_get_head_with_the_md5_etag(s3: LocalS3) -> None:
    # API_PutObject / Checking object integrity: the ETag of a single-part upload is the MD5
    # of the bytes (hex, in double quotes).
    info = s3.put_object("bkt", "a/b.sql", b"select 1;", "text/plain", {"owner": "etl"})
    assert info.etag == '"' + hashlib.md5(b"select 1;").hexdigest() + '"'
    got, body = s3.get_object("bkt", "a/b.sql")
    assert body == b"select 1;"
    assert (got.size, got.content_type, got.metadata) == (9, "text/plain", {"owner": "etl"})
    assert (s3.root / "bkt" / "a" / "b.sql").read_bytes() == b"select 1;"  # a plain file


def test_a_file_put_there_by_hand_is_an_object(s3: LocalS3) -> None:
    (s3.root / "bkt" / "hand.csv").write_bytes(b"1,2\n")
    assert s3.head_object("bkt", "hand.csv").etag == '"' + hashlib.md5(b"1,2\n").hexdigest() + '"'


def test_errors_have_the_s3_codes(s3: LocalS3) -> None:
    with pytest.raises(S3Error) as key:
        s3.get_object("bkt", "missing")
    assert (key.value.code, key.value.status) == ("NoSuchKey", 404)
    with pytest.raises(S3Error) as bucket:
        s3.put_object("nobucket", "k", b"")
    assert bucket.value.code == "NoSuchBucket"
    with pytest.raises(S3Error):
        s3.put_object("bkt", "../escape", b"")
    s3.delete_object("bkt", "missing")  # API_DeleteObject: no error for a missing key


def test_list_objects_v2_pages_and_groups(s3: LocalS3) -> None:
    # API_ListObjectsV2: keys in UTF-8 binary order, MaxKeys per page, NextContinuationToken,
    # Delimiter rolls keys up into CommonPrefixes (each counted once in KeyCount).
    for key in ["b.txt", "a/1", "a/2", "a/3", "c/x/y", "d"]:
        s3.put_object("bkt", key, b"x")
    page = s3.list_objects_v2("bkt", max_keys=2)
    assert _keys(page) == ["a/1", "a/2"]
    assert page["IsTruncated"] is True and page["KeyCount"] == 2
    rest = s3.list_objects_v2(
        "bkt", max_keys=10, continuation_token=str(page["NextContinuationToken"])
    )
    assert _keys(rest) == ["a/3", "b.txt", "c/x/y", "d"]
    grouped = s3.list_objects_v2("bkt", delimiter="/")
    assert grouped["CommonPrefixes"] == [{"Prefix": "a/"}, {"Prefix": "c/"}]
    assert _keys(grouped) == ["b.txt", "d"]
    assert grouped["KeyCount"] == 4
    assert _keys(s3.list_objects_v2("bkt", prefix="a/")) == [
        "a/1",
        "a/2",
        "a/3",
    ]
