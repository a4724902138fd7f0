"""A Distributed Map's ResultWriter: the children's results as AWS exports them.

With ``Resource: arn:aws:states:::s3:putObject`` and ``Parameters {Bucket, Prefix}`` the
results go to the local bucket under ``PREFIX/MAP_RUN_UUID/``: one file per status
(``SUCCEEDED_0.json``, ``FAILED_0.json``, ``PENDING_0.json``, each a JSON array of child
records: ``ExecutionArn``, ``Input``, ``Name``, ``Output`` or ``Error``/``Cause``, dates,
``Status``...) and ``manifest.json`` (``DestinationBucket``, ``MapRunArn``, ``ResultFiles``
by status with each file's ``Key`` and ``Size``); the Map state's result is then
``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}`` (the manifest's key).

``WriterConfig`` (``Transformation`` ``NONE`` | ``COMPACT`` | ``FLATTEN``, ``OutputType``
``JSON`` | ``JSONL``) shapes the records: ``NONE`` (the default when exporting) writes the
records, ``COMPACT`` only the outputs, ``FLATTEN`` the outputs with arrays flattened one
level; a failed child's record is kept whole. Without Resource, the transformed results are the
state's result. AWS splits a status's file past 5 GB; here each status has one file. The
records' date format (ISO-8601 with milliseconds, UTC) is unverified.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from eltflow.asl import errors as asl_errors
from eltflow.errors import AwsApiError, StatesError
from eltflow.interpreter.context import iso
from eltflow.s3.service import S3Service
from eltflow.store.map_runs import ChildRow
from eltflow.store.rows import from_us
from eltflow.types import JSON, JSONObject

PUT_OBJECT = "arn:aws:states:::s3:putObject"
STATUSES = ("FAILED", "PENDING", "SUCCEEDED")


def _failed(cause: str) -> StatesError:
    return StatesError(asl_errors.RESULT_WRITER_FAILED, cause)


def record(child: ChildRow, state_machine_arn: str) -> JSONObject:
    """One child's line in a results file."""
    out: JSONObject = {
        "ExecutionArn": child.arn,
        "Input": child.input,
        "InputDetails": {"Included": True},
        "Name": child.name,
    }
    if child.status == "SUCCEEDED":
        out["Output"] = child.output
        out["OutputDetails"] = {"Included": True}
    else:
        if child.error is not None:
            out["Error"] = child.error
        if child.cause is not None:
            out["Cause"] = child.cause
    out["RedriveCount"] = child.redrive_count
    out["StartDate"] = iso(from_us(child.start_us))
    out["StateMachineArn"] = state_machine_arn
    out["Status"] = child.status
    if child.stop_us is not None:
        out["StopDate"] = iso(from_us(child.stop_us))
    return out


def transform(child: ChildRow, state_machine_arn: str, transformation: str) -> list[JSON]:
    """What one child contributes to the results under ``transformation``."""
    if transformation == "NONE" or child.status != "SUCCEEDED":
        return [record(child, state_machine_arn)]
    output: JSON = json.loads(child.output) if child.output is not None else None
    if transformation == "FLATTEN" and isinstance(output, list):
        return output
    return [output]


def _config(writer: dict[str, Any]) -> tuple[str, str]:
    config = writer.get("WriterConfig") or {}
    exporting = writer.get("Resource") is not None
    transformation = config.get("Transformation", "NONE" if exporting else "COMPACT")
    output_type = config.get("OutputType", "JSON")
    if transformation not in ("NONE", "COMPACT", "FLATTEN"):
        raise _failed("WriterConfig Transformation must be NONE, COMPACT or FLATTEN")
    if output_type not in ("JSON", "JSONL"):
        raise _failed("WriterConfig OutputType must be JSON or JSONL")
    return str(transformation), str(output_type)


def inline(writer: dict[str, Any], children: Iterable[ChildRow], state_machine_arn: str) -> JSON:
    """A ResultWriter with only WriterConfig: the transformed results as the state's result."""
    transformation, _ = _config(writer)
    out: list[JSON] = []
    for child in children:
        out += transform(child, state_machine_arn, transformation)
    return out


def _encoded(values: Iterator[JSON], output_type: str) -> Iterator[bytes]:
    """A results file, streamed: no more than one record is held at a time."""
    first = True
    if output_type == "JSON":
        yield b"["
    for value in values:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        if output_type == "JSONL":
            yield (text + "\n").encode()
        else:
            yield (text if first else "," + text).encode()
        first = False
    if output_type == "JSON":
        yield b"]"


def export(
    writer: dict[str, Any],
    objects: S3Service | None,
    map_run_arn: str,
    state_machine_arn: str,
    children_by_status: dict[str, Iterable[ChildRow]],
) -> tuple[JSONObject, int]:
    """Write the results files and the manifest; returns the state's result and how many
    children's results were written."""
    if writer.get("Resource") != PUT_OBJECT:
        raise _failed(f"ResultWriter Resource {writer.get('Resource')!r} is not supported")
    params = writer.get("Parameters") or {}
    bucket = params.get("Bucket") if isinstance(params, dict) else None
    if not isinstance(bucket, str):
        raise _failed("ResultWriter Parameters need a Bucket string")
    if objects is None:
        raise _failed(
            "ResultWriter writes to the project's local S3, and this run has none: run it with "
            "the project (eltflow execute --store, eltflow start) or pass s3= to eltflow.execute"
        )
    prefix = str(params.get("Prefix") or "").strip("/")
    folder = (prefix + "/" if prefix else "") + map_run_arn.rsplit(":", 1)[-1]
    transformation, output_type = _config(writer)
    files: JSONObject = {status: [] for status in STATUSES}
    written = 0
    try:
        for status in STATUSES:
            children = children_by_status.get(status)
            if children is None:
                continue
            count = [0]

            def values(rows: Iterable[ChildRow] = children, n: list[int] = count) -> Iterator[JSON]:
                for child in rows:
                    n[0] += 1
                    yield from transform(child, state_machine_arn, transformation)

            key = f"{folder}/{status}_0.json"
            info = objects.put_object(bucket, key, _encoded(values(), output_type))
            if count[0] == 0:
                objects.delete_object(bucket, key)
                continue
            written += count[0]
            entries = files[status]
            assert isinstance(entries, list)
            entries.append({"Key": key, "Size": info.size})
        manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
        manifest_key = f"{folder}/manifest.json"
        objects.put_object(bucket, manifest_key, json.dumps(manifest).encode())
    except AwsApiError as e:
        raise _failed(f"{e.code}: {e.message}") from e
    details: JSONObject = {"Bucket": bucket, "Key": manifest_key}
    return {"MapRunArn": map_run_arn, "ResultWriterDetails": details}, written
