"""The layers are contracts (docs/ARCHITECTURE.md): the import contracts in pyproject.toml and
the purity check of the pure core hold on the real source, and each can fail: every kind of
violation, planted in a copy of the source, is rejected."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import purity

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
_LINT = (
    "import sys; from importlinter.cli import lint_imports_command; "
    "sys.exit(lint_imports_command())"
)


def lint_imports(project: Path, src: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with ``project``'s pyproject.toml over the eltflow package in ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [sys.executable, "-c", _LINT, "--no-cache", "--no-logo", "pyproject.toml"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_hold() -> None:
    result = lint_imports(ROOT, SRC)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    # All five contracts ran (a contract dropped from pyproject.toml would go unnoticed).
    assert "Contracts: 5 kept, 0 broken." in result.stdout


def test_the_pure_core_reads_no_clock_and_does_no_io() -> None:
    assert [str(f) for f in purity.check_tree(SRC)] == []


def test_the_purity_check_runs_as_a_command() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "tests.purity", str(SRC)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr


# -- the checks can fail ------------------------------------------------------------------------


@dataclass(frozen=True)
class Plant:
    """``code`` appended to ``file`` (under src/eltflow) is a violation; ``imports`` says
    whether lint-imports must reject it, ``purity`` whether the purity check must."""

    id: str
    file: str
    code: str
    imports: bool
    purity: bool


PLANTS = [
    # The module already imports datetime for parsing: no new import, only the call.
    Plant("asl-datetime-now", "asl/choice.py", "\nNOW = datetime.now()\n", False, True),
    Plant(
        "asl-aliased-clock",
        "asl/parser.py",
        "\nfrom datetime import date as _d\n\nTODAY = _d.today()\n",
        False,
        True,
    ),
    Plant("asl-print", "asl/model.py", "\nprint('hello')\n", False, True),
    Plant("asl-open", "asl/limits.py", "\nTEXT = open('x').read()\n", False, True),
    Plant(
        "interpreter-os", "interpreter/step.py", "\nimport os\n\nCWD = os.getcwd()\n", True, True
    ),
    Plant("interpreter-socket", "interpreter/flow.py", "\nimport socket\n", True, True),
    Plant(
        "interpreter-sleep",
        "interpreter/retry.py",
        "\nimport time\n\n\ndef _pause() -> None:\n    time.sleep(1)\n",
        True,
        True,
    ),
    Plant(
        "interpreter-monotonic-alias",
        "interpreter/state.py",
        "\nfrom time import monotonic as _m\n\nT0 = _m()\n",
        True,
        True,
    ),
    Plant(
        "interpreter-uuid4",
        "interpreter/events.py",
        "\nimport uuid\n\nID = uuid.uuid4()\n",
        False,
        True,
    ),
    Plant(
        "interpreter-unseeded-random",
        "interpreter/context.py",
        "\nimport random\n\nR = random.Random()\nX = random.random()\n",
        False,
        True,
    ),
    Plant(
        "interpreter-clock", "interpreter/dispatch.py", "\nfrom eltflow import clock\n", True, False
    ),
    Plant("interpreter-app", "interpreter/step.py", "\nfrom eltflow import app\n", True, False),
    # The package root re-exports the runtime: importing it from below reaches up.
    Plant("asl-package-root", "asl/fields.py", "\nimport eltflow\n", True, False),
    Plant(
        "integrations-store",
        "integrations/base.py",
        "\nfrom eltflow.store.db import Database\n",
        True,
        False,
    ),
    Plant(
        "runtime-cli",
        "runtime/arns.py",
        "\ndef _f() -> None:\n    from eltflow.cli import main\n",
        True,
        False,
    ),
    Plant(
        "runtime-type-checking-app",
        "runtime/engine.py",
        "\nimport typing\n\nif typing.TYPE_CHECKING:\n    from eltflow.app import App\n",
        True,
        False,
    ),
    Plant("store-runtime", "store/rows.py", "\nimport eltflow.runtime.arns\n", True, False),
    Plant("items-notify", "items/keys.py", "\nfrom eltflow.notify import topics\n", True, False),
    Plant("warehouse-asl", "warehouse/base.py", "\nfrom eltflow.asl import model\n", True, False),
    Plant(
        "api-pipeline-sql",
        "api/handlers.py",
        "\nfrom eltflow.pipelines.reference import RUN_HISTORY_SQL\n",
        True,
        False,
    ),
    Plant("api-store", "api/handlers.py", "\nfrom eltflow.store import db\n", True, False),
    Plant("endpoint-store", "endpoint/wire.py", "\nfrom eltflow.store import db\n", True, False),
    Plant("endpoint-serve", "endpoint/__init__.py", "\nfrom eltflow import serve\n", True, False),
    Plant("stacks-api", "stacks/__init__.py", "\nimport eltflow.api\n", True, False),
    Plant("app-stacks", "app.py", "\nimport eltflow.stacks\n", True, False),
    Plant("config-runtime", "config.py", "\nimport eltflow.runtime\n", True, False),
    Plant("errors-types", "errors.py", "\nfrom eltflow import types\n", True, False),
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's contracts and its eltflow package; it passes both checks."""
    base = tmp_path_factory.mktemp("pristine")
    shutil.copy(ROOT / "pyproject.toml", base / "pyproject.toml")
    shutil.copytree(SRC / "eltflow", base / "src" / "eltflow", ignore=_IGNORE)
    result = lint_imports(base, base / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert purity.check_tree(base / "src") == []
    return base


_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


def _copy(pristine: Path, tmp_path: Path) -> Path:
    shutil.copytree(pristine, tmp_path / "p", ignore=_IGNORE)
    return tmp_path / "p"


@pytest.mark.parametrize("plant", PLANTS, ids=lambda p: p.id)
def test_a_planted_violation_is_rejected(plant: Plant, pristine: Path, tmp_path: Path) -> None:
    project = _copy(pristine, tmp_path)
    target = project / "src" / "eltflow" / plant.file
    assert target.is_file(), f"plant target {plant.file} moved: update the plant"
    with target.open("a", encoding="utf-8") as f:
        f.write(plant.code)
    module = "eltflow." + plant.file.removesuffix(".py").removesuffix("/__init__").replace("/", ".")

    result = lint_imports(project, project / "src")
    if plant.imports:
        assert result.returncode == 1, result.stdout + result.stderr
        assert "BROKEN" in result.stdout
        assert module in result.stdout, result.stdout
    else:
        assert result.returncode == 0, result.stdout + result.stderr

    found = [str(f) for f in purity.check_tree(project / "src")]
    if plant.purity:
        assert found, "the purity check missed the plant"
        assert all(f.startswith(f"eltflow/{plant.file}:") for f in found), found
    else:
        assert found == []


def test_a_package_missing_from_the_layer_table_is_rejected(pristine: Path, tmp_path: Path) -> None:
    project = _copy(pristine, tmp_path)
    (project / "src" / "eltflow" / "newthing").mkdir()
    (project / "src" / "eltflow" / "newthing" / "__init__.py").write_text("")
    result = lint_imports(project, project / "src")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "eltflow.newthing" in result.stdout


def test_an_optional_layer_is_checked_once_it_lands(pristine: Path, tmp_path: Path) -> None:
    # s3/ is written "(s3)" in the contract before it exists; once it does, it may not import
    # the layers above it.
    project = _copy(pristine, tmp_path)
    assert not (project / "src" / "eltflow" / "s3").exists()
    (project / "src" / "eltflow" / "s3").mkdir()
    (project / "src" / "eltflow" / "s3" / "__init__.py").write_text("")
    assert lint_imports(project, project / "src").returncode == 0
    (project / "src" / "eltflow" / "s3" / "__init__.py").write_text("import eltflow.runtime\n")
    result = lint_imports(project, project / "src")
    assert result.returncode == 1 and "eltflow.s3" in result.stdout, result.stdout


def test_the_purity_command_reports_where_and_what(pristine: Path, tmp_path: Path) -> None:
    project = _copy(pristine, tmp_path)
    with (project / "src" / "eltflow" / "asl" / "choice.py").open("a") as f:
        f.write("\nNOW = datetime.utcnow()\n")
    lines = (project / "src" / "eltflow" / "asl" / "choice.py").read_text().count("\n")
    result = subprocess.run(
        [sys.executable, "-m", "tests.purity", str(project / "src")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"eltflow/asl/choice.py:{lines}:6: reads the clock (datetime.datetime.utcnow)"
    ]
