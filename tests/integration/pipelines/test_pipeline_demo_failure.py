"""``eltflow demo --fail-at fact``: the red run is left for the user, and the recovery it prints
works when followed exactly (real DuckDB, SQLite, Lambda handlers, worker)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from eltflow.app import build_app
from eltflow.cli import main
from eltflow.config import load_settings
from eltflow.pipelines.reference.demo import DemoOptions, run_demo


def test_fail_at_fact_leaves_the_failed_run_and_its_printed_recovery_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("ELTFLOW_HOME", "ELTFLOW_STATE", "ELTFLOW_WAREHOUSE"):
        monkeypatch.delenv(var, raising=False)
    project = tmp_path / "demo"
    lines: list[str] = []
    options = DemoOptions(project_dir=project, scale_factor=0.01, fail_at="fact")
    assert run_demo(options, build_app, lines.append) == 1
    text = "\n".join(lines)
    assert "execution FAILED: " in text and "JobState=Failed" in text
    assert "repairing" not in text  # nothing was repaired behind the user's back

    arn = re.search(r"redrive (arn:aws:states:\S+)", text)
    assert arn is not None
    app = build_app(load_settings(project))
    try:
        desc = app.service.describe_execution(execution_arn=arn.group(1))
        assert desc["status"] == "FAILED"  # still red: there to look at
        jobs = app.jobs.jobs() if app.jobs is not None else []
        assert [j["JobState"] for j in jobs] == ["Failed"]
    finally:
        app.close()

    # Running the demo again meanwhile does not bury the failed run under a skipped one: it
    # says why it stops, and leaves everything as it was.
    again: list[str] = []
    options = DemoOptions(project_dir=project, scale_factor=0.01)
    assert run_demo(options, build_app, again.append) == 1
    assert "JobID 101 is Failed" in "\n".join(again)
    assert "jobs reset 101" in "\n".join(again)
    assert not any(line.startswith("[1/4]") for line in again)

    # Follow the printed steps 1-3 exactly, as a user would copy them.
    steps = [line.split(":", 1)[1] for line in lines if re.match(r"\s+[123]\. ", line)]
    assert len(steps) == 3
    for step in steps:
        argv = shlex.split(step.split("   (")[0])
        assert argv[0] == "eltflow"
        assert main(argv[1:]) == 0, step
    capsys.readouterr()

    app = build_app(load_settings(project))
    try:
        desc = app.service.describe_execution(execution_arn=arn.group(1))
        assert desc["status"] == "SUCCEEDED"
        jobs = app.jobs.jobs() if app.jobs is not None else []
        assert [j["JobState"] for j in jobs] == ["Ready"]
    finally:
        app.close()
