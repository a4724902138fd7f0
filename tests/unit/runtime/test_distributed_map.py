"""Distributed Map: each item runs as a child execution of its own, grouped in a Map Run.

In memory (``eltflow.execute``) and durably (SQLite, and PostgreSQL with ELTFLOW_TEST_PG):
the parent's history has the Map Run instead of iterations, the children have their own
histories and AWS's ARNs, DescribeMapRun / ListMapRuns / ListExecutions(mapRunArn) answer,
ItemReader reads the local S3 (JSON, JSONL, CSV, Parquet, listObjectsV2, inventory manifests),
ItemBatcher groups items, ResultWriter exports AWS's manifest and result files, tolerated
failures decide the Map Run, a redrive re-runs only the failed children, and a crash resumes
the Map Run.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.support.wait import wait_until

from eltflow.app import App, build_app
from eltflow.clock import VirtualClock
from eltflow.errors import AwsApiError, ConflictError, StatesError
from eltflow.interpreter.protocol import TaskSucceeded
from eltflow.runtime import arns, result_writer
from eltflow.runtime.engine import SimulatedCrash
from eltflow.runtime.local import execute
from eltflow.runtime.map_runs import MapRunDriver
from eltflow.runtime.run import run_to_end
from eltflow.s3.service import S3Service
from eltflow.store.map_runs import ChildRow
from eltflow.store.memory import MemoryStore
from eltflow.store.rows import EventRow
from eltflow.types import JSON

PASS_CHILD = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def _map(processor: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    processor = dict(processor or PASS_CHILD)
    processor["ProcessorConfig"] = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    return {
        "StartAt": "Fan",
        "States": {"Fan": {"Type": "Map", "ItemProcessor": processor, "End": True, **fields}},
    }


@pytest.fixture
def app(store_url: str, tmp_path: Path) -> Iterator[App]:
    app = build_app(state_url=store_url)
    app.s3 = S3Service(tmp_path / "s3")
    app.s3.create_bucket("data", app.clock.now())
    yield app
    app.close()


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[App]:
    """SQLite only: for the ItemReader's formats (the store plays no part in reading)."""
    app = build_app(state_url=f"sqlite:///{tmp_path / 'state.db'}")
    app.s3 = S3Service(tmp_path / "s3")
    app.s3.create_bucket("data", app.clock.now())
    yield app
    app.close()


def _run(app: App, name: str, definition: dict[str, Any], input: JSON) -> dict[str, Any]:
    app.service.create_state_machine(name=name, definition=definition)
    started = app.service.start_execution(
        state_machine_arn=name, input=json.dumps(input), name="run1"
    )
    return run_to_end(app, str(started["executionArn"]), poll_seconds=0.01)


def _history(app: App, arn: str) -> list[dict[str, Any]]:
    events = app.service.get_execution_history(execution_arn=arn)["events"]
    assert isinstance(events, list)
    return [e for e in events if isinstance(e, dict)]


def _map_run(app: App, execution_arn: str) -> str:
    runs = app.service.list_map_runs(execution_arn=execution_arn)["mapRuns"]
    assert isinstance(runs, list) and len(runs) == 1 and isinstance(runs[0], dict)
    return str(runs[0]["mapRunArn"])


def _running(app: App, execution_arn: str, children: int) -> str | None:
    """The execution's Map Run once that many of its children run (None until then)."""
    runs: Any = app.service.list_map_runs(execution_arn=execution_arn)["mapRuns"]
    if not runs:
        return None
    run = str(runs[0]["mapRunArn"])
    counts: Any = app.service.describe_map_run(map_run_arn=run)["executionCounts"]
    return run if counts["running"] == children else None


def test_in_memory_children_have_their_own_history() -> None:
    result = execute(_map(MaxConcurrency=7, Label="Fan"), list(range(50)))
    assert result.status == "SUCCEEDED" and result.output == list(range(50))
    assert result.event_types() == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapRunStarted",
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    started = result.events("MapRunStarted")[0].details["mapRunStartedEventDetails"]
    assert isinstance(started, dict)
    machine = arns.machine_name(result.execution_arn.replace(":execution:", ":stateMachine:"))
    assert str(started["mapRunArn"]).startswith(f"{arns.PREFIX}:mapRun:eltflow-local/Fan:")
    assert machine  # the ARN parses back


def test_a_durable_map_run_is_described_and_listed(app: App) -> None:
    app.register("arn:aws:lambda:us-east-1:123456789012:function:double", lambda p: 2 * int(str(p)))
    child = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double",
                "End": True,
            }
        },
    }
    desc = _run(app, "fan", _map(child, MaxConcurrency=3), list(range(20)))
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(str(desc["output"])) == [2 * i for i in range(20)]
    parent = str(desc["executionArn"])
    types = [e["type"] for e in _history(app, parent)]
    assert "MapRunStarted" in types and not any(t.startswith("MapIteration") for t in types)
    run = _map_run(app, parent)
    assert run.startswith(f"{arns.PREFIX}:mapRun:fan/Fan:")
    described = app.service.describe_map_run(map_run_arn=run)
    assert described["status"] == "SUCCEEDED" and described["executionArn"] == parent
    assert described["maxConcurrency"] == 3
    counts = described["executionCounts"]
    assert isinstance(counts, dict)
    assert (counts["succeeded"], counts["total"], counts["running"]) == (20, 20, 0)
    children = app.service.list_executions(map_run_arn=run, max_results=100)["executions"]
    assert isinstance(children, list) and len(children) == 20
    first = children[0]
    assert isinstance(first, dict)
    assert str(first["executionArn"]).startswith(f"{arns.PREFIX}:execution:fan/Fan:")
    assert first["mapRunArn"] == run and first["itemCount"] == 1
    child_desc = app.service.describe_execution(execution_arn=str(first["executionArn"]))
    assert child_desc["mapRunArn"] == run
    child_types = [e["type"] for e in _history(app, str(first["executionArn"]))]
    assert child_types[0] == "ExecutionStarted" and "LambdaFunctionSucceeded" in child_types
    # The labelled child machine is not one of the machines ListStateMachines shows.
    listed = app.service.list_state_machines()["stateMachines"]
    assert isinstance(listed, list)
    assert [m["name"] for m in listed if isinstance(m, dict)] == ["fan"]


def test_map_run_errors_are_typed(app: App) -> None:
    with pytest.raises(AwsApiError) as e:
        app.service.describe_map_run(map_run_arn="arn:aws:states:us-east-1:1:execution:a:b")
    assert e.value.code == "InvalidArn"
    with pytest.raises(AwsApiError) as e:
        app.service.describe_map_run(map_run_arn=f"{arns.PREFIX}:mapRun:m/L:nope")
    assert e.value.code == "ResourceNotFound"
    with pytest.raises(AwsApiError) as e:
        app.service.list_executions(
            state_machine_arn=arns.machine_arn("m"), map_run_arn=f"{arns.PREFIX}:mapRun:m/L:x"
        )
    assert e.value.code == "ValidationException"


def test_a_failed_child_fails_the_map_run_unless_tolerated(app: App) -> None:
    child = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "NumericLessThan": 2, "Next": "Bad"}],
                "Default": "Ok",
            },
            "Bad": {"Type": "Fail", "Error": "Item.Bad", "Cause": "too small"},
            "Ok": {"Type": "Pass", "End": True},
        },
    }
    failed = _run(app, "strict", _map(child), [0, 5, 6])
    assert failed["status"] == "FAILED"
    assert failed["error"] == "States.ExceedToleratedFailureThreshold"
    assert failed["cause"] == "The specified tolerated failure threshold was exceeded"
    types = [e["type"] for e in _history(app, str(failed["executionArn"]))]
    assert types[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]
    described = app.service.describe_map_run(map_run_arn=_map_run(app, str(failed["executionArn"])))
    assert described["status"] == "FAILED"
    tolerated = _run(app, "lenient", _map(child, ToleratedFailureCount=2), [0, 1, 5, 6])
    assert tolerated["status"] == "SUCCEEDED"
    assert json.loads(str(tolerated["output"])) == [5, 6]
    over = _run(app, "percent", _map(child, ToleratedFailurePercentage=25), [0, 1, 5, 6])
    assert over["error"] == "States.ExceedToleratedFailureThreshold"


def test_redrive_reruns_only_the_failed_children(app: App) -> None:
    failing = {"n": 0}

    def flaky(p: JSON) -> JSON:
        if p == 3 and failing["n"] == 0:
            failing["n"] += 1
            raise StatesError("Flaky.Once", "first time")
        return p

    app.register("arn:aws:lambda:us-east-1:123456789012:function:flaky", flaky)
    child = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky",
                "End": True,
            }
        },
    }
    first = _run(app, "redrive", _map(child, MaxConcurrency=2), list(range(6)))
    assert first["status"] == "FAILED"
    parent = str(first["executionArn"])
    before: Any = app.service.list_executions(map_run_arn=_map_run(app, parent))["executions"]
    # The failed child, and any the failure stopped while they ran (ABORTED).
    unsuccessful = {c["executionArn"] for c in before if c["status"] != "SUCCEEDED"}
    assert 1 <= len(unsuccessful) <= 2
    app.service.redrive_execution(execution_arn=parent)
    again = run_to_end(app, parent, poll_seconds=0.01)
    assert again["status"] == "SUCCEEDED"
    assert json.loads(str(again["output"])) == list(range(6))
    assert "MapRunRedriven" in [e["type"] for e in _history(app, parent)]
    run = _map_run(app, parent)  # the same Map Run, redriven
    assert app.service.describe_map_run(map_run_arn=run)["redriveCount"] == 1
    children: Any = app.service.list_executions(map_run_arn=run)["executions"]
    redriven = {c["executionArn"] for c in children if c["redriveCount"]}
    assert len(children) == 6 and redriven == unsuccessful


@pytest.mark.parametrize(
    ("body", "config", "expected"),
    [
        (b'[{"a": 1}, {"a": 2}]', {"InputType": "JSON"}, [{"a": 1}, {"a": 2}]),
        (b'{"a": 1}\n\n{"a": 2}\n', {"InputType": "JSONL"}, [{"a": 1}, {"a": 2}]),
        (
            b"id,name\n1,x\n2,y\n",
            {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
            [{"id": "1", "name": "x"}, {"id": "2", "name": "y"}],
        ),
        (
            b"1|x\n2|y\n",
            {
                "InputType": "CSV",
                "CSVHeaderLocation": "GIVEN",
                "CSVHeaders": ["id", "name"],
                "CSVDelimiter": "PIPE",
                "MaxItems": 1,
            },
            [{"id": "1", "name": "x"}],
        ),
    ],
)
def test_item_reader_reads_the_local_s3(
    lite: App, body: bytes, config: dict[str, Any], expected: list[JSON]
) -> None:
    app = lite
    assert app.s3 is not None
    app.s3.put_object("data", "in/items", body)
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": config,
        "Parameters": {"Bucket": "data", "Key.$": "$.key"},
    }
    desc = _run(app, "reader", _map(ItemReader=reader), {"key": "in/items"})
    assert desc["status"] == "SUCCEEDED", desc
    assert json.loads(str(desc["output"])) == expected


def test_item_reader_lists_objects_and_fails_typed(lite: App) -> None:
    app = lite
    assert app.s3 is not None
    for key in ("img/a.jpg", "img/b.jpg", "other/c"):
        app.s3.put_object("data", key, b"xyz")
    listing = {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": "data", "Prefix": "img/"},
    }
    desc = _run(app, "lister", _map(ItemReader=listing), {})
    items = json.loads(str(desc["output"]))
    assert [i["Key"] for i in items] == ["img/a.jpg", "img/b.jpg"]
    assert set(items[0]) == {"Etag", "Key", "LastModified", "Size", "StorageClass"}
    missing = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": "data", "Key": "nope.json"},
    }
    failed = _run(app, "missing", _map(ItemReader=missing), {})
    assert failed["error"] == "States.ItemReaderFailed"
    assert "NoSuchKey" in str(failed["cause"])


def test_item_batcher_and_result_writer(app: App) -> None:
    batcher = {"MaxItemsPerBatch": 4, "BatchInput": {"job.$": "$.job"}}
    writer = {
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "data", "Prefix": "out"},
    }
    definition = _map(ItemsPath="$.items", ItemBatcher=batcher, ResultWriter=writer)
    desc = _run(app, "batched", definition, {"job": "j1", "items": list(range(10))})
    assert desc["status"] == "SUCCEEDED", desc
    output = json.loads(str(desc["output"]))
    run = str(output["MapRunArn"])
    run_id = run.rsplit(":", 1)[-1]
    assert output["ResultWriterDetails"] == {"Bucket": "data", "Key": f"out/{run_id}/manifest.json"}
    assert app.s3 is not None
    manifest = json.loads(app.s3.read("data", f"out/{run_id}/manifest.json")[1])
    assert manifest["DestinationBucket"] == "data" and manifest["MapRunArn"] == run
    assert manifest["ResultFiles"]["FAILED"] == [] and manifest["ResultFiles"]["PENDING"] == []
    (succeeded,) = manifest["ResultFiles"]["SUCCEEDED"]
    assert succeeded["Key"] == f"out/{run_id}/SUCCEEDED_0.json"
    records = json.loads(app.s3.read("data", succeeded["Key"])[1])
    assert succeeded["Size"] == len(app.s3.read("data", succeeded["Key"])[1])
    assert [json.loads(r["Output"]) for r in records] == [
        {"job": "j1", "Items": [0, 1, 2, 3]},
        {"job": "j1", "Items": [4, 5, 6, 7]},
        {"job": "j1", "Items": [8, 9]},
    ]
    assert records[0]["Status"] == "SUCCEEDED" and records[0]["StateMachineArn"].endswith(
        ":stateMachine:batched/Fan"
    )
    described = app.service.describe_map_run(map_run_arn=run)
    items, executions = described["itemCounts"], described["executionCounts"]
    assert isinstance(items, dict) and isinstance(executions, dict)
    assert (items["total"], items["succeeded"], items["resultsWritten"]) == (10, 10, 10)
    assert (executions["total"], executions["succeeded"], executions["resultsWritten"]) == (3, 3, 3)


def test_stopping_the_parent_aborts_the_map_run_and_its_children(lite: App) -> None:
    app = lite
    waiting = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    app.service.create_state_machine(name="parked", definition=_map(waiting))
    started = app.service.start_execution(state_machine_arn="parked", input="[1, 2, 3]")
    parent = str(started["executionArn"])
    worker = app.worker(poll_seconds=0.01)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        run = wait_until(lambda: _running(app, parent, 3), 20, what="three children waiting")
        app.service.stop_execution(execution_arn=parent, error="Stop.Now", cause="enough")

        def aborted() -> bool:
            described = app.service.describe_map_run(map_run_arn=run)
            counts: Any = described["executionCounts"]
            return described["status"] == "ABORTED" and counts["aborted"] == 3

        wait_until(aborted, 20, what="the Map Run and its children aborted")
    finally:
        worker.stop()
        thread.join(20)
    types = [e["type"] for e in _history(app, parent)]
    assert types[-3:] == ["MapRunAborted", "MapStateAborted", "ExecutionAborted"]


def test_a_crash_mid_map_run_resumes_the_same_map_run(store_url: str) -> None:
    """The process dies after 2 of 3 transactions of children: the next worker (after the
    lease) continues the same Map Run from the next item, never starting an item twice."""
    clock = VirtualClock()
    # The parent's first step records 4 events, each Pass child 4: the crash comes right
    # after the commit of the second batch of 200 children.
    crashing = build_app(state_url=store_url, clock=clock, crash_after_events=4 + 4 * 250)
    crashing.service.create_state_machine(name="resume", definition=_map())
    arn = str(
        crashing.service.start_execution(
            state_machine_arn="resume", input=json.dumps(list(range(600)))
        )["executionArn"]
    )
    with pytest.raises(SimulatedCrash):
        crashing.worker(lease_seconds=30).run(until_idle=True)
    run = _map_run(crashing, arn)
    started: Any = crashing.service.describe_map_run(map_run_arn=run)["executionCounts"]
    assert started["total"] == 400 and started["succeeded"] == 400
    crashing.close()

    rescuer = build_app(state_url=store_url, clock=clock)
    clock.advance(31)
    desc = run_to_end(rescuer, arn, poll_seconds=0.01)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(str(desc["output"])) == list(range(600))
    assert _map_run(rescuer, arn) == run
    counts: Any = rescuer.service.describe_map_run(map_run_arn=run)["executionCounts"]
    assert (counts["total"], counts["succeeded"]) == (600, 600)
    rescuer.close()


def test_item_selector_jsonata_and_express_children(app: App) -> None:
    selected = _map(
        ItemsPath="$.items",
        ItemSelector={"at.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value", "k.$": "$.k"},
    )
    desc = _run(app, "selector", selected, {"k": "v", "items": ["a", "b"]})
    assert json.loads(str(desc["output"])) == [
        {"at": 0, "value": "a", "k": "v"},
        {"at": 1, "value": "b", "k": "v"},
    ]
    jsonata = _map(
        Items="{% $states.input.n %}",
        ItemSelector={"twice": "{% $states.context.Map.Item.Value * 2 %}"},
    )
    jsonata["QueryLanguage"] = "JSONata"
    express = jsonata["States"]["Fan"]["ItemProcessor"]["ProcessorConfig"]
    express["ExecutionType"] = "EXPRESS"
    desc = _run(app, "express", jsonata, {"n": [1, 2]})
    assert desc["status"] == "SUCCEEDED", desc
    assert json.loads(str(desc["output"])) == [{"twice": 2}, {"twice": 4}]
    run = _map_run(app, str(desc["executionArn"]))
    children: Any = app.service.list_executions(map_run_arn=run)["executions"]
    run_id = run.rsplit(":", 1)[-1]
    arn = str(children[0]["executionArn"])
    assert arn.startswith(f"{arns.PREFIX}:express:express/Fan:{run_id}:")
    described = app.service.describe_state_machine_for_execution(execution_arn=arn)
    assert (described["mapRunArn"], described["label"]) == (run, "Fan")
    assert json.loads(str(described["definition"]))["StartAt"] == "P"


def test_item_batcher_bounds_batches_by_bytes() -> None:
    # {"Items":[0,1,2,3]} is 19 bytes: a fifth item would make 21 > 20.
    result = execute(_map(ItemBatcher={"MaxInputBytesPerBatch": 20}), list(range(10)))
    assert result.output == [
        {"Items": [0, 1, 2, 3]},
        {"Items": [4, 5, 6, 7]},
        {"Items": [8, 9]},
    ]
    bad = execute(_map(ItemBatcher={"MaxItemsPerBatch": 0}), [1])
    assert (bad.status, bad.error) == ("FAILED", "States.Runtime")


def test_item_reader_reads_an_s3_inventory_manifest(lite: App) -> None:
    assert lite.s3 is not None
    rows = b'"data","img/a.jpg","3"\n"data","img/b.jpg","5"\n'
    lite.s3.put_object("data", "inventory/data/1.csv.gz", gzip.compress(rows))
    manifest = {
        "sourceBucket": "data",
        "destinationBucket": "arn:aws:s3:::data",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size",
        "files": [{"key": "inventory/data/1.csv.gz", "size": 40, "MD5checksum": "x"}],
    }
    lite.s3.put_object("data", "inventory/manifest.json", json.dumps(manifest).encode())
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "MANIFEST"},
        "Parameters": {"Bucket": "data", "Key": "inventory/manifest.json"},
    }
    desc = _run(lite, "inventory", _map(ItemReader=reader), {})
    assert json.loads(str(desc["output"])) == [
        {"Bucket": "data", "Key": "img/a.jpg", "Size": "3"},
        {"Bucket": "data", "Key": "img/b.jpg", "Size": "5"},
    ]


def test_update_map_run_changes_a_waiting_map_run(lite: App) -> None:
    """MaxConcurrency 1 over children that wait for their task token: UpdateMapRun raises it
    to 3 and the Map Run starts the rest while it waits."""
    app = lite
    child = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }
    tokens: list[str] = []

    def remember(request: Any) -> JSON:
        tokens.append(str(request.parameters["Payload"]["token"]))
        return {}

    app.registry.add("arn:aws:states:::lambda:invoke.waitForTaskToken", remember)
    app.service.create_state_machine(name="slow", definition=_map(child, MaxConcurrency=1))
    parent = str(
        app.service.start_execution(state_machine_arn="slow", input="[1, 2, 3]")["executionArn"]
    )
    worker = app.worker(poll_seconds=0.01)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: len(tokens) == 1 or None, 20, what="the first child's task")
        run = _map_run(app, parent)
        with pytest.raises(AwsApiError) as e:
            app.service.update_map_run(map_run_arn=run)
        assert e.value.code == "ValidationException"
        app.service.update_map_run(map_run_arn=run, max_concurrency=3)
        wait_until(lambda: len(tokens) == 3 or None, 20, what="all three children's tasks")
        assert app.service.describe_map_run(map_run_arn=run)["maxConcurrency"] == 3
        for token in tokens:
            app.service.send_task_success(task_token=token, output='"ok"')
        wait_until(
            lambda: (
                app.service.describe_execution(execution_arn=parent)["status"] != "RUNNING" or None
            ),
            20,
            what="the parent to end",
        )
    finally:
        worker.stop()
        thread.join(20)
    assert json.loads(str(app.service.describe_execution(execution_arn=parent)["output"])) == [
        "ok",
        "ok",
        "ok",
    ]


def test_virtual_time_moves_on_to_the_childrens_timers() -> None:
    waiting = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": True}}}
    result = execute(_map(waiting), [1, 2], virtual_time=True)
    assert result.status == "SUCCEEDED" and result.output == [1, 2]
    started, ended = result.events("MapRunStarted", "MapRunSucceeded")
    assert (ended.timestamp - started.timestamp).total_seconds() == 30


def test_tolerated_failures_count_items_of_failed_batches() -> None:
    """A failed batch fails each of its items: 2 failed batches of 3 items are 6 failed items
    of 9, over a 50% threshold; at 70% the Map Run succeeds with the batch that did."""
    child = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.Items[0]", "NumericLessThan": 6, "Next": "Bad"}],
                "Default": "Ok",
            },
            "Bad": {"Type": "Fail", "Error": "Batch.Bad"},
            "Ok": {"Type": "Pass", "End": True},
        },
    }
    batcher = {"MaxItemsPerBatch": 3}
    over = execute(_map(child, ItemBatcher=batcher, ToleratedFailurePercentage=50), list(range(9)))
    assert over.error == "States.ExceedToleratedFailureThreshold"
    within = execute(
        _map(child, ItemBatcher=batcher, ToleratedFailurePercentage=70), list(range(9))
    )
    assert within.status == "SUCCEEDED" and within.output == [{"Items": [6, 7, 8]}]


def test_a_store_failure_resumes_the_map_run(tmp_path: Path) -> None:
    """The SQLite write lock held past the busy timeout (a stuck process): the driver's
    first write fails, and once the lock is gone it resumes the same Map Run to its end."""
    path = tmp_path / "state.db"
    app = build_app(state_url=f"sqlite:///{path}")
    app.db.busy_timeout = 0.05  # applies to connections opened from now on
    app.db.close()
    app.service.create_state_machine(name="locked", definition=_map())
    arn = str(
        app.service.start_execution(state_machine_arn="locked", input="[1, 2, 3]")["executionArn"]
    )
    row = app.store.get_execution_by_arn(arn)
    assert row is not None
    (task,) = app.store.tasks(row.id)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if holder.in_transaction:
            holder.execute("ROLLBACK")

    driver = MapRunDriver(app.store, app.engine, app.clock, pause=pause)
    outcome = driver.run(row.id, task.task_id, task.parameters)
    holder.close()
    assert isinstance(outcome, TaskSucceeded) and outcome.output == [1, 2, 3]
    assert len(pauses) == 1
    app.close()


def test_item_reader_without_a_local_s3_says_how_to_get_one() -> None:
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": "data", "Key": "items.json"},
    }
    result = execute(_map(ItemReader=reader), {})
    assert result.error == "States.ItemReaderFailed"
    assert "eltflow execute --store" in str(result.cause)


def test_item_reader_reads_a_parquet_file(tmp_path: Path) -> None:
    """InputType PARQUET: each row an object keyed by column, values as JSON (timestamps as
    epoch milliseconds, lists and structs nested); MaxItems keeps the first rows; a file that is
    not Parquet fails the state with States.ItemReaderFailed."""
    import duckdb

    s3 = S3Service(tmp_path / "s3")
    s3.create_bucket("data", datetime.now(UTC))
    source = tmp_path / "rows.parquet"
    with duckdb.connect(":memory:") as conn:
        conn.sql(
            "SELECT i AS id, 'n' || i AS name, i * 0.5 AS score, i % 2 = 0 AS even, "
            "TIMESTAMP '2024-01-02 03:04:05.678' + to_days(i::INT) AS at, [i, i + 1] AS pair, "
            "{'k': i} AS nested, CASE WHEN i = 2 THEN NULL ELSE i END AS maybe "
            "FROM range(3) t(i)"
        ).write_parquet(str(source))
    s3.put_object("data", "in/rows.parquet", source.read_bytes())
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "PARQUET"},
        "Parameters": {"Bucket": "data", "Key": "in/rows.parquet"},
    }
    result = execute(_map(ItemReader=reader), {}, s3=s3)
    assert result.status == "SUCCEEDED", result
    day_ms = 86_400_000
    assert result.output == [
        {
            "id": i,
            "name": f"n{i}",
            "score": i * 0.5,
            "even": i % 2 == 0,
            "at": 1704164645678 + i * day_ms,
            "pair": [i, i + 1],
            "nested": {"k": i},
            "maybe": None if i == 2 else i,
        }
        for i in range(3)
    ]
    limited = {**reader, "ReaderConfig": {"InputType": "PARQUET", "MaxItems": 1}}
    first = execute(_map(ItemReader=limited), {}, s3=s3)
    assert [row["id"] for row in first.output] == [0]  # type: ignore[union-attr,index,call-overload]
    s3.put_object("data", "in/not.parquet", b'[{"id": 1}]')
    bad = {**reader, "Parameters": {"Bucket": "data", "Key": "in/not.parquet"}}
    failed = execute(_map(ItemReader=bad), {}, s3=s3)
    assert (failed.status, failed.error) == ("FAILED", "States.ItemReaderFailed")
    assert "Parquet" in str(failed.cause)


def _child_row(i: int) -> ChildRow:
    return ChildRow(
        id=f"c{i}",
        arn=f"arn:aws:states:us-east-1:123456789012:execution:m/Fan:c{i}",
        machine_name="m/Fan",
        name=f"c{i}",
        status="SUCCEEDED",
        input=json.dumps({"i": i}),
        output=json.dumps({"i": i}),
        error=None,
        cause=None,
        start_us=0,
        stop_us=1000,
        redrive_count=0,
        item_index=i,
        item_count=1,
    )


@pytest.mark.parametrize("output_type", ["JSON", "JSONL"])
def test_result_writer_splits_a_status_into_files_past_the_limit(
    tmp_path: Path, output_type: str
) -> None:
    """AWS's rule at a small limit: records go on in SUCCEEDED_1.json... once a file would pass
    the limit, never cut; each file alone parses; the manifest lists them in order."""
    s3 = S3Service(tmp_path / "s3")
    s3.create_bucket("data", datetime.now(UTC))
    writer = {
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "data", "Prefix": "out"},
        "WriterConfig": {"Transformation": "COMPACT", "OutputType": output_type},
    }
    run = "arn:aws:states:us-east-1:123456789012:mapRun:m/Fan:run1"
    children = [_child_row(i) for i in range(10)]
    # {"i":N} is 7 bytes: a JSON file holds [ + 3 records + 2 commas + ] = 25 <= 25 bytes.
    limit = 25 if output_type == "JSON" else 3 * 8
    _, written = result_writer.export(
        writer, s3, run, "arn:sm", {"SUCCEEDED": children, "FAILED": []}, file_limit=limit
    )
    assert written == 10
    manifest = json.loads(s3.read("data", "out/run1/manifest.json")[1])
    files = manifest["ResultFiles"]["SUCCEEDED"]
    assert [f["Key"] for f in files] == [f"out/run1/SUCCEEDED_{n}.json" for n in range(4)]
    assert manifest["ResultFiles"]["FAILED"] == [] and manifest["ResultFiles"]["PENDING"] == []
    values: list[JSON] = []
    for f in files:
        body = s3.read("data", f["Key"])[1]
        assert f["Size"] == len(body) <= limit
        text = body.decode()
        values += (
            json.loads(text) if output_type == "JSON" else [json.loads(x) for x in text.split()]
        )
    assert values == [{"i": i} for i in range(10)]
    # A record larger than the limit alone is never cut: it gets a file of its own.
    result_writer.export(writer, s3, run, "arn:sm", {"SUCCEEDED": children[:2]}, file_limit=3)
    manifest = json.loads(s3.read("data", "out/run1/manifest.json")[1])
    assert len(manifest["ResultFiles"]["SUCCEEDED"]) == 2


def test_a_failed_map_run_writes_its_unstarted_items_as_pending(tmp_path: Path) -> None:
    """Tolerated failures exceeded by the first child (MaxConcurrency 1): the items never
    started are PENDING_0.json's records, the failed child FAILED_0.json's."""
    s3 = S3Service(tmp_path / "s3")
    s3.create_bucket("data", datetime.now(UTC))
    child = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Item.Bad"}}}
    writer = {
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "data", "Prefix": "out"},
    }
    result = execute(_map(child, MaxConcurrency=1, ResultWriter=writer), [0, 5, 6], s3=s3)
    assert result.error == "States.ExceedToleratedFailureThreshold"
    (manifest_key,) = [
        o.key for o in s3.list_objects("data").contents if o.key.endswith("manifest.json")
    ]
    manifest = json.loads(s3.read("data", manifest_key)[1])
    (pending,) = manifest["ResultFiles"]["PENDING"]
    records = json.loads(s3.read("data", pending["Key"])[1])
    assert pending["Key"].endswith("/PENDING_0.json")
    assert [json.loads(r["Input"]) for r in records] == [5, 6]
    assert {r["Status"] for r in records} == {"PENDING"}
    (failed,) = manifest["ResultFiles"]["FAILED"]
    (bad,) = json.loads(s3.read("data", failed["Key"])[1])
    assert (json.loads(bad["Input"]), bad["Status"], bad["Error"]) == (0, "FAILED", "Item.Bad")


def test_a_private_memory_store_keeps_only_the_histories_asked_for() -> None:
    """eltflow.execute's store keeps the parent's events, and only the number of each child's:
    appends stay idempotent and a gap is still a conflict, while the child's history is empty."""
    store = MemoryStore(keeps_history=lambda eid: eid == "parent")

    def events(*seqs: int) -> list[EventRow]:
        return [
            EventRow(seq=s, previous_seq=s - 1, event_type="Pass", timestamp_us=0, details={})
            for s in seqs
        ]

    with store.transaction() as conn:
        assert store.append_events_txn(conn, "parent", events(1, 2)) == 2
        assert store.append_events_txn(conn, "child", events(1, 2)) == 2
        assert store.append_events_txn(conn, "child", events(2, 3)) == 1  # 2 again: a no-op
        with pytest.raises(ConflictError):
            store.append_events_txn(conn, "child", events(5))
    assert [e.seq for e in store.history("parent")] == [1, 2]
    assert store.history("child") == []


_WRITER = {
    "Resource": "arn:aws:states:::s3:putObject",
    "Parameters": {"Bucket": "data", "Prefix": "out"},
}
# AWS's record of a started child (input-output-resultwriter, Transformation NONE).
_STARTED_KEYS = {
    "ExecutionArn",
    "Input",
    "InputDetails",
    "Name",
    "RedriveCount",
    "StartDate",
    "StateMachineArn",
    "Status",
    "StopDate",
}


def _exported(app: App, run: str) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """The Map Run's manifest and the records of each status's files, checking the manifest's
    AWS shape: its three keys, every status listed, each file's Key under PREFIX/RUN_UUID/
    and its Size the object's."""
    assert app.s3 is not None
    folder = f"out/{run.rsplit(':', 1)[-1]}"
    manifest = json.loads(app.s3.read("data", f"{folder}/manifest.json")[1])
    assert set(manifest) == {"DestinationBucket", "MapRunArn", "ResultFiles"}
    assert manifest["DestinationBucket"] == "data" and manifest["MapRunArn"] == run
    assert set(manifest["ResultFiles"]) == {"FAILED", "PENDING", "SUCCEEDED"}
    records: dict[str, list[dict[str, Any]]] = {}
    for status, files in manifest["ResultFiles"].items():
        records[status] = []
        for n, f in enumerate(files):
            assert set(f) == {"Key", "Size"} and f["Key"] == f"{folder}/{status}_{n}.json"
            body = app.s3.read("data", f["Key"])[1]
            assert f["Size"] == len(body)
            records[status] += json.loads(body)
    return manifest, records


def test_a_failed_map_run_exports_its_results_and_a_redrive_exports_again(app: App) -> None:
    """Tolerated failures exceeded (MaxConcurrency 1, item 0 fails the first time): the
    ResultWriter still exports, the succeeded child in SUCCEEDED_0.json, the failed one in
    FAILED_0.json, the two items never started in PENDING_0.json. The redrive re-runs only the
    failed child and starts the two pending items, and its export lists all four as SUCCEEDED."""
    failing = {"n": 0}

    def flaky(p: JSON) -> JSON:
        if p == 0 and failing["n"] == 0:
            failing["n"] += 1
            raise StatesError("Item.Bad", "first time")
        return p

    app.register("arn:aws:lambda:us-east-1:123456789012:function:flaky0", flaky)
    child = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky0",
                "End": True,
            }
        },
    }
    definition = _map(child, MaxConcurrency=1, ResultWriter=_WRITER)
    first = _run(app, "exported", definition, [5, 0, 6, 7])
    assert first["error"] == "States.ExceedToleratedFailureThreshold"
    parent = str(first["executionArn"])
    run = _map_run(app, parent)
    _, records = _exported(app, run)
    (ok,) = records["SUCCEEDED"]
    assert set(ok) == _STARTED_KEYS | {"Output", "OutputDetails"}
    assert (ok["Status"], json.loads(ok["Input"]), json.loads(ok["Output"])) == ("SUCCEEDED", 5, 5)
    (bad,) = records["FAILED"]
    assert set(bad) == _STARTED_KEYS | {"Error", "Cause"}
    assert (bad["Status"], bad["Error"], json.loads(bad["Input"])) == ("FAILED", "Item.Bad", 0)
    assert [json.loads(r["Input"]) for r in records["PENDING"]] == [6, 7]
    assert {r["Status"] for r in records["PENDING"]} == {"PENDING"}
    described = app.service.describe_map_run(map_run_arn=run)
    assert described["status"] == "FAILED"
    counts: Any = described["executionCounts"]
    assert (counts["total"], counts["succeeded"], counts["failed"]) == (2, 1, 1)
    assert counts["resultsWritten"] == 2  # the started children: PENDING items are not counted

    app.service.redrive_execution(execution_arn=parent)
    again = run_to_end(app, parent, poll_seconds=0.01)
    assert again["status"] == "SUCCEEDED", again
    assert _map_run(app, parent) == run
    output = json.loads(str(again["output"]))
    assert output["MapRunArn"] == run
    manifest, records = _exported(app, run)
    assert output["ResultWriterDetails"]["Key"] == f"out/{run.rsplit(':', 1)[-1]}/manifest.json"
    assert manifest["ResultFiles"]["FAILED"] == [] and manifest["ResultFiles"]["PENDING"] == []
    by_input = {json.loads(r["Input"]): r for r in records["SUCCEEDED"]}
    assert sorted(by_input) == [0, 5, 6, 7]
    assert {r["Status"] for r in by_input.values()} == {"SUCCEEDED"}
    # Only the failed child was redriven (same ARN, RedriveCount 1); the succeeded one kept its
    # record, the pending items ran once, as new children.
    assert by_input[0]["ExecutionArn"] == bad["ExecutionArn"] and by_input[0]["RedriveCount"] == 1
    assert by_input[5]["ExecutionArn"] == ok["ExecutionArn"] and by_input[5]["RedriveCount"] == 0
    assert by_input[5]["StartDate"] == ok["StartDate"]
    assert by_input[6]["RedriveCount"] == by_input[7]["RedriveCount"] == 0
    counts = app.service.describe_map_run(map_run_arn=run)["executionCounts"]
    assert (counts["total"], counts["succeeded"], counts["resultsWritten"]) == (4, 4, 4)


def test_an_aborted_map_run_exports_its_results(lite: App) -> None:
    """The parent is stopped while 2 children wait (MaxConcurrency 2, 3 items): the Map Run is
    ABORTED and still exports, the 2 aborted children in FAILED_0.json, the item never started
    in PENDING_0.json, no SUCCEEDED file."""
    app = lite
    waiting = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    definition = _map(waiting, MaxConcurrency=2, ResultWriter=_WRITER)
    app.service.create_state_machine(name="parked-export", definition=definition)
    started = app.service.start_execution(state_machine_arn="parked-export", input="[1, 2, 3]")
    parent = str(started["executionArn"])
    worker = app.worker(poll_seconds=0.01)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        run = wait_until(lambda: _running(app, parent, 2), 20, what="two children waiting")
        app.service.stop_execution(execution_arn=parent, error="Stop.Now", cause="enough")
        wait_until(
            lambda: app.service.describe_map_run(map_run_arn=run)["status"] == "ABORTED",
            20,
            what="the Map Run aborted",
        )
    finally:
        worker.stop()
        thread.join(20)
    manifest, records = _exported(app, run)
    assert manifest["ResultFiles"]["SUCCEEDED"] == []
    aborted = records["FAILED"]
    assert sorted(json.loads(r["Input"]) for r in aborted) == [1, 2]
    assert {r["Status"] for r in aborted} == {"ABORTED"}
    assert all(set(r) >= _STARTED_KEYS and "Output" not in r for r in aborted)
    assert [json.loads(r["Input"]) for r in records["PENDING"]] == [3]
    counts: Any = app.service.describe_map_run(map_run_arn=run)["executionCounts"]
    assert (counts["total"], counts["aborted"], counts["resultsWritten"]) == (2, 2, 2)


def test_a_map_run_whose_state_was_left_is_aborted(lite: App) -> None:
    """A Parallel's other branch fails and its Catch carries the parent on: the Distributed Map
    in the failed Parallel no longer waits for its Map Run, which is aborted (children stopped,
    the item never started left PENDING) instead of running on while the parent runs."""
    app = lite
    gate = threading.Event()  # the other branch fails once the Map Run's children wait

    def boom(_: JSON) -> JSON:
        gate.wait(20)
        raise StatesError("X", "the other branch failed")

    app.register("arn:aws:lambda:us-east-1:123456789012:function:boom", boom)
    waiting = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    fan = _map(waiting, MaxConcurrency=2, ResultWriter=_WRITER)["States"]["Fan"]
    boom_state = {
        "Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:boom",
        "End": True,
    }
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Fan", "States": {"Fan": fan}},
                    {"StartAt": "Boom", "States": {"Boom": boom_state}},
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Park"}],
                "End": True,
            },
            "Park": {"Type": "Wait", "Seconds": 3600, "End": True},
        },
    }
    app.service.create_state_machine(name="left", definition=definition)
    started = app.service.start_execution(state_machine_arn="left", input="[1, 2, 3]")
    parent = str(started["executionArn"])
    worker = app.worker(poll_seconds=0.01)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        run = wait_until(lambda: _running(app, parent, 2), 20, what="two children waiting")
        gate.set()
        wait_until(
            lambda: app.service.describe_map_run(map_run_arn=run)["status"] == "ABORTED",
            20,
            what="the Map Run aborted",
        )
    finally:
        worker.stop()
        thread.join(20)
    assert app.service.describe_execution(execution_arn=parent)["status"] == "RUNNING"
    counts: Any = app.service.describe_map_run(map_run_arn=run)["executionCounts"]
    assert (counts["total"], counts["running"], counts["aborted"]) == (2, 0, 2)
    _, records = _exported(app, run)
    assert sorted(json.loads(r["Input"]) for r in records["FAILED"]) == [1, 2]
    assert {r["Status"] for r in records["FAILED"]} == {"ABORTED"}
    assert [json.loads(r["Input"]) for r in records["PENDING"]] == [3]


def test_map_runs_leave_the_task_threads_to_their_children(app: App) -> None:
    """More Map Runs at once than the worker has task threads, their children running Task
    states: each Map Run waits on a thread of its own, so the children's tasks still get the
    task threads (on them, every Map Run held one and the machines timed out)."""
    step = "arn:aws:lambda:us-east-1:123456789012:function:step"
    app.register(step, lambda params: {"ok": params})
    definition = _map(
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": step, "End": True}}}
    )
    definition["TimeoutSeconds"] = 60  # a regression fails as TIMED_OUT, it does not hang
    app.service.create_state_machine(name="fans", definition=definition)
    started = [
        str(
            app.service.start_execution(
                state_machine_arn="fans", name=f"p{i}", input=json.dumps([i, i + 1])
            )["executionArn"]
        )
        for i in range(4)
    ]

    def described() -> list[dict[str, Any]]:
        return [app.service.describe_execution(execution_arn=arn) for arn in started]

    app.worker(threads=2, poll_seconds=0.01).run(
        until=lambda: all(d["status"] != "RUNNING" for d in described())
    )
    ended = described()
    assert [d["status"] for d in ended] == ["SUCCEEDED"] * 4
    assert [json.loads(d["output"]) for d in ended] == [
        [{"ok": i}, {"ok": i + 1}] for i in range(4)
    ]


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"ToleratedFailureCount": 1}, "SUCCEEDED"),
        ({"ToleratedFailurePercentage": 10}, "SUCCEEDED"),
        ({"ToleratedFailurePercentage": 5}, "FAILED"),
        ({}, "FAILED"),
    ],
)
def test_a_threshold_left_unset_stays_unset_once_the_map_run_waits(
    fields: dict[str, Any], status: str
) -> None:
    """Task children end in a later step, so the Map Run waits and reads its settings back
    from its row, which records an unset threshold as 0: one failure in 10 is within a
    count of 1 or 10%, over 5% and over the default (none tolerated)."""
    fn = "arn:aws:lambda:us-east-1:123456789012:function:check"
    child = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": fn, "End": True}}}

    def check(item: Any) -> Any:
        if item == 3:
            raise ValueError("item 3 is bad")
        return item

    result = execute(_map(child, MaxConcurrency=2, **fields), list(range(10)), tasks={fn: check})
    assert result.status == status
    if status == "FAILED":
        assert result.error == "States.ExceedToleratedFailureThreshold"
