"""Redshift stored procedures for PostgreSQL: CREATE PROCEDURE bodies and CALL arguments.

Procedure bodies are where real ELT SQL lives, and sqlglot does not model plpgsql. So the
body is scanned instead: each SQL statement in it (one that starts a plpgsql statement, or
follows BEGIN / THEN / ELSE / LOOP) is translated on its own by the same translator as a
top-level statement, and everything else (declarations, IF / LOOP / RAISE / assignments,
dynamic EXECUTE) stays as written. A statement the translator cannot handle stays as written
too; the compatibility functions the PostgreSQL warehouse installs (GETDATE, NVL, TRUNC of a
timestamp) cover the Redshift functions such leftovers and conditions use.

In the header, ``VARCHAR(MAX)`` parameters and Redshift's ``name mode type`` parameter order
are rewritten, and ``NONATOMIC`` is dropped. ``CALL p(args)`` gets its arguments translated
like a SELECT list, so ``call p(trunc(sysdate))`` works.

Transactions ("Managing transactions",
https://docs.aws.amazon.com/redshift/latest/dg/stored-procedure-transaction-management.html)
match Redshift's default mode on PostgreSQL: a CALL outside a transaction block is one
transaction, COMMIT / ROLLBACK in the body end it and start the next, and both are errors
when the CALL runs inside the caller's BEGIN ... COMMIT. Where PostgreSQL differs: TRUNCATE
does not commit implicitly; a NONATOMIC procedure runs as one transaction (Redshift commits
each statement); RAISE and EXCEPTION blocks are PostgreSQL's own (Redshift ends the
transaction when an EXCEPTION block catches an error in default mode). DuckDB emulates the
Redshift rules itself (:mod:`eltflow.warehouse.duckdb_procedures`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from eltflow.warehouse.sqltext import blank_literals

# Translates one Redshift statement for PostgreSQL; None when it must stay as written.
TranslateOne = Callable[[str], "str | None"]

_HEADER_BODY = re.compile(r"\bAS\s+(\$[A-Za-z_]*\$)(.*?)\1", re.I | re.S)
_NONATOMIC = re.compile(r"\bNONATOMIC\b", re.I)
_VARCHAR_MAX = re.compile(r"\b((?:N?VARCHAR|CHARACTER\s+VARYING))\s*\(\s*MAX\s*\)", re.I)
_SQL_START = re.compile(
    r"(?:^|(?<=\bBEGIN\b)|(?<=\bTHEN\b)|(?<=\bELSE\b)|(?<=\bLOOP\b))\s*"
    r"(?P<sql>(?:CREATE|INSERT|UPDATE|DELETE|MERGE|DROP|TRUNCATE|ALTER|SELECT|WITH)\b)",
    re.I,
)
_NAME_MODE = re.compile(r"([(,]\s*)(\w+)\s+(IN|OUT|INOUT)\b(?=\s+\w)", re.I)
_CALL = re.compile(r"^\s*CALL\s+(?P<name>[\w.\"]+)\s*\((?P<args>.*)\)\s*;?\s*$", re.I | re.S)


def translate_procedure(sql: str, translate_one: TranslateOne) -> str:
    """``CREATE PROCEDURE`` with its body's SQL translated, or ``CALL`` with its arguments."""
    call = _CALL.match(sql)
    if call is not None:
        return _call(call, translate_one)
    m = _HEADER_BODY.search(sql)
    if m is None:
        return _header(sql)
    tag, body = m.group(1), m.group(2)
    head = _header(sql[: m.start(1)])
    tail = _header(sql[m.end() :])
    return f"{head}{tag}{translate_body(body, translate_one)}{tag}{tail}"


def _header(text: str) -> str:
    text = _VARCHAR_MAX.sub(r"\1", _NONATOMIC.sub("", text))
    # Redshift's parameter order is ``name mode type``; PostgreSQL's ``mode name type``.
    return _NAME_MODE.sub(lambda m: f"{m.group(1)}{m.group(3)} {m.group(2)}", text)


def _call(m: re.Match[str], translate_one: TranslateOne) -> str:
    args = m.group("args")
    if not args.strip():
        return f"CALL {m.group('name')}()"
    selected = translate_one(f"SELECT {args}")
    if selected is None or not selected.upper().startswith("SELECT "):
        return m.group(0)
    return f"CALL {m.group('name')}({selected[len('SELECT ') :]})"


def translate_body(body: str, translate_one: TranslateOne) -> str:
    """The plpgsql ``body`` with each SQL statement in it translated (see the module doc)."""
    out: list[str] = []
    last = 0
    for start, end in _statement_spans(body):
        span = body[start:end]
        blanked = blank_literals(span)
        m = _SQL_START.search(_blank_comments(blanked))
        if m is None or not _only_control_before(blanked[: m.start("sql")]):
            continue
        sql_start = start + m.start("sql")
        translated = translate_one(body[sql_start:end])
        if translated is None:
            continue
        out.append(body[last:sql_start])
        out.append(translated)
        last = end
    out.append(body[last:])
    return "".join(out)


_CONTROL_ONLY = re.compile(
    r"^(?:\s|<<\w+>>|\bBEGIN\b|\bTHEN\b|\bELSE\b|\bLOOP\b|\bDECLARE\b|"
    r"\bIF\b[^;]*?\bTHEN\b|\bELSIF\b[^;]*?\bTHEN\b|\bWHEN\b[^;]*?\bTHEN\b|\bEXCEPTION\b)*$",
    re.I | re.S,
)


def _only_control_before(prefix: str) -> bool:
    return bool(_CONTROL_ONLY.match(_blank_comments(prefix)))


def _blank_comments(text: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", lambda m: " " * len(m.group(0)), text, flags=re.S)


def _statement_spans(body: str) -> list[tuple[int, int]]:
    """(start, end) of each ``;``-terminated piece of ``body``, ``;`` excluded."""
    blanked = _blank_comments(blank_literals(body))
    spans: list[tuple[int, int]] = []
    start = 0
    for i, ch in enumerate(blanked):
        if ch == ";":
            spans.append((start, i))
            start = i + 1
    return spans
