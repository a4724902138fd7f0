"""A task whose service fails on the state store (a SQLite write lock held past the busy
timeout while DynamoDB PutItem runs) is retried by the runtime, not failed with a
``StoreError`` that no Retry can match."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from eltflow.app import build_app
from eltflow.clock import VirtualClock
from eltflow.config import load_settings
from eltflow.integrations.base import TaskRequest
from eltflow.types import JSON

PUT = "arn:aws:states:::dynamodb:putItem"
MACHINE = {
    "StartAt": "Put",
    "States": {
        "Put": {
            "Type": "Task",
            "Resource": PUT,
            "Parameters": {"TableName": "JobAudit", "Item": {"JobID": {"S": "101"}}},
            "End": True,
        }
    },
}


def test_a_store_error_inside_a_task_is_retried(tmp_path: Path) -> None:
    (tmp_path / "eltflow.toml").write_text('[tables.JobAudit]\npartition_key = "JobID"\n')
    settings = load_settings(tmp_path, environ={})
    app = build_app(settings, clock=VirtualClock())
    app.db.busy_timeout = 0.05
    app.db.close()  # connections reopen on first use, with the short busy timeout
    holder = sqlite3.connect(
        settings.state_url.removeprefix("sqlite:///"),
        isolation_level=None,
        check_same_thread=False,  # used from the task's thread
    )
    real = app.registry.resolve(PUT)
    assert real is not None
    calls = 0

    def put_while_locked(request: TaskRequest) -> JSON:
        nonlocal calls
        calls += 1
        if calls > 1:
            return real(request)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock meanwhile
        try:
            return real(request)
        finally:
            holder.execute("ROLLBACK")

    app.registry.add(PUT, put_while_locked)
    app.service.create_state_machine(name="m", definition=MACHINE)
    arn = str(app.service.start_execution(state_machine_arn="m")["executionArn"])
    app.worker().run(until_idle=True)

    desc = app.service.describe_execution(execution_arn=arn)
    assert desc["status"] == "SUCCEEDED", (desc.get("error"), desc.get("cause"))
    assert calls == 2
    assert app.items is not None
    got = app.items.call("GetItem", {"TableName": "JobAudit", "Key": {"JobID": {"S": "101"}}})
    assert got["Item"] == {"JobID": {"S": "101"}}
    holder.close()
    app.close()
