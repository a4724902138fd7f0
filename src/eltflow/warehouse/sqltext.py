"""Text-level helpers for Redshift SQL: statements, quotes and ``:name`` placeholders.

No parsing here, only scanning: these must work on any text, including what sqlglot cannot
parse and plpgsql bodies.
"""

from __future__ import annotations

import re
from typing import Literal

Target = Literal["duckdb", "postgres"]
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_]\w*)?\$")
_PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def placeholders(sql: str) -> tuple[str, ...]:
    """Names of ``:name`` placeholders outside quotes, in order of first use.

    >>> placeholders("select :a, ':b', x::int, :a, :c")
    ('a', 'c')
    """
    seen: dict[str, None] = {}
    for m in _PLACEHOLDER.finditer(blank_literals(sql)):
        seen.setdefault(m.group(1), None)
    return tuple(seen)


def blank_literals(sql: str) -> str:
    """Replace quoted strings and ``$$`` / ``$tag$`` bodies with spaces (same length)."""
    return re.sub(
        r"'(?:[^']|'')*'|(\$(?:[A-Za-z_]\w*)?\$).*?\1|\"(?:[^\"]|\"\")*\"",
        lambda m: " " * len(m.group(0)),
        sql,
        flags=re.S,
    )


def bind_style(sql: str, target: Target) -> str:
    """Rewrite ``:name`` outside string literals to the target's named bind style."""
    blanked = blank_literals(sql)
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


def split_script(script: str) -> list[str]:
    """Split a SQL script on ``;`` outside quotes, ``$$`` / ``$tag$`` bodies and comments.

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
        tag = _DOLLAR_TAG.match(script, i) if ch == "$" else None
        if ch in ("'", '"') or tag is not None:
            close = tag.group(0) if tag is not None else ch
            end = script.find(close, i + len(close))
            while tag is None and end >= 0 and script[end + 1 : end + 2] == close:
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
