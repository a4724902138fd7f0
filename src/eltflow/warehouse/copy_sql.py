"""Redshift COPY and UNLOAD statements, parsed into what the engines need.

Sources: COPY (https://docs.aws.amazon.com/redshift/latest/dg/r_COPY.html, its parameter pages
copy-parameters-data-format, -data-conversion, -file-compression, -authorization) and UNLOAD
(https://docs.aws.amazon.com/redshift/latest/dg/r_UNLOAD.html). Authorization (IAM_ROLE,
CREDENTIALS, ACCESS_KEY_ID ...), REGION and the load-tuning options (COMPUPDATE, STATUPDATE,
MAXERROR 0, ACCEPTINVCHARS, TRUNCATECOLUMNS, ENCRYPTED, MAXFILESIZE, ROWGROUPSIZE, CLEANPATH)
are accepted and ignored: local S3 has no permissions and one node. Options whose meaning would
change the data and that are not implemented are refused by name rather than ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from eltflow.warehouse.base import SqlError

_TOKEN = re.compile(r"'(?:[^']|'')*'|[\w.$]+|\S")
_COPY = re.compile(r"^\s*COPY\s+(?P<table>[\w.\"]+)\s*(?:\((?P<cols>[^)]*)\))?\s+FROM\s+", re.I)
_UNLOAD = re.compile(r"^\s*UNLOAD\s*\(\s*(?P<query>'(?:[^']|'')*')\s*\)\s*TO\s+", re.I | re.S)
_IGNORED_WITH_VALUE = {
    "IAM_ROLE",
    "CREDENTIALS",
    "ACCESS_KEY_ID",
    "SECRET_ACCESS_KEY",
    "SESSION_TOKEN",
    "REGION",
    "MAXERROR",
    "MAXFILESIZE",
    "ROWGROUPSIZE",
    "KMS_KEY_ID",
    "MASTER_SYMMETRIC_KEY",
}
_IGNORED_FLAGS = {
    "COMPUPDATE",
    "STATUPDATE",
    "ACCEPTINVCHARS",
    "TRUNCATECOLUMNS",
    "ENCRYPTED",
    "CLEANPATH",
    "ACCEPTANYDATE",
    "ROUNDEC",
    "TRIMBLANKS",
    "EXPLICIT_IDS",
    "VERBOSE",
}
_SWITCHES = {"ON", "OFF", "TRUE", "FALSE"}


def is_copy(sql: str) -> bool:
    return bool(re.match(r"^\s*COPY\s+[\w.\"]+\s*(?:\([^)]*\))?\s+FROM\s+'s3://", sql, re.I))


def is_unload(sql: str) -> bool:
    return bool(re.match(r"^\s*UNLOAD\s*\(", sql, re.I))


@dataclass(frozen=True, kw_only=True)
class Copy:
    """What a COPY loads, from where, and how the files are read."""

    table: str
    columns: tuple[str, ...]
    source: str
    format: str = "text"  # text (pipe-delimited), csv, json, parquet
    delimiter: str | None = None
    quote: str = '"'
    null: str | None = None
    ignore_header: int = 0
    date_format: str | None = None
    time_format: str | None = None
    compression: str | None = None  # gzip, bzip2, zstd
    manifest: bool = False
    empty_as_null: bool = False
    blanks_as_null: bool = False


@dataclass(frozen=True, kw_only=True)
class Unload:
    """What an UNLOAD writes, and where."""

    query: str
    target: str
    format: str = "text"  # text (pipe-delimited), csv, parquet
    header: bool = False
    delimiter: str | None = None
    null: str | None = None
    parallel: bool = True
    allow_overwrite: bool = False
    manifest: bool = False
    compression: str | None = None
    extension: str | None = None
    options: tuple[str, ...] = field(default_factory=tuple)


def _string(token: str, option: str) -> str:
    if len(token) < 2 or token[0] != "'" or token[-1] != "'":
        raise SqlError(f"{option} needs a quoted value (got {token})")
    return token[1:-1].replace("''", "'")


class _Tokens:
    def __init__(self, text: str, what: str) -> None:
        self.items: list[str] = [t for t in _TOKEN.findall(text) if t not in (",", ";")]
        self.pos = 0
        self.what = what

    def next(self, option: str) -> str:
        if self.pos >= len(self.items):
            raise SqlError(f"{self.what}: {option} needs a value")
        token = self.items[self.pos]
        self.pos += 1
        return token

    def peek(self) -> str | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def value(self, option: str) -> str:
        token = self.next(option)
        if token.upper() == "AS":
            token = self.next(option)
        return token

    def skip_switch(self) -> None:
        nxt = self.peek()
        if nxt is not None and nxt.upper() in _SWITCHES:
            self.pos += 1

    def done(self) -> bool:
        return self.pos >= len(self.items)


def parse_copy(sql: str) -> Copy:
    """The :class:`Copy` of a ``COPY table FROM 's3://...' ...`` statement."""
    m = _COPY.match(sql)
    if m is None:
        raise SqlError("COPY needs the form COPY table [(columns)] FROM 's3://bucket/prefix' ...")
    tokens = _Tokens(sql[m.end() :], "COPY")
    source = _string(tokens.next("FROM"), "FROM")
    opts: dict[str, object] = {}
    while not tokens.done():
        word = tokens.next("COPY").upper()
        if word == "FORMAT":
            word = tokens.value("FORMAT").upper()
        if word == "AS":
            continue
        if word == "CSV":
            opts["format"] = "csv"
            if (tokens.peek() or "").upper() == "QUOTE":
                tokens.next("QUOTE")
                opts["quote"] = _string(tokens.value("QUOTE"), "QUOTE")
        elif word == "JSON":
            opts["format"] = "json"
            nxt = tokens.peek() or ""
            quoted = nxt.startswith("'") or nxt.upper() == "AS"
            spec = _string(tokens.value("JSON"), "JSON") if quoted else "auto"
            if spec.lower() not in ("auto", "auto ignorecase"):
                raise SqlError(f"COPY: JSON '{spec}' (a JSONPaths file) is not supported here")
        elif word == "PARQUET":
            opts["format"] = "parquet"
        elif word in ("ORC", "AVRO", "FIXEDWIDTH", "SHAPEFILE", "ESCAPE", "REMOVEQUOTES"):
            raise SqlError(f"COPY: {word} is not supported on the local warehouses")
        elif word == "DELIMITER":
            opts["delimiter"] = _string(tokens.value(word), word)
        elif word == "QUOTE":
            opts["quote"] = _string(tokens.value(word), word)
        elif word == "NULL":
            opts["null"] = _string(tokens.value(word), word)
        elif word == "IGNOREHEADER":
            opts["ignore_header"] = int(tokens.value(word))
        elif word == "DATEFORMAT":
            opts["date_format"] = _string(tokens.value(word), word)
        elif word == "TIMEFORMAT":
            opts["time_format"] = _string(tokens.value(word), word)
        elif word in ("GZIP", "BZIP2", "ZSTD"):
            opts["compression"] = word.lower()
        elif word == "LZOP":
            raise SqlError("COPY: LZOP compression is not supported on the local warehouses")
        elif word == "MANIFEST":
            opts["manifest"] = True
        elif word == "EMPTYASNULL":
            opts["empty_as_null"] = True
        elif word == "BLANKSASNULL":
            opts["blanks_as_null"] = True
        elif word in _IGNORED_WITH_VALUE:
            tokens.value(word)
        elif word in _IGNORED_FLAGS:
            tokens.skip_switch()
        else:
            raise SqlError(f"COPY: unknown or unsupported parameter {word}")
    columns = tuple(c.strip() for c in (m.group("cols") or "").split(",") if c.strip())
    return Copy(table=m.group("table"), columns=columns, source=source, **opts)  # type: ignore[arg-type]


def parse_unload(sql: str) -> Unload:
    """The :class:`Unload` of an ``UNLOAD ('select ...') TO 's3://...' ...`` statement."""
    m = _UNLOAD.match(sql)
    if m is None:
        raise SqlError("UNLOAD needs the form UNLOAD ('select ...') TO 's3://bucket/prefix' ...")
    query = _string(m.group("query"), "UNLOAD")
    tokens = _Tokens(sql[m.end() :], "UNLOAD")
    target = _string(tokens.next("TO"), "TO")
    opts: dict[str, object] = {}
    while not tokens.done():
        word = tokens.next("UNLOAD").upper()
        if word == "FORMAT":
            word = tokens.value("FORMAT").upper()
        if word == "AS":
            continue
        if word in ("CSV", "PARQUET"):
            opts["format"] = word.lower()
        elif word in ("JSON", "FIXEDWIDTH", "PARTITION", "ADDQUOTES", "ESCAPE"):
            raise SqlError(f"UNLOAD: {word} is not supported on the local warehouses")
        elif word == "HEADER":
            opts["header"] = True
        elif word == "DELIMITER":
            opts["delimiter"] = _string(tokens.value(word), word)
        elif word == "NULL":
            opts["null"] = _string(tokens.value(word), word)
        elif word == "PARALLEL":
            switch = (tokens.peek() or "ON").upper()
            tokens.skip_switch()
            opts["parallel"] = switch in ("ON", "TRUE")
        elif word == "ALLOWOVERWRITE":
            opts["allow_overwrite"] = True
        elif word == "MANIFEST":
            opts["manifest"] = True
            if (tokens.peek() or "").upper() == "VERBOSE":
                tokens.next("MANIFEST")
        elif word in ("GZIP", "BZIP2", "ZSTD"):
            opts["compression"] = word.lower()
        elif word == "EXTENSION":
            opts["extension"] = _string(tokens.value(word), word)
        elif word in _IGNORED_WITH_VALUE:
            tokens.value(word)
        elif word in _IGNORED_FLAGS:
            tokens.skip_switch()
        else:
            raise SqlError(f"UNLOAD: unknown or unsupported parameter {word}")
    return Unload(query=query, target=target, **opts)  # type: ignore[arg-type]


def unload_files(unload: Unload) -> tuple[str, str]:
    """(object name suffix, extension) Redshift gives the single file a local UNLOAD writes.

    PARALLEL ON writes one file per slice named ``<prefix>0000_part_00``; a local engine is one
    slice. PARALLEL OFF names it ``<prefix>000``. PARQUET files end in ``.parquet``; GZIP adds
    ``.gz``; EXTENSION replaces the extension.
    """
    name = "0000_part_00" if unload.parallel else "000"
    if unload.extension is not None:
        ext = "." + unload.extension.lstrip(".")
    elif unload.format == "parquet":
        ext = ".parquet"
    elif unload.compression == "gzip":
        ext = ".gz"
    else:
        ext = ""
    return name, ext
