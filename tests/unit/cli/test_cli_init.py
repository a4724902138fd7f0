"""``eltflow init``: the scaffold validates and runs as generated, in real subprocesses.

The start runs from the parent folder with ``--project-dir`` and no PYTHONPATH pointing at the
project, so the handler module is found only because eltflow puts the project folder on the
handlers' import path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from eltflow.pipelines import scaffold


def eltflow(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ELTFLOW_")}
    return subprocess.run(
        [sys.executable, "-m", "eltflow", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_init_then_validate_and_run_the_scaffolded_pipeline(tmp_path: Path) -> None:
    made = eltflow(tmp_path, "init", "demo2")
    assert made.returncode == 0, made.stderr
    project = tmp_path / "demo2"
    assert "eltflow start pipeline" in made.stdout
    assert {p.name for p in project.iterdir()} >= {"eltflow.toml", "pipeline.asl.json", "sql"}
    assert "sql/load_orders.sql" in made.stdout

    checked = eltflow(project, "validate", "pipeline.asl.json")
    assert checked.returncode == 0, checked.stdout
    ran = eltflow(
        tmp_path, "--project-dir", "demo2", "start", "pipeline", "--input", '{"JobID": "7"}',
        "--wait",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    output = json.loads(ran.stdout.strip().splitlines()[-1])
    assert output["orders"]["rows"] == 3 and output["summary"] == {"rows": 1}
    rows = eltflow(project, "sql", "SELECT job_id, orders FROM public.load_log", "--json")
    assert rows.returncode == 0, rows.stderr
    assert "7" in rows.stdout

    listed = eltflow(project, "schedules", "list", "--json")
    schedules = {s["Name"]: s for s in json.loads(listed.stdout)["Schedules"]}
    assert schedules[scaffold.SCHEDULE]["ScheduleExpression"] == "rate(5 minutes)"
    assert schedules[scaffold.SCHEDULE]["State"] == "DISABLED"

    again = eltflow(tmp_path, "init", "demo2")
    assert again.returncode == 1 and "does not overwrite" in again.stderr


def test_a_failing_load_is_retried_then_caught(tmp_path: Path) -> None:
    assert eltflow(tmp_path, "init", "p").returncode == 0
    path = tmp_path / "p" / scaffold.DEFINITION
    definition = json.loads(path.read_text())
    load = definition["States"]["LoadSummary"]
    load["Parameters"]["Payload"]["Sql"] = "INSERT INTO public.no_such_table SELECT 1"
    load["Retry"][0].update(IntervalSeconds=1, MaxAttempts=1)
    path.write_text(json.dumps(definition))
    assert eltflow(tmp_path / "p", "machines", "update", "pipeline", "--definition",
                   str(path)).returncode == 0  # fmt: skip

    ran = eltflow(tmp_path / "p", "start", "pipeline", "--input", '{"JobID": "1"}', "--wait",
                  "--json")  # fmt: skip
    assert ran.returncode == 1
    desc = json.loads(ran.stdout)
    assert desc["error"] == "LoadFailed"
    cause = json.loads(desc["cause"])  # the Lambda error payload: the statement's own error
    assert cause["errorType"] == "RedshiftData.StatementFailed"
    assert "no_such_table" in cause["errorMessage"]
    history = eltflow(tmp_path / "p", "executions", "history", desc["executionArn"], "--json")
    events = json.loads(history.stdout)["events"]
    failed = [e for e in events if e["type"] == "LambdaFunctionFailed" or e["type"] == "TaskFailed"]
    assert len(failed) == 2  # the first attempt and its one retry

    # As text: every event names its state, and failures show their error and cause.
    text = eltflow(tmp_path / "p", "executions", "history", desc["executionArn"]).stdout
    lines = text.splitlines()
    task_failed = [i for i, line in enumerate(lines) if " TaskFailed " in line]
    assert len(task_failed) == 2
    for i in task_failed:
        assert lines[i].rstrip().endswith("LoadSummary")
        assert lines[i + 1].strip() == "error: RedshiftData.StatementFailed"
        assert lines[i + 2].strip().startswith("cause: ") and "no_such_table" in lines[i + 2]
    assert any(" TaskScheduled " in line and line.endswith("LoadOrders") for line in lines)
    assert "error: LoadFailed" in text

    # The handler's log lines, per attempt: the statement, its outcome and the SQL.
    logs = eltflow(tmp_path / "p", "logs", desc["executionArn"], "--state", "LoadSummary")
    assert logs.returncode == 0, logs.stderr
    failed_lines = [line for line in logs.stdout.splitlines() if " FAILED after " in line]
    assert len(failed_lines) == 2 and all("no_such_table" in line for line in failed_lines)
    follow = eltflow(tmp_path / "p", "logs", desc["executionArn"], "--follow")
    assert follow.returncode == 0  # the execution has ended: prints everything and stops
    assert "LoadOrders" in follow.stdout and " FINISHED in " in follow.stdout
