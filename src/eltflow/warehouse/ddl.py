"""Redshift DDL rewritten for DuckDB and PostgreSQL (sqlglot ASTs in, ASTs or SQL out).

Why each rewrite (Redshift's rule, then what the local engine would do instead):
- ``DISTSTYLE``/``DISTKEY``/``[COMPOUND|INTERLEAVED] SORTKEY``/``ENCODE``/``BACKUP`` are
  physical-layout hints that neither engine has: dropped.
- PRIMARY KEY, UNIQUE and FOREIGN KEY are informational only; Redshift does not enforce them
  ("Table constraints", https://docs.aws.amazon.com/redshift/latest/dg/t_Defining_constraints.html),
  and both engines would reject duplicate keys: dropped, at CREATE and at ALTER TABLE ... ADD.
  NOT NULL and CHECK stay (Redshift enforces NOT NULL). Whether Redshift makes a primary-key
  column NOT NULL as PostgreSQL does is not documented: it is not made so here (unverified).
- ``VARCHAR(MAX)`` is Redshift's longest VARCHAR; both engines' unbounded VARCHAR holds it.
- ``IDENTITY(seed, step)`` (and a bare ``IDENTITY``, which sqlglot reads as AUTOINCREMENT,
  numbered from 1 by 1) become a sequence default on DuckDB, which has no identity columns, and
  an identity column on PostgreSQL whose MINVALUE admits a seed below 1 (``IDENTITY(0, 1)``).
- ``CREATE [TEMP] TABLE x (LIKE t)`` becomes an empty ``CREATE ... AS SELECT`` on DuckDB.
"""

from __future__ import annotations

import re

from sqlglot import exp

from eltflow.warehouse.sqltext import Target

_STRIP_PROPERTIES = (
    exp.DistStyleProperty,
    exp.DistKeyProperty,
    exp.SortKeyProperty,
    exp.BackupProperty,
)
_KEY_COLUMN_CONSTRAINTS = (
    exp.PrimaryKeyColumnConstraint,
    exp.UniqueColumnConstraint,
    exp.Reference,
)
_KEY_TABLE_CONSTRAINTS = (exp.PrimaryKey, exp.UniqueColumnConstraint, exp.ForeignKey)
# Column-level DISTKEY / SORTKEY (``a int distkey``) and INTERLEAVED before SORTKEY are parse
# errors in sqlglot: dropped before parsing. Only a bare keyword goes; table-level
# ``DISTKEY(col)`` stays for the AST.
_COLUMN_HINT = re.compile(r"\b(?:DISTKEY|SORTKEY)\b(?!\s*\()", re.IGNORECASE)
_INTERLEAVED = re.compile(r"\bINTERLEAVED\s+(?=SORTKEY\b)", re.IGNORECASE)


def prepare(sql: str) -> str:
    """Text-level fixes before sqlglot parses ``sql`` (see ``_COLUMN_HINT``)."""
    return _INTERLEAVED.sub("", _COLUMN_HINT.sub("", sql))


def is_informational(tree: exp.Expr) -> bool:
    """True for ALTER TABLE statements that only add or drop key constraints (a no-op here)."""
    if not isinstance(tree, exp.Alter):
        return False
    actions = tree.args.get("actions") or []
    if not actions:
        return False
    for action in actions:
        if isinstance(action, exp.AddConstraint):
            for c in action.expressions:
                inner = c.expressions[0] if isinstance(c, exp.Constraint) and c.expressions else c
                if not isinstance(inner, _KEY_TABLE_CONSTRAINTS):
                    return False
        elif not (
            isinstance(action, exp.Drop) and (action.text("kind") or "").upper() == "CONSTRAINT"
        ):
            return False
    return True


def rewrite(tree: exp.Expr, target: Target) -> exp.Expr:
    """Drop layout hints and key constraints, widen VARCHAR(MAX), normalise IDENTITY."""
    for prop in list(tree.find_all(*_STRIP_PROPERTIES)):
        prop.pop()
    for constraint in list(tree.find_all(exp.ColumnConstraint)):
        kind = constraint.args.get("kind")
        if isinstance(kind, (exp.EncodeColumnConstraint, *_KEY_COLUMN_CONSTRAINTS)):
            constraint.pop()
        elif isinstance(kind, exp.AutoIncrementColumnConstraint):
            constraint.set("kind", _identity(exp.Literal.number(1), exp.Literal.number(1)))
        elif isinstance(kind, exp.GeneratedAsIdentityColumnConstraint) and target == "postgres":
            _admit_seed(kind)
    schema = tree.this if isinstance(tree, exp.Create) else None
    if isinstance(schema, exp.Schema):
        for item in list(schema.expressions):
            inner = (
                item.expressions[0]
                if isinstance(item, exp.Constraint) and item.expressions
                else item
            )
            if isinstance(inner, _KEY_TABLE_CONSTRAINTS):
                item.pop()
    for dtype in tree.find_all(exp.DataType):
        params = dtype.expressions
        if len(params) == 1 and params[0].name.upper() == "MAX":
            dtype.set("expressions", [])
    props = tree.args.get("properties")
    if isinstance(props, exp.Properties) and not props.expressions:
        props.pop()
    if target == "duckdb" and isinstance(schema, exp.Schema):
        _enforce_lengths(schema)
    return tree


_CHAR_TYPES = {
    exp.DataType.Type.VARCHAR,
    exp.DataType.Type.CHAR,
    exp.DataType.Type.NVARCHAR,
    exp.DataType.Type.NCHAR,
}


def _enforce_lengths(schema: exp.Schema) -> None:
    """``CHECK (strlen(col) <= n)`` for CHAR(n) / VARCHAR(n) columns: DuckDB ignores lengths.

    Redshift rejects a value longer than the column ("Character types",
    https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html: lengths are in bytes,
    hence ``strlen``, DuckDB's byte length). PostgreSQL enforces lengths itself (in characters).
    """
    for column in schema.expressions:
        if not isinstance(column, exp.ColumnDef):
            continue
        kind = column.args.get("kind")
        if not isinstance(kind, exp.DataType) or kind.this not in _CHAR_TYPES:
            continue
        params = kind.expressions
        if len(params) != 1 or not params[0].name.isdigit():
            continue
        check = exp.LTE(
            this=exp.Anonymous(this="strlen", expressions=[exp.column(column.name, quoted=True)]),
            expression=exp.Literal.number(int(params[0].name)),
        )
        constraints = list(column.args.get("constraints") or [])
        constraints.append(exp.ColumnConstraint(kind=exp.CheckColumnConstraint(this=check)))
        column.set("constraints", constraints)


def _identity(start: exp.Expression, step: exp.Expression) -> exp.Expression:
    return exp.GeneratedAsIdentityColumnConstraint(this=False, start=start, increment=step)


def _admit_seed(kind: exp.Expression) -> None:
    start = kind.args.get("start")
    if start is None or kind.args.get("minvalue") is not None:
        return
    try:
        seed = int(start.sql())
    except ValueError:
        return
    if seed < 1:
        kind.set("minvalue", exp.Literal.number(seed))


def identity_to_sequence(tree: exp.Expr) -> list[str]:
    """Replace ``IDENTITY(seed, step)`` columns by ``DEFAULT nextval(seq)``; the seqs' DDL."""
    if not isinstance(tree, exp.Create) or not isinstance(tree.this, exp.Schema):
        return []
    table = tree.this.this
    if not isinstance(table, exp.Table):
        return []
    out: list[str] = []
    temporary = any(True for _ in tree.find_all(exp.TemporaryProperty))
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
            seed = _int(start_sql)
            out.append(
                f"CREATE {'TEMPORARY ' if temporary else ''}SEQUENCE IF NOT EXISTS {seq_name} "
                f"START WITH {start_sql} INCREMENT BY {step_sql}"
                + (f" MINVALUE {seed}" if seed < 1 else "")
            )
            constraint.set(
                "kind",
                exp.DefaultColumnConstraint(
                    this=exp.Anonymous(this="nextval", expressions=[exp.Literal.string(seq_name)])
                ),
            )
    return out


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 1


def temp_like(tree: exp.Expr) -> str | None:
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
