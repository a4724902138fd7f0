"""Mistakes a new user makes end in one clear message and an exit code, never a traceback.

Each case runs the real ``eltflow`` command in a subprocess (the way a user meets it): the
exit code, the whole of stderr, and what was (not) left on disk are checked.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from tests.conftest import PG_ADMIN_URL, require_pg

from eltflow.cli import EXIT_BROKEN_PIPE, EXIT_BUG, EXIT_FAILURE, EXIT_USAGE, run

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def eltflow(
    *argv: str, env: Mapping[str, str] | None = None, stdout: int | None = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ELTFLOW_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "eltflow", *argv],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line of stderr, checked to be an ``error:`` line and no traceback."""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def test_a_misspelt_top_level_key_names_the_file_and_the_right_key(project: Path) -> None:
    (project / "eltflow.toml").write_text('warehous = "duckdb:///x.duckdb"\n', encoding="utf-8")
    result = eltflow("--project-dir", str(project), "executions", "list")
    assert result.returncode == EXIT_USAGE
    line = error_line(result)
    assert line.startswith(f"error: {project / 'eltflow.toml'}: unknown top-level key 'warehous'")
    assert "did you mean 'warehouse'?" in line


def test_a_misspelt_section_is_refused_instead_of_ignored(project: Path) -> None:
    (project / "eltflow.toml").write_text(
        '[tabels.JobAudit]\npartition_key = "JobID"\n', encoding="utf-8"
    )
    result = eltflow("--project-dir", str(project), "jobs", "list")
    assert result.returncode == EXIT_USAGE
    assert "unknown section [tabels]; did you mean [tables]?" in error_line(result)


def test_a_misspelt_key_inside_a_named_table_names_its_section(project: Path) -> None:
    (project / "eltflow.toml").write_text(
        '[tables.JobAudit]\npartition_kye = "JobID"\n', encoding="utf-8"
    )
    result = eltflow("--project-dir", str(project), "executions", "list")
    assert result.returncode == EXIT_USAGE
    assert (
        "[tables.JobAudit]: unknown key 'partition_kye'; did you mean 'partition_key'?"
        in error_line(result)
    )


def test_an_unknown_url_scheme_is_refused_and_creates_nothing(project: Path) -> None:
    (project / "eltflow.toml").write_text(
        'state = "mysql://app:s3cret@db.example.com/eltflow"\n', encoding="utf-8"
    )
    result = eltflow("--project-dir", str(project), "executions", "list")
    assert result.returncode == EXIT_USAGE
    line = error_line(result)
    assert "state URL scheme 'mysql://' is not supported" in line
    assert "use one of sqlite://, postgresql://, postgres://" in line
    assert "s3cret" not in line
    # It used to become a SQLite file under a folder named "mysql:".
    assert sorted(p.name for p in project.iterdir()) == ["eltflow.toml"]


def test_an_unknown_warehouse_scheme_from_the_environment_names_the_variable(
    project: Path,
) -> None:
    result = eltflow(
        "--project-dir",
        str(project),
        "sql",
        "select 1",
        env={"ELTFLOW_WAREHOUSE": "snowflake://acct/db"},
    )
    assert result.returncode == EXIT_USAGE
    assert error_line(result) == (
        "error: ELTFLOW_WAREHOUSE: warehouse URL scheme 'snowflake://' is not supported; "
        "use one of duckdb://, postgresql://, postgres://, redshift://"
    )


def test_a_missing_project_dir_is_named_with_how_to_create_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-project"
    result = eltflow("--project-dir", str(missing), "executions", "list")
    assert result.returncode == EXIT_USAGE
    assert error_line(result) == (
        f"error: project folder {missing} does not exist; create it with `mkdir -p {missing}` "
        f"(or `eltflow --project-dir {missing} demo` for a project with the reference pipeline)"
    )
    assert not missing.exists()
    # The same through ELTFLOW_HOME, which the message names.
    result = eltflow("machines", "list", env={"ELTFLOW_HOME": str(missing)})
    assert f"project folder {missing} (ELTFLOW_HOME) does not exist" in error_line(result)
    assert not missing.exists()


def test_a_missing_postgres_state_database_says_createdb(project: Path) -> None:
    require_pg()
    name = f"eltflow_missing_{uuid.uuid4().hex[:8]}"
    url = f"{PG_ADMIN_URL.rpartition('/')[0]}/{name}"
    at = ("--project-dir", str(project))
    result = eltflow(*at, "executions", "list", env={"ELTFLOW_STATE": url})
    assert result.returncode == EXIT_FAILURE
    line = error_line(result)
    assert f'PostgreSQL database "{name}" does not exist' in line
    assert line.endswith(f"create it with: createdb -h 127.0.0.1 -p 5432 -U postgres {name}")


def test_a_missing_postgres_warehouse_database_says_createdb_before_loading(
    project: Path,
) -> None:
    require_pg()
    name = f"eltflow_missing_{uuid.uuid4().hex[:8]}"
    url = f"{PG_ADMIN_URL.rpartition('/')[0]}/{name}"
    result = eltflow(
        "--project-dir",
        str(project),
        "demo",
        "--scale-factor",
        "0.01",
        env={"ELTFLOW_WAREHOUSE": url},
    )
    assert result.returncode == EXIT_FAILURE
    assert error_line(result).endswith(f"createdb -h 127.0.0.1 -p 5432 -U postgres {name}")


@pytest.fixture
def held_warehouse(project: Path) -> Iterator[tuple[Path, int]]:
    """The project's DuckDB warehouse file, opened by another process (as `serve` holds it)."""
    path = project / ".eltflow" / "warehouse.duckdb"
    path.parent.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys\n"
            f"c = duckdb.connect({str(path)!r})\n"
            "print('ready', flush=True)\n"
            "sys.stdin.read()\n",  # holds the file until the test closes stdin
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield path, holder.pid
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()


def test_a_locked_duckdb_file_says_which_file_which_process_and_what_to_do(
    project: Path, held_warehouse: tuple[Path, int]
) -> None:
    path, pid = held_warehouse
    result = eltflow("--project-dir", str(project), "demo", "--scale-factor", "0.01")
    assert result.returncode == EXIT_FAILURE
    line = error_line(result)
    assert f"the DuckDB file {path} is locked by another process (PID {pid}: " in line
    assert "Stop that process (or wait for it to finish) and run this again" in line
    # `eltflow sql` reports the failed statement with the same explanation.
    result = eltflow("--project-dir", str(project), "sql", "select 1")
    assert "Traceback" not in result.stderr
    assert f"is locked by another process (PID {pid}: " in result.stdout + result.stderr


def _closed_pipe() -> int:
    """The write end of a pipe whose reader is already gone: like `| head` after one line."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


def test_output_into_a_closed_pipe_exits_quietly() -> None:
    write_end = _closed_pipe()
    try:
        result = eltflow("schedules", "next", "rate(1 minute)", "-n", "100", stdout=write_end)
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (EXIT_BROKEN_PIPE, "")


def test_execution_history_into_a_closed_pipe_exits_quietly(project: Path) -> None:
    definition = project / "pass.json"
    definition.write_text(json.dumps(PASS), encoding="utf-8")
    at = ("--project-dir", str(project))
    assert eltflow(*at, "machines", "create", "p", "--definition", str(definition)).returncode == 0
    started = eltflow(*at, "start", "p", "--wait")
    assert started.returncode == 0, started.stderr
    arn = started.stdout.splitlines()[0]
    write_end = _closed_pipe()
    try:
        result = eltflow(*at, "executions", "history", arn, stdout=write_end)
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (EXIT_BROKEN_PIPE, "")


def test_a_corrupt_state_file_is_named(project: Path) -> None:
    (project / ".eltflow").mkdir()
    (project / ".eltflow" / "state.db").write_text("not a database", encoding="utf-8")
    result = eltflow("--project-dir", str(project), "executions", "list")
    assert result.returncode == EXIT_FAILURE
    assert error_line(result) == (
        f"error: cannot open the SQLite state store {project / '.eltflow' / 'state.db'}: "
        "file is not a database"
    )


def _buggy_command(args: argparse.Namespace) -> int:
    table: dict[str, int] = {}
    return table["missing"]  # a bug: no eltflow error explains a KeyError


def test_an_unexpected_exception_is_one_line_and_a_hint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(_buggy_command, argparse.Namespace()) == EXIT_BUG
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "error: unexpected KeyError: 'missing'",
        "  this is a bug in eltflow; rerun with --debug (or ELTFLOW_DEBUG=1) to see the "
        "traceback, and report it",
    ]
    # With the debug switch the traceback comes first, and the exit code stays the same.
    assert run(_buggy_command, argparse.Namespace(), debug=True) == EXIT_BUG
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert 'return table["missing"]' in err
