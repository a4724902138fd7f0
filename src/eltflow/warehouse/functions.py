"""Redshift functions rewritten for DuckDB and PostgreSQL (sqlglot AST transforms).

Why each rewrite:
- ``GETDATE()``/``SYSDATE`` are UTC timestamps *without* time zone in Redshift.
- ``TRUNC(<timestamp>)`` is Redshift's "date part of"; both engines only truncate numbers.
- LISTAGG: sqlglot reads ``LISTAGG(DISTINCT x, ',')`` as a DISTINCT of two expressions; on
  PostgreSQL ``LISTAGG ... WITHIN GROUP`` is ``STRING_AGG(... ORDER BY ...)`` (with DISTINCT,
  ordered by the argument itself, as PostgreSQL requires).
- TO_CHAR / TO_DATE / TO_TIMESTAMP / TO_NUMBER with literal formats: see formats.py.
- ``DATE_TRUNC`` returns TIMESTAMP (PostgreSQL turns a DATE argument into TIMESTAMPTZ).
- ``DATEDIFF`` counts unit *boundaries* crossed in Redshift (DuckDB's ``date_diff`` does too);
  on PostgreSQL it is spelled out per unit instead of sqlglot's ``AGE``-based interval length.
- ``MONTHS_BETWEEN`` does not exist on PostgreSQL: spelled out as Redshift defines it.
- ``EXTRACT``/``DATE_PART`` of calendar fields are integers (PostgreSQL returns numeric);
  ``APPROXIMATE COUNT(DISTINCT)`` is an exact count and ``REGEXP_SUBSTR(s, p)`` is
  ``SUBSTRING(s, p)`` on PostgreSQL, which has neither.
"""

from __future__ import annotations

import functools

import sqlglot
from sqlglot import exp

from eltflow.warehouse.formats import (
    is_numeric_format,
    numeric_to_char,
    strptime_format,
    to_char,
    to_number,
)
from eltflow.warehouse.sqltext import Target

_TIMESTAMP_TYPES = {
    exp.DataType.Type.TIMESTAMP,
    exp.DataType.Type.TIMESTAMPTZ,
    exp.DataType.Type.DATETIME,
    exp.DataType.Type.DATE,
}


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


def redshift_functions(node: exp.Expression, temporal: frozenset[str]) -> exp.Expression:
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
            inner = arg.transform(functools.partial(redshift_functions, temporal=temporal))
            return exp.cast(inner, exp.DataType.build("DATE"))
    return node


_PG_FORMAT_FUNCTIONS = {
    exp.TimeToStr: "TO_CHAR",
    exp.StrToDate: "TO_DATE",
    exp.StrToTime: "TO_TIMESTAMP",
}


def format_models(node: exp.Expression, target: Target) -> exp.Expression:
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


def listagg_to_string_agg(node: exp.Expression) -> exp.Expression:
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


def postgres_functions(node: exp.Expression) -> exp.Expression:
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
