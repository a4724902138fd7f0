"""TPC-H staging data from the real generator (tpchgen-cli, shipped as a binary in its wheel).

DuckDB 2.x's own tpch extension can't be installed offline, and hand-made fake data would not
give TPC-H's row counts; tpchgen-cli writes one Parquet file per table.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from eltflow.errors import EltflowError

STAGING_TABLES: tuple[str, ...] = ("nation", "supplier", "customer", "orders", "lineitem")


def _binary() -> str:
    found = shutil.which("tpchgen-cli") or str(Path(sys.executable).parent / "tpchgen-cli")
    if not Path(found).exists():
        raise EltflowError("tpchgen-cli is not installed (pip install tpchgen-cli)")
    return found


def generate(out_dir: Path, scale_factor: float = 0.1) -> dict[str, Path]:
    """Write ``<out_dir>/<table>.parquet`` for the staging tables; reuse files already there.

    Files are generated into a temporary sibling folder and renamed, so an interrupted run
    never leaves a half-written file that a later run would take as complete.
    """
    if scale_factor <= 0:
        raise EltflowError(f"scale factor must be positive, got {scale_factor}")
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {t: out_dir / f"{t}.parquet" for t in STAGING_TABLES}
    missing = [t for t, p in files.items() if not p.exists()]
    if missing:
        tmp = out_dir / ".partial"
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [
            _binary(),
            "parquet",
            "-s",
            f"{scale_factor:g}",
            f"--tables={','.join(missing)}",
            f"--output-dir={tmp}",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise EltflowError(f"tpchgen-cli failed ({done.returncode}): {done.stderr.strip()}")
        for t in missing:
            (tmp / f"{t}.parquet").replace(files[t])
        shutil.rmtree(tmp, ignore_errors=True)
    return files
