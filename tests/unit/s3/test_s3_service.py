"""The local S3 service over a real folder: buckets, objects, ETags, listing, multipart."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eltflow.errors import AwsApiError
from eltflow.s3.service import MIN_PART_BYTES, Part, S3Service, parse_range

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def s3(tmp_path: Path) -> S3Service:
    service = S3Service(tmp_path / "s3")
    service.create_bucket("data", NOW)
    return service


def code(excinfo: pytest.ExceptionInfo[AwsApiError]) -> str:
    return excinfo.value.code


def test_buckets_are_folders_and_errors_are_aws_codes(s3: S3Service, tmp_path: Path) -> None:
    assert (tmp_path / "s3" / "data").is_dir()
    assert [(b.name, b.created) for b in s3.list_buckets()] == [("data", NOW)]
    with pytest.raises(AwsApiError) as e:
        s3.create_bucket("data", NOW)
    assert code(e) == "BucketAlreadyOwnedByYou"
    with pytest.raises(AwsApiError) as e:
        s3.head_bucket("nope")
    assert code(e) == "NoSuchBucket"
    for bad in ("UPPER", "ab", "a..b", "192.168.1.1", "-x-"):
        with pytest.raises(AwsApiError) as e:
            s3.create_bucket(bad, NOW)
        assert code(e) == "InvalidBucketName"
    s3.put_object("data", "k", b"x")
    with pytest.raises(AwsApiError) as e:
        s3.delete_bucket("data")
    assert code(e) == "BucketNotEmpty"
    s3.delete_object("data", "k")
    s3.delete_bucket("data")
    assert s3.list_buckets() == []


def test_put_get_head_with_etag_metadata_and_range(s3: S3Service) -> None:
    body = b"hello world"
    put = s3.put_object(
        "data", "dir/a.txt", body, content_type="text/plain", metadata={"Owner": "me"}
    )
    assert put.etag == f'"{hashlib.md5(body).hexdigest()}"'
    head = s3.head_object("data", "dir/a.txt")
    assert (head.size, head.content_type, dict(head.metadata)) == (
        11,
        "text/plain",
        {"owner": "me"},
    )
    assert s3.read("data", "dir/a.txt")[1] == body
    assert s3.read("data", "dir/a.txt", "bytes=6-")[1] == b"world"
    assert s3.read("data", "dir/a.txt", "bytes=-5")[1] == b"world"
    assert s3.read("data", "dir/a.txt", "bytes=0-4")[1] == b"hello"
    with pytest.raises(AwsApiError) as e:
        s3.read("data", "dir/a.txt", "bytes=50-")
    assert code(e) == "InvalidRange"
    with pytest.raises(AwsApiError) as e:
        s3.head_object("data", "dir/missing")
    assert code(e) == "NoSuchKey"


def test_a_file_written_without_the_service_is_an_object(s3: S3Service, tmp_path: Path) -> None:
    (tmp_path / "s3" / "data" / "drop.csv").write_bytes(b"1,2\n")
    info = s3.head_object("data", "drop.csv")
    assert info.etag.strip('"') == hashlib.md5(b"1,2\n").hexdigest()
    assert info.content_type == "binary/octet-stream"
    s3.put_object("data", "drop.csv", b"x", content_type="text/csv")
    (tmp_path / "s3" / "data" / "drop.csv").write_bytes(b"changed behind our back")
    assert s3.head_object("data", "drop.csv").etag == (
        f'"{hashlib.md5(b"changed behind our back").hexdigest()}"'
    )


@pytest.mark.parametrize("key", ["../escape", "a/../../b", "a//b", "./x", ".eltflow-meta/x", ""])
def test_keys_cannot_leave_the_bucket(s3: S3Service, key: str, tmp_path: Path) -> None:
    with pytest.raises(AwsApiError) as e:
        s3.put_object("data", key, b"x")
    assert code(e) == "InvalidArgument"
    assert not (tmp_path / "escape").exists() and not (tmp_path / "s3" / "b").exists()


def test_symlink_out_of_the_bucket_is_refused(s3: S3Service, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "s3" / "data" / "link").symlink_to(outside)
    with pytest.raises(AwsApiError) as e:
        s3.put_object("data", "link/x", b"x")
    assert code(e) == "InvalidArgument"
    assert not (outside / "x").exists()


def test_list_objects_v2_prefix_delimiter_and_paging(s3: S3Service) -> None:
    keys = ["a/1", "a/2", "b/x/1", "b/y", "c", "d/e/f"]
    for k in keys:
        s3.put_object("data", k, b"1")
    everything = s3.list_objects("data")
    assert [o.key for o in everything.contents] == keys and not everything.is_truncated
    grouped = s3.list_objects("data", delimiter="/")
    assert [o.key for o in grouped.contents] == ["c"]
    assert grouped.common_prefixes == ("a/", "b/", "d/")
    under_b = s3.list_objects("data", prefix="b/", delimiter="/")
    assert ([o.key for o in under_b.contents], under_b.common_prefixes) == (["b/y"], ("b/x/",))
    seen: list[str] = []
    token = None
    while True:
        page = s3.list_objects("data", delimiter="/", max_keys=2, continuation_token=token)
        seen += [o.key for o in page.contents] + list(page.common_prefixes)
        if not page.is_truncated:
            break
        token = page.next_token
    assert seen == ["a/", "b/", "c", "d/"]
    assert [o.key for o in s3.list_objects("data", start_after="b/y").contents] == ["c", "d/e/f"]


def test_copy_keeps_or_replaces_metadata(s3: S3Service) -> None:
    s3.put_object("data", "src", b"abc", content_type="text/plain", metadata={"a": "1"})
    copied = s3.copy_object("data", "src", "data", "dst")
    assert (copied.content_type, dict(copied.metadata)) == ("text/plain", {"a": "1"})
    replaced = s3.copy_object(
        "data", "src", "data", "dst2", replace_metadata=True, metadata={"b": "2"}
    )
    assert (replaced.content_type, dict(replaced.metadata)) == ("binary/octet-stream", {"b": "2"})
    with pytest.raises(AwsApiError) as e:
        s3.copy_object("data", "src", "data", "src")
    assert code(e) == "InvalidRequest"


def test_multipart_upload_etag_is_md5_of_part_md5s(s3: S3Service) -> None:
    part1, part2 = b"a" * MIN_PART_BYTES, b"tail"
    upload = s3.create_multipart_upload("data", "big.bin", content_type="application/x-big")
    e1 = s3.upload_part("data", "big.bin", upload, 1, part1)
    e2 = s3.upload_part("data", "big.bin", upload, 2, part2)
    info = s3.complete_multipart_upload("data", "big.bin", upload, [Part(1, e1), Part(2, e2)])
    expected = hashlib.md5(hashlib.md5(part1).digest() + hashlib.md5(part2).digest()).hexdigest()
    assert info.etag == f'"{expected}-2"'
    assert s3.read("data", "big.bin")[1] == part1 + part2
    assert s3.head_object("data", "big.bin").content_type == "application/x-big"
    with pytest.raises(AwsApiError) as e:
        s3.upload_part("data", "big.bin", upload, 3, b"x")
    assert code(e) == "NoSuchUpload"


def test_multipart_refuses_small_parts_and_wrong_etags(s3: S3Service) -> None:
    upload = s3.create_multipart_upload("data", "k")
    e1 = s3.upload_part("data", "k", upload, 1, b"small")
    e2 = s3.upload_part("data", "k", upload, 2, b"last")
    with pytest.raises(AwsApiError) as e:
        s3.complete_multipart_upload("data", "k", upload, [Part(1, e1), Part(2, e2)])
    assert code(e) == "EntityTooSmall"
    with pytest.raises(AwsApiError) as e:
        s3.complete_multipart_upload("data", "k", upload, [Part(1, '"00"')])
    assert code(e) == "InvalidPart"
    with pytest.raises(AwsApiError) as e:
        s3.complete_multipart_upload("data", "k", upload, [Part(2, e2), Part(1, e1)])
    assert code(e) == "InvalidPartOrder"
    s3.abort_multipart_upload("data", "k", upload)
    with pytest.raises(AwsApiError) as e:
        s3.complete_multipart_upload("data", "k", upload, [Part(1, e1)])
    assert code(e) == "NoSuchUpload"


def test_parse_range() -> None:
    assert parse_range("bytes=0-0", 10) == (0, 0)
    assert parse_range("bytes=5-100", 10) == (5, 9)
    assert parse_range("bytes=-100", 10) == (0, 9)


def test_the_s3_root_is_configurable(tmp_path: Path) -> None:
    from eltflow.app import build_app
    from eltflow.config import load_settings

    (tmp_path / "eltflow.toml").write_text('[s3]\nroot = "buckets"\n', "utf-8")
    app = build_app(load_settings(tmp_path, environ={}))
    try:
        assert app.s3 is not None and app.s3.root == tmp_path / "buckets"
        app.s3.create_bucket("bkt", NOW)
        assert (tmp_path / "buckets" / "bkt").is_dir()
    finally:
        app.close()
