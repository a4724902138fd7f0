"""The S3 service as COPY/UNLOAD see it: files in key order, Redshift-worded errors, S3's key
rules (nothing outside the bucket), and files the engines write are objects."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eltflow.s3.service import S3Service
from eltflow.s3.warehouse import WarehouseObjects
from eltflow.warehouse.base import SqlError


@pytest.fixture
def view(tmp_path: Path) -> WarehouseObjects:
    service = S3Service(tmp_path / "s3")
    service.create_bucket("bkt", datetime(2026, 1, 1, tzinfo=UTC))
    return WarehouseObjects(service)


def test_objects_in_key_order_and_errors(view: WarehouseObjects) -> None:
    for key in ["in/b.csv", "in/a.csv", "other.csv"]:
        view.service.put_object("bkt", key, b"1\n")
    assert [view.url(p) for p in view.objects("s3://bkt/in/")] == [
        "s3://bkt/in/a.csv",
        "s3://bkt/in/b.csv",
    ]
    with pytest.raises(SqlError, match="The specified bucket does not exist"):
        view.objects("s3://nobkt/x")
    with pytest.raises(SqlError, match="prefix 'nothing' does not exist"):
        view.objects("s3://bkt/nothing")
    with pytest.raises(SqlError, match="only s3://"):
        view.objects("/etc/passwd")


def test_keys_stay_inside_the_bucket(view: WarehouseObjects, tmp_path: Path) -> None:
    with pytest.raises(SqlError):
        view.file("s3://bkt/../escape")
    outside = tmp_path / "outside"
    outside.mkdir()
    (view.path / "bkt" / "link").symlink_to(outside)
    with pytest.raises(SqlError, match="leaves its bucket"):
        view.file("s3://bkt/link/unloaded.csv")


def test_a_file_an_unload_wrote_is_an_object(view: WarehouseObjects) -> None:
    target = view.file("s3://bkt/out/0000_part_00.csv")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"a,b\n")
    info = view.service.head_object("bkt", "out/0000_part_00.csv")
    assert info.etag == '"' + hashlib.md5(b"a,b\n").hexdigest() + '"'
