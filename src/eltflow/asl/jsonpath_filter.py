"""Filter expressions ``[?(...)]`` of ASL's JSONPath, with Jayway's comparison rules.

Supported: ``@``/``$`` paths, string/number/boolean/null/array literals, ``/regex/flags``,
``== != < <= > >= =~``, ``in nin subsetof anyof noneof size empty contains``, ``&& || !`` and
parentheses; a path on its own is an existence check (``[?(@.keep)]`` keeps items whose
``keep`` exists, whatever its value). Quirks kept from Jayway: a missing path compares as
*undefined* (``==`` false, ``!=`` true, orderings false); a number equals a string holding the
same number; ``=~`` must match the whole string.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from eltflow.asl.java import compact_json
from eltflow.asl.jsonpath import Path, PathNotFound, evaluate_parsed, parse_path
from eltflow.errors import StatesError
from eltflow.types import JSON

REGEX_SECONDS = 1.0
"""How long one ``=~`` match may run: a catastrophic pattern (``/(a|aa)+/``) would otherwise
hold the worker, and the store's write transaction, for hours. Wall time, so not
replay-exact; the timeout error is ours (unverified against AWS)."""

__all__ = ["accepts", "matching_paren", "parse_filter"]


class _Undefined:
    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Any = _Undefined()

_WORD_OPS = ("subsetof", "contains", "noneof", "anyof", "empty", "size", "nin", "in")
_SYMBOL_OPS = ("==", "!=", "<=", ">=", "=~", "<", ">")
_PATH_STOP = set(" )=!<>&|,~")


@dataclass(frozen=True, slots=True)
class PathRef:
    relative: bool  # "@" (the current item) or "$" (the document root)
    path: Path


@dataclass(frozen=True, slots=True)
class Literal:
    value: JSON


@dataclass(frozen=True, slots=True)
class Regex:
    pattern: re.Pattern[str]


@lru_cache(maxsize=256)
def _bounded(pattern: re.Pattern[str]) -> Any:
    import regex  # type: ignore[import-untyped]  # no stubs

    # The flags this parser sets (i, m, s) have the same values in both modules.
    return regex.compile(pattern.pattern, pattern.flags | regex.VERSION0)


def _fullmatch(pattern: re.Pattern[str], text: str) -> bool:
    """``pattern`` matches all of ``text``, run by ``regex`` under a timeout."""
    try:
        return _bounded(pattern).fullmatch(text, timeout=REGEX_SECONDS) is not None
    except TimeoutError:
        raise StatesError(
            "States.Runtime",
            f"The regular expression /{pattern.pattern}/ in a JSONPath filter timed out "
            f"after {REGEX_SECONDS:g} s",
        ) from None


@dataclass(frozen=True, slots=True)
class Exists:
    ref: PathRef


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True, slots=True)
class Logical:
    op: str  # "&&", "||", "!"
    args: tuple[Any, ...]


def matching_paren(text: str, open_pos: int) -> int:
    """Index of the ``)`` closing the ``(`` at ``open_pos`` (quotes respected), or -1."""
    depth = 0
    quote = ""
    i = open_pos
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


class _FilterParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str) -> ValueError:
        return ValueError(f"in filter ({self.text}) at {self.pos}: {message}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def spaces(self) -> None:
        while self.peek() == " ":
            self.pos += 1

    def startswith(self, s: str) -> bool:
        return self.text.startswith(s, self.pos)

    def parse(self) -> Any:
        node = self.disjunction()
        self.spaces()
        if self.pos != len(self.text):
            raise self.error(f"unexpected {self.text[self.pos :]!r}")
        return node

    def disjunction(self) -> Any:
        node = self.conjunction()
        while True:
            self.spaces()
            if not self.startswith("||"):
                return node
            self.pos += 2
            node = Logical("||", (node, self.conjunction()))

    def conjunction(self) -> Any:
        node = self.unary()
        while True:
            self.spaces()
            if not self.startswith("&&"):
                return node
            self.pos += 2
            node = Logical("&&", (node, self.unary()))

    def unary(self) -> Any:
        self.spaces()
        if self.peek() == "!" and not self.startswith("!="):
            self.pos += 1
            return Logical("!", (self.unary(),))
        if self.peek() == "(":
            self.pos += 1
            node = self.disjunction()
            self.spaces()
            if self.peek() != ")":
                raise self.error("expected ')'")
            self.pos += 1
            return node
        return self.comparison()

    def comparison(self) -> Any:
        left = self.operand()
        self.spaces()
        for op in _SYMBOL_OPS:
            if self.startswith(op):
                self.pos += len(op)
                break
        else:
            for op in _WORD_OPS:
                end = self.pos + len(op)
                if self.startswith(op) and (end >= len(self.text) or not self.text[end].isalnum()):
                    self.pos = end
                    break
            else:
                if isinstance(left, PathRef):
                    return Exists(left)
                raise self.error("expected a comparison operator")
        self.spaces()
        right = self.operand()
        return Compare(op, left, right)

    def operand(self) -> Any:
        self.spaces()
        ch = self.peek()
        if ch in ("@", "$"):
            return self.path()
        if ch in ("'", '"'):
            return Literal(self.string())
        if ch == "/":
            return self.regex()
        if ch in ("[", "{"):
            return Literal(self.json_literal())
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.startswith(word):
                self.pos += len(word)
                return Literal(value)
        m = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?").match(self.text, self.pos)
        if m:
            self.pos = m.end()
            text = m.group(0)
            return Literal(float(text) if m.group(1) or m.group(2) else int(text))
        raise self.error(f"unexpected {ch!r}")

    def path(self) -> PathRef:
        start = self.pos
        relative = self.peek() == "@"
        self.pos += 1
        while self.peek() in (".", "["):
            if self.peek() == "[":
                depth, quote = 0, ""
                while self.pos < len(self.text):
                    ch = self.text[self.pos]
                    self.pos += 1
                    if quote:
                        if ch == quote:
                            quote = ""
                    elif ch in "'\"":
                        quote = ch
                    elif ch == "[":
                        depth += 1
                    elif ch == "]":
                        depth -= 1
                        if depth == 0:
                            break
            else:
                self.pos += 1
                while self.peek() and self.peek() not in _PATH_STOP and self.peek() not in ".[":
                    self.pos += 1
        text = "$" + self.text[start + 1 : self.pos]
        try:
            return PathRef(relative, parse_path(text))
        except ValueError as e:
            raise self.error(str(e)) from None

    def string(self) -> str:
        quote = self.peek()
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            self.pos += 1
            if ch == "\\" and self.pos < len(self.text):
                out.append(self.text[self.pos])
                self.pos += 1
            elif ch == quote:
                return "".join(out)
            else:
                out.append(ch)
        raise self.error("unterminated string")

    def regex(self) -> Regex:
        end = self.pos + 1
        while end < len(self.text) and self.text[end] != "/":
            end += 2 if self.text[end] == "\\" else 1
        if end >= len(self.text):
            raise self.error("unterminated regular expression")
        body = self.text[self.pos + 1 : end]
        self.pos = end + 1
        flags = 0
        while self.peek() in ("i", "m", "s"):
            flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}[self.peek()]
            self.pos += 1
        try:
            return Regex(re.compile(body, flags))
        except re.error as e:
            raise self.error(f"bad regular expression: {e}") from None

    def json_literal(self) -> JSON:
        open_ch = self.peek()
        close_ch = "]" if open_ch == "[" else "}"
        depth, quote, i = 0, "", self.pos
        while i < len(self.text):
            ch = self.text[i]
            if quote:
                if ch == "\\":
                    i += 1
                elif ch == quote:
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch == open_ch:
                depth += 1
            elif ch == close_ch:
                depth -= 1
                if depth == 0:
                    break
            i += 1
        raw = self.text[self.pos : i + 1]
        self.pos = i + 1
        try:  # Jayway accepts single-quoted strings in literals: ['a','b']
            value: JSON = json.loads(re.sub(r"'((?:[^'\\]|\\.)*)'", r'"\1"', raw))
        except ValueError:
            raise self.error(f"bad literal {raw!r}") from None
        return value


def parse_filter(text: str) -> Any:
    """Parse the inside of ``[?( ... )]``; ``ValueError`` on bad syntax."""
    return _FilterParser(text).parse()


# --- evaluation -------------------------------------------------------------------------------


def _value(node: Any, item: JSON, root: JSON) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Regex):
        return node
    doc = item if node.relative else root
    try:
        return evaluate_parsed(node.path, doc)
    except PathNotFound:
        return UNDEFINED


def accepts(expr: Any, item: JSON, root: JSON) -> bool:
    """True if ``item`` passes the filter ``expr`` (``root`` is the whole document)."""
    if isinstance(expr, Logical):
        if expr.op == "!":
            return not accepts(expr.args[0], item, root)
        if expr.op == "&&":
            return all(accepts(a, item, root) for a in expr.args)
        return any(accepts(a, item, root) for a in expr.args)
    if isinstance(expr, Exists):
        found = _value(expr.ref, item, root)
        return found is not UNDEFINED and (expr.ref.path.definite or bool(found))
    assert isinstance(expr, Compare)
    left = _value(expr.left, item, root)
    right = _value(expr.right, item, root)
    return _compare(expr.op, left, right)


# A tuple, not ``int | float``: the union is rebuilt on every call (3x slower, per Choice rule).
_NUMBER_TYPES = (int, float)


def _is_number(v: Any) -> bool:
    return isinstance(v, _NUMBER_TYPES) and not isinstance(v, bool)


def _decimal(v: Any) -> Decimal | None:
    try:
        return Decimal(str(v)) if _is_number(v) else Decimal(v.strip())
    except (InvalidOperation, AttributeError):
        return None


def _equals(left: Any, right: Any) -> bool:
    if left is UNDEFINED or right is UNDEFINED:
        return False
    if _is_number(left) and (_is_number(right) or isinstance(right, str)):
        r = _decimal(right)
        return r is not None and r.is_finite() and Decimal(str(left)) == r
    if isinstance(left, str) and _is_number(right):
        return left == compact_json(right)
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, dict | list) or isinstance(right, dict | list):
        return type(left) is type(right) and bool(left == right)
    return type(left) is type(right) and bool(left == right)


def _order(left: Any, right: Any) -> int | None:
    if _is_number(left) and _is_number(right):
        return (left > right) - (left < right)  # type: ignore[no-any-return]
    if isinstance(left, str) and isinstance(right, str):
        a, b = left.encode("utf-16-be"), right.encode("utf-16-be")  # Java compares UTF-16
        return (a > b) - (a < b)
    return None


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return _equals(left, right)
    if op == "!=":
        return not _equals(left, right)
    if op in ("<", "<=", ">", ">="):
        c = _order(left, right)
        if c is None:
            return False
        return {"<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op]
    if op == "=~":
        if not isinstance(right, Regex) or left is UNDEFINED or left is None:
            return False
        text = left if isinstance(left, str) else compact_json(left)
        return _fullmatch(right.pattern, text)
    if op in ("in", "nin"):
        found = isinstance(right, list) and any(_equals(left, r) for r in right)
        return found if op == "in" else isinstance(right, list) and not found
    if op == "contains":
        if isinstance(left, str) and isinstance(right, str):
            return right in left
        return isinstance(left, list) and any(_equals(x, right) for x in left)
    if op == "size":
        return isinstance(left, str | list | dict) and _is_number(right) and len(left) == right
    if op == "empty":
        return isinstance(left, str | list) and isinstance(right, bool) and (not left) == right
    if not (isinstance(left, list) and isinstance(right, list)):
        return False
    if op == "subsetof":
        return all(any(_equals(x, r) for r in right) for x in left)
    if op == "anyof":
        return any(any(_equals(x, r) for r in right) for x in left)
    return not any(any(_equals(x, r) for r in right) for x in left)  # noneof
