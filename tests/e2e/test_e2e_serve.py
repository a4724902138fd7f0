"""``eltflow serve`` as a real subprocess on 127.0.0.1: executions started over HTTP run on the
in-process worker; SIGTERM/SIGINT shut it down with exit code 0; an execution sleeping in a
Wait resumes after a restart; exposed binds need a token, which the API then demands."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.wait import wait_until

pytestmark = pytest.mark.slow

_SERVE = (sys.executable, "-m", "eltflow", "--project-dir")
WAIT_SECONDS = 4
MACHINE = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": "ready", "ResultPath": "$.prepared", "Next": "Nap"},
        "Nap": {"Type": "Wait", "SecondsPath": "$.nap", "Next": "Finish"},
        "Finish": {"Type": "Pass", "End": True},
    },
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ELTFLOW_")}
    env.update(extra)
    return env


class Served:
    def __init__(self, project: Path, port: int, *args: str, env: dict[str, str] | None = None):
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [*_SERVE, str(project), "serve", "--port", str(port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env or _env(),
        )
        self.headers: dict[str, str] = {}
        self._output: str | None = None

    def wait_ready(self, timeout: float = 30) -> None:
        def listening() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited early: {self.output()}")
            try:
                httpx.get(f"{self.base}/api/openapi.json", headers=self.headers, timeout=1)
            except httpx.TransportError:
                return False
            return True

        wait_until(listening, timeout, what="serve to start listening", interval=0.1)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        r = httpx.request(
            method, f"{self.base}/api{path}", json=body, headers=self.headers, timeout=10
        )
        assert r.status_code == 200, r.text
        return r.json()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        self.proc.send_signal(sig)
        self._collect(timeout)
        return self.proc.returncode

    def _collect(self, timeout: float) -> None:
        if self._output is None:
            out, err = self.proc.communicate(timeout=timeout)  # also closes the pipes
            self._output = (out + err).decode(errors="replace")

    def output(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        self._collect(5)
        return self._output or ""

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self._collect(30)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def servers() -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for s in started:
        s.kill()


def _start(servers: list[Served], project: Path, *args: str, **kw: Any) -> Served:
    served = Served(project, free_port(), *args, **kw)
    servers.append(served)
    return served


def _status(served: Served, arn: str) -> dict[str, Any]:
    out: dict[str, Any] = served.call("GET", f"/executions/{arn}")
    return out


def _wait_status(served: Served, arn: str, status: str, timeout: float) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        described = _status(served, arn)
        return described if described["status"] == status else None

    return wait_until(reached, timeout, what=f"{arn} to be {status}", interval=0.1)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_execution_started_over_http_succeeds_then_clean_exit(
    project: Path, servers: list[Served], sig: int
) -> None:
    served = _start(servers, project)
    served.wait_ready()
    served.call("POST", "/state-machines", {"name": "nap", "definition": MACHINE})
    arn = served.call("POST", "/state-machines/nap/executions", {"input": '{"nap": 1}'})[
        "executionArn"
    ]
    done = _wait_status(served, arn, "SUCCEEDED", timeout=20)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == {"nap": 1, "prepared": "ready"}
    assert served.stop(sig) == 0, served.output()  # stop() itself fails if it hangs
    assert "serving on http://127.0.0.1:" in served.output()


def test_a_waiting_execution_resumes_after_a_restart(project: Path, servers: list[Served]) -> None:
    first = _start(servers, project)
    first.wait_ready()
    first.call("POST", "/state-machines", {"name": "nap", "definition": MACHINE})
    body = {"name": "long-nap", "input": json.dumps({"nap": WAIT_SECONDS})}
    arn = first.call("POST", "/state-machines/nap/executions", body)["executionArn"]
    assert _status(first, arn)["status"] == "RUNNING"
    assert first.stop(signal.SIGTERM) == 0, first.output()

    second = _start(servers, project)
    second.wait_ready()
    done = _wait_status(second, arn, "SUCCEEDED", timeout=WAIT_SECONDS + 20)
    assert done["status"] == "SUCCEEDED", done
    # It slept the whole Wait (not cut short by the restart) and ran once.
    elapsed = datetime.fromisoformat(done["stopDate"]) - datetime.fromisoformat(done["startDate"])
    assert elapsed.total_seconds() >= WAIT_SECONDS
    events = second.call("GET", f"/executions/{arn}/history")["events"]
    types = [e["type"] for e in events]
    assert types.count("ExecutionStarted") == 1
    assert types.count("WaitStateEntered") == 1 and types.count("WaitStateExited") == 1
    assert types[-1] == "ExecutionSucceeded"
    assert second.stop() == 0, second.output()


def test_exposed_bind_without_token_is_refused(project: Path) -> None:
    proc = subprocess.run(
        [*_SERVE, str(project), "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=30,
    )
    assert proc.returncode == 2  # a configuration error, like a usage error
    assert "refusing to serve on 0.0.0.0" in proc.stderr
    assert "--token" in proc.stderr and "ELTFLOW_TOKEN" in proc.stderr
    assert not (project / ".eltflow").exists()  # refused before touching the state store


def test_token_from_the_environment_is_demanded(project: Path, servers: list[Served]) -> None:
    served = _start(servers, project, env=_env(ELTFLOW_TOKEN="s3cret-token"))
    served.headers = {"Authorization": "Bearer s3cret-token"}
    served.wait_ready()
    anonymous = httpx.get(f"{served.base}/api/executions", timeout=5)
    assert anonymous.status_code == 401
    wrong = httpx.get(
        f"{served.base}/api/executions", headers={"Authorization": "Bearer nope"}, timeout=5
    )
    assert wrong.status_code == 401
    assert served.call("GET", "/executions") == {"executions": []}
    # The console's page loads without the token; it asks for it before calling the API.
    assert httpx.get(f"{served.base}/", timeout=5).status_code == 200
    assert served.stop() == 0
    assert "(token required)" in served.output()


SLOW_HANDLER = """
import time
from pathlib import Path

def handler(event, context):
    log = Path(event["log"])
    with log.open("a") as f:
        f.write("start\\n")
    time.sleep(event["sleep"])  # the task in flight at SIGTERM: its duration is the point
    with log.open("a") as f:
        f.write("end\\n")
    return {"worked": True}
"""
TASK_THEN_WAIT = {
    "StartAt": "Work",
    "States": {
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Slow",
            "ResultPath": "$.work",
            "Next": "Nap",
        },
        "Nap": {"Type": "Wait", "Seconds": 2, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    },
}


def test_sigterm_lets_the_task_in_flight_finish_and_be_recorded(
    project: Path, servers: list[Served]
) -> None:
    (project / "slowmod.py").write_text(SLOW_HANDLER)
    (project / "eltflow.toml").write_text('[lambda.functions]\nSlow = "slowmod:handler"\n')
    env = _env(PYTHONPATH=str(project))
    log = project / "handler.log"
    first = _start(servers, project, env=env)
    first.wait_ready()
    first.call("POST", "/state-machines", {"name": "work", "definition": TASK_THEN_WAIT})
    payload = json.dumps({"log": str(log), "sleep": 2})
    arn = first.call("POST", "/state-machines/work/executions", {"input": payload})["executionArn"]
    wait_until(lambda: log.exists() and "start" in log.read_text(), 20, what="the handler to start")
    assert first.stop(signal.SIGTERM) == 0, first.output()
    # The handler ran to its end before the process exited, and its result was recorded.
    assert log.read_text().split() == ["start", "end"]

    second = _start(servers, project, env=env)
    second.wait_ready()
    done = _wait_status(second, arn, "SUCCEEDED", timeout=20)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"])["work"] == {"worked": True}
    assert log.read_text().split() == ["start", "end"]  # not run again after the restart
    types = [e["type"] for e in second.call("GET", f"/executions/{arn}/history")["events"]]
    assert types.count("LambdaFunctionSucceeded") == 1
    assert second.stop() == 0, second.output()


def test_the_in_process_scheduler_fires_schedules(project: Path, servers: list[Served]) -> None:
    first = _start(servers, project)
    first.wait_ready()
    first.call("POST", "/state-machines", {"name": "nap", "definition": MACHINE})
    # Created over the API: a rate schedule fires at creation, on the scheduler's next tick.
    first.call(
        "POST",
        "/schedules",
        {
            "Name": "api-made",
            "ScheduleExpression": "rate(1 hour)",
            "Target": {"StateMachine": "nap", "Input": '{"nap": 0}'},
        },
    )
    fired = _wait_fire(first, "api-made")
    assert _wait_status(first, fired, "SUCCEEDED", timeout=20)["status"] == "SUCCEEDED"
    assert first.stop() == 0, first.output()

    # Declared in eltflow.toml: applied when serve starts, then fired.
    (project / "eltflow.toml").write_text(
        '[schedules.declared]\nexpression = "rate(1 hour)"\nstate_machine = "nap"\n'
        "input = { nap = 0 }\n"
    )
    second = _start(servers, project)
    second.wait_ready()
    fired = _wait_fire(second, "declared")
    assert _wait_status(second, fired, "SUCCEEDED", timeout=20)["status"] == "SUCCEEDED"
    # The API-made schedule's first fire happened once, before the restart.
    fires = second.call("GET", "/schedules/api-made")["LastFires"]
    assert [f["Status"] for f in fires] == ["STARTED"]
    assert second.stop() == 0, second.output()


def _wait_fire(served: Served, schedule: str, timeout: float = 20) -> str:
    def fired() -> str | None:
        fires = served.call("GET", f"/schedules/{schedule}")["LastFires"]
        started = [f["ExecutionArn"] for f in fires if f["Status"] == "STARTED"]
        return str(started[0]) if started else None

    return wait_until(fired, timeout, what=f"{schedule} to fire", interval=0.1)
