"""``eltflow init``: the scaffold validates and runs as generated, in real subprocesses.

The first test runs the issue's command line through bash with the installed ``eltflow``
script, whose interpreter does not put the working folder on ``sys.path`` (``python -m`` would)
and no PYTHONPATH pointing at the project: the pipeline's ``sql/`` file is found only because
eltflow puts the project folder on the handlers' import path.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from eltflow.cli import main
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


def _popen(cwd: Path, *argv: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ELTFLOW_")}
    return subprocess.Popen(
        [sys.executable, "-m", "eltflow", *argv],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def in_process(
    project: Path, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str, str]:
    """A read-only command run in this process (no interpreter to start): the runs themselves
    are subprocesses, the look at what they left need not be."""
    capsys.readouterr()
    code = main(["--project-dir", str(project), *argv])
    got = capsys.readouterr()
    return code, got.out, got.err


def test_init_then_validate_and_run_the_scaffolded_pipeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [k for k in os.environ if k.startswith("ELTFLOW_")]:
        monkeypatch.delenv(name)  # the project's own stores, as in the subprocesses
    # The words, run as a user types them: the `eltflow` command of this environment
    # (as `. .venv/bin/activate` puts it on PATH), one shell line, from a new folder.
    command = Path(sys.executable).with_name("eltflow")
    assert command.is_file(), f"{command} is missing: pip install -e . installs it"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ELTFLOW_")}
    env["PATH"] = f"{command.parent}{os.pathsep}{env.get('PATH', '')}"
    line = (
        "eltflow init demo2 && cd demo2 && eltflow validate pipeline.asl.json && "
        """eltflow start pipeline --input '{"JobID": "7"}' --wait"""
    )
    ran = subprocess.run(
        ["bash", "-c", line], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    project = tmp_path / "demo2"
    assert {p.name for p in project.iterdir()} >= {
        "eltflow.toml",
        "pipeline.asl.json",
        "sql",
        "handlers",
    }
    out = ran.stdout.splitlines()
    assert "  sql/load_orders.sql" in out, ran.stdout
    assert f"  {scaffold.HANDLER_FILE}" in out, ran.stdout
    assert '  eltflow start pipeline --input \'{"JobID": "1"}\' --wait' in out  # the next steps
    assert "pipeline.asl.json: valid" in out
    output = json.loads(out[-1])  # the execution's output
    assert output["orders"]["rows"] == 3 and output["summary"] == {"rows": 1}
    assert output["checked"] == {"rows": 3}  # the project's own handler counted the load
    arn = out[-2]

    # An empty load: the SQL file loads nothing, so CheckCounts raises DataQuality.EmptyLoad and
    # its Catch takes the run to NothingLoaded, which fails it under that name.
    sql = project / scaffold.SQL_FILE
    lines = sql.read_text(encoding="utf-8").splitlines(keepends=True)
    sql.write_text("".join(ln for ln in lines if not ln.startswith("INSERT")), encoding="utf-8")
    empty = eltflow(project, "start", "pipeline", "--input", '{"JobID": "8"}', "--wait")
    assert empty.returncode == 1, empty.stdout + empty.stderr
    empty_arn = empty.stdout.splitlines()[0]

    code, text, _ = in_process(project, capsys, "logs", arn, "--json")
    assert code == 0
    logs = json.loads(text)
    invocations = [(r["state"], r["function"]) for r in logs["logs"]]
    assert invocations == [
        ("LoadOrders", "run-sql"),
        ("LoadSummary", "run-sql"),
        ("CheckCounts", scaffold.HANDLER_FUNCTION),
    ]
    assert "public.orders: 3 rows, at least 1 expected" in logs["logs"][2]["text"]  # its print
    statements = [(s["StateName"], s["Status"]) for s in logs["statements"]]
    assert statements == [
        ("LoadOrders", "FINISHED"),
        ("LoadSummary", "FINISHED"),
        ("CheckCounts", "FINISHED"),  # plain boto3 in the user's handler reached eltflow
    ]
    assert [len(s["SubStatements"]) for s in logs["statements"][:1]] == [4]  # the file's batch
    assert logs["statements"][1]["ResultRows"] == 1
    code, text, err = in_process(
        project, capsys, "sql", "SELECT job_id, orders FROM public.load_log", "--json"
    )
    assert code == 0, err
    records = json.loads(text)["Result"]["Records"]
    assert records == [
        [{"stringValue": "7"}, {"longValue": 3}],
        [{"stringValue": "8"}, {"longValue": 0}],
    ]

    code, text, _ = in_process(project, capsys, "executions", "history", empty_arn, "--json")
    events = json.loads(text)["events"]
    caught = [e for e in events if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in caught] == ["DataQuality.EmptyLoad"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "StateEntered" in e["type"]]
    assert entered == ["LoadOrders", "LoadSummary", "CheckCounts", "NothingLoaded"]
    assert events[-1]["type"] == "ExecutionFailed"
    ended = events[-1]["executionFailedEventDetails"]
    assert ended["error"] == "DataQuality.EmptyLoad"
    cause = json.loads(ended["cause"])  # the handler's own message, through the Catch
    assert cause["errorMessage"] == "public.orders has 0 rows, fewer than MinRows 1"

    # The check alone, as TestState runs it: the project's handler (its own process, plain
    # boto3) reaches the local Data API, finds the empty table and is caught as in the run.
    definition = str(project / scaffold.DEFINITION)
    code, text, err = in_process(
        project, capsys, "test-state", definition, "--state-name", "CheckCounts",
        "--input", '{"JobID": "9"}', "--json",
    )  # fmt: skip
    assert text, err
    tested = json.loads(text)
    assert (tested["status"], tested["nextState"]) == ("CAUGHT_ERROR", "NothingLoaded"), err
    assert tested["error"] == "DataQuality.EmptyLoad"

    code, text, _ = in_process(project, capsys, "schedules", "list", "--json")
    schedules = {s["Name"]: s for s in json.loads(text)["Schedules"]}
    assert schedules[scaffold.SCHEDULE]["ScheduleExpression"] == "rate(5 minutes)"
    assert schedules[scaffold.SCHEDULE]["State"] == "DISABLED"

    code, _, err = in_process(tmp_path, capsys, "init", str(project))
    assert code == 1 and "does not overwrite" in err


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

    # Started, then run by a worker while `eltflow logs --follow` prints each invocation and
    # statement as it comes, and stops by itself when the execution ends.
    started = eltflow(tmp_path / "p", "start", "pipeline", "--input", '{"JobID": "1"}')
    assert started.returncode == 0, started.stderr
    arn = started.stdout.strip().splitlines()[-1]
    follow = _popen(tmp_path / "p", "logs", arn, "--follow")
    try:
        assert follow.stderr is not None
        assert "while it is RUNNING" in follow.stderr.readline()  # polling before any work
        worker = eltflow(tmp_path / "p", "worker", "--until-idle")
        assert worker.returncode == 0, worker.stderr
        followed, _ = follow.communicate(timeout=60)
    finally:
        follow.kill()
    assert follow.returncode == 0
    history = eltflow(tmp_path / "p", "executions", "history", arn, "--json")
    events = json.loads(history.stdout)["events"]
    assert events[-1]["type"] == "ExecutionFailed"
    ended = events[-1]["executionFailedEventDetails"]
    assert ended["error"] == "LoadFailed"
    cause = json.loads(ended["cause"])  # the Lambda error payload: the statement's own error
    assert cause["errorType"] == "RedshiftData.StatementFailed"
    assert "no_such_table" in cause["errorMessage"]
    failed = [e for e in events if e["type"] == "LambdaFunctionFailed" or e["type"] == "TaskFailed"]
    assert len(failed) == 2  # the first attempt and its one retry

    # As text: every event names its state, and failures show their error and cause.
    text = eltflow(tmp_path / "p", "executions", "history", arn).stdout
    lines = text.splitlines()
    task_failed = [i for i, line in enumerate(lines) if " TaskFailed " in line]
    assert len(task_failed) == 2
    for i in task_failed:
        assert lines[i].rstrip().endswith("LoadSummary")
        assert lines[i + 1].strip() == "error: RedshiftData.StatementFailed"
        assert lines[i + 2].strip().startswith("cause: ") and "no_such_table" in lines[i + 2]
    assert any(" TaskScheduled " in line and line.endswith("LoadOrders") for line in lines)
    assert "error: LoadFailed" in text

    # --follow printed each invocation's log and each statement as they came (a statement
    # may end before its invocation's log is written, so only the sets are fixed).
    seen = [line.split()[2:4] for line in followed.splitlines() if line.startswith("== ")]
    assert sorted(seen) == sorted(
        [["LoadOrders", "run-sql"], ["LoadOrders", "statement"]]
        + [["LoadSummary", "run-sql"], ["LoadSummary", "statement"]] * 2
    ), followed

    # Once it has ended, each attempt's log (the handler's lines: the statement, its outcome
    # and the SQL), then the Data API statement it submitted (SQL, status, duration, rows,
    # error), linked to the execution though the handler ran in its own process.
    logs = eltflow(tmp_path / "p", "logs", arn, "--state", "LoadSummary")
    assert logs.returncode == 0, logs.stderr
    lines = logs.stdout.splitlines()
    heads = [line for line in lines if line.startswith("== ")]
    assert [h.split()[2:4] for h in heads] == [
        ["LoadSummary", "run-sql"],
        ["LoadSummary", "statement"],
        ["LoadSummary", "run-sql"],
        ["LoadSummary", "statement"],
    ], logs.stdout
    failed_lines = [line for line in lines if " FAILED after " in line]
    assert len(failed_lines) == 2 and all("no_such_table" in line for line in failed_lines)
    for statement in heads[1::2]:
        assert re.search(r"\(LoadSummary\)  FAILED  \d+ ms  ", statement), statement
    sql = [i for i, line in enumerate(lines) if line.startswith("INSERT INTO public.no_such_table")]
    assert len(sql) == 2 and all("no_such_table" in lines[i + 1] for i in sql)
    assert all(lines[i + 1].startswith("error: ") for i in sql)
