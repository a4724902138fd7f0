"""Redshift-dialect SQL made runnable on DuckDB and PostgreSQL, with sqlglot.

Pure functions of the SQL text (cached): parse as Redshift, rewrite the AST where the target
engine differs, generate the target dialect. Placeholders ``:name`` become the engine's named
bind style (``$name`` for DuckDB, ``%(name)s`` for psycopg), so values are always bound.
A statement sqlglot cannot parse or generate runs as written (placeholders still rewritten)
and fails, if it must, with the engine's own message plus why it was not translated.

One statement at a time: multi-statement texts are split (and transaction verbs handled) by
:mod:`eltflow.warehouse.script`, so one statement sqlglot cannot handle leaves the others
translated; ``problem`` says why a statement runs as written. DDL rewrites live in
:mod:`eltflow.warehouse.ddl`, format models in :mod:`eltflow.warehouse.formats`, procedure
bodies and CALL in :mod:`eltflow.warehouse.procedures`, MERGE in :mod:`eltflow.warehouse.merge`.

Here: GETDATE() in whole seconds (sqlglot reads it and SYSDATE alike as CURRENT_TIMESTAMP);
function rewrites live in :mod:`eltflow.warehouse.functions`.
Integer division and division by zero are DuckDB session settings (see duckdb_engine.py).
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from eltflow.warehouse import ddl, functions, merge, procedures
from eltflow.warehouse.formats import (
    RAW_FORMATS,
    UnsupportedFormat,
)
from eltflow.warehouse.sqltext import Target as Target
from eltflow.warehouse.sqltext import (
    bind_style,
    blank_literals,
    escape_percent,
    placeholders,
    split_script,
)

__all__ = ["Target", "Translation", "escape_percent", "placeholders", "split_script", "translate"]


# sqlglot logs a warning for every statement it parses as an opaque Command (VACUUM, CALL...);
# those are expected here, so keep its log quiet rather than alarming users.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_PROCEDURE = re.compile(r"^\s*(?:CREATE\s+(?:OR\s+REPLACE\s+)?PROCEDURE|CALL)\b", re.IGNORECASE)
_QUERY_START = re.compile(r"^\s*\(?\s*(?:SELECT|WITH|VALUES|SHOW|EXPLAIN|TABLE)\b", re.I)


@dataclass(frozen=True, kw_only=True)
class Translation:
    """The engine-ready form of one Redshift statement.

    ``statements`` may hold more than one (an identity column needs its sequence first);
    ``params`` lists the placeholder names used, in order of first use; ``returns_rows`` says
    whether the (last) statement yields a result set; ``translated`` is False when sqlglot
    could not handle the text and it runs as written.
    """

    statements: tuple[str, ...]
    params: tuple[str, ...]
    returns_rows: bool
    translated: bool
    is_procedure: bool = False
    # ``TRUNC(col)`` means "date of" for a timestamp column and "integer part" for a number;
    # which one depends on the column's type, which only the engine's catalog knows. These are
    # such columns (and the tables named in the statement): the engine looks their types up
    # and translates again with ``temporal`` set.
    trunc_columns: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    # Why the text runs as written (for the engine's error message); None when translated.
    problem: str | None = None


@functools.lru_cache(maxsize=2048)
def translate(sql: str, target: Target, temporal: frozenset[str] = frozenset()) -> Translation:
    """Translate one Redshift statement (or a few separated by ``;``) for ``target``.

    ``temporal`` names columns known to be dates/timestamps (for ``TRUNC(col)``).
    """
    names = placeholders(sql)
    if _PROCEDURE.match(sql):
        if target == "postgres":
            return Translation(
                statements=(
                    bind_style(procedures.translate_procedure(sql, _one_for_postgres), target),
                ),
                params=names,
                returns_rows=False,
                translated=True,
                is_procedure=True,
            )
        # Procedure bodies are plpgsql that sqlglot does not model; PostgreSQL runs them as
        # written (Redshift's plpgsql is a subset), DuckDB has no procedures at all.
        return Translation(
            statements=(bind_style(sql, target),),
            params=names,
            returns_rows=False,
            translated=False,
            is_procedure=True,
        )
    simplified = merge.remove_duplicates(sql)
    if simplified is not None:
        parts = [translate(part, target, temporal) for part in simplified]
        if all(p.translated for p in parts):
            return Translation(
                statements=tuple(stmt for p in parts for stmt in p.statements),
                params=names,
                returns_rows=False,
                translated=True,
                trunc_columns=tuple(dict.fromkeys(c for p in parts for c in p.trunc_columns)),
                tables=tuple(dict.fromkeys(t for p in parts for t in p.tables)),
            )
    try:
        trees = [
            t
            for t in sqlglot.parse(
                _getdate_in_seconds(ddl.prepare(sql)),
                read=RAW_FORMATS,
                error_level=ErrorLevel.RAISE,
            )
            if t is not None
        ]
        if not trees:
            raise _Untranslatable("sqlglot found no statement in it")
        if any(isinstance(t, exp.Command) for t in trees):
            raise _Untranslatable("sqlglot parses it only as an opaque command")
        out: list[str] = []
        for tree in trees:
            if not ddl.is_informational(tree):
                out.extend(_generate(tree, target, temporal))
        returns_rows = _returns_rows(trees[-1])
    except (SqlglotError, _Untranslatable, ValueError, NotImplementedError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return Translation(
            statements=(bind_style(sql, target),),
            params=names,
            returns_rows=bool(_QUERY_START.match(sql)),
            translated=False,
            problem=f"not translated, {first}"
            if isinstance(e, _Untranslatable | UnsupportedFormat)
            else f"not translated, sqlglot could not handle it: {first}",
        )
    trunc_columns: dict[str, None] = {}
    tables: dict[str, None] = {}
    for tree in trees:
        for trunc in tree.find_all(exp.Trunc):
            if trunc.args.get("decimals") is None and isinstance(trunc.this, exp.Column):
                trunc_columns.setdefault(trunc.this.name.lower(), None)
        for table in tree.find_all(exp.Table):
            if table.name:
                tables.setdefault(table.name.lower(), None)
    return Translation(
        statements=tuple(out),
        params=names,
        returns_rows=returns_rows,
        translated=True,
        trunc_columns=tuple(c for c in trunc_columns if c not in temporal),
        tables=tuple(tables),
    )


_GETDATE = re.compile(r"\bGETDATE\s*\(\s*\)", re.I)


def _getdate_in_seconds(sql: str) -> str:
    """GETDATE() is whole seconds, unlike SYSDATE (sqlglot reads both as CURRENT_TIMESTAMP).

    Source: GETDATE (https://docs.aws.amazon.com/redshift/latest/dg/r_GETDATE.html), example
    ``2008-12-04 16:10:43``; SYSDATE (https://docs.aws.amazon.com/redshift/latest/dg/r_SYSDATE.html)
    keeps microseconds.
    """
    blanked = blank_literals(sql)
    spans = [m.span() for m in _GETDATE.finditer(blanked)]
    for start, end in reversed(spans):
        sql = f"{sql[:start]}DATE_TRUNC('second', GETDATE()){sql[end:]}"
    return sql


class _Untranslatable(Exception):
    pass


def _one_for_postgres(sql: str) -> str | None:
    """One statement of a procedure body (or a CALL's arguments) for PostgreSQL, if it can be."""
    tr = translate(sql, "postgres")
    if not tr.translated or tr.is_procedure or len(tr.statements) > 1:
        return None
    return tr.statements[0] if tr.statements else "NULL"  # plpgsql's no-op statement


def _returns_rows(tree: exp.Expr) -> bool:
    if isinstance(tree, exp.Query | exp.Values | exp.Show | exp.Describe):
        return True
    return tree.args.get("returning") is not None


def _generate(tree: exp.Expr, target: Target, temporal: frozenset[str]) -> list[str]:
    tree = ddl.rewrite(tree.copy(), target)
    merge.fix_insert_values(tree)
    before: list[str] = []
    tree = tree.transform(functools.partial(functions.redshift_functions, temporal=temporal))
    tree = tree.transform(functools.partial(functions.format_models, target=target))
    if target == "duckdb":
        like = ddl.temp_like(tree)
        if like is not None:
            return [like]
        before.extend(ddl.identity_to_sequence(tree))
    else:
        tree = tree.transform(functions.listagg_to_string_agg)
        tree = tree.transform(functions.postgres_functions)
    sql = tree.sql(dialect=target, unsupported_level=ErrorLevel.RAISE)
    return [*before, sql]


def is_procedure_sql(sql: str) -> bool:
    """True for ``CREATE [OR REPLACE] PROCEDURE`` and ``CALL`` statements."""
    return bool(_PROCEDURE.match(sql))
