"""``eltflow s3 mb|cp|ls|rm`` over a project's local S3 (real folders, through App.s3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eltflow.cli import main


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "eltflow.toml").write_text("", "utf-8")
    return folder


def _s3(project: Path, *args: str) -> int:
    return main(["--project-dir", str(project), "s3", *args])


def test_mb_cp_ls_rm(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.csv").write_text("1,2\n")
    (data / "sub" / "b.csv").write_text("3,4\n")
    assert _s3(project, "mb", "s3://raw") == 0
    assert _s3(project, "cp", "--recursive", str(data), "s3://raw/in") == 0
    # The bucket is the folder COPY reads.
    assert (project / ".eltflow" / "s3" / "raw" / "in" / "sub" / "b.csv").read_text() == "3,4\n"
    capsys.readouterr()
    assert _s3(project, "ls", "s3://raw/in/") == 0
    listing = capsys.readouterr().out
    assert "PRE sub/" in listing and " a.csv" in listing and "b.csv" not in listing
    assert _s3(project, "ls") == 0
    assert capsys.readouterr().out.strip().endswith(" raw")
    back = tmp_path / "back"
    assert _s3(project, "cp", "--recursive", "s3://raw/in/", str(back)) == 0
    assert (back / "sub" / "b.csv").read_text() == "3,4\n"
    assert _s3(project, "cp", "s3://raw/in/a.csv", "s3://raw/copy.csv") == 0
    assert _s3(project, "rm", "--recursive", "s3://raw/in/") == 0
    capsys.readouterr()
    assert _s3(project, "ls", "--recursive", "s3://raw") == 0
    assert capsys.readouterr().out.split()[-1] == "copy.csv"


def test_errors_are_aws_codes_not_tracebacks(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _s3(project, "ls", "s3://nobucket/") == 1
    assert "NoSuchBucket" in capsys.readouterr().err
    assert _s3(project, "mb", "s3://raw") == 0
    assert _s3(project, "cp", "s3://raw/missing", "x") == 1
    assert "NoSuchKey" in capsys.readouterr().err
