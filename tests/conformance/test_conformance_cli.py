"""The same AWS-recorded cases through the CLI contract (``eltflow execute --json``), in memory
and durably (``--store``: recorded in a project's state store and run by the durable runtime).

Every case runs in memory through the Python API in ``test_conformance.py``; here a sample runs
through a real ``eltflow`` process: per category the first case that AWS recorded as FAILED and
the first that SUCCEEDED, so each kind of outcome crosses the CLI's JSON and the store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.compare import problems
from tests.conformance.test_conformance import CASES, KNOWN_FAILURES

SRC = Path(__file__).resolve().parents[2] / "src"


def _sample() -> list[str]:
    chosen: dict[tuple[str, str], str] = {}
    for name in sorted(CASES):
        case = CASES[name]
        key = (case["category"], case["expected"]["status"])
        if name not in KNOWN_FAILURES and key not in chosen:
            chosen[key] = name
    return sorted(chosen.values())


SAMPLE = _sample()


def _run_cli(name: str, workdir: Path, *, store: bool) -> dict[str, Any]:
    case = CASES[name]
    workdir.mkdir(parents=True, exist_ok=True)
    definition = workdir / "case.asl.json"
    definition.write_text(case["definition"], encoding="utf-8")
    argv = [sys.executable, "-m", "eltflow"]
    if store:
        argv += ["--project-dir", str(workdir)]
    argv += ["execute", "--definition", str(definition), "--input", json.dumps(case["input"])]
    argv += ["--json", "--store"] if store else ["--json", "--virtual-time"]
    path = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"{name}: no JSON object on stdout (exit {done.returncode}): {done.stderr[-500:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    return result


@pytest.mark.parametrize("store", [False, True], ids=["in-memory", "durable"])
def test_sample_through_the_cli(store: bool, tmp_path: Path) -> None:
    assert len(SAMPLE) >= 10  # every category, both outcomes where AWS recorded them
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(lambda n: _run_cli(n, tmp_path / str(SAMPLE.index(n)), store=store), SAMPLE)
        )
    found = {
        name: issues
        for name, result in zip(SAMPLE, results, strict=True)
        if (issues := problems(CASES[name], result))
    }
    assert found == {}
