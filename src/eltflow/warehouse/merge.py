"""Redshift MERGE on DuckDB and PostgreSQL (both have MERGE; two Redshift forms need help).

- ``WHEN NOT MATCHED THEN INSERT VALUES (...)`` without a column list: sqlglot reads the
  VALUES as a function call and would write ``INSERT (VALUES(...))``; :func:`fix_insert_values`
  puts it back.
- ``MERGE INTO t USING s ON cond REMOVE DUPLICATES`` is Redshift's simplified mode, which
  sqlglot cannot parse. Source: MERGE (https://docs.aws.amazon.com/redshift/latest/dg/r_MERGE.html):
  target and source have the same columns in the same order, rows of the target that match
  the source are replaced by the source's rows (duplicates among them removed), and source
  rows without a match are inserted. :func:`remove_duplicates` spells that as
  ``DELETE ... USING`` the source, then ``INSERT ... SELECT`` of the source; the engine runs
  the two back to back in the statement's connection (inside a batch's transaction they are
  atomic; a lone ExecuteStatement is not wrapped in one, unverified against Redshift).
"""

from __future__ import annotations

import re

from sqlglot import exp

_SIMPLIFIED = re.compile(
    r"^\s*MERGE\s+INTO\s+(?P<target>[\w.\"]+)\s+USING\s+(?P<source>[\w.\"]+)"
    r"(?:\s+(?:AS\s+)?(?P<alias>(?!ON\b)[\w\"]+))?\s+ON\s+(?P<cond>.+?)"
    r"\s+REMOVE\s+DUPLICATES\s*;?\s*$",
    re.I | re.S,
)


def remove_duplicates(sql: str) -> tuple[str, str] | None:
    """The DELETE and INSERT (Redshift SQL) for a simplified MERGE; None for any other text."""
    m = _SIMPLIFIED.match(sql)
    if m is None:
        return None
    target, source, alias, cond = m.group("target", "source", "alias", "cond")
    using = f"{source} {alias}" if alias else source
    return (
        f"DELETE FROM {target} USING {using} WHERE {cond}",
        f"INSERT INTO {target} SELECT * FROM {source}",
    )


def fix_insert_values(tree: exp.Expr) -> None:
    """``INSERT (VALUES(a, b))`` as sqlglot reads Redshift's ``INSERT VALUES (a, b)`` in MERGE."""
    if not isinstance(tree, exp.Merge):
        return
    for insert in tree.find_all(exp.Insert):
        this = insert.this
        if (
            isinstance(this, exp.Tuple)
            and len(this.expressions) == 1
            and isinstance(this.expressions[0], exp.Anonymous)
            and this.expressions[0].name.lower() == "values"
            and not insert.expression
        ):
            values = [e.copy() for e in this.expressions[0].expressions]
            insert.set("expression", exp.Tuple(expressions=values))
            insert.set("this", None)
