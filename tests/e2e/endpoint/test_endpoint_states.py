"""Step Functions through the AWS endpoint: unmodified boto3 (and the AWS CLI) against a real
``eltflow serve``, checked against botocore's parsing of AWS's shapes and error codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from tests.e2e.endpoint.clients import aws_client, wait_closed
from tests.support.wait import wait_until

from eltflow.serve import Server

ClientFactory = Callable[[str], Any]

ROLE = "arn:aws:iam::123456789012:role/test"
PASS = {
    "StartAt": "Hello",
    "States": {
        "Hello": {
            "Type": "Pass",
            "Result": {"greeting": "hi"},
            "ResultPath": "$.out",
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}
WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "on purpose"}}}


@pytest.fixture(scope="module")
def sfn(client: ClientFactory) -> Any:
    return client("stepfunctions")


def _machine(sfn: Any, name: str, definition: dict[str, Any]) -> str:
    arn: str = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    return arn


def _code(e: pytest.ExceptionInfo[ClientError]) -> str:
    return str(e.value.response["Error"]["Code"])


def test_create_start_wait_and_read_history(sfn: Any) -> None:
    arn = _machine(sfn, "hello", PASS)
    assert arn.endswith(":stateMachine:hello")
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["name"] == "hello" and described["type"] == "STANDARD"
    assert json.loads(described["definition"]) == PASS
    assert described["creationDate"].tzinfo is not None  # a timestamp botocore parsed

    started = sfn.start_execution(stateMachineArn=arn, name="run-1", input='{"x": 1}')
    assert started["executionArn"].endswith(":execution:hello:run-1")
    done = wait_closed(sfn, started["executionArn"])
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"x": 1, "out": {"greeting": "hi"}}
    assert done["stopDate"] >= done["startDate"]

    events = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    types = [e["type"] for e in events]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert "PassStateEntered" in types
    assert json.loads(events[0]["executionStartedEventDetails"]["input"]) == {"x": 1}

    # Paging and reverse order: the pages join up to the whole history, newest first.
    pages: list[int] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"nextToken": token} if token else {}
        page = sfn.get_execution_history(
            executionArn=started["executionArn"], maxResults=2, reverseOrder=True, **kwargs
        )
        assert len(page["events"]) <= 2
        pages.extend(e["id"] for e in page["events"])
        token = page.get("nextToken")
        if not token:
            break
    assert pages == sorted((e["id"] for e in events), reverse=True)

    slim = sfn.get_execution_history(
        executionArn=started["executionArn"], includeExecutionData=False
    )["events"]
    assert "input" not in slim[0]["executionStartedEventDetails"]

    again = sfn.describe_state_machine_for_execution(executionArn=started["executionArn"])
    assert again["name"] == "hello" and json.loads(again["definition"]) == PASS


def test_list_executions_filters_and_pages(sfn: Any) -> None:
    arn = _machine(sfn, "lister", PASS)
    arns = [
        sfn.start_execution(stateMachineArn=arn, name=f"e{i}")["executionArn"] for i in range(5)
    ]
    for a in arns:
        wait_closed(sfn, a)
    paginator = sfn.get_paginator("list_executions")
    seen = [
        e["executionArn"]
        for page in paginator.paginate(stateMachineArn=arn, PaginationConfig={"PageSize": 2})
        for e in page["executions"]
    ]
    assert sorted(seen) == sorted(arns)
    succeeded = sfn.list_executions(stateMachineArn=arn, statusFilter="SUCCEEDED")["executions"]
    assert len(succeeded) == 5
    assert sfn.list_executions(stateMachineArn=arn, statusFilter="FAILED")["executions"] == []
    listed = sfn.list_state_machines()["stateMachines"]
    assert arn in [m["stateMachineArn"] for m in listed]


def test_stop_redrive_update_delete(sfn: Any) -> None:
    waiting = _machine(sfn, "waiter", WAIT)
    execution = sfn.start_execution(stateMachineArn=waiting)["executionArn"]
    stopped = sfn.stop_execution(executionArn=execution, error="Manual", cause="test")
    assert stopped["stopDate"].tzinfo is not None
    described = wait_closed(sfn, execution)
    assert (described["status"], described["error"]) == ("ABORTED", "Manual")

    failing = _machine(sfn, "failing", FAIL)
    run = sfn.start_execution(stateMachineArn=failing)["executionArn"]
    assert wait_closed(sfn, run)["status"] == "FAILED"
    assert sfn.redrive_execution(executionArn=run)["redriveDate"].tzinfo is not None
    after = wait_closed(sfn, run)
    assert (after["status"], after["redriveCount"]) == ("FAILED", 1)
    succeeded = _machine(sfn, "to-redrive-ok", PASS)
    ok = sfn.start_execution(stateMachineArn=succeeded)["executionArn"]
    wait_closed(sfn, ok)
    with pytest.raises(ClientError) as e:
        sfn.redrive_execution(executionArn=ok)
    assert _code(e) == "ExecutionNotRedrivable"

    updated = sfn.update_state_machine(stateMachineArn=failing, definition=json.dumps(PASS))
    assert updated["stateMachineVersionArn"].endswith(":failing:2")
    versions = sfn.list_state_machine_versions(stateMachineArn=failing)["stateMachineVersions"]
    assert len(versions) == 2
    # The old execution still runs (and reports) the version it started with.
    old = sfn.describe_state_machine_for_execution(executionArn=run)
    assert json.loads(old["definition"]) == FAIL

    sfn.delete_state_machine(stateMachineArn=succeeded)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=succeeded)


def test_validate_state_machine_definition(sfn: Any) -> None:
    ok = sfn.validate_state_machine_definition(definition=json.dumps(PASS))
    assert (ok["result"], ok["diagnostics"]) == ("OK", [])
    bad = {"StartAt": "Nope", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}
    fail = sfn.validate_state_machine_definition(definition=json.dumps(bad))
    assert fail["result"] == "FAIL"
    assert {d["code"] for d in fail["diagnostics"]} >= {"MISSING_TRANSITION_TARGET"}
    assert all(d["severity"] == "ERROR" for d in fail["diagnostics"])
    slip = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": {"id": "$.x"}, "End": True}},
    }
    quiet = sfn.validate_state_machine_definition(definition=json.dumps(slip))
    assert (quiet["result"], quiet["diagnostics"]) == ("OK", [])
    warned = sfn.validate_state_machine_definition(
        definition=json.dumps(slip), severity="WARNING", maxResults=1
    )
    assert warned["result"] == "OK" and warned["truncated"] is False
    assert [(d["severity"], d["code"], d["location"]) for d in warned["diagnostics"]] == [
        ("WARNING", "NO_DOLLAR", "/States/P/Parameters/id")
    ]


def test_aws_error_codes_reach_botocore(server: Server, sfn: Any) -> None:
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:missing"
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist) as e:
        sfn.start_execution(stateMachineArn=missing)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.create_state_machine(name="bad", definition='{"StartAt": 1}', roleArn=ROLE)
    arn = _machine(sfn, "inputs", PASS)
    with pytest.raises(sfn.exceptions.InvalidExecutionInput):
        sfn.start_execution(stateMachineArn=arn, input="{not json")
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_execution(executionArn="arn:aws:states:nope")
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(
            executionArn="arn:aws:states:us-east-1:123456789012:execution:inputs:none"
        )
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported):
        sfn.start_sync_execution(stateMachineArn=arn)
    with pytest.raises(ClientError) as unknown:
        sfn.list_state_machine_aliases(stateMachineArn=arn)
    assert _code(unknown) == "UnknownOperationException"


def _raw(server: Server, target: str, body: bytes, content_type: str) -> httpx.Response:
    return httpx.post(
        server.url + "/",
        content=body,
        headers={"X-Amz-Target": target, "Content-Type": content_type},
    )


@pytest.mark.parametrize(
    ("target", "body", "content_type", "status", "code", "message"),
    [
        (
            "AWSStepFunctions.StartExecution",
            b"{}",
            "application/x-amz-json-1.0",
            400,
            "ValidationException",
            "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy "
            "constraint: Member must not be null",
        ),
        (
            "AWSStepFunctions.CreateStateMachine",
            json.dumps({"name": "x" * 81, "definition": "{}", "roleArn": ROLE}).encode(),
            "application/x-amz-json-1.0",
            400,
            "ValidationException",
            "Member must have length less than or equal to 80",
        ),
        (
            "AWSStepFunctions.StartExecution",
            b"{oops",
            "application/x-amz-json-1.0",
            400,
            "SerializationException",
            "not JSON",
        ),
        (
            "AWSStepFunctions.StartExecution",
            b'{"stateMachineArn": 5}',
            "application/x-amz-json-1.0",
            400,
            "SerializationException",
            "stateMachineArn",
        ),
        (
            "AWSStepFunctions.NoSuchThing",
            b"{}",
            "application/x-amz-json-1.0",
            400,
            "UnknownOperationException",
            "NoSuchThing",
        ),
        (
            "NoSuchService_2020.Get",
            b"{}",
            "application/x-amz-json-1.0",
            400,
            "UnknownOperationException",
            "NoSuchService",
        ),
        (
            "AWSStepFunctions.ListStateMachines",
            b"{}",
            "text/plain",
            400,
            "UnknownOperationException",
            "text/plain",
        ),
    ],
)
def test_bad_requests_get_aws_errors_not_tracebacks(
    server: Server,
    target: str,
    body: bytes,
    content_type: str,
    status: int,
    code: str,
    message: str,
) -> None:
    r = _raw(server, target, body, content_type)
    assert r.status_code == status, r.text
    payload = r.json()
    assert payload["__type"] == code
    assert message in payload["message"]


def test_console_and_endpoint_share_the_port(server: Server, sfn: Any) -> None:
    _machine(sfn, "shared", PASS)
    names = [
        m["name"] for m in httpx.get(server.url + "/api/state-machines").json()["stateMachines"]
    ]
    assert "shared" in names
    assert httpx.get(server.url + "/").status_code == 200


def test_the_aws_cli(aws_cli: Callable[..., Any]) -> None:
    aws = aws_cli

    created = aws(
        "stepfunctions",
        "create-state-machine",
        "--name",
        "cli",
        "--role-arn",
        ROLE,
        "--definition",
        json.dumps(PASS),
    )
    started = aws(
        "stepfunctions",
        "start-execution",
        "--state-machine-arn",
        created["stateMachineArn"],
        "--input",
        '{"from": "cli"}',
    )
    assert started["executionArn"].endswith(
        ":execution:cli:" + started["executionArn"].split(":")[-1]
    )
    listed = aws("stepfunctions", "list-state-machines")
    assert "cli" in [m["name"] for m in listed["stateMachines"]]


def test_dns_rebinding_and_cross_site_posts_are_refused(server: Server) -> None:
    body = b"{}"
    headers = {"X-Amz-Target": "AWSStepFunctions.ListStateMachines"}
    rebound = httpx.post(
        server.url + "/", content=body, headers={**headers, "Host": "evil.example"}
    )
    assert rebound.status_code == 421
    cross = httpx.post(
        server.url + "/",
        content=b"Action=ListTopics",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "http://evil.example",
        },
    )
    assert cross.status_code == 403


def test_the_model_check_the_clients_run_catches_a_broken_response() -> None:
    from tests.e2e.endpoint.model_check import problems

    from eltflow.endpoint.contract import service_model

    op = service_model("stepfunctions").operation_model("StartExecution")
    assert problems(op.output_shape, {"executionArn": "a"}) == [
        "/startDate: required by the model, missing"
    ]
    assert problems(op.output_shape, {"executionArn": 1, "startDate": "x"}) == [
        "/executionArn: int where the model has string",
        "/startDate: str where the model has timestamp",
    ]


def test_with_a_token_the_access_key_must_be_the_token(app: Any) -> None:
    guarded = Server(app, port=0, token="s3cret", scheduler=False)
    with guarded.running():

        def sfn_as(key: str) -> Any:
            return aws_client("stepfunctions", guarded.url, access_key=key)

        assert "stateMachines" in sfn_as("s3cret").list_state_machines()
        with pytest.raises(ClientError) as e:
            sfn_as("test").list_state_machines()
        assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        sns = aws_client("sns", guarded.url)
        with pytest.raises(ClientError) as query:
            sns.list_topics()
        assert query.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_test_state_returns_aws_shapes(sfn: Any) -> None:
    passed = sfn.test_state(
        definition=json.dumps(
            {"Type": "Pass", "Result": {"a": 1}, "ResultPath": "$.r", "Next": "B"}
        ),
        roleArn=ROLE,
        input='{"x": 0}',
    )
    assert passed["status"] == "SUCCEEDED" and passed["nextState"] == "B"
    assert json.loads(passed["output"]) == {"x": 0, "r": {"a": 1}}

    choice = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Big"}],
        "Default": "Small",
    }
    assert (
        sfn.test_state(definition=json.dumps(choice), roleArn=ROLE, input='{"n": 9}')["nextState"]
        == "Big"
    )

    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "Echo", "Payload.$": "$"},
        "OutputPath": "$.Payload",
        "End": True,
    }
    debug = sfn.test_state(
        definition=json.dumps(task), roleArn=ROLE, input='{"k": 1}', inspectionLevel="DEBUG"
    )
    assert debug["status"] == "SUCCEEDED" and "nextState" not in debug
    assert json.loads(debug["output"]) == {"got": {"k": 1}, "function": "Echo"}
    assert json.loads(debug["inspectionData"]["afterParameters"])["FunctionName"] == "Echo"

    failing = {**task, "Parameters": {"FunctionName": "Fail", "Payload.$": "$"}}
    failed = sfn.test_state(definition=json.dumps(failing), roleArn=ROLE)
    assert (failed["status"], failed["error"]) == ("FAILED", "ValueError")
    caught = sfn.test_state(
        definition=json.dumps(
            {**failing, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Oops"}]}
        ),
        roleArn=ROLE,
    )
    assert (caught["status"], caught["nextState"], caught["error"]) == (
        "CAUGHT_ERROR",
        "Oops",
        "ValueError",
    )
    retriable = sfn.test_state(
        definition=json.dumps({**failing, "Retry": [{"ErrorEquals": ["ValueError"]}]}),
        roleArn=ROLE,
    )
    assert retriable["status"] == "RETRIABLE"

    whole = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "C"}, "C": {"Type": "Fail"}}}
    named = sfn.test_state(definition=json.dumps(whole), roleArn=ROLE, stateName="A")
    assert named["nextState"] == "C"
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.test_state(definition=json.dumps({"Type": "Pass", "Next": 3}), roleArn=ROLE)


def test_test_state_mocks_configuration_and_inspection_over_boto3(sfn: Any) -> None:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution",
        "Parameters": {"StateMachineArn.$": "$.arn", "Input.$": "$limit"},
        "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 3, "MaxAttempts": 2}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Handle"}],
        "ResultPath": "$.started",
        "Next": "Wait",
    }
    ok = sfn.test_state(
        definition=json.dumps(task),
        input='{"arn": "a"}',
        variables='{"limit": 5}',
        inspectionLevel="TRACE",
        mock={"result": '{"ExecutionArn": "x", "StartDate": "2025-11-26T00:00:00Z"}'},
        context=json.dumps({"Execution": {"Name": "run-1"}}),
    )
    assert ok["status"] == "SUCCEEDED" and ok["nextState"] == "Wait"
    assert json.loads(ok["output"])["started"]["ExecutionArn"] == "x"
    data = ok["inspectionData"]
    assert json.loads(data["afterParameters"]) == {"StateMachineArn": "a", "Input": 5}
    assert json.loads(data["variables"]) == {"limit": 5}
    retriable = sfn.test_state(
        definition=json.dumps(task),
        input='{"arn": "a"}',
        variables='{"limit": 5}',
        inspectionLevel="DEBUG",
        mock={"errorOutput": {"error": "Boom", "cause": "c"}},
        stateConfiguration={"retrierRetryCount": 1},
    )
    assert retriable["status"] == "RETRIABLE"
    assert retriable["inspectionData"]["errorDetails"] == {
        "retryIndex": 0,
        "retryBackoffIntervalSeconds": 6,
    }
    caught = sfn.test_state(
        definition=json.dumps(task),
        input='{"arn": "a"}',
        variables='{"limit": 5}',
        mock={"errorOutput": {"error": "Boom", "cause": "c"}},
        stateConfiguration={"retrierRetryCount": 2},
    )
    assert (caught["status"], caught["nextState"]) == ("CAUGHT_ERROR", "Handle")
    assert json.loads(caught["output"])["err"] == {"Error": "Boom", "Cause": "c"}
    with pytest.raises(sfn.exceptions.ValidationException) as e:
        sfn.test_state(
            definition=json.dumps(task),
            input='{"arn": "a"}',
            mock={"result": "{}", "fieldValidationMode": "STRICT"},
        )
    assert e.value.response["Error"]["Message"] == (
        "Mock result schema validation error: Required field 'ExecutionArn' is missing"
    )
    with pytest.raises(sfn.exceptions.ValidationException, match="RoleArn must be specified"):
        sfn.test_state(definition=json.dumps(task), input='{"arn": "a"}')
    not_json = "Mocked result must be valid JSON"
    with pytest.raises(sfn.exceptions.ValidationException, match=not_json):
        sfn.test_state(
            definition=json.dumps(task),
            mock={"result": "not JSON string", "fieldValidationMode": "NONE"},
        )


def test_the_listening_socket_disables_nagle(server: Server) -> None:
    import socket

    # Accepted connections inherit TCP_NODELAY; without it each request waited for the
    # client's delayed ACK (~40 ms).
    assert server._sock is not None
    assert server._sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_oversized_execution_input_is_refused(sfn: Any) -> None:
    arn = _machine(sfn, "big-input", PASS)
    with pytest.raises(ClientError) as e:
        sfn.start_execution(stateMachineArn=arn, input=json.dumps({"x": "y" * 300_000}))
    # The model's 262,144-character limit, checked before the service; the value is
    # sensitive, so the message leaves it out.
    assert e.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "1 validation error detected: Value at 'input' failed to satisfy constraint: "
        "Member must have length less than or equal to 262144",
    }
    # Under the character limit but over 256 KiB of UTF-8: the service's byte limit.
    with pytest.raises(sfn.exceptions.InvalidExecutionInput):
        sfn.start_execution(
            stateMachineArn=arn, input=json.dumps({"x": "é" * 140_000}, ensure_ascii=False)
        )


def test_absurdly_deep_json_is_a_serialization_error(server: Server) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    r = _raw(server, "AWSStepFunctions.ListStateMachines", deep, "application/x-amz-json-1.0")
    assert r.status_code == 400 and r.json()["__type"] == "SerializationException"


def test_task_token_round_trip_with_boto3(sfn: Any) -> None:
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "Echo", "Payload": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }
    arn = sfn.start_execution(stateMachineArn=_machine(sfn, "callback", definition))["executionArn"]

    def task_started() -> list[dict[str, Any]] | None:
        events: list[dict[str, Any]] = sfn.get_execution_history(executionArn=arn)["events"]
        return events if any(e["type"] == "TaskStarted" for e in events) else None

    # Until the worker has made the call and the task waits for its token.
    events = wait_until(task_started, 60, what="the callback task to start", interval=0.05)
    scheduled = next(e for e in events if e["type"] == "TaskScheduled")
    token = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["Payload"]["token"]
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_heartbeat(taskToken="not-a-token")
    sfn.send_task_heartbeat(taskToken=token)
    sfn.send_task_success(taskToken=token, output='{"approved": true}')
    done = wait_closed(sfn, arn)
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"approved": True}
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_failure(taskToken=token, error="Late")


def test_activity_worker_flow_with_boto3(sfn: Any) -> None:
    activity = sfn.create_activity(name="approve")["activityArn"]
    assert activity.endswith(":activity:approve")
    assert sfn.create_activity(name="approve")["activityArn"] == activity  # idempotent
    assert sfn.describe_activity(activityArn=activity)["name"] == "approve"
    assert activity in [a["activityArn"] for a in sfn.list_activities()["activities"]]
    definition = {
        "StartAt": "Approve",
        "States": {
            "Approve": {
                "Type": "Task",
                "Resource": activity,
                "Parameters": {"order.$": "$.order"},
                "HeartbeatSeconds": 600,
                "End": True,
            }
        },
    }
    arn = sfn.start_execution(
        stateMachineArn=_machine(sfn, "activity", definition), input='{"order": 7}'
    )["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="w1")
    assert json.loads(task["input"]) == {"order": 7}
    sfn.send_task_heartbeat(taskToken=task["taskToken"])
    sfn.send_task_success(taskToken=task["taskToken"], output='{"approved": 7}')
    done = wait_closed(sfn, arn)
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"approved": 7}
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert types[2:5] == ["ActivityScheduled", "ActivityStarted", "ActivitySucceeded"]
    sfn.delete_activity(activityArn=activity)
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist):
        sfn.describe_activity(activityArn=activity)


def test_distributed_map_run_through_boto3(sfn: Any, client: ClientFactory) -> None:
    """A Distributed Map reading a CSV from the local S3 and exporting its results there; the
    Map Run read back with DescribeMapRun, ListMapRuns and ListExecutions(mapRunArn)."""
    s3 = client("s3")
    s3.create_bucket(Bucket="dmap")
    s3.put_object(Bucket="dmap", Key="in/rows.csv", Body=b"id,name\n1,a\n2,b\n3,c\n")
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                    "Parameters": {"Bucket": "dmap", "Key": "in/rows.csv"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "P",
                    "States": {"P": {"Type": "Pass", "End": True}},
                },
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": "dmap", "Prefix": "out"},
                },
                "End": True,
            }
        },
    }
    arn = _machine(sfn, "dmap", definition)
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    done = wait_closed(sfn, execution)
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    (run,) = sfn.list_map_runs(executionArn=execution)["mapRuns"]
    assert run["mapRunArn"] == output["MapRunArn"] and run["executionArn"] == execution
    described = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
    assert described["status"] == "SUCCEEDED" and described["itemCounts"]["succeeded"] == 3
    assert described["stopDate"].tzinfo is not None  # a timestamp botocore parsed
    children = sfn.list_executions(mapRunArn=run["mapRunArn"])["executions"]
    assert len(children) == 3 and all(c["itemCount"] == 1 for c in children)
    child = sfn.describe_execution(executionArn=children[0]["executionArn"])
    assert child["mapRunArn"] == run["mapRunArn"]
    key = output["ResultWriterDetails"]["Key"]
    manifest = json.loads(s3.get_object(Bucket="dmap", Key=key)["Body"].read())
    (results,) = manifest["ResultFiles"]["SUCCEEDED"]
    records = json.loads(s3.get_object(Bucket="dmap", Key=results["Key"])["Body"].read())
    assert sorted(json.loads(r["Output"])["id"] for r in records) == ["1", "2", "3"]
    with pytest.raises(ClientError) as e:
        sfn.describe_map_run(mapRunArn=run["mapRunArn"] + "0")
    assert _code(e) == "ResourceNotFound"


def test_start_sync_execution_with_boto3(
    server: Server, sfn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An EXPRESS machine calling a project Lambda, run by boto3's start_sync_execution."""
    echo: dict[str, Any] = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "Echo", "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    arn = sfn.create_state_machine(
        name="sync-echo", definition=json.dumps(echo), roleArn=ROLE, type="EXPRESS"
    )["stateMachineArn"]
    assert sfn.describe_state_machine(stateMachineArn=arn)["type"] == "EXPRESS"
    out = sfn.start_sync_execution(stateMachineArn=arn, input='{"k": 1}', name="one")
    assert out["status"] == "SUCCEEDED"
    assert json.loads(out["output"]) == {"got": {"k": 1}, "function": "Echo"}
    assert out["executionArn"].startswith(
        "arn:aws:states:us-east-1:123456789012:express:sync-echo:one:"
    )
    assert out["stopDate"] >= out["startDate"]  # timestamps botocore parsed
    assert out["billingDetails"]["billedMemoryUsedInMB"] == 64
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_execution(executionArn=out["executionArn"])
    failing = sfn.create_state_machine(
        name="sync-fail", definition=json.dumps(FAIL), roleArn=ROLE, type="EXPRESS"
    )["stateMachineArn"]
    failed = sfn.start_sync_execution(stateMachineArn=failing)
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Boom", "on purpose")
    # .sync is refused at create time with AWS's validation error.
    job: dict[str, Any] = {"StartAt": "J", "States": {"J": {**echo["States"]["Call"]}}}
    job["States"]["J"]["Resource"] = "arn:aws:states:::states:startExecution.sync:2"
    with pytest.raises(sfn.exceptions.InvalidDefinition) as e:
        sfn.create_state_machine(
            name="sync-job", definition=json.dumps(job), roleArn=ROLE, type="EXPRESS"
        )
    assert "Express state machine does not support '.sync' service integration" in str(e.value)
    # A plain client (no Config) reaches the endpoint with host prefixes turned off, as
    # eltflow's Lambda handlers have them...
    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    plain = boto3.client(
        "stepfunctions",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    assert plain.start_sync_execution(stateMachineArn=arn)["status"] == "SUCCEEDED"
    # ...and a request to the sync- host a *.localhost endpoint name gets is answered.
    prefixed = httpx.post(
        server.url + "/",
        content=json.dumps({"stateMachineArn": arn, "input": "{}"}).encode(),
        headers={
            "X-Amz-Target": "AWSStepFunctions.StartSyncExecution",
            "Content-Type": "application/x-amz-json-1.0",
            "Host": f"sync-eltflow.localhost:{server.port}",
        },
    )
    assert prefixed.status_code == 200 and prefixed.json()["status"] == "SUCCEEDED"
