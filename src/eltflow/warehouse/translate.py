"""Redshift-dialect SQL made runnable on DuckDB and PostgreSQL, with sqlglot.

Pure functions of the SQL text (cached): parse as Redshift, rewrite the AST where the target
engine differs, generate the target dialect. Placeholders ``:name`` become the engine's named
bind style (``$name`` for DuckDB, ``%(name)s`` for psycopg), so values are always bound.
A statement sqlglot cannot parse or generate runs as written (placeholders still rewritten)
and fails, if it must, with the engine's own message.

Rewrites, and why:
- ``DISTSTYLE``/``DISTKEY``/``SORTKEY``/``ENCODE``/``BACKUP`` are physical-layout hints that
  neither engine has; the PostgreSQL generator raises on SORTKEY and ENCODE leaks into DuckDB.
- ``GETDATE()``/``SYSDATE`` are UTC timestamps *without* time zone in Redshift.
- ``TRUNC(<timestamp>)`` is Redshift's "date part of"; both engines only truncate numbers.
- ``IDENTITY(seed, step)`` becomes a sequence default on DuckDB (no identity columns there).
- ``CREATE TEMP TABLE x (LIKE t)`` becomes an empty ``CREATE ... AS SELECT`` on DuckDB.
- ``LISTAGG ... WITHIN GROUP`` becomes ``STRING_AGG(... ORDER BY ...)`` on PostgreSQL.
- ``DATEDIFF`` counts unit *boundaries* crossed in Redshift (DuckDB's ``date_diff`` does too);
  on PostgreSQL it is spelled out per unit instead of sqlglot's ``AGE``-based interval length.
- ``EXTRACT``/``DATE_PART`` of calendar fields are integers (PostgreSQL returns numeric);
  ``APPROXIMATE COUNT(DISTINCT)`` is an exact count and ``REGEXP_SUBSTR(s, p)`` is
  ``SUBSTRING(s, p)`` on PostgreSQL, which has neither.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

Target = Literal["duckdb", "postgres"]

# sqlglot logs a warning for every statement it parses as an opaque Command (VACUUM, CALL...);
# those are expected here, so keep its log quiet rather than alarming users.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_STRIP_PROPERTIES = (
    exp.DistStyleProperty,
    exp.DistKeyProperty,
    exp.SortKeyProperty,
    exp.BackupProperty,
)
# Column-level DISTKEY / SORTKEY (``a int distkey``) are parse errors in sqlglot: drop them
# before parsing. Only a bare keyword is removed; table-level ``DISTKEY(col)`` stays for the AST.
_COLUMN_HINT = re.compile(r"\b(?:DISTKEY|SORTKEY)\b(?!\s*\()", re.IGNORECASE)
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


def placeholders(sql: str) -> tuple[str, ...]:
    """Names of ``:name`` placeholders outside quotes, in order of first use.

    >>> placeholders("select :a, ':b', x::int, :a, :c")
    ('a', 'c')
    """
    seen: dict[str, None] = {}
    for m in _PLACEHOLDER.finditer(_blank_literals(sql)):
        seen.setdefault(m.group(1), None)
    return tuple(seen)


def _blank_literals(sql: str) -> str:
    """Replace the contents of quoted strings and ``$$`` bodies with spaces (same length)."""
    return re.sub(
        r"'(?:[^']|'')*'|\$\$.*?\$\$|\"(?:[^\"]|\"\")*\"",
        lambda m: " " * len(m.group(0)),
        sql,
        flags=re.S,
    )


def _bind_style(sql: str, target: Target) -> str:
    """Rewrite ``:name`` outside string literals to the target's named bind style."""
    blanked = _blank_literals(sql)
    out: list[str] = []
    last = 0
    for m in _PLACEHOLDER.finditer(blanked):
        out.append(sql[last : m.start()])
        name = m.group(1)
        out.append(f"${name}" if target == "duckdb" else f"%({name})s")
        last = m.end()
    out.append(sql[last:])
    return "".join(out)


def escape_percent(sql: str) -> str:
    """Double ``%`` for psycopg's pyformat, leaving ``%(name)s`` placeholders alone.

    >>> escape_percent("select 'a%' like %(p)s")
    "select 'a%%' like %(p)s"
    """
    return re.sub(r"%(?!\(\w+\)s)", "%%", sql)


@functools.lru_cache(maxsize=2048)
def translate(sql: str, target: Target, temporal: frozenset[str] = frozenset()) -> Translation:
    """Translate one Redshift statement (or a few separated by ``;``) for ``target``.

    ``temporal`` names columns known to be dates/timestamps (for ``TRUNC(col)``).
    """
    names = placeholders(sql)
    if _PROCEDURE.match(sql):
        # Procedure bodies are plpgsql that sqlglot does not model; PostgreSQL runs them as
        # written (Redshift's plpgsql is a subset), DuckDB has no procedures at all.
        return Translation(
            statements=(_bind_style(sql, target),),
            params=names,
            returns_rows=False,
            translated=False,
            is_procedure=True,
        )
    try:
        trees = [
            t
            for t in sqlglot.parse(
                _COLUMN_HINT.sub("", sql), read="redshift", error_level=ErrorLevel.RAISE
            )
            if t is not None
        ]
        if not trees or any(isinstance(t, exp.Command) for t in trees):
            raise _Untranslatable
        out: list[str] = []
        for tree in trees:
            out.extend(_generate(tree, target, temporal))
        returns_rows = _returns_rows(trees[-1])
    except (SqlglotError, _Untranslatable, ValueError, NotImplementedError):
        return Translation(
            statements=(_bind_style(sql, target),),
            params=names,
            returns_rows=bool(_QUERY_START.match(sql)),
            translated=False,
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


class _Untranslatable(Exception):
    pass


def _returns_rows(tree: exp.Expr) -> bool:
    if isinstance(tree, exp.Query | exp.Values | exp.Show | exp.Describe):
        return True
    return tree.args.get("returning") is not None


def _generate(tree: exp.Expr, target: Target, temporal: frozenset[str]) -> list[str]:
    tree = tree.copy()
    before: list[str] = []
    _strip_layout_hints(tree)
    tree = tree.transform(functools.partial(_redshift_functions, temporal=temporal))
    if target == "duckdb":
        like = _temp_like(tree)
        if like is not None:
            return [like]
        before.extend(_identity_to_sequence(tree))
    else:
        tree = tree.transform(_listagg_to_string_agg).transform(_postgres_functions)
    sql = tree.sql(dialect=target, unsupported_level=ErrorLevel.RAISE)
    return [*before, sql]


def _strip_layout_hints(tree: exp.Expr) -> None:
    for prop in list(tree.find_all(*_STRIP_PROPERTIES)):
        prop.pop()
    for constraint in list(tree.find_all(exp.ColumnConstraint)):
        if isinstance(constraint.args.get("kind"), exp.EncodeColumnConstraint):
            constraint.pop()
    props = tree.args.get("properties")
    if isinstance(props, exp.Properties) and not props.expressions:
        props.pop()


def _utc_now() -> exp.Expression:
    return exp.cast(
        exp.AtTimeZone(this=exp.CurrentTimestamp(), zone=exp.Literal.string("UTC")),
        exp.DataType.build("TIMESTAMP"),
    )


def _is_temporal(node: exp.Expression) -> bool:
    if isinstance(node, exp.CurrentTimestamp | exp.CurrentDate | exp.AtTimeZone):
        return True
    if isinstance(node, exp.Cast) and node.to.this in _TIMESTAMP_TYPES:
        return True
    return isinstance(node, exp.Cast) and _is_temporal(node.this)


def _redshift_functions(node: exp.Expression, temporal: frozenset[str]) -> exp.Expression:
    if isinstance(node, exp.CurrentTimestamp) and not isinstance(node.parent, exp.AtTimeZone):
        return _utc_now()
    if isinstance(node, exp.Trunc) and node.args.get("decimals") is None:
        arg = node.this
        if _is_temporal(arg) or (isinstance(arg, exp.Column) and arg.name.lower() in temporal):
            inner = arg.transform(functools.partial(_redshift_functions, temporal=temporal))
            return exp.cast(inner, exp.DataType.build("DATE"))
    return node


def _listagg_to_string_agg(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.WithinGroup) and isinstance(node.this, exp.GroupConcat):
        agg = node.this
        order = node.expression
        value = exp.cast(agg.this, exp.DataType.build("TEXT"))
        sep = agg.args.get("separator") or exp.Literal.string("")
        return exp.GroupConcat(
            this=exp.Order(this=value, expressions=order.expressions), separator=sep
        )
    if (
        isinstance(node, exp.GroupConcat)
        and not isinstance(node.this, exp.Order)
        and not isinstance(node.parent, exp.WithinGroup)
    ):
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


def _postgres_functions(node: exp.Expression) -> exp.Expression:
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


def _identity_to_sequence(tree: exp.Expr) -> list[str]:
    """Replace ``IDENTITY(seed, step)`` columns by ``DEFAULT nextval(seq)`` and create the seq."""
    if not isinstance(tree, exp.Create) or not isinstance(tree.this, exp.Schema):
        return []
    table = tree.this.this
    if not isinstance(table, exp.Table):
        return []
    out: list[str] = []
    for column in tree.this.expressions:
        if not isinstance(column, exp.ColumnDef):
            continue
        for constraint in column.constraints:
            kind = constraint.args.get("kind")
            if not isinstance(kind, exp.GeneratedAsIdentityColumnConstraint):
                continue
            seq_name = f"{table.name}_{column.name}_seq"
            if table.db:
                seq_name = f"{table.db}.{seq_name}"
            start = kind.args.get("start")
            step = kind.args.get("increment")
            start_sql = start.sql() if start is not None else "1"
            step_sql = step.sql() if step is not None else "1"
            temporary = any(
                isinstance(p, exp.TemporaryProperty) for p in tree.find_all(exp.TemporaryProperty)
            )
            out.append(
                f"CREATE {'TEMPORARY ' if temporary else ''}SEQUENCE IF NOT EXISTS {seq_name} "
                f"START WITH {start_sql} INCREMENT BY {step_sql}"
            )
            constraint.set(
                "kind",
                exp.DefaultColumnConstraint(
                    this=exp.Anonymous(this="nextval", expressions=[exp.Literal.string(seq_name)])
                ),
            )
    return out


def _temp_like(tree: exp.Expr) -> str | None:
    """``CREATE [TEMP] TABLE x (LIKE t)`` → ``CREATE [TEMP] TABLE x AS SELECT * FROM t LIMIT 0``."""
    if not isinstance(tree, exp.Create) or not isinstance(tree.this, exp.Schema):
        return None
    likes = [e for e in tree.this.expressions if isinstance(e, exp.LikeProperty)]
    if len(likes) != 1 or len(tree.this.expressions) != 1:
        return None
    temporary = any(True for _ in tree.find_all(exp.TemporaryProperty))
    target = tree.this.this.sql(dialect="duckdb")
    source = likes[0].this.sql(dialect="duckdb")
    kind = "TEMPORARY TABLE" if temporary else "TABLE"
    return f"CREATE {kind} {target} AS SELECT * FROM {source} LIMIT 0"


def is_procedure_sql(sql: str) -> bool:
    """True for ``CREATE [OR REPLACE] PROCEDURE`` and ``CALL`` statements."""
    return bool(_PROCEDURE.match(sql))


def split_script(script: str) -> list[str]:
    """Split a SQL script on ``;`` outside quotes, ``$$`` bodies and comments.

    >>> split_script("select ';'; create procedure p() as $$ begin x; end; $$ language plpgsql;")
    ["select ';'", 'create procedure p() as $$ begin x; end; $$ language plpgsql']
    """
    out: list[str] = []
    buf: list[str] = []
    i, n = 0, len(script)
    while i < n:
        ch = script[i]
        two = script[i : i + 2]
        if two == "--":
            end = script.find("\n", i)
            i = n if end < 0 else end
            continue
        if two == "/*":
            end = script.find("*/", i + 2)
            i = n if end < 0 else end + 2
            buf.append(" ")
            continue
        if ch in ("'", '"') or two == "$$":
            close = "$$" if two == "$$" else ch
            end = script.find(close, i + len(close))
            while close != "$$" and end >= 0 and script[end + 1 : end + 2] == close:
                end = script.find(close, end + 2)  # a doubled quote is an escaped quote
            stop = n if end < 0 else end + len(close)
            buf.append(script[i:stop])
            i = stop
            continue
        if ch == ";":
            stmt = "".join(buf).strip()
            if stmt:
                out.append(stmt)
            buf = []
        else:
            buf.append(ch)
        i += 1
    stmt = "".join(buf).strip()
    if stmt:
        out.append(stmt)
    return out
