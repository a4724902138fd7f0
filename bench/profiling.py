"""``python -m bench --profile CASE``: where eltflow's in-memory time goes, with the stdlib's
cProfile (no extra dependency), as a list owners of the hot modules can act on.

Two views: own time per source file (which module to look at), and the functions with the
most own time (what to change). Paths are shortened to ``eltflow/...`` or the stdlib module.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections import defaultdict
from dataclasses import dataclass

import eltflow
from bench.common import Case, table
from eltflow.asl.parser import parse


@dataclass(frozen=True)
class Hotspot:
    where: str  # "eltflow/interpreter/step.py:92(emit)" or a file
    calls: int
    own_seconds: float
    cumulative_seconds: float


def _short(path: str) -> str:
    for marker in ("/src/", "/site-packages/", "/lib/python"):
        if marker in path:
            tail = path.split(marker, 1)[1]
            return tail.split("/", 1)[1] if marker == "/lib/python" and "/" in tail else tail
    return path


def profile_case(case: Case, *, runs: int = 200) -> tuple[float, list[Hotspot], list[Hotspot]]:
    """Run ``case`` ``runs`` times under cProfile (definition parsed once, as a caller that
    keeps a parsed machine would). Returns (CPU ms per run without the profiler, hotspots by
    function, hotspots by file), each list sorted by own time, largest first."""
    machine = parse(case.definition)
    eltflow.execute(machine, case.input)  # warm caches outside the measurement
    started = time.process_time()
    for _ in range(runs):
        eltflow.execute(machine, case.input)
    cpu_ms = (time.process_time() - started) * 1000 / runs

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        eltflow.execute(machine, case.input)
    profiler.disable()
    stats = pstats.Stats(profiler)

    functions: list[Hotspot] = []
    per_file: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    raw = stats.stats  # type: ignore[attr-defined]
    for (path, line, name), (_, calls, own, cumulative, _) in raw.items():
        where = f"{_short(path)}:{line}({name})" if line else name
        functions.append(Hotspot(where, calls, own, cumulative))
        bucket = per_file[_short(path) if line else "<built-in>"]
        bucket[0] += calls
        bucket[1] += own
    functions.sort(key=lambda h: h.own_seconds, reverse=True)
    files = [Hotspot(f, int(v[0]), v[1], 0.0) for f, v in per_file.items()]
    files.sort(key=lambda h: h.own_seconds, reverse=True)
    return cpu_ms, functions, files


def render_profile(case: Case, *, runs: int = 200, top: int = 15) -> str:
    cpu_ms, functions, files = profile_case(case, runs=runs)
    total = sum(h.own_seconds for h in files) or 1.0
    by_file = table(
        ["file", "own %", "calls/run"],
        [
            [h.where, f"{100 * h.own_seconds / total:.1f}", f"{h.calls / runs:,.0f}"]
            for h in files[:top]
        ],
    )
    by_function = table(
        ["function", "own %", "cum %", "calls/run"],
        [
            [
                h.where,
                f"{100 * h.own_seconds / total:.1f}",
                f"{100 * h.cumulative_seconds / total:.1f}",
                f"{h.calls / runs:,.0f}",
            ]
            for h in functions[:top]
        ],
    )
    return (
        f"Profile of eltflow.execute on {case.title}: {cpu_ms:.3f} CPU ms per execution "
        f"({runs} runs, pre-parsed definition; percentages are of profiled time)\n\n"
        f"{by_file}\n\n{by_function}"
    )
