"""``eltflow init``: a new project that validates and runs as generated.

The files are package data next to this module (``eltflow.toml``, ``pipeline.asl.json``,
``sql/load_orders.sql``, ``handlers/check_counts.py``, ``.gitignore``) and are copied verbatim,
so what a user gets is exactly what the tests run. Each SQL load is one Task calling the bundled
handler :mod:`eltflow.lambdas.redshift_sql` (the project declares it as its ``run-sql``
function); then ``CheckCounts`` calls the project's own handler, ``check-counts``: a plain-boto3
file in its own code folder (``code = "handlers"``, AWS's ``check_counts.handler``), which the
CloudFormation export zips as a function of its own. eltflow never imports it from here: the
copy is a template that ruff and mypy check like the rest of the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from eltflow.errors import EltflowError

MACHINE = "pipeline"
DEFINITION = "pipeline.asl.json"
FUNCTION = "run-sql"
SCHEDULE = "every-5-minutes"
SQL_FILE = "sql/load_orders.sql"
HANDLER_FUNCTION = "check-counts"
HANDLER_FILE = "handlers/check_counts.py"
FILES = ("eltflow.toml", DEFINITION, SQL_FILE, HANDLER_FILE, ".gitignore")


@dataclass(frozen=True)
class Scaffold:
    project_dir: Path
    written: tuple[Path, ...]


def template(name: str) -> str:
    """The text of one scaffold file (``gitignore`` is stored without its dot)."""
    stored = name.lstrip(".")
    return resources.files(__name__).joinpath(*stored.split("/")).read_text(encoding="utf-8")


def write_project(project_dir: Path) -> Scaffold:
    """Write the scaffold into ``project_dir`` (created if missing). Refuses to overwrite: a
    folder that already has any of the files is an error naming them."""
    existing = [name for name in FILES if (project_dir / name).exists()]
    if existing:
        raise EltflowError(
            f"{project_dir} already has {', '.join(existing)}; eltflow init does not overwrite "
            "files (choose an empty or new folder)"
        )
    project_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FILES:
        path = project_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template(name), encoding="utf-8")
        written.append(path)
    return Scaffold(project_dir, tuple(written))
