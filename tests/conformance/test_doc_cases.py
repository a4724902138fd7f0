"""Cases written from the AWS documentation (``doc_cases/``), for what the recordings hold few
of: Retry timing, Catch with ResultPath/Output/Assign, TimeoutSeconds/HeartbeatSeconds,
States.ALL against States.DataLimitExceeded/States.Runtime, Parallel and Map failures.

Each case cites the page and section it follows (``doc``) and says what it states. Tasks are
scripted per resource (``tasks``: each call takes the next ``{"output"}`` or ``{"error",
"cause"}``); the run is in memory on the virtual clock, so ``retry_gaps`` (seconds between a
task's attempts, read from the history's ``...Scheduled`` timestamps) is exact, or bounded with
``at_most`` where JitterStrategy FULL randomises it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from eltflow.errors import StatesError
from eltflow.runtime.local import execute
from eltflow.types import JSON

HERE = Path(__file__).parent
CASES = {
    case["name"]: case
    for case in (
        json.loads(p.read_text(encoding="utf-8")) for p in sorted(HERE.glob("doc_cases/*.json"))
    )
}


def _scripted(steps: list[dict[str, Any]]) -> Callable[[JSON], JSON]:
    remaining = list(steps)

    def call(_: JSON) -> JSON:
        step = remaining.pop(0)
        if "error" in step:
            raise StatesError(step["error"], step.get("cause", ""))
        out: JSON = step["output"]
        return out

    return call


@pytest.mark.parametrize("name", sorted(CASES))
def test_doc_case(name: str) -> None:
    case = CASES[name]
    assert case["doc"]["page"].startswith("https://docs.aws.amazon.com/")
    tasks = {resource: _scripted(steps) for resource, steps in case["tasks"].items()}
    result = execute(case["definition"], case["input"], tasks=tasks, virtual_time=True)
    expected = case["expected"]
    assert result.status == expected["status"], (result.error, result.cause)
    if "output" in expected:
        assert result.output == expected["output"]
    for key in ("error", "cause"):
        if key in expected:
            assert getattr(result, key) == expected[key]
    gaps = case.get("retry_gaps")
    if gaps is not None:
        times = [e.timestamp for e in result.history if e.type.endswith("Scheduled")]
        seconds = [(b - a).total_seconds() for a, b in pairwise(times)]
        if "exact" in gaps:
            assert seconds == gaps["exact"]
        else:
            assert len(seconds) == len(gaps["at_most"])
            assert all(0 <= s <= bound for s, bound in zip(seconds, gaps["at_most"], strict=True))
            assert seconds != gaps["at_most"], "FULL jitter left every interval at its maximum"
