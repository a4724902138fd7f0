"""A Distributed Map's ItemReader over the local S3: the items of a Map Run.

AWS's sources (``input-output-itemreader``), all read from the project's local buckets:

- ``arn:aws:states:::s3:getObject`` with ``ReaderConfig.InputType``
  ``JSON`` (an array; ``ItemsPointer`` a JSON pointer to an array inside an object),
  ``JSONL`` (one value a line), ``CSV`` (each row an object of strings keyed by the header:
  ``CSVHeaderLocation`` ``FIRST_ROW`` or ``GIVEN`` with ``CSVHeaders``; ``CSVDelimiter``
  ``COMMA`` (default), ``PIPE``, ``SEMICOLON``, ``SPACE`` or ``TAB``);
- ``arn:aws:states:::s3:listObjectsV2``: one item per object under ``Prefix``, shaped as
  AWS's docs show it (``Etag``, ``Key``, ``LastModified`` in epoch seconds, ``Size``,
  ``StorageClass``);
- ``InputType: MANIFEST``: an S3 Inventory ``manifest.json``; one item per row of its CSV
  files (gzipped or not, in the manifest's bucket), keyed by the manifest's ``fileSchema``,
  values as strings (whether AWS decodes the URL-encoded keys of inventory rows is unverified:
  they are kept as written);
- ``InputType: PARQUET``: one item per row of a Parquet file, an object keyed by column name
  (read with DuckDB; the value mapping is in :mod:`eltflow.runtime.parquet_items`).

``ReaderConfig.MaxItems`` keeps the first N items. Every failure (no such bucket or key, bad
JSON, a CSV row longer than its header) is ``States.ItemReaderFailed`` with a cause saying
what. Not here: ORC or Parquet inventories (refused by name).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from typing import Any

from eltflow.asl import errors as asl_errors
from eltflow.errors import AwsApiError, StatesError
from eltflow.runtime import parquet_items
from eltflow.s3.service import S3Service
from eltflow.types import JSON

GET_OBJECT = "arn:aws:states:::s3:getObject"
LIST_OBJECTS = "arn:aws:states:::s3:listObjectsV2"
DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}


def _failed(cause: str) -> StatesError:
    return StatesError(asl_errors.ITEM_READER_FAILED, cause)


def read_items(reader: dict[str, Any], objects: S3Service | None) -> list[JSON]:
    """The items ``reader`` (the ItemReader object with its Parameters resolved) names."""
    if objects is None:
        raise _failed(
            "ItemReader reads the project's local S3, and this run has none: run it with the "
            "project (eltflow execute --store, eltflow start) or pass s3= to eltflow.execute"
        )
    resource = reader.get("Resource")
    params = reader.get("Parameters") or reader.get("Arguments") or {}
    config = reader.get("ReaderConfig") or {}
    if not isinstance(params, dict) or not isinstance(config, dict):
        raise _failed("ItemReader Parameters and ReaderConfig must be objects")
    bucket = params.get("Bucket")
    if not isinstance(bucket, str):
        raise _failed("ItemReader Parameters need a Bucket string")
    try:
        if resource == LIST_OBJECTS:
            prefix = params.get("Prefix") or ""
            items = _listing(objects, bucket, str(prefix))
        elif resource == GET_OBJECT:
            key = params.get("Key")
            if not isinstance(key, str):
                raise _failed("ItemReader Parameters need a Key string")
            if config.get("InputType") == "PARQUET":
                _, path, _ = objects.get_object(bucket, key)
                return parquet_items.read_rows(path, _max_items(config), _failed)
            _, body = objects.read(bucket, key)
            if config.get("InputType") == "MANIFEST":
                items = _inventory(objects, body, f"s3://{bucket}/{key}")
            else:
                items = _parse(body, config, f"s3://{bucket}/{key}")
        else:
            raise _failed(f"ItemReader Resource {resource!r} is not supported")
    except AwsApiError as e:
        raise _failed(f"{e.code}: {e.message}") from e
    limit = _max_items(config)
    return items if limit is None else items[:limit]


def _max_items(config: dict[str, Any]) -> int | None:
    limit = config.get("MaxItems")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        return limit
    return None


def _listing(objects: S3Service, bucket: str, prefix: str) -> list[JSON]:
    items: list[JSON] = []
    token: str | None = None
    while True:
        page = objects.list_objects(bucket, prefix=prefix, continuation_token=token)
        for info in page.contents:
            items.append(
                {
                    "Etag": info.etag,
                    "Key": info.key,
                    "LastModified": int(info.last_modified.timestamp()),
                    "Size": info.size,
                    "StorageClass": "STANDARD",
                }
            )
        if not page.is_truncated or page.next_token is None:
            return items
        token = page.next_token


def _parse(body: bytes, config: dict[str, Any], where: str) -> list[JSON]:
    kind = config.get("InputType", "JSON")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _failed(f"{where} is not UTF-8 text: {e}") from e
    if kind == "JSON":
        return _json(text, config, where)
    if kind == "JSONL":
        items: list[JSON] = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    items.append(json.loads(line))
                except ValueError as e:
                    raise _failed(f"{where} line {number} is not JSON: {e}") from e
        return items
    if kind == "CSV":
        return _csv(text, config, where)
    raise _failed(f"ItemReader InputType {kind!r} is not supported here")


def _json(text: str, config: dict[str, Any], where: str) -> list[JSON]:
    try:
        value: JSON = json.loads(text)
    except ValueError as e:
        raise _failed(f"{where} is not JSON: {e}") from e
    pointer = config.get("ItemsPointer")
    if isinstance(pointer, str) and pointer:
        for part in pointer.lstrip("/").split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                raise _failed(f"ItemsPointer {pointer!r} names nothing in {where}")
    if not isinstance(value, list):
        raise _failed(f"{where} does not hold a JSON array")
    return value


def _csv(text: str, config: dict[str, Any], where: str) -> list[JSON]:
    delimiter = DELIMITERS.get(str(config.get("CSVDelimiter", "COMMA")))
    if delimiter is None:
        raise _failed(f"CSVDelimiter must be one of {', '.join(DELIMITERS)}")
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if r]
    location = config.get("CSVHeaderLocation", "FIRST_ROW")
    if location == "GIVEN":
        headers = config.get("CSVHeaders")
        if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
            raise _failed("CSVHeaderLocation GIVEN needs CSVHeaders, an array of strings")
    elif location == "FIRST_ROW":
        if not rows:
            return []
        headers, rows = rows[0], rows[1:]
    else:
        raise _failed("CSVHeaderLocation must be FIRST_ROW or GIVEN")
    items: list[JSON] = []
    for number, row in enumerate(rows, 1):
        if len(row) > len(headers):
            raise _failed(f"{where} row {number} has more fields than the header")
        items.append({h: (row[i] if i < len(row) else "") for i, h in enumerate(headers)})
    return items


def _inventory(objects: S3Service, body: bytes, where: str) -> list[JSON]:
    """The rows of an S3 Inventory report, from its manifest.json."""
    try:
        manifest = json.loads(body)
    except ValueError as e:
        raise _failed(f"{where} is not a JSON inventory manifest: {e}") from e
    if not isinstance(manifest, dict):
        raise _failed(f"{where} is not a JSON inventory manifest")
    if manifest.get("fileFormat", "CSV") != "CSV":
        raise _failed(f"inventory format {manifest.get('fileFormat')!r} is not supported here")
    schema = [f.strip() for f in str(manifest.get("fileSchema", "")).split(",") if f.strip()]
    files = manifest.get("files")
    if not schema or not isinstance(files, list):
        raise _failed(f"{where} has no fileSchema or files")
    bucket = str(manifest.get("destinationBucket", "")).rsplit(":", 1)[-1]
    items: list[JSON] = []
    for entry in files:
        key = entry.get("key") if isinstance(entry, dict) else None
        if not isinstance(key, str):
            raise _failed(f"{where} lists a file without a key")
        _, data = objects.read(bucket, key)
        if data[:2] == b"\x1f\x8b":  # gzip, as S3 Inventory writes its CSV files
            data = gzip.decompress(data)
        config = {"CSVHeaderLocation": "GIVEN", "CSVHeaders": schema}
        items += _csv(data.decode("utf-8"), config, f"s3://{bucket}/{key}")
    return items
