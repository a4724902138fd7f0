"""A real ``eltflow serve`` (uvicorn on a free port, worker included) over a project with
every local service, and boto3 clients pointed at it with ``endpoint_url``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.endpoint.clients import aws_client
from tests.e2e.endpoint.model_check import check_response

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.serve import Server

HERE = Path(__file__).parent
TOML = """
[lambda]
isolation = "thread"
workers = 2

[lambda.functions]
Echo = "endpoint_handlers:echo"
Fail = "endpoint_handlers:fail"
"""

ClientFactory = Callable[[str], Any]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("endpoint")
    (folder / "eltflow.toml").write_text(TOML, "utf-8")
    return folder


@pytest.fixture(scope="module")
def app(project: Path) -> Iterator[App]:
    mp = pytest.MonkeyPatch()
    mp.syspath_prepend(str(HERE))
    built = build_app(load_settings(project, environ={}))
    yield built
    built.close()
    mp.undo()


@pytest.fixture(scope="module")
def server(app: App) -> Iterator[Server]:
    s = Server(app, port=0, scheduler=False, worker_options={"poll_seconds": 0.05})
    with s.running():
        yield s
    assert s.errors == []


@pytest.fixture(scope="module")
def client(server: Server) -> ClientFactory:
    """``client("stepfunctions")``: real boto3 against the server, no retries (a retried
    request would hide a 5xx); every parsed response is checked against botocore's model."""

    def make(service: str) -> Any:
        made = aws_client(service, server.url)
        made.meta.events.register("after-call", check_response)
        return made

    return make


@pytest.fixture(scope="module")
def aws_cli(server: Server) -> Callable[..., Any]:
    """``aws_cli("stepfunctions", "list-state-machines")``: the real AWS CLI (awscli from
    PyPI, run by this interpreter) against the server; returns its parsed JSON output (its
    text with ``raw=True``)."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }

    def run(*args: str, raw: bool = False) -> Any:
        command = [sys.executable, "-m", "awscli", "--endpoint-url", server.url]
        done = subprocess.run(
            [*command, "--output", "json", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        if raw:  # aws s3 ... prints text, not JSON
            return done.stdout
        return json.loads(done.stdout) if done.stdout.strip() else None

    return run
