"""``--substitution NAME=VALUE`` / ``--substitutions FILE.json`` and ``validate``'s severities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eltflow.cli import main

TEMPLATE = """{
  "StartAt": "P",
  "States": {
    "P": {"Type": "Pass", "Parameters": {"table": "${Table}", "n": ${Count}}, "End": true}
  }
}"""
WARNS = {
    "StartAt": "P",
    "States": {"P": {"Type": "Pass", "Parameters": {"id": "$.order.id"}, "End": True}},
}


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_validate_names_each_unresolved_placeholder_by_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _write(tmp_path, "m.asl.json", TEMPLATE)
    assert main(["validate", file, "--substitution", "Table=Audit"]) == 1
    out = capsys.readouterr().out
    assert f"{file}:/States/P/Parameters/n: UNRESOLVED_SUBSTITUTION" in out
    assert "${Count}" in out and "Table" not in out
    assert (
        main(["validate", file, "--substitution", "Table=Audit", "--substitution", "Count=3"]) == 0
    )


def test_execute_and_a_substitutions_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _write(tmp_path, "m.asl.json", TEMPLATE)
    values = _write(tmp_path, "values.json", json.dumps({"Table": 'a "quoted" name', "Count": 2}))
    code = main(["execute", "--definition", file, "--substitutions", values, "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["output"] == {"table": 'a "quoted" name', "n": 2}
    # --substitution wins over the file.
    assert (
        main(
            [
                "execute",
                "--definition",
                file,
                "--substitutions",
                values,
                "--substitution",
                "Count=5",
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["output"]["n"] == 5


def test_execute_refuses_unresolved_placeholders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _write(tmp_path, "m.asl.json", TEMPLATE)
    assert main(["execute", "--definition", file]) == 1
    err = capsys.readouterr().err
    assert "UNRESOLVED_SUBSTITUTION at /States/P/Parameters/table" in err
    assert "UNRESOLVED_SUBSTITUTION at /States/P/Parameters/n" in err


def test_bad_substitution_arguments_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _write(tmp_path, "m.asl.json", TEMPLATE)
    assert main(["validate", file, "--substitution", "novalue"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err
    values = _write(tmp_path, "values.json", "[1]")
    assert main(["validate", file, "--substitutions", values]) == 2
    assert "JSON object" in capsys.readouterr().err


def test_validate_shows_warnings_and_stays_ok(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _write(tmp_path, "w.asl.json", json.dumps(WARNS))
    assert main(["validate", file]) == 0
    out = capsys.readouterr().out
    assert f"{file}:/States/P/Parameters/id: WARNING: NO_DOLLAR" in out
    assert main(["validate", file, "--severity", "ERROR"]) == 0
    assert capsys.readouterr().out.strip() == f"{file}: valid"
    assert main(["validate", file, "--json", "--max-results", "1"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["result"] == "OK" and answer["truncated"] is False
    assert [d["code"] for d in answer["diagnostics"]] == ["NO_DOLLAR"]
