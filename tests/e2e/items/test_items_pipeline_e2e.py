"""End to end: the audit-lock pattern — DynamoDB lock (conditional UpdateItem), a Lambda task,
a Catch that releases the lock, and SNS notifications to a real webhook on 127.0.0.1."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from eltflow.app import build_app
from eltflow.config import load_settings
from eltflow.items.service import DynamoDB
from eltflow.notify.topics import Topics
from eltflow.runtime.local import execute

HANDLERS = str(Path(__file__).resolve().parents[2] / "unit" / "lambdas")

KEY = {"JobID": {"S.$": "$.JobID"}}
DEFINITION: dict[str, Any] = {
    "StartAt": "ReadAudit",
    "States": {
        "ReadAudit": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:getItem",
            "Parameters": {"TableName": "JobAudit", "Key": KEY},
            "ResultSelector": {"State.$": "$.Item.JobState.S"},
            "ResultPath": "$.audit",
            "Next": "IsRunning",
        },
        "IsRunning": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.audit.State", "StringEquals": "Running", "Next": "Skip"}],
            "Default": "Lock",
        },
        "Skip": {"Type": "Succeed"},
        "Lock": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:updateItem",
            "Parameters": {
                "TableName": "JobAudit",
                "Key": KEY,
                "UpdateExpression": "SET JobState = :running",
                "ConditionExpression": "JobState = :ready",
                "ExpressionAttributeValues": {
                    ":running": {"S": "Running"},
                    ":ready": {"S": "Ready"},
                },
            },
            "ResultPath": None,
            "Catch": [
                {
                    "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                    "Next": "Skip",
                }
            ],
            "Next": "Load",
        },
        "Load": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "LoadFacts", "Payload.$": "$"},
            "ResultSelector": {"rows.$": "$.Payload.rows"},
            "ResultPath": "$.load",
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Release"}],
            "Next": "Unlock",
        },
        "Unlock": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:updateItem",
            "Parameters": {
                "TableName": "JobAudit",
                "Key": KEY,
                "UpdateExpression": "SET JobState = :ready, LastRows = :rows",
                "ExpressionAttributeValues": {
                    ":ready": {"S": "Ready"},
                    ":rows": {"N.$": "States.Format('{}', $.load.rows)"},
                },
            },
            "ResultPath": None,
            "Next": "NotifySuccess",
        },
        "NotifySuccess": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:etl-events",
                "Subject": "ETL succeeded",
                "Message": {"JobID.$": "$.JobID", "rows.$": "$.load.rows"},
            },
            "ResultPath": None,
            "End": True,
        },
        "Release": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:updateItem",
            "Parameters": {
                "TableName": "JobAudit",
                "Key": KEY,
                "UpdateExpression": "SET JobState = :ready",
                "ExpressionAttributeValues": {":ready": {"S": "Ready"}},
            },
            "ResultPath": None,
            "Next": "NotifyFailure",
        },
        "NotifyFailure": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:etl-events",
                "Subject": "ETL failed",
                "Message.$": "$.error",
            },
            "ResultPath": None,
            "Next": "Failed",
        },
        "Failed": {"Type": "Fail", "Error": "LoadFailed", "Cause": "see notification"},
    },
}


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/etl", received
    server.shutdown()
    server.server_close()
    thread.join()


def test_lock_lambda_catch_and_notify(
    tmp_path: Path,
    store_url: str,
    webhook: tuple[str, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, received = webhook
    monkeypatch.syspath_prepend(HANDLERS)
    (tmp_path / "eltflow.toml").write_text(
        f"""
[tables.JobAudit]
partition_key = "JobID"

[lambda.functions]
LoadFacts = "lambda_e2e_handlers:load"

[topics.etl-events]
subscriptions = [{{ protocol = "http", endpoint = "{url}" }}]
""",
        "utf-8",
    )
    settings = load_settings(tmp_path, environ={"ELTFLOW_STATE": store_url})
    app = build_app(settings)
    items, topics, registry = app.items, app.topics, app.registry
    assert isinstance(items, DynamoDB) and isinstance(topics, Topics)
    try:
        items.put_item(
            {"TableName": "JobAudit", "Item": {"JobID": {"S": "101"}, "JobState": {"S": "Ready"}}}
        )
        ok = execute(DEFINITION, {"JobID": "101"}, registry=registry)
        assert ok.status == "SUCCEEDED", (ok.error, ok.cause)
        item = items.get_item({"TableName": "JobAudit", "Key": {"JobID": {"S": "101"}}})["Item"]
        assert item["JobState"] == {"S": "Ready"} and item["LastRows"] == {"N": "42"}
        assert json.loads(received[-1]["Message"]) == {"JobID": "101", "rows": 42}
        assert received[-1]["Subject"] == "ETL succeeded"

        failed = execute(DEFINITION, {"JobID": "101", "fail": True}, registry=registry)
        assert (failed.status, failed.error) == ("FAILED", "LoadFailed")
        item = items.get_item({"TableName": "JobAudit", "Key": {"JobID": {"S": "101"}}})["Item"]
        assert item["JobState"] == {"S": "Ready"}  # the Catch released the lock
        note = received[-1]
        assert note["Subject"] == "ETL failed"
        error = json.loads(note["Message"])
        assert error["Error"] == "LoadFailed"
        assert json.loads(error["Cause"])["errorMessage"] == "load of job 101 failed"

        # A job already Running is skipped quietly, with no work and no notification.
        items.update_item(
            {
                "TableName": "JobAudit",
                "Key": {"JobID": {"S": "101"}},
                "UpdateExpression": "SET JobState = :r",
                "ExpressionAttributeValues": {":r": {"S": "Running"}},
            }
        )
        before = len(received)
        skipped = execute(DEFINITION, {"JobID": "101"}, registry=registry)
        assert skipped.status == "SUCCEEDED" and len(received) == before
        statuses = [r["status"] for r in topics.deliveries()]
        assert statuses == ["delivered", "delivered"]
    finally:
        app.close()
    assert sys.modules.get("lambda_e2e_handlers") is not None
