"""Run every AWS-recorded conformance case (``cases/``) in memory through ``eltflow.execute``.

A case passes when its result matches what AWS recorded (see ``compare.py``). Cases that do not
pass yet are listed in ``known_failures.json`` with the reason; a listed case that passes fails
the test too, so the list only shrinks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eltflow.asl.validator import validate
from eltflow.runtime.local import execute
from tests.conformance.compare import problems

HERE = Path(__file__).parent
CASES = {
    case["name"]: case
    for case in (
        json.loads(p.read_text(encoding="utf-8")) for p in sorted(HERE.glob("cases/*/*.json"))
    )
}
KNOWN_FAILURES: dict[str, str] = json.loads(
    (HERE / "known_failures.json").read_text(encoding="utf-8")
)


def run_case(definition: str, input: Any) -> dict[str, Any]:
    """The runner's contract: ``{"status", "output", "error", "cause"}``, as ``eltflow execute
    --json`` prints it; a definition the validator rejects reports ``INVALID_DEFINITION``."""
    diagnostics = validate(definition)
    if diagnostics:
        d = diagnostics[0]
        return {"status": "INVALID_DEFINITION", "error": d.code, "cause": f"{d.path}: {d.message}"}
    return dict(execute(definition, input, virtual_time=True).to_json())


def test_known_failures_name_existing_cases() -> None:
    assert sorted(set(KNOWN_FAILURES) - set(CASES)) == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_case(name: str) -> None:
    case = CASES[name]
    found = problems(case, run_case(case["definition"], case["input"]))
    if name in KNOWN_FAILURES:
        assert found, f"{name} passes now: remove it from known_failures.json"
    else:
        assert not found, "\n".join(found)
