"""``eltflow endpoint``: the AWS endpoint alone, as a real process, reached with boto3."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.e2e.endpoint.clients import aws_client, wait_closed


def _url_from(proc: subprocess.Popen[bytes], timeout: float = 60.0) -> str:
    """The URL in the ``eltflow serving on URL`` line the command prints once it listens."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 0.5)
        if ready:
            line = proc.stderr.readline()
            seen += line
            match = re.search(rb"serving on (http://\S+?);", line)
            if match:
                return match.group(1).decode()
            if not line and proc.poll() is not None:
                break
    raise AssertionError(f"eltflow endpoint did not announce its URL: {seen.decode()}")


def test_eltflow_endpoint_serves_aws_without_the_console(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ELTFLOW_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "eltflow",
            "--project-dir",
            str(tmp_path),
            "endpoint",
            "--port",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        url = _url_from(proc)
        sfn = aws_client("stepfunctions", url)
        definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
        arn = sfn.create_state_machine(
            name="alone", definition=json.dumps(definition), roleArn="arn:aws:iam::1:role/r"
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=arn, input='{"a": 1}')["executionArn"]
        described = wait_closed(sfn, execution)
        assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"a": 1}
        # No console here: a browser's GET gets an AWS error, not the page.
        page = httpx.get(url + "/")
        assert page.status_code == 400 and page.json()["__type"] == "UnknownOperationException"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            assert proc.stderr is not None
            proc.stderr.close()
