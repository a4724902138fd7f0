"""Stored procedures on DuckDB, which has none: a body of plain SQL statements, run by CALL.

DuckDB cannot run plpgsql, but most ELT procedures are a sequence of SQL statements over IN
parameters (load a stage table, delete, insert, drop). Such a body is accepted at CREATE:
each statement is kept (parameters turned into ``:name`` placeholders, so their values are
bound, never pasted) and CALL runs them in order, through the same translator as any other
statement, in one transaction (or in the caller's, inside a batch). ``COMMIT`` / ``ROLLBACK``
in the body act as they do in a text (see :mod:`eltflow.warehouse.script`); ``RAISE INFO``
and its kin, which only log, are skipped.

Anything needing plpgsql's machinery is refused at CREATE, with the construct named and
PostgreSQL suggested: DECLARE (variables), IF / LOOP / FOR / WHILE / CASE, EXECUTE (dynamic
SQL), SELECT ... INTO, RAISE EXCEPTION, EXCEPTION blocks, nested blocks, OUT / INOUT
parameters.

Transactions follow "Managing transactions"
(https://docs.aws.amazon.com/redshift/latest/dg/stored-procedure-transaction-management.html):
a CALL is one transaction, or part of the caller's when it runs inside BEGIN ... COMMIT;
COMMIT and ROLLBACK in the body end the transaction and start a new one, and are an error
when the CALL is inside the caller's transaction block; TRUNCATE commits implicitly. A
NONATOMIC procedure commits each statement on its own unless the body opens a transaction.

Definitions live in the warehouse file itself (table ``eltflow.procedures``), so
they outlive the process, as a Redshift procedure outlives a session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from eltflow.warehouse.base import SqlError
from eltflow.warehouse.script import transaction_verb
from eltflow.warehouse.sqltext import blank_literals

CATALOG_SQL = (
    "CREATE SCHEMA IF NOT EXISTS eltflow; "
    "CREATE TABLE IF NOT EXISTS eltflow.procedures "
    "(name VARCHAR PRIMARY KEY, params VARCHAR[], body VARCHAR[], source VARCHAR); "
    "ALTER TABLE eltflow.procedures ADD COLUMN IF NOT EXISTS nonatomic BOOLEAN DEFAULT false"
)

_CREATE = re.compile(
    r"^\s*CREATE\s+(?P<replace>OR\s+REPLACE\s+)?PROCEDURE\s+(?P<name>[\w.\"]+)\s*"
    r"\((?P<params>[^)]*(?:\([^)]*\)[^)]*)*)\)\s*(?P<nonatomic>NONATOMIC\s+)?AS\s+(?P<tag>\$[A-Za-z_]*\$)"
    r"(?P<body>.*?)(?P=tag)\s*(?P<rest>.*)$",
    re.I | re.S,
)
_CALL = re.compile(r"^\s*CALL\s+(?P<name>[\w.\"]+)\s*\((?P<args>.*)\)\s*;?\s*$", re.I | re.S)
_DROP = re.compile(
    r"^\s*DROP\s+PROCEDURE\s+(?P<exists>IF\s+EXISTS\s+)?(?P<name>[\w.\"]+)\s*(?:\(.*\))?\s*;?\s*$",
    re.I | re.S,
)
_BLOCK = re.compile(
    r"^\s*(?:<<\w+>>\s*)?BEGIN\b(?P<inner>.*)\bEND\s*(?:\w+\s*)?;?\s*$", re.I | re.S
)
_SQL = re.compile(
    r"^(?:CREATE|INSERT|UPDATE|DELETE|MERGE|DROP|TRUNCATE|ALTER|SELECT|WITH|CALL|ANALYZE)\b",
    re.I,
)
_LOG_RAISE = re.compile(r"^RAISE\s+(?:INFO|NOTICE|LOG|DEBUG|WARNING)\b", re.I)
_INTO = re.compile(r"^SELECT\b.*\bINTO\b", re.I | re.S)
_CONSTRUCTS = {
    "DECLARE": "DECLARE (variables)",
    "IF": "IF",
    "LOOP": "LOOP",
    "FOR": "FOR",
    "WHILE": "WHILE",
    "CASE": "CASE",
    "EXECUTE": "EXECUTE (dynamic SQL)",
    "RAISE": "RAISE EXCEPTION",
    "EXCEPTION": "an EXCEPTION block",
    "BEGIN": "a nested BEGIN ... END block",
    "RETURN": "RETURN",
    "PERFORM": "PERFORM",
    "EXIT": "EXIT",
}


@dataclass(frozen=True, kw_only=True)
class Procedure:
    """A procedure DuckDB can run: IN parameter names and the body's statements."""

    name: str
    params: tuple[str, ...]
    body: tuple[str, ...]
    replace: bool = False
    nonatomic: bool = False


def is_create(sql: str) -> bool:
    return bool(re.match(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?PROCEDURE\b", sql, re.I))


def is_drop(sql: str) -> bool:
    return bool(re.match(r"^\s*DROP\s+PROCEDURE\b", sql, re.I))


def key(name: str) -> str:
    """Catalog key of a procedure name: unquoted, lower case, schema ``public`` by default."""
    parts = [p.strip('"') for p in name.split(".")]
    parts = [p if name.count('"') else p.lower() for p in parts]
    return ".".join(parts if len(parts) > 1 else ["public", *parts])


def _refuse(name: str, construct: str) -> SqlError:
    return SqlError(
        f"procedure {name}: {construct} is not supported on the DuckDB warehouse (only a body "
        "of SQL statements over IN parameters runs there); use a PostgreSQL warehouse for "
        "this procedure"
    )


def parse_create(sql: str) -> Procedure:
    """The procedure ``sql`` defines, or :class:`SqlError` naming what DuckDB cannot run."""
    m = _CREATE.match(sql)
    if m is None:
        raise SqlError(
            "CREATE PROCEDURE on the DuckDB warehouse needs the form "
            "CREATE [OR REPLACE] PROCEDURE name(params) AS $$ BEGIN ... END; $$ LANGUAGE plpgsql"
        )
    name = m.group("name")
    language = re.search(r"\bLANGUAGE\s+(\w+)", m.group("rest"), re.I)
    if language is None or language.group(1).lower() != "plpgsql":
        raise _refuse(name, "a procedure without LANGUAGE plpgsql")
    params = _params(name, m.group("params"))
    raw = m.group("body")
    body = _blank_comments(blank_literals(raw), raw)
    block = _BLOCK.match(blank_literals(body))
    if block is None:
        first = body.strip().split(None, 1)[0].upper() if body.strip() else "an empty body"
        raise _refuse(name, _CONSTRUCTS.get(first, first))
    inner = body[block.start("inner") : block.end("inner")]
    statements: list[str] = []
    for piece in _pieces(inner):
        statement = _statement(name, piece, params)
        if statement is not None:
            statements.append(statement)
    return Procedure(
        name=key(name),
        params=params,
        body=tuple(statements),
        replace=bool(m.group("replace")),
        nonatomic=bool(m.group("nonatomic")),
    )


def _params(name: str, text: str) -> tuple[str, ...]:
    out: list[str] = []
    for part in _split_commas(text):
        words = part.split()
        if not words:
            continue
        # Redshift writes ``name [mode] type``, PostgreSQL ``[mode] name type``: take both.
        modes = [w.upper() for w in words[:2] if w.upper() in ("IN", "OUT", "INOUT")]
        if modes and modes[0] != "IN":
            raise _refuse(name, f"an {modes[0]} parameter")
        words = [w for w in words[:2] if w.upper() != "IN"] + words[2:]
        out.append(words[0].strip('"').lower())
    return tuple(out)


def _split_commas(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    buf: list[str] = []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts


def _blank_comments(scan: str, original: str) -> str:
    """``original`` with the comments found in ``scan`` (same length) replaced by spaces."""
    out = list(original)
    for m in re.finditer(r"--[^\n]*|/\*.*?\*/", scan, flags=re.S):
        out[m.start() : m.end()] = " " * (m.end() - m.start())
    return "".join(out)


def _pieces(inner: str) -> list[str]:
    blanked = blank_literals(inner)
    pieces: list[str] = []
    start = 0
    for i, ch in enumerate(blanked):
        if ch == ";":
            pieces.append(inner[start:i])
            start = i + 1
    pieces.append(inner[start:])
    return [p.strip() for p in pieces if p.strip()]


def _statement(name: str, piece: str, params: tuple[str, ...]) -> str | None:
    if transaction_verb(piece) is not None:
        return piece
    if _LOG_RAISE.match(piece):
        return None  # logs only (RAISE INFO / NOTICE / ...)
    first = piece.split(None, 1)[0].upper()
    if not _SQL.match(piece):
        if re.match(r"^\w+\s*:?=", piece):
            raise _refuse(name, "an assignment (variables)")
        raise _refuse(name, _CONSTRUCTS.get(first, first))
    if _INTO.match(blank_literals(piece)) and first == "SELECT":
        raise _refuse(name, "SELECT ... INTO (variables)")
    return _placeholders(piece, params)


def _placeholders(sql: str, params: tuple[str, ...]) -> str:
    """Parameter references (by name, or ``$n``) as ``:name`` placeholders, outside quotes."""
    if not params:
        return sql
    blanked = blank_literals(sql)
    names = "|".join(re.escape(p) for p in params)
    pattern = re.compile(rf"(?<![\w.:$])(?:({names})|\$(\d+))(?![\w(])", re.I)
    out: list[str] = []
    last = 0
    for m in pattern.finditer(blanked):
        if m.group(1) is not None:
            param = m.group(1).lower()
        else:
            index = int(m.group(2)) - 1
            if not 0 <= index < len(params):
                continue
            param = params[index]
        out.append(sql[last : m.start()])
        out.append(f":{param}")
        last = m.end()
    out.append(sql[last:])
    return "".join(out)


def parse_call(sql: str) -> tuple[str, str]:
    """(catalog key, argument list SQL) of ``CALL name(args)``."""
    m = _CALL.match(sql)
    if m is None:
        raise SqlError("CALL needs the form CALL procedure_name(arguments)")
    return key(m.group("name")), m.group("args")


def parse_drop(sql: str) -> tuple[str, bool]:
    """(catalog key, IF EXISTS given) of ``DROP PROCEDURE name[(types)]``."""
    m = _DROP.match(sql)
    if m is None:
        raise SqlError("DROP PROCEDURE needs the form DROP PROCEDURE [IF EXISTS] name(types)")
    return key(m.group("name")), bool(m.group("exists"))
