"""``eltflow tables|items|topics`` end to end through ``eltflow.cli.main`` on a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eltflow.cli import main


def _run(capsys: pytest.CaptureFixture[str], project: Path, *argv: str) -> tuple[int, object]:
    code = main(["--project-dir", str(project), *argv])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code == 0 else out.err)


def test_tables_and_items_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, tmp_path, "tables", "create", "JobAudit", "--partition-key", "JobID")
    assert code == 0 and isinstance(out, dict)
    assert out["TableDescription"]["TableName"] == "JobAudit"
    assert _run(capsys, tmp_path, "tables", "list")[1] == {"TableNames": ["JobAudit"]}
    code, _ = _run(
        capsys,
        tmp_path,
        "items",
        "put",
        "JobAudit",
        "--item",
        '{"JobID": "101", "JobState": "Ready", "n": 1.50}',
    )
    assert code == 0
    lock = [
        "items", "update", "JobAudit", "--key", '{"JobID": "101"}',
        "--update", "SET JobState = :running", "--condition", "JobState = :ready",
        "--values", '{":running": "Running", ":ready": "Ready"}',
    ]  # fmt: skip
    code, out = _run(capsys, tmp_path, *lock)
    assert code == 0 and out == {
        "Attributes": {"JobID": {"S": "101"}, "JobState": {"S": "Running"}, "n": {"N": "1.5"}}
    }
    code, err = _run(capsys, tmp_path, *lock)
    assert code == 1
    assert err == "error: ConditionalCheckFailedException: The conditional request failed\n"
    code, out = _run(
        capsys,
        tmp_path,
        "items",
        "get",
        "JobAudit",
        "--key",
        '{"JobID": {"S": "101"}}',
        "--projection",
        "JobState",
    )
    assert out == {"Item": {"JobState": {"S": "Running"}}}
    code, out = _run(
        capsys, tmp_path, "items", "scan", "JobAudit", "--filter", "n > :z", "--values", '{":z": 1}'
    )
    assert isinstance(out, dict) and out["Count"] == 1
    code, err = _run(capsys, tmp_path, "items", "get", "Nope", "--key", '{"JobID": "1"}')
    assert code == 1 and "ResourceNotFoundException: Requested resource not found" in str(err)
    code, out = _run(capsys, tmp_path, "tables", "delete", "JobAudit")
    assert code == 0
    code, err = _run(capsys, tmp_path, "tables", "describe", "JobAudit")
    assert code == 1 and "Requested resource not found: Table: JobAudit not found" in str(err)


def test_topics_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, tmp_path, "topics", "create", "etl")[1] == {
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:etl"
    }
    code, out = _run(
        capsys,
        tmp_path,
        "topics",
        "subscribe",
        "etl",
        "--protocol",
        "file",
        "--endpoint",
        "n.jsonl",
    )
    assert (
        code == 0
        and isinstance(out, dict)
        and out["SubscriptionArn"].startswith("arn:aws:sns:us-east-1:123456789012:etl:")
    )
    code, out = _run(capsys, tmp_path, "topics", "list")
    assert isinstance(out, dict)
    [topic] = out["Topics"]
    assert [s["Protocol"] for s in topic["Subscriptions"]] == ["file"]
    code, out = _run(capsys, tmp_path, "topics", "publish", "etl", "--message", "hello")
    assert code == 0 and isinstance(out, dict)
    assert [d["status"] for d in out["Deliveries"]] == ["delivered"]
    assert json.loads((tmp_path / "n.jsonl").read_text("utf-8"))["Message"] == "hello"
    code, out = _run(capsys, tmp_path, "topics", "deliveries", "--status", "delivered")
    assert isinstance(out, dict) and [d["endpoint"] for d in out["Deliveries"]] == ["n.jsonl"]
    code, err = _run(capsys, tmp_path, "topics", "publish", "nope", "--message", "x")
    assert code == 1 and "NotFound: Topic does not exist" in str(err)
