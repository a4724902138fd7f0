"""Lambda handlers that call unmodified boto3 (DynamoDB, Step Functions, SNS, the Data API,
S3) reach eltflow: ``eltflow serve`` gives handler
processes ``AWS_ENDPOINT_URL`` (and dummy credentials and region), as AWS gives a sandbox its
own endpoints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.endpoint.clients import aws_client, wait_closed

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.serve import Server

HERE = Path(__file__).parent
TOML = """
state = "{state}"

[lambda]
isolation = "process"
workers = 1

[lambda.functions]
UseAws = {{ handler = "endpoint_handlers:use_aws", timeout = 60 }}
"""
MACHINE = {
    "StartAt": "Call",
    "States": {
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "UseAws", "Payload.$": "$"},
            "OutputPath": "$.Payload",
            "End": True,
        }
    },
}


@pytest.fixture
def served(store_url: str, tmp_path: Path) -> Iterator[Server]:
    """``eltflow serve`` over a project whose state store is SQLite, then PostgreSQL."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "eltflow.toml").write_text(TOML.format(state=store_url), "utf-8")
    mp = pytest.MonkeyPatch()
    # Spawned handler processes import the handler module through PYTHONPATH.
    mp.setenv("PYTHONPATH", os.pathsep.join([str(HERE), *(p for p in sys.path if p)]))
    app: App = build_app(load_settings(folder, environ={}))
    server = Server(app, port=0, scheduler=False, worker_options={"poll_seconds": 0.05})
    try:
        with server.running():
            yield server
    finally:
        app.close()
        mp.undo()


def test_a_handler_using_plain_boto3_reaches_the_local_services(served: Server) -> None:
    def client(name: str) -> Any:
        return aws_client(name, served.url)

    ddb = client("dynamodb")
    ddb.create_table(
        TableName="from_handler",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sfn = client("stepfunctions")
    arn = sfn.create_state_machine(
        name="calls-aws", definition=json.dumps(MACHINE), roleArn="arn:aws:iam::1:role/r"
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input='{"k": "v1"}')["executionArn"]
    described = wait_closed(sfn, execution, timeout=120)
    assert described["status"] == "SUCCEEDED", described
    out = json.loads(described["output"])
    assert out["item"] == {"k": {"S": "v1"}}
    assert "calls-aws" in out["machines"]
    assert out["topic"].endswith(":from-handler")
    assert out["answer"] == 42
    assert out["s3"] == "v1"
    # The handler's writes are the server's: visible through the endpoint too.
    s3 = client("s3")
    assert s3.get_object(Bucket="from-handler", Key="keys/v1.txt")["Body"].read() == b"v1"
    assert ddb.get_item(TableName="from_handler", Key={"k": {"S": "v1"}})["Item"] == {
        "k": {"S": "v1"}
    }


def test_start_wait_serves_the_endpoint_for_its_handlers(tmp_path: Path) -> None:
    """``eltflow start --wait`` has no server running: it hosts the endpoint on an ephemeral
    loopback port for the handlers it runs."""
    (tmp_path / "eltflow.toml").write_text(
        TOML.format(state=f"sqlite:///{tmp_path / 'state.db'}"), "utf-8"
    )
    app = build_app(load_settings(tmp_path, environ={}))
    try:
        assert app.items is not None
        app.items.call(
            "CreateTable",
            {
                "TableName": "from_handler",
                "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
        app.service.create_state_machine(name="calls-aws", definition=json.dumps(MACHINE))
    finally:
        app.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELTFLOW_", "AWS_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), *(p for p in sys.path if p)])
    eltflow = [sys.executable, "-m", "eltflow", "--project-dir", str(tmp_path)]
    done = subprocess.run(
        [*eltflow, "start", "calls-aws", "--input", '{"k": "v2"}', "--wait", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(json.loads(done.stdout)["output"])
    assert out["item"] == {"k": {"S": "v2"}} and out["machines"] == ["calls-aws"]
    assert out["s3"] == "v2"
    assert (tmp_path / ".eltflow" / "s3" / "from-handler" / "keys" / "v2.txt").read_text() == "v2"
