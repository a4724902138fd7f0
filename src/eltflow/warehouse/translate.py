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

Rewrites here, and why:
- ``GETDATE()`` is a UTC timestamp without time zone in whole seconds; ``SYSDATE`` the same
  with microseconds (sqlglot reads both as CURRENT_TIMESTAMP).
- ``TRUNC(<timestamp>)`` is Redshift's "date part of"; both engines only truncate numbers.
- ``DATE_TRUNC`` returns TIMESTAMP (PostgreSQL turns a DATE argument into TIMESTAMPTZ).
- ``LISTAGG ... WITHIN GROUP`` becomes ``STRING_AGG(... ORDER BY ...)`` on PostgreSQL.
- ``DATEDIFF`` counts unit *boundaries* crossed in Redshift (DuckDB's ``date_diff`` does too);
  on PostgreSQL it is spelled out per unit instead of sqlglot's ``AGE``-based interval length.
- ``EXTRACT``/``DATE_PART`` of calendar fields are integers (PostgreSQL returns numeric);
  ``APPROXIMATE COUNT(DISTINCT)`` is an exact count and ``REGEXP_SUBSTR(s, p)`` is
  ``SUBSTRING(s, p)`` on PostgreSQL, which has neither.
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

from eltflow.warehouse import ddl, merge, procedures
from eltflow.warehouse.formats import (
    RAW_FORMATS,
    UnsupportedFormat,
    is_numeric_format,
    numeric_to_char,
    strptime_format,
    to_char,
    to_number,
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
_TIMESTAMP_TYPES = {
    exp.DataType.Type.TIMESTAMP,
    exp.DataType.Type.TIMESTAMPTZ,
    exp.DataType.Type.DATETIME,
    exp.DataType.Type.DATE,
}


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
    tree = tree.transform(functools.partial(_redshift_functions, temporal=temporal))
    tree = tree.transform(functools.partial(_format_models, target=target))
    if target == "duckdb":
        like = ddl.temp_like(tree)
        if like is not None:
            return [like]
        before.extend(ddl.identity_to_sequence(tree))
    else:
        tree = tree.transform(_listagg_to_string_agg).transform(_postgres_functions)
    sql = tree.sql(dialect=target, unsupported_level=ErrorLevel.RAISE)
    return [*before, sql]


def _utc_now() -> exp.Expression:
    return exp.cast(
        exp.AtTimeZone(this=exp.CurrentTimestamp(), zone=exp.Literal.string("UTC")),
        exp.DataType.build("TIMESTAMP"),
    )


def _is_temporal(node: exp.Expression) -> bool:
    if isinstance(node, exp.CurrentTimestamp | exp.CurrentDate | exp.AtTimeZone):
        return True
    if isinstance(node, exp.TimestampTrunc) and _is_temporal(node.this):
        return True
    if isinstance(node, exp.Cast) and node.to.this in _TIMESTAMP_TYPES:
        return True
    return isinstance(node, exp.Cast) and _is_temporal(node.this)


def _redshift_functions(node: exp.Expression, temporal: frozenset[str]) -> exp.Expression:
    if (
        isinstance(node, exp.GroupConcat)
        and isinstance(node.this, exp.Distinct)
        and len(node.this.expressions) == 2
        and node.args.get("separator") is None
    ):
        # sqlglot reads LISTAGG(DISTINCT x, ',') as a DISTINCT of two expressions
        value, separator = node.this.expressions
        node = node.copy()
        node.set("this", exp.Distinct(expressions=[value.copy()]))
        node.set("separator", separator.copy())
        return node
    if isinstance(node, exp.CurrentTimestamp) and not isinstance(node.parent, exp.AtTimeZone):
        return _utc_now()
    if isinstance(node, exp.Trunc) and node.args.get("decimals") is None:
        arg = node.this
        if _is_temporal(arg) or (isinstance(arg, exp.Column) and arg.name.lower() in temporal):
            inner = arg.transform(functools.partial(_redshift_functions, temporal=temporal))
            return exp.cast(inner, exp.DataType.build("DATE"))
    return node


_PG_FORMAT_FUNCTIONS = {
    exp.TimeToStr: "TO_CHAR",
    exp.StrToDate: "TO_DATE",
    exp.StrToTime: "TO_TIMESTAMP",
}


def _format_models(node: exp.Expression, target: Target) -> exp.Expression:
    """TO_CHAR / TO_DATE / TO_TIMESTAMP with a literal Redshift format (see formats.py)."""
    if isinstance(node, exp.ToNumber) and target == "duckdb":
        number_format = node.args.get("format")
        if isinstance(number_format, exp.Literal) and number_format.is_string:
            return to_number(node.this, number_format.this)
        return node
    if not isinstance(node, exp.TimeToStr | exp.StrToDate | exp.StrToTime):
        return node
    fmt = node.args.get("format")
    if not isinstance(fmt, exp.Literal) or not fmt.is_string:
        return node
    if target == "postgres":
        name = _PG_FORMAT_FUNCTIONS[type(node)]
        return exp.Anonymous(this=name, expressions=[node.this.copy(), fmt.copy()])
    if isinstance(node, exp.TimeToStr):
        if is_numeric_format(fmt.this):
            return numeric_to_char(node.this, fmt.this)
        return to_char(node.this, fmt.this)
    node = node.copy()
    node.set("format", exp.Literal.string(strptime_format(fmt.this)))
    return node


def _listagg_to_string_agg(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.WithinGroup) and isinstance(node.this, exp.GroupConcat):
        agg = node.this
        order = node.expression
        sep = agg.args.get("separator") or exp.Literal.string("")
        if isinstance(agg.this, exp.Distinct) and len(agg.this.expressions) == 1:
            # PostgreSQL: with DISTINCT, ORDER BY must name the (cast) argument itself
            value = exp.cast(agg.this.expressions[0], exp.DataType.build("TEXT"))
            fixed = []
            for o in order.expressions:
                o = o.copy()
                if isinstance(o, exp.Ordered) and o.this == agg.this.expressions[0]:
                    o.set("this", value.copy())
                fixed.append(o)
            return exp.GroupConcat(
                this=exp.Order(this=exp.Distinct(expressions=[value]), expressions=fixed),
                separator=sep,
            )
        value = exp.cast(agg.this, exp.DataType.build("TEXT"))
        return exp.GroupConcat(
            this=exp.Order(this=value, expressions=order.expressions), separator=sep
        )
    if (
        isinstance(node, exp.GroupConcat)
        and not isinstance(node.this, exp.Order)
        and not isinstance(node.parent, exp.WithinGroup)
    ):
        if isinstance(node.this, exp.Distinct) and len(node.this.expressions) == 1:
            text = exp.cast(node.this.expressions[0], exp.DataType.build("TEXT"))
            node.set("this", exp.Distinct(expressions=[text]))
        else:
            node.set("this", exp.cast(node.this, exp.DataType.build("TEXT")))
    return node


# Redshift DATEDIFF(unit, a, b) as boundaries crossed, for PostgreSQL; __a__/__b__ are replaced
# by the two (timestamp-cast) arguments.
_DATEDIFF_PG: dict[str, str] = {
    "YEAR": "EXTRACT(YEAR FROM __b__) - EXTRACT(YEAR FROM __a__)",
    "QUARTER": "(EXTRACT(YEAR FROM __b__) * 4 + EXTRACT(QUARTER FROM __b__)) - "
    "(EXTRACT(YEAR FROM __a__) * 4 + EXTRACT(QUARTER FROM __a__))",
    "MONTH": "(EXTRACT(YEAR FROM __b__) * 12 + EXTRACT(MONTH FROM __b__)) - "
    "(EXTRACT(YEAR FROM __a__) * 12 + EXTRACT(MONTH FROM __a__))",
    "WEEK": "(CAST(DATE_TRUNC('week', __b__) AS DATE) - "
    "CAST(DATE_TRUNC('week', __a__) AS DATE)) / 7",
    "DAY": "CAST(__b__ AS DATE) - CAST(__a__ AS DATE)",
    "HOUR": "(EXTRACT(EPOCH FROM DATE_TRUNC('hour', __b__)) - "
    "EXTRACT(EPOCH FROM DATE_TRUNC('hour', __a__))) / 3600",
    "MINUTE": "(EXTRACT(EPOCH FROM DATE_TRUNC('minute', __b__)) - "
    "EXTRACT(EPOCH FROM DATE_TRUNC('minute', __a__))) / 60",
    "SECOND": "EXTRACT(EPOCH FROM DATE_TRUNC('second', __b__)) - "
    "EXTRACT(EPOCH FROM DATE_TRUNC('second', __a__))",
}
_NON_INTEGER_PARTS = {"EPOCH", "SECOND", "SECONDS", "MILLISECOND", "MILLISECONDS", "MICROSECOND"}


# Redshift MONTHS_BETWEEN(a, b) for PostgreSQL, which has none: whole months apart, plus the
# day difference over 31 unless both days are the last of their months (sqlglot's DuckDB rule).
_MONTHS_BETWEEN_PG = (
    "CAST((EXTRACT(YEAR FROM __b__) * 12 + EXTRACT(MONTH FROM __b__)) - "
    "(EXTRACT(YEAR FROM __a__) * 12 + EXTRACT(MONTH FROM __a__)) + "
    "CASE WHEN EXTRACT(DAY FROM __b__) = EXTRACT(DAY FROM DATE_TRUNC('month', __b__) "
    "+ INTERVAL '1 month - 1 day') AND EXTRACT(DAY FROM __a__) = EXTRACT(DAY FROM "
    "DATE_TRUNC('month', __a__) + INTERVAL '1 month - 1 day') THEN 0 "
    "ELSE (EXTRACT(DAY FROM __b__) - EXTRACT(DAY FROM __a__)) / 31.0 END AS DOUBLE PRECISION)"
)


def _fill(template: str, a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """``template`` (PostgreSQL) with ``__a__``/``__b__`` replaced by copies of ``a``/``b``."""
    tree = sqlglot.parse_one(template, read="postgres")

    def fill(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and n.name in ("__a__", "__b__"):
            return (a if n.name == "__a__" else b).copy()
        return n

    return tree.transform(fill)


def _postgres_functions(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.MonthsBetween):
        ts = exp.DataType.build("TIMESTAMP")
        end = exp.cast(node.this.copy(), ts)
        start = exp.cast(node.expression.copy(), ts)
        return _fill(_MONTHS_BETWEEN_PG, start, end)
    if isinstance(node, exp.TimestampTrunc) and not (
        isinstance(node.this, exp.Cast) and node.this.to.this == exp.DataType.Type.TIMESTAMP
    ):
        # Redshift's DATE_TRUNC returns TIMESTAMP; PostgreSQL's takes a DATE as TIMESTAMPTZ.
        node = node.copy()
        node.set("this", exp.cast(node.this, exp.DataType.build("TIMESTAMP")))
        return node
    if isinstance(node, exp.TsOrDsDiff | exp.DateDiff):
        unit = (node.text("unit") or "DAY").upper()
        template = _DATEDIFF_PG.get(unit)
        if template is None:
            return node
        ts = exp.DataType.build("TIMESTAMP")
        start = exp.cast(node.expression.copy(), ts)
        end = exp.cast(node.this.copy(), ts)
        tree = sqlglot.parse_one(template, read="postgres")

        def fill(n: exp.Expression) -> exp.Expression:
            if isinstance(n, exp.Column) and n.name in ("__a__", "__b__"):
                return (start if n.name == "__a__" else end).copy()
            return n

        return exp.cast(exp.paren(tree.transform(fill)), exp.DataType.build("BIGINT"))
    if (
        isinstance(node, exp.Extract)
        and node.text("this").upper() not in _NON_INTEGER_PARTS
        and not isinstance(node.parent, exp.Cast)
    ):
        return exp.cast(node.copy(), exp.DataType.build("BIGINT"))
    if isinstance(node, exp.ApproxDistinct):
        return exp.Count(this=exp.Distinct(expressions=[node.this.copy()]))
    if isinstance(node, exp.RegexpExtract) and not any(
        v is not None for k, v in node.args.items() if k not in ("this", "expression")
    ):
        args = [node.this.copy(), node.expression.copy()]
        return exp.Anonymous(this="SUBSTRING", expressions=args)
    return node


def is_procedure_sql(sql: str) -> bool:
    """True for ``CREATE [OR REPLACE] PROCEDURE`` and ``CALL`` statements."""
    return bool(_PROCEDURE.match(sql))
