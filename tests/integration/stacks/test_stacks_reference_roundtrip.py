"""The reference pipeline both ways: ``eltflow demo`` builds the project, ``eltflow export
cloudformation`` writes it as a template (its Lambda zipped for an ArtifactBucket), and
``eltflow stack deploy`` of that template into a fresh project — the zip in its local S3, the
staging data copied — gives a pipeline that runs to the same fact table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eltflow.cli import main

pytestmark = pytest.mark.slow


def _main(project: Path, *argv: str) -> int:
    return main(["--project-dir", str(project), *argv])


def _fact_rows(project: Path, capsys: pytest.CaptureFixture[str]) -> object:
    capsys.readouterr()
    sql = "SELECT count(*) AS n FROM public.fact_yearly_sale"
    assert _main(project, "sql", sql, "--json") == 0
    return json.loads(capsys.readouterr().out)["Result"]["Records"]


def test_exported_reference_project_deploys_and_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo, fresh = tmp_path / "demo", tmp_path / "fresh"
    demo.mkdir()
    assert _main(demo, "demo", "--scale-factor", "0.01") == 0
    template = demo / "template.json"
    assert _main(demo, "export", "cloudformation", "--out", str(template)) == 0
    exported = json.loads(template.read_text(encoding="utf-8"))
    zips = sorted(p.name for p in demo.glob("*.zip"))
    assert zips and exported["Parameters"]["ArtifactBucket"]["Type"] == "String"
    expected = _fact_rows(demo, capsys)
    assert expected != [[{"longValue": 0}]]
    capsys.readouterr()

    bucket = fresh / ".eltflow" / "s3" / "artifacts"
    bucket.mkdir(parents=True)
    for name in zips:
        shutil.copy(demo / name, bucket / name)
    shutil.copy(demo / ".eltflow" / "warehouse.duckdb", fresh / ".eltflow" / "warehouse.duckdb")
    deploy = ["stack", "deploy", str(template), "--stack-name", "reference"]
    capsys.readouterr()
    assert _main(fresh, *deploy, "--parameters", "ArtifactBucket=artifacts") == 0
    assert "Successfully created stack - reference" in capsys.readouterr().out
    # The copied warehouse holds the demo's results too: empty the fact table first.
    assert _main(fresh, "sql", "DELETE FROM public.fact_yearly_sale") == 0
    assert _fact_rows(fresh, capsys) == [[{"longValue": 0}]]
    item = '{"JobID": "101", "JobState": "Ready"}'
    assert _main(fresh, "items", "put", "JobAudit", "--item", item) == 0
    assert _main(fresh, "start", "reference-elt", "--input", '{"JobID": "101"}', "--wait") == 0
    out = capsys.readouterr().out
    assert '"outcome":"SUCCEEDED"' in out.replace(" ", ""), out
    assert _fact_rows(fresh, capsys) == expected
