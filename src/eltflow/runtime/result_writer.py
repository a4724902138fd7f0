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
state's result. As AWS does, a status's records go on in ``STATUS_1.json``, ``STATUS_2.json``...
once a file would pass 5 GB (:data:`RESULT_FILE_LIMIT`; a record is never cut, so one larger
than that has a file of its own); ``FAILED`` holds failed, timed out and aborted children, and
``PENDING`` the items a failed or aborted Map Run never started (their record's shape is
unverified, see :func:`pending_record`). The records' date format (ISO-8601 with milliseconds,
UTC) is unverified.

When: the files are written however the Map Run ends, SUCCEEDED, FAILED (tolerated failures
exceeded) or ABORTED (the parent stopped, failed or timed out), from the children as they ended
(the running ones stopped first). AWS's guide (input-output-resultwriter) documents the
manifest, the per-status files and that Step Functions "exports executions with the same status
to their respective files"; a PENDING file can only come from a Map Run that did not start every
item, i.e. one that failed or was aborted. Unverified here: that an ABORTED Map Run exports
(the guide's text on it could not be read back and no captured export of one was available),
the records' ``RedriveStatus`` / ``RedriveStatusReason`` (AWS's records appear to carry
DescribeExecution's; these do not), and where a redriven Map Run's export goes (here: the same
``PREFIX/MAP_RUN_UUID/`` keys, overwritten, the manifest listing only this export's files; files
of the earlier export that this one has none of, e.g. ``FAILED_0.json``, stay in the bucket).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from eltflow.asl import errors as asl_errors
from eltflow.errors import AwsApiError, StatesError
from eltflow.interpreter.context import iso
from eltflow.json_text import dumps
from eltflow.s3.service import S3Service
from eltflow.store.map_runs import ChildRow
from eltflow.store.rows import from_us
from eltflow.types import JSON, JSONObject

PUT_OBJECT = "arn:aws:states:::s3:putObject"
RESULT_FILE_LIMIT = 5 * 1024**3
"""AWS's 5 GB per results file (as S3's own "5 GB" single PUT: GiB): past it, the next file."""
STATUSES = ("FAILED", "PENDING", "SUCCEEDED")
BLOCK_BYTES = 64 * 1024
"""About how much of a results file is handed to the S3 store at a time."""


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
    out["StartDate"] = _iso_us(child.start_us)
    out["StateMachineArn"] = state_machine_arn
    out["Status"] = child.status
    if child.stop_us is not None:
        out["StopDate"] = _iso_us(child.stop_us)
    return out


@lru_cache(maxsize=1024)
def _iso_us(us: int) -> str:
    # The children a Map Run started in one transaction share their start time, and those
    # that ended in their first step their stop time: two datetimes built per record were a
    # quarter of the export's CPU.
    return iso(from_us(us))


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


def pending_record(input: JSON, state_machine_arn: str) -> JSONObject:
    """A child a failed Map Run never started: its input, as a record of the PENDING files.
    AWS's shape for these is unverified (it documents only that the files hold them); this
    keeps the started records' fields that exist before a start."""
    return {
        "Input": json.dumps(input, separators=(",", ":"), ensure_ascii=False),
        "InputDetails": {"Included": True},
        "StateMachineArn": state_machine_arn,
        "Status": "PENDING",
    }


def _transformed(
    children: Iterable[ChildRow], state_machine_arn: str, transformation: str, seen: list[int]
) -> Iterator[JSON]:
    """The records of ``children``; ``seen[0]`` counts the children read."""
    for child in children:
        seen[0] += 1
        yield from transform(child, state_machine_arn, transformation)


def inline(writer: dict[str, Any], children: Iterable[ChildRow], state_machine_arn: str) -> JSON:
    """A ResultWriter with only WriterConfig: the transformed results as the state's result."""
    transformation, _ = _config(writer)
    out: list[JSON] = []
    for child in children:
        out += transform(child, state_machine_arn, transformation)
    return out


def _records(values: Iterator[JSON], output_type: str) -> Iterator[bytes]:
    """Each value as it stands in a results file (a JSONL line ends with its newline)."""
    # json_text.dumps writes json.dumps's compact text (orjson where that is the same text):
    # a third of the export's CPU was json.dumps building an encoder per record.
    newline = output_type == "JSONL"
    for value in values:
        text = dumps(value)
        yield (text + "\n").encode() if newline else text.encode()


class _Split:
    """A status's records cut into files of at most ``limit`` bytes, streamed: no more than
    one record is held at a time. A record alone larger than ``limit`` still gets a file."""

    def __init__(self, records: Iterator[bytes], output_type: str, limit: int) -> None:
        self.records = records
        self.array = output_type == "JSON"
        self.limit = limit
        self.carried: bytes | None = None  # read for a file it did not fit in: the next one's
        self.done = False
        self.count = 0  # records in the file last streamed

    def next_file(self) -> Iterator[bytes]:
        """The next file's bytes, in blocks of about :data:`BLOCK_BYTES` (a write and a hash
        update per record were a fifth of the export's CPU)."""
        self.count = 0
        size = 2 if self.array else 0  # the array's brackets
        block: list[bytes] = [b"["] if self.array else []
        held = 0
        while True:
            record = self.carried
            self.carried = None
            if record is None:
                record = next(self.records, None)
                if record is None:
                    self.done = True
                    break
            sep = b"," if self.array and self.count else b""
            if self.count and size + len(sep) + len(record) > self.limit:
                self.carried = record
                break
            if sep:
                block.append(sep)
            block.append(record)
            held += len(sep) + len(record)
            size += len(sep) + len(record)
            self.count += 1
            if held >= BLOCK_BYTES:
                yield b"".join(block)
                block, held = [], 0
        if self.array:
            block.append(b"]")
        if block:
            yield b"".join(block)


def export(
    writer: dict[str, Any],
    objects: S3Service | None,
    map_run_arn: str,
    state_machine_arn: str,
    children_by_status: dict[str, Iterable[ChildRow]],
    pending: Iterable[JSON] = (),
    *,
    file_limit: int = RESULT_FILE_LIMIT,
) -> tuple[JSONObject, int]:
    """Write the results files and the manifest; returns the state's result and how many
    children's results were written. ``pending``: the inputs of the children a failed Map Run
    never started (its PENDING files)."""
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
    try:
        seen = [0]  # children whose results were written
        for status in STATUSES:
            children = children_by_status.get(status)
            if status == "PENDING":
                values: Iterator[JSON] = (pending_record(v, state_machine_arn) for v in pending)
            elif children is None:
                continue
            else:
                values = _transformed(children, state_machine_arn, transformation, seen)
            split = _Split(_records(values, output_type), output_type, file_limit)
            entries = files[status]
            assert isinstance(entries, list)
            while not split.done:
                key = f"{folder}/{status}_{len(entries)}.json"
                info = objects.put_object(bucket, key, split.next_file())
                if split.count == 0:  # nothing (left) to write: no file
                    objects.delete_object(bucket, key)
                    break
                entries.append({"Key": key, "Size": info.size})
        written = seen[0]
        manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
        manifest_key = f"{folder}/manifest.json"
        objects.put_object(bucket, manifest_key, json.dumps(manifest).encode())
    except AwsApiError as e:
        raise _failed(f"{e.code}: {e.message}") from e
    details: JSONObject = {"Bucket": bucket, "Key": manifest_key}
    return {"MapRunArn": map_run_arn, "ResultWriterDetails": details}, written
