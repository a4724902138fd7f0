"""``aws-sdk:s3:*`` Task states over the local S3 service, run by eltflow.execute."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eltflow import execute
from eltflow.integrations import s3
from eltflow.integrations.base import Registry
from eltflow.s3.service import S3Service

SDK = "arn:aws:states:::aws-sdk:s3:"


def _run(root: Path, states: dict[str, Any], start: str) -> Any:
    registry = Registry()
    s3.register(registry, S3Service(root))
    definition = {"StartAt": start, "States": states}
    return execute(definition, {}, registry=registry, virtual_time=True)


def _task(action: str, params: dict[str, Any], next_: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Task", "Resource": SDK + action, "Parameters": params}
    state.update({"Next": next_} if next_ else {"End": True})
    return state


def test_put_list_get_through_task_states(tmp_path: Path) -> None:
    states = {
        "Make": _task("createBucket", {"Bucket": "etl"}, "Put"),
        "Put": {
            **_task("putObject", {"Bucket": "etl", "Key": "in/a.sql", "Body": "select 1"}, "List"),
            "ResultPath": "$.put",
        },
        "List": {
            **_task("listObjectsV2", {"Bucket": "etl", "Prefix": "in/"}, "Get"),
            "ResultPath": "$.list",
        },
        "Get": {**_task("getObject", {"Bucket": "etl", "Key": "in/a.sql"}), "ResultPath": "$.get"},
    }
    run = _run(tmp_path / "s3", states, "Make")
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    out = run.output
    assert out["get"]["Body"] == "select 1"
    assert out["get"]["ETag"] == out["put"]["ETag"]
    assert [c["Key"] for c in out["list"]["Contents"]] == ["in/a.sql"]
    assert (tmp_path / "s3" / "etl" / "in" / "a.sql").read_text() == "select 1"


def test_errors_are_named_as_aws_sdk_integrations_name_them(tmp_path: Path) -> None:
    (tmp_path / "s3" / "etl").mkdir(parents=True)
    missing_key = _run(
        tmp_path / "s3", {"G": _task("getObject", {"Bucket": "etl", "Key": "x"})}, "G"
    )
    assert missing_key.status == "FAILED"
    assert missing_key.error == "S3.NoSuchKeyException"
    assert "Status Code: 404" in missing_key.cause
    missing_bucket = _run(
        tmp_path / "s3", {"G": _task("headObject", {"Bucket": "nope", "Key": "x"})}, "G"
    )
    assert missing_bucket.error == "S3.NoSuchBucketException"
