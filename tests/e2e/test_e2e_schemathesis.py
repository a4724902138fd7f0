"""schemathesis against a live ``eltflow serve``: generated requests (valid and invalid,
random and chained) from the served /api/openapi.json must never get a 5xx. Bounded by a small
example count and a seed, so the run stays well under a minute and reproduces."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from tests.support.wait import wait_until

pytestmark = pytest.mark.slow

_ELTFLOW = (sys.executable, "-m", "eltflow", "--project-dir")
MACHINE = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_no_server_errors(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ELTFLOW_")}
    server = subprocess.Popen(
        [*_ELTFLOW, str(tmp_path), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:

        def listening() -> bool:
            assert server.poll() is None, "eltflow serve exited"
            try:
                httpx.get(f"{base}/api/openapi.json", timeout=1)
            except httpx.TransportError:
                return False
            return True

        wait_until(listening, 30, what="eltflow serve to listen", interval=0.1)
        # Something to find, so generated names sometimes hit real resources.
        httpx.post(f"{base}/api/state-machines", json={"name": "m", "definition": MACHINE})
        httpx.post(f"{base}/api/state-machines/m/executions", json={"name": "e"})
        # The coverage phase alone sends ~700 requests (~40 s here); random fuzzing and
        # stateful chains with a few examples per operation find the same bugs faster.
        command = [
            *(sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()"),
            *("run", f"{base}/api/openapi.json", "--checks", "not_a_server_error"),
            *("--phases", "examples,fuzzing,stateful", "--max-examples", "10"),
            *("--seed", "20261128", "--no-color", "--request-timeout", "10"),
        ]
        run = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=240,
            cwd=tmp_path,  # its reports, if any, land in the test's folder
        )
        summary = run.stdout[-6000:]
        assert run.returncode == 0, summary
        assert "Server error" not in run.stdout, summary
        assert "generated" in run.stdout, summary
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0, err.decode(errors="replace")[-3000:]
    assert b"Traceback" not in err, err.decode(errors="replace")[-3000:]
