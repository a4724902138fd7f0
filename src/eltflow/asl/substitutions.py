"""``${Name}`` placeholders in a definition, as CloudFormation's DefinitionSubstitutions.

CloudFormation replaces each ``${Name}`` of a state machine's definition with the value given
for ``Name`` before it creates the machine; a placeholder with no value is left as written.
The one implementation here serves the stacks (``AWS::StepFunctions::StateMachine``), the
reference pipeline and the CLI's ``--substitution NAME=VALUE``.

A value replaces the placeholder's text. Inside a JSON string (``"TableName": "${Table}"``)
the value is escaped as a JSON string fragment when ``escape`` is true, so a SQL statement
with quotes or newlines keeps the definition valid JSON; outside a string
(``"Sqls": ${Statements}``) the value is pasted as written and must be JSON itself.
CloudFormation itself does plain text replacement (``escape=False``, what the stacks use).

:func:`unresolved` finds the placeholders left without a value and names each by the JSON
pointer of the field holding it, even where the placeholder stands outside a string and so
leaves the text invalid JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from eltflow.errors import Diagnostic

# JSONata's and JSONPath's own ``$`` uses (``$states``, ``$.x``, ``$$``) are never followed by
# ``{``. A name holds no blank, quote, backslash or brace, so a placeholder never spans the end
# of a JSON string.
PLACEHOLDER = re.compile(r'\$\{([^{}\s"\\$]+)\}')
UNRESOLVED = "UNRESOLVED_SUBSTITUTION"


def _string_states(text: str) -> list[bool]:
    """For each placeholder match of ``text`` in order, whether it sits inside a string."""
    starts = [m.start() for m in PLACEHOLDER.finditer(text)]
    out: list[bool] = []
    inside = False
    i = 0
    for start in starts:
        while i < start:
            c = text[i]
            if c == "\\" and inside:
                i += 2
                continue
            if c == '"':
                inside = not inside
            i += 1
        out.append(inside)
    return out


def substitute(text: str, values: Mapping[str, str], *, escape: bool = True) -> str:
    """Replace every ``${Name}`` that ``values`` has a value for; leave the others as written."""
    matches = list(PLACEHOLDER.finditer(text))
    if not matches:
        return text
    inside = _string_states(text) if escape else [False] * len(matches)
    parts: list[str] = []
    last = 0
    for match, in_string in zip(matches, inside, strict=True):
        name = match.group(1)
        if name not in values:
            continue
        value = values[name]
        parts.append(text[last : match.start()])
        parts.append(json.dumps(value, ensure_ascii=False)[1:-1] if in_string else value)
        last = match.end()
    parts.append(text[last:])
    return "".join(parts)


def placeholder_names(text: str) -> list[str]:
    """The names of the ``${Name}`` placeholders in ``text``, each once, in order."""
    return list(dict.fromkeys(m.group(1) for m in PLACEHOLDER.finditer(text)))


def unresolved(text: str) -> list[Diagnostic]:
    """One ERROR diagnostic per placeholder occurrence left in ``text``, located by pointer.

    A placeholder outside a string is quoted first so the text parses; if it still does not
    parse, the placeholders are reported at the top level (the JSON error is the validator's
    to report).
    """
    names = placeholder_names(text)
    if not names:
        return []
    inside = _string_states(text)
    quoted_parts: list[str] = []
    last = 0
    for match, in_string in zip(PLACEHOLDER.finditer(text), inside, strict=True):
        if not in_string:
            quoted_parts += [text[last : match.start()], json.dumps(match.group(0))]
            last = match.end()
    quoted_parts.append(text[last:])
    try:
        value = json.loads("".join(quoted_parts))
    except (json.JSONDecodeError, RecursionError):
        return [_diag("", name) for name in names]
    found: list[Diagnostic] = []
    for pointer, item in _strings(value, ""):
        for match in PLACEHOLDER.finditer(item):
            found.append(_diag(pointer, match.group(1)))
    return found


def _diag(pointer: str, name: str) -> Diagnostic:
    return Diagnostic(
        path=pointer,
        code=UNRESOLVED,
        message=f"The placeholder ${{{name}}} has no value",
        hint=f"pass --substitution {name}=VALUE or --substitutions FILE.json",
    )


def _strings(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    """Every string in a JSON tree, object keys included, with the pointer of its place."""
    if isinstance(value, str):
        yield pointer, value
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if PLACEHOLDER.search(key):
                yield where, key
            yield from _strings(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{pointer}/{index}")


__all__ = ["PLACEHOLDER", "UNRESOLVED", "placeholder_names", "substitute", "unresolved"]
