"""The layers are contracts (docs/ARCHITECTURE.md): the import contracts in pyproject.toml and
the purity check of the pure core hold on the real source, and each can fail: every kind of
violation, planted in a copy of the source, is rejected."""

from __future__ import annotations

import os
import re
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
    # All seven contracts ran (a contract dropped from pyproject.toml would go unnoticed).
    assert "Contracts: 7 kept, 0 broken." in result.stdout


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
    """``code`` appended to ``file`` (under src/eltflow) is a violation. ``imports`` names the
    module whose import lint-imports must report (None: an import contract cannot see it);
    ``purity`` says whether the purity check must reject it."""

    id: str
    file: str
    code: str
    imports: str | None
    purity: bool

    @property
    def module(self) -> str:
        dotted = self.file.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        return f"eltflow.{dotted}"


# Each plant has a file of its own, so one run of each check over a copy holding all of them
# shows which plant each rejection is for.
PLANTS = [
    # The module already imports datetime for parsing: no new import, only the call.
    Plant("asl-datetime-now", "asl/choice.py", "\nNOW = datetime.now()\n", None, True),
    Plant(
        "asl-aliased-clock",
        "asl/parser.py",
        "\nfrom datetime import date as _d\n\nTODAY = _d.today()\n",
        None,
        True,
    ),
    Plant("asl-print", "asl/model.py", "\nprint('hello')\n", None, True),
    Plant("asl-open", "asl/limits.py", "\nTEXT = open('x').read()\n", None, True),
    Plant(
        "interpreter-os", "interpreter/step.py", "\nimport os\n\nCWD = os.getcwd()\n", "os", True
    ),
    Plant("interpreter-socket", "interpreter/flow.py", "\nimport socket\n", "socket", True),
    Plant(
        "interpreter-sleep",
        "interpreter/retry.py",
        "\nimport time\n\n\ndef _pause() -> None:\n    time.sleep(1)\n",
        "time",
        True,
    ),
    Plant(
        "interpreter-monotonic-alias",
        "interpreter/state.py",
        "\nfrom time import monotonic as _m\n\nT0 = _m()\n",
        "time",
        True,
    ),
    Plant(
        "interpreter-uuid4",
        "interpreter/events.py",
        "\nimport uuid\n\nID = uuid.uuid4()\n",
        None,
        True,
    ),
    Plant(
        "interpreter-unseeded-random",
        "interpreter/context.py",
        "\nimport random\n\nR = random.Random()\nX = random.random()\n",
        None,
        True,
    ),
    Plant(
        "interpreter-clock",
        "interpreter/dispatch.py",
        "\nfrom eltflow import clock\n",
        "eltflow.clock",
        False,
    ),
    Plant(
        "interpreter-app",
        "interpreter/states_task.py",
        "\nfrom eltflow import app\n",
        "eltflow.app",
        False,
    ),
    # The package root re-exports the runtime: importing it from below reaches up.
    Plant("asl-package-root", "asl/fields.py", "\nimport eltflow\n", "eltflow", False),
    Plant(
        "integrations-store",
        "integrations/base.py",
        "\nfrom eltflow.store.db import Database\n",
        "eltflow.store.db",
        False,
    ),
    Plant(
        "runtime-cli",
        "runtime/arns.py",
        "\ndef _f() -> None:\n    from eltflow.cli import main\n",
        "eltflow.cli",
        False,
    ),
    Plant(
        "runtime-type-checking-app",
        "runtime/engine.py",
        "\nimport typing\n\nif typing.TYPE_CHECKING:\n    from eltflow.app import App\n",
        "eltflow.app",
        False,
    ),
    Plant(
        "store-runtime",
        "store/rows.py",
        "\nimport eltflow.runtime.machines\n",
        "eltflow.runtime.machines",
        False,
    ),
    Plant(
        "items-notify",
        "items/keys.py",
        "\nfrom eltflow.notify import topics\n",
        "eltflow.notify.topics",
        False,
    ),
    Plant(
        "warehouse-asl",
        "warehouse/base.py",
        "\nfrom eltflow.asl import model\n",
        "eltflow.asl.model",
        False,
    ),
    Plant(
        "api-pipeline-sql",
        "api/handlers.py",
        "\nfrom eltflow.pipelines.reference import RUN_HISTORY_SQL\n",
        "eltflow.pipelines.reference",
        False,
    ),
    Plant(
        "api-store", "api/openapi.py", "\nfrom eltflow.store import db\n", "eltflow.store.db", False
    ),
    Plant(
        "endpoint-store",
        "endpoint/wire.py",
        "\nfrom eltflow.store import db\n",
        "eltflow.store.db",
        False,
    ),
    Plant(
        "endpoint-serve",
        "endpoint/__init__.py",
        "\nfrom eltflow import serve\n",
        "eltflow.serve",
        False,
    ),
    Plant(
        "cli-store",
        "cli/asl_commands.py",
        "\nfrom eltflow.store.db import Database\n",
        "eltflow.store.db",
        False,
    ),
    Plant(
        "pipelines-runtime",
        "pipelines/tpch.py",
        "\nfrom eltflow.runtime import arns\n",
        "eltflow.runtime.arns",
        False,
    ),
    Plant("stacks-api", "stacks/__init__.py", "\nimport eltflow.api\n", "eltflow.api", False),
    Plant("app-stacks", "app.py", "\nimport eltflow.stacks\n", "eltflow.stacks", False),
    Plant("config-runtime", "config.py", "\nimport eltflow.runtime\n", "eltflow.runtime", False),
    Plant("errors-types", "errors.py", "\nfrom eltflow import types\n", "eltflow.types", False),
]


_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


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


def _copy(pristine: Path, tmp_path: Path) -> Path:
    # Hard links: a copy costs no bytes; _plant replaces the file it changes.
    shutil.copytree(pristine, tmp_path / "p", ignore=_IGNORE, copy_function=os.link)
    return tmp_path / "p"


def _plant(project: Path, file: str, code: str) -> int:
    """Append ``code`` to src/eltflow/``file`` of ``project`` (a new file, not the linked one);
    returns the number of the first line that was added."""
    target = project / "src" / "eltflow" / file
    assert target.is_file(), f"plant target {file} moved: update the plant"
    text = target.read_text(encoding="utf-8")
    target.unlink()
    target.write_text(text + code, encoding="utf-8")
    return len(text.splitlines()) + 1


def _reported(out: str, importer: str, imported: str = r"\S+") -> set[int]:
    """Lines of ``importer`` whose import of ``imported`` lint-imports reports as a violation
    (``importer -> imported (l.3, l.9)``, directly or as a link of an indirect chain)."""
    lines: set[int] = set()
    for m in re.finditer(rf"{re.escape(importer)} -> {imported} \(([^)]*)\)", out):
        lines.update(int(n) for n in re.findall(r"l\.(\d+)", m.group(1)))
    return lines


@dataclass(frozen=True)
class Verdicts:
    lint: subprocess.CompletedProcess[str]
    purity: dict[str, list[str]]  # file -> findings
    first_line: dict[str, int]  # plant id -> its first line


@pytest.fixture(scope="module")
def verdicts(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> Verdicts:
    assert len({p.file for p in PLANTS}) == len(PLANTS), "one file per plant"
    project = _copy(pristine, tmp_path_factory.mktemp("planted"))
    first = {plant.id: _plant(project, plant.file, plant.code) for plant in PLANTS}
    by_file: dict[str, list[str]] = {}
    for finding in purity.check_tree(project / "src"):
        by_file.setdefault(finding.path.removeprefix("eltflow/"), []).append(str(finding))
    return Verdicts(lint_imports(project, project / "src"), by_file, first)


@pytest.mark.parametrize("plant", PLANTS, ids=lambda p: p.id)
def test_a_planted_violation_is_rejected(plant: Plant, verdicts: Verdicts) -> None:
    out = verdicts.lint.stdout
    assert verdicts.lint.returncode == 1, out + verdicts.lint.stderr
    planted = {n for n in _reported(out, plant.module) if n >= verdicts.first_line[plant.id]}
    if plant.imports is not None:
        target = _reported(out, plant.module, re.escape(plant.imports))
        assert planted and planted <= target, out
    else:
        assert planted == set(), out  # only the purity check can see it
    found = verdicts.purity.get(plant.file, [])
    if plant.purity:
        assert found, f"the purity check missed {plant.id}"
    else:
        assert found == []


def test_a_package_missing_from_the_layer_table_is_rejected(pristine: Path, tmp_path: Path) -> None:
    project = _copy(pristine, tmp_path)
    (project / "src" / "eltflow" / "newthing").mkdir()
    (project / "src" / "eltflow" / "newthing" / "__init__.py").write_text("")
    result = lint_imports(project, project / "src")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "eltflow.newthing" in result.stdout


def test_the_s3_layer_may_not_import_the_layers_above_it(pristine: Path, tmp_path: Path) -> None:
    # s3/ (row 10, with the other local services) landed; it may not import the layers above.
    project = _copy(pristine, tmp_path)
    assert (project / "src" / "eltflow" / "s3" / "__init__.py").is_file()
    assert lint_imports(project, project / "src").returncode == 0
    _plant(project, "s3/__init__.py", "import eltflow.runtime\n")
    result = lint_imports(project, project / "src")
    assert result.returncode == 1 and "eltflow.s3" in result.stdout, result.stdout


def test_the_purity_command_reports_where_and_what(pristine: Path, tmp_path: Path) -> None:
    project = _copy(pristine, tmp_path)
    _plant(project, "asl/choice.py", "\nNOW = datetime.utcnow()\n")
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
