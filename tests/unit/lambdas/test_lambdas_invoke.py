"""Local Lambda: handler resolution, context, AWS's result and error shapes, timeouts,
thread and process isolation."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from eltflow.clock import SystemClock
from eltflow.config import load_settings
from eltflow.errors import ConfigError, StatesError
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.integrations.lambda_ import register
from eltflow.lambdas.config import parse_function_name
from eltflow.lambdas.runner import LambdaRunner, build_lambdas
from eltflow.types import JSON

HERE = str(Path(__file__).parent)
TOML = """
[lambda]
isolation = "{isolation}"
workers = 2

[lambda.functions]
Echo = "lambda_handlers_for_tests:echo"
Fail = "lambda_handlers_for_tests:fail"
Sleepy = {{ handler = "lambda_handlers_for_tests:sleepy", timeout = 0.5, memory = 256 }}
NotJson = "lambda_handlers_for_tests:not_json"
Chatty = "lambda_handlers_for_tests:chatty"
"""


@pytest.fixture(params=["thread", "process"])
def runner(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LambdaRunner]:
    (tmp_path / "eltflow.toml").write_text(TOML.format(isolation=request.param), "utf-8")
    monkeypatch.syspath_prepend(HERE)
    # spawned subprocesses import handlers through PYTHONPATH
    monkeypatch.setenv("PYTHONPATH", HERE + ":" + ":".join(p for p in sys.path if p))
    r = build_lambdas(load_settings(tmp_path, environ={}))
    yield r
    r.close()


def _call(runner: LambdaRunner, resource: str, params: JSON, timeout: float | None = None) -> JSON:
    registry = Registry()
    register(registry, runner)
    integration = registry.resolve(resource)
    assert integration is not None
    clock = SystemClock()
    deadline = None if timeout is None else clock.now() + timedelta(seconds=timeout)
    return integration(
        TaskRequest(resource=resource, parameters=params, clock=clock, deadline=deadline)
    )


def test_invoke_wraps_payload_like_aws(runner: LambdaRunner) -> None:
    out = _call(
        runner,
        "arn:aws:states:::lambda:invoke",
        {
            "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:Echo",
            "Payload": {"a": 1},
        },
    )
    assert isinstance(out, dict)
    assert out["StatusCode"] == 200 and out["ExecutedVersion"] == "$LATEST"
    payload = out["Payload"]
    assert isinstance(payload, dict)
    assert payload["event"] == {"a": 1}
    assert payload["function_name"] == "Echo"
    assert payload["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:Echo"
    assert payload["remaining_ok"] is True
    meta = out["SdkHttpMetadata"]
    assert isinstance(meta, dict) and meta["HttpStatusCode"] == 200
    headers = meta["HttpHeaders"]
    assert isinstance(headers, dict) and headers["X-Amz-Executed-Version"] == "$LATEST"
    assert out["SdkResponseMetadata"] == {"RequestId": payload["request_id"]}


def test_legacy_function_arn_returns_the_payload_itself(runner: LambdaRunner) -> None:
    out = _call(runner, "arn:aws:lambda:us-east-1:123456789012:function:Echo", {"x": [1]})
    assert isinstance(out, dict) and out["event"] == {"x": [1]}


def test_exception_becomes_error_named_after_its_class(runner: LambdaRunner) -> None:
    with pytest.raises(StatesError) as e:
        _call(
            runner,
            "arn:aws:states:::lambda:invoke",
            {"FunctionName": "Fail", "Payload": {"JobID": "7"}},
        )
    assert e.value.error == "JobFailed"
    cause = json.loads(e.value.cause)
    assert cause["errorType"] == "JobFailed"
    assert cause["errorMessage"] == "job 7 failed"
    assert cause["requestId"]
    assert any("raise JobFailed" in line for line in cause["stackTrace"])


def test_unknown_function(runner: LambdaRunner) -> None:
    with pytest.raises(StatesError) as e:
        _call(runner, "arn:aws:states:::lambda:invoke", {"FunctionName": "Nope"})
    assert e.value.error == "Lambda.ResourceNotFoundException"
    assert e.value.cause.startswith(
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:Nope "
        "(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException;"
    )


def test_function_timeout_is_sandbox_timedout(runner: LambdaRunner) -> None:
    with pytest.raises(StatesError) as e:
        _call(
            runner,
            "arn:aws:states:::lambda:invoke",
            {"FunctionName": "Sleepy", "Payload": {"seconds": 3}},
        )
    assert e.value.error == "Sandbox.Timedout"
    assert "Task timed out after 0.50 seconds" in json.loads(e.value.cause)["errorMessage"]


def test_task_deadline_is_states_timeout(runner: LambdaRunner) -> None:
    with pytest.raises(StatesError) as e:
        _call(
            runner,
            "arn:aws:states:::lambda:invoke",
            {"FunctionName": "Sleepy", "Payload": {"seconds": 3}},
            timeout=0.2,
        )
    assert e.value.error == "States.Timeout"


def test_unserialisable_result(runner: LambdaRunner) -> None:
    with pytest.raises(StatesError) as e:
        _call(runner, "arn:aws:states:::lambda:invoke", {"FunctionName": "NotJson"})
    assert e.value.error == "Runtime.MarshalError"


def test_function_names() -> None:
    assert parse_function_name("Echo") == ("Echo", None)
    assert parse_function_name("Echo:prod") == ("Echo", "prod")
    assert parse_function_name("123456789012:function:Echo") == ("Echo", None)
    assert parse_function_name("arn:aws:lambda:us-east-1:1:function:Echo:$LATEST") == (
        "Echo",
        "$LATEST",
    )


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "eltflow.toml").write_text('[lambda.functions]\nX = "nocolon"\n', "utf-8")
    with pytest.raises(ConfigError, match=r"\[lambda.functions\] X: handler must look like"):
        build_lambdas(load_settings(tmp_path, environ={}))


def test_event_and_dry_run_invocations(runner: LambdaRunner, tmp_path: Path) -> None:
    out = _call(
        runner,
        "arn:aws:states:::lambda:invoke",
        {"FunctionName": "Echo", "InvocationType": "Event", "Payload": {}},
    )
    assert isinstance(out, dict) and (out["StatusCode"], out["Payload"]) == (202, "")
    out = _call(
        runner,
        "arn:aws:states:::lambda:invoke",
        {"FunctionName": "Echo", "InvocationType": "DryRun"},
    )
    assert isinstance(out, dict) and out["StatusCode"] == 204
    with pytest.raises(StatesError) as e:
        _call(
            runner,
            "arn:aws:states:::lambda:invoke",
            {"FunctionName": "Nope", "InvocationType": "Event"},
        )
    assert e.value.error == "Lambda.ResourceNotFoundException"


def test_callback_pattern_invokes_and_sync_is_refused(runner: LambdaRunner) -> None:
    # .waitForTaskToken: the call is made; the task runner then waits for the token.
    out = _call(
        runner,
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        {"FunctionName": "Echo", "Payload": {"x": 1}},
    )
    assert isinstance(out, dict) and out["StatusCode"] == 200
    with pytest.raises(StatesError) as e:
        _call(runner, "arn:aws:states:::lambda:invoke.sync", {"FunctionName": "Echo"})
    assert e.value.error == "States.Runtime"


def test_a_handlers_output_is_its_invocations_log_and_kept_per_state(
    runner: LambdaRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    import concurrent.futures as cf

    def invoke(tag: str) -> str:
        return runner.invoke("Chatty", {"tag": tag, "lines": 20}).log

    # Concurrent invocations (two workers) each get only their own lines.
    with cf.ThreadPoolExecutor(4) as pool:
        logs = dict(zip("abcd", pool.map(invoke, "abcd"), strict=True))
    for tag, log in logs.items():
        lines = log.splitlines()
        assert lines[:20] == [f"{tag} out {i}" for i in range(20)], log
        assert f"{tag} err" in lines
        assert f"[WARNING] chatty: {tag} logged" in lines
        assert all(line.startswith((tag, f"[WARNING] chatty: {tag}")) for line in lines), log
    # As on AWS, a handler's output goes to its log, not to the caller's stdout.
    assert " out " not in capsys.readouterr().out
    assert not type(sys.stdout).__name__.startswith("_Tee")

    # Through a Task: kept with the execution and the state, failed invocations too.
    assert runner.logs is not None
    arn = "arn:aws:states:us-east-1:123456789012:execution:m:e1"
    registry = Registry()
    register(registry, runner)
    integration = registry.resolve("arn:aws:states:::lambda:invoke")
    assert integration is not None
    for state, fail in (("Load", False), ("Publish", True)):
        request = TaskRequest(
            resource="arn:aws:states:::lambda:invoke",
            parameters={"FunctionName": "Chatty", "Payload": {"tag": state, "fail": fail}},
            execution_arn=arn,
            state_name=state,
        )
        if fail:
            with pytest.raises(StatesError):
                integration(request)
        else:
            integration(request)
    kept = runner.logs.read(arn)
    assert [(r["state"], r["function"], r["error"]) for r in kept] == [
        ("Load", "Chatty", None),
        ("Publish", "Chatty", "JobFailed"),
    ]
    assert kept[1]["text"].startswith("Publish out 0\n")
    assert [r["state"] for r in runner.logs.read(arn, "Publish")] == ["Publish"]
    assert runner.logs.read(arn + "-other") == []
