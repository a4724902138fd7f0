"""Lambda handlers as AWS runs them: each function its own code folder with AWS's
``file.function`` handler, environment variables set before the module is imported, sibling
modules of the same name kept apart, and ``cfnresponse`` importable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eltflow.config import load_settings
from eltflow.errors import ConfigError
from eltflow.lambdas.runner import LambdaRunner, build_lambdas

INDEX = """
import os

import cfnresponse
import util

GREETING = os.environ["GREETING"]  # read at import, as handlers do


def handler(event, context):
    return {
        "greeting": GREETING,
        "util": util.WHO,
        "cfn": cfnresponse.SUCCESS,
        "function": context.function_name,
    }
"""

TOML = """
[lambda]
isolation = "{isolation}"
workers = 2

[lambda.functions]
First = {{ code = "fn/first", handler = "index.handler", environment = {{ GREETING = "hi" }} }}
Second = {{ code = "fn/second", handler = "index.handler", environment = {{ GREETING = "yo" }} }}
"""


def _project(root: Path, isolation: str) -> Path:
    for name in ("first", "second"):
        folder = root / "fn" / name
        folder.mkdir(parents=True)
        (folder / "index.py").write_text(INDEX, "utf-8")
        (folder / "util.py").write_text(f"WHO = {name!r}\n", "utf-8")
    (root / "eltflow.toml").write_text(TOML.format(isolation=isolation), "utf-8")
    return root


@pytest.fixture(params=["thread", "process"])
def runner(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LambdaRunner]:
    r = build_lambdas(load_settings(_project(tmp_path, request.param), environ={}))
    yield r
    r.close()


def test_each_function_runs_its_own_index_util_and_environment(runner: LambdaRunner) -> None:
    first = runner.invoke("First", {})
    second = runner.invoke("Second", {})
    assert first.error is None and second.error is None, (first.error, second.error)
    # Thread isolation shares one process environment: the variable each module read at its
    # import is its own, since each was set just before that import.
    assert first.payload == {
        "greeting": "hi",
        "util": "first",
        "cfn": "SUCCESS",
        "function": "First",
    }
    assert second.payload == {
        "greeting": "yo",
        "util": "second",
        "cfn": "SUCCESS",
        "function": "Second",
    }
    assert runner.invoke("First", {}).payload == first.payload  # loaded once, still its own


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('{ code = "missing", handler = "index.handler" }', "code must name a folder"),
        ('{ code = "fn/first", handler = "index:handler" }', '"file.function" form'),
        (
            '{ code = "fn/first", handler = "index.handler", runtime = "nodejs20.x" }',
            "only python3.x",
        ),
        (
            '{ handler = "m:f", environment = { AWS_REGION = "x" } }',
            "reserved variables AWS_REGION",
        ),
        ('{ handler = "m:f", environment = { N = 1 } }', "table of strings"),
    ],
)
def test_bad_function_entries_say_what_and_where(tmp_path: Path, entry: str, message: str) -> None:
    _project(tmp_path, "thread")
    (tmp_path / "eltflow.toml").write_text(f"[lambda.functions]\nBad = {entry}\n", "utf-8")
    with pytest.raises(ConfigError, match="Bad") as e:
        build_lambdas(load_settings(tmp_path, environ={}))
    assert message in str(e.value)
