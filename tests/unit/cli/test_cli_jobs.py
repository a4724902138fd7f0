"""``eltflow jobs list|reset``: the CLI translates to and from the jobs service on App."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eltflow.app import build_app
from eltflow.cli import main
from eltflow.config import load_settings


def test_list_then_reset_a_stuck_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "eltflow.toml").write_text('[tables.JobAudit]\npartition_key = "JobID"\n')
    app = build_app(load_settings(tmp_path, environ={}))
    try:
        assert app.items is not None
        app.items.call(
            "PutItem",
            {
                "TableName": "JobAudit",
                "Item": {
                    "JobID": {"S": "101"},
                    "JobState": {"S": "Running"},
                    "LeaseUntil": {"S": "2026-11-28T01:30:00+00:00"},
                },
            },
        )
    finally:
        app.close()
    project = ["--project-dir", str(tmp_path)]

    assert main([*project, "jobs", "list"]) == 0
    assert capsys.readouterr().out.strip() == (
        "JobAudit  JobID 101  Running lease until 2026-11-28T01:30:00+00:00"
    )
    assert main([*project, "jobs", "reset", "101", "--json"]) == 0
    reset = json.loads(capsys.readouterr().out)
    assert reset["JobState"] == "Ready" and "LeaseUntil" not in reset
    assert main([*project, "jobs", "list", "--json"]) == 0
    assert [(j["JobID"], j["JobState"]) for j in json.loads(capsys.readouterr().out)] == [
        ("101", "Ready")
    ]
