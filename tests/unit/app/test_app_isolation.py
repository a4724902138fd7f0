"""Two apps in one process keep their data apart: each is built in one place (``build_app``)
with its own services, and a Lambda handler's ``eltflow.aws.client(...)`` is bound to the app
running that invocation (a context variable), not to whichever app was opened last."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from eltflow import aws
from eltflow.app import App, build_app
from eltflow.config import load_settings

HANDLER = """
from eltflow import aws


def put(event, context):
    client = aws.client("dynamodb")
    client.put_item(TableName="Jobs", Item={"JobID": {"S": event["id"]}})
    return {"stored": event["id"]}
"""

PROJECT = """
[tables.Jobs]
partition_key = "JobID"

[lambda.functions]
Put = "two_apps_handler:put"
"""


def _project(root: Path) -> App:
    root.mkdir()
    (root / "eltflow.toml").write_text(PROJECT, "utf-8")
    return build_app(load_settings(root, environ={}))


def _ids(app: App) -> set[str]:
    assert app.items is not None
    items = app.items.call("Scan", {"TableName": "Jobs"})["Items"]
    return {item["JobID"]["S"] for item in items}


@pytest.fixture
def two_apps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[App]]:
    (tmp_path / "two_apps_handler.py").write_text(HANDLER, "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    apps = [_project(tmp_path / "a"), _project(tmp_path / "b")]
    yield apps
    for app in apps:
        app.close()


def test_each_handler_reaches_its_own_app(two_apps: list[App]) -> None:
    first, second = two_apps
    assert first.db.url != second.db.url
    for app, job in ((first, "a-1"), (second, "b-1"), (first, "a-2")):
        assert app.lambdas is not None
        result = app.lambdas.invoke("Put", {"id": job})
        assert result.error is None, result.error
    assert _ids(first) == {"a-1", "a-2"}
    assert _ids(second) == {"b-1"}


def test_concurrent_invocations_stay_apart(two_apps: list[App]) -> None:
    """Both apps' handlers run at once on their own pool threads: each binding is per
    invocation, so neither sees the other's even while both are bound."""
    errors: list[object] = []

    def run(app: App, prefix: str) -> None:
        assert app.lambdas is not None
        for n in range(20):
            result = app.lambdas.invoke("Put", {"id": f"{prefix}-{n}"})
            if result.error is not None:
                errors.append(result.error)

    threads = [
        threading.Thread(target=run, args=(app, prefix))
        for app, prefix in zip(two_apps, ("a", "b"), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _ids(two_apps[0]) == {f"a-{n}" for n in range(20)}
    assert _ids(two_apps[1]) == {f"b-{n}" for n in range(20)}


def test_no_binding_outside_an_invocation(two_apps: list[App], tmp_path: Path) -> None:
    """Outside a handler no app is reachable by accident: ``client(name, settings)`` opens the
    project named by ``settings``, whatever apps this process has open."""
    first, _ = two_apps
    assert first.lambdas is not None
    first.lambdas.invoke("Put", {"id": "a-1"})
    client = aws.client("dynamodb", load_settings(tmp_path / "b", environ={}))
    try:
        assert client.scan(TableName="Jobs")["Items"] == []
    finally:
        client.close()


def test_app_client_is_the_handlers_client(two_apps: list[App]) -> None:
    """``App.client(name)`` gives what the app's handlers get from ``eltflow.aws.client``."""
    first, second = two_apps
    assert first.lambdas is not None
    first.lambdas.invoke("Put", {"id": "a-1"})
    for app, expected in ((first, [{"JobID": {"S": "a-1"}}]), (second, [])):
        client = app.client("dynamodb")
        try:
            assert client.scan(TableName="Jobs")["Items"] == expected
        finally:
            client.close()


def test_in_aws_lambda_a_handler_gets_boto3s_client(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An exported handler written against eltflow.aws.client runs in AWS Lambda: there, with
    no eltflow.toml, the client is boto3's, not a local service opened in /var/task."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_EXECUTION_ENV", "AWS_Lambda_python3.12")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    client = aws.client("redshift-data")
    assert client.meta.service_model.service_name == "redshift-data"
    assert client.meta.region_name == "eu-west-1"
    assert not (tmp_path / ".eltflow").exists()  # no local project was opened
