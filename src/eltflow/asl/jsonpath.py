"""The JSONPath dialect of Amazon States Language, purpose-built.

AWS Step Functions evaluates JSONPath with Jayway JsonPath (Java) over Jackson nodes, and its
error causes quote Jayway's messages (``No results for path: $['x']``, ``Missing property in
path $['a']``). This module reproduces that dialect and those messages rather than wrapping a
general library: it is a small subset (``$``, ``.name``, ``['name']``, ``['a','b']``, ``[n]``,
``[n,m]``, ``[a:b]``, ``[*]``, ``..``, ``[?(filter)]``) and a direct evaluator is both faster
and closer to AWS than jsonpath-ng.

Semantics worth knowing (all Jayway's):
- A *definite* path (only single names and single indexes) yields one value or fails with
  :class:`PathNotFound`; an *indefinite* one yields a list, possibly empty, and never fails
  (AWS turns Jayway's errors on indefinite paths into ``[]``).
- Reading past the end of an array yields ``null`` (Jackson's ``ArrayNode.get`` leniency).
- JSONPath functions (``.length()``) are not supported by AWS: ``length()`` is a property name.

Paths are parsed once and cached. Three roots are recognised: ``$`` (the input), ``$$`` (the
context object) and ``$name`` (a workflow variable); callers pick the document for the root.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from eltflow.asl.java import compact_json, java_class, java_str
from eltflow.errors import StatesError
from eltflow.types import JSON

__all__ = [
    "Path",
    "PathNotFound",
    "evaluate",
    "evaluate_parsed",
    "is_reference_path",
    "parse_path",
    "set_at",
]

_JACKSON_PROVIDER = "com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider"


class PathNotFound(StatesError):
    """A definite path matched nothing. ``detail`` is Jayway's message (AWS quotes it).

    It is a ``States.Runtime`` error: callers that know which field was being evaluated
    re-raise it with AWS's message for that field.
    """

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__("States.Runtime", f"Invalid path '{path}' : {detail}")


# --- tokens -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prop:
    names: tuple[str, ...]

    def fragment(self) -> str:
        return "[" + ",".join(f"'{n}'" for n in self.names) + "]"


@dataclass(frozen=True, slots=True)
class Index:
    indexes: tuple[int, ...]

    def fragment(self) -> str:
        return "[" + ",".join(str(i) for i in self.indexes) + "]"


@dataclass(frozen=True, slots=True)
class Slice:
    start: int | None
    stop: int | None

    def fragment(self) -> str:
        start = "" if self.start is None else str(self.start)
        stop = "" if self.stop is None else str(self.stop)
        return f"[{start}:{stop}]"


@dataclass(frozen=True, slots=True)
class Wildcard:
    def fragment(self) -> str:
        return "[*]"


@dataclass(frozen=True, slots=True)
class Scan:
    def fragment(self) -> str:
        return ".."


@dataclass(frozen=True, slots=True)
class Filter:
    source: str
    expr: Any  # a node of eltflow.asl.jsonpath_filter (untyped: that module imports this one)

    def fragment(self) -> str:
        return "[?]"


Token = Prop | Index | Slice | Wildcard | Scan | Filter
Root = Literal["$", "$$", "var"]


def _token_definite(tok: Token, leaf: bool) -> bool:
    if isinstance(tok, Prop):
        return len(tok.names) == 1 or leaf
    if isinstance(tok, Index):
        return len(tok.indexes) == 1
    return False


@dataclass(frozen=True, slots=True)
class Path:
    """A parsed path. ``keys`` is set when every step is one name or one index (fast path)."""

    text: str
    root: Root
    variable: str | None
    tokens: tuple[Token, ...]
    definite: bool
    keys: tuple[str | int, ...] | None

    @property
    def is_reference(self) -> bool:
        """A Reference Path (ASL spec): it can only identify a single node."""
        return self.keys is not None

    def jayway(self) -> str:
        """The normalised form Jayway prints in messages: ``$['a'][0]``."""
        return "$" + "".join(t.fragment() for t in self.tokens)


# --- parsing ----------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str) -> ValueError:
        return ValueError(f"Invalid JSONPath {self.text!r} at position {self.pos}: {message}")

    def peek(self, n: int = 0) -> str:
        i = self.pos + n
        return self.text[i] if i < len(self.text) else ""

    def skip_spaces(self) -> None:
        while self.peek() == " ":
            self.pos += 1

    def parse(self) -> Path:
        text = self.text
        if not text.startswith("$"):
            raise self.error("a path must start with '$'")
        root: Root = "$"
        variable: str | None = None
        self.pos = 1
        if self.peek() == "$":
            root = "$$"
            self.pos = 2
        elif self.peek() not in ("", ".", "["):
            start = self.pos
            while self.peek() and self.peek() not in ".[":
                ch = self.peek()
                if not (ch.isalnum() or ch == "_"):
                    raise self.error(f"unexpected character {ch!r} in a variable name")
                self.pos += 1
            root, variable = "var", text[start : self.pos]
        tokens: list[Token] = []
        while self.pos < len(text):
            tokens.append(self.token(tokens))
        if tokens and isinstance(tokens[-1], Scan):
            raise self.error("a path must not end with '..'")
        return _make_path(text, root, variable, tuple(tokens))

    def token(self, tokens: list[Token]) -> Token:
        ch = self.peek()
        if ch == "[":
            return self.bracket()
        if ch != ".":
            raise self.error(f"expected '.' or '[' but found {ch!r}")
        if self.peek(1) == ".":
            if tokens and isinstance(tokens[-1], Scan):
                raise self.error("unexpected '...'")
            self.pos += 2
            if self.peek() == "[":
                return Scan()
            self.pos -= 1  # let the dot-name reader see `.name` after the scan
            return Scan()
        self.pos += 1
        if self.peek() == "*":
            self.pos += 1
            return Wildcard()
        if self.peek() == "[":
            # Jayway reads the token after a single '.' afresh: `$.[0]`, `$.['a']` and
            # `$.[?(@.x > 1)]` are `$[0]`, `$['a']`, `$[?(...)]` (AWS accepts them).
            return self.bracket()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ".[":
            if self.text[self.pos] == " ":
                raise self.error("use bracket notation ['my prop'] for names with blanks")
            self.pos += 1
        if self.pos == start:
            raise self.error("empty property name")
        return Prop((self.text[start : self.pos],))

    def bracket(self) -> Token:
        self.pos += 1
        self.skip_spaces()
        ch = self.peek()
        if ch == "?":
            return self.filter()
        if ch == "*":
            self.pos += 1
            self.close()
            return Wildcard()
        if ch in ("'", '"'):
            names = [self.quoted()]
            self.skip_spaces()
            while self.peek() == ",":
                self.pos += 1
                self.skip_spaces()
                if self.peek() not in ("'", '"'):
                    raise self.error("expected a quoted property name")
                names.append(self.quoted())
                self.skip_spaces()
            self.close()
            return Prop(tuple(names))
        start = self.pos
        end = self.text.find("]", start)
        if end < 0:
            raise self.error("missing ']'")
        body = self.text[start:end].replace(" ", "")
        self.pos = end + 1
        try:
            if ":" in body:
                # Jayway reads only the first two numbers: a step ([0:4:2]) is ignored
                parts = body.split(":")
                if len(parts) > 3 or parts[:2] == ["", ""]:
                    raise ValueError
                if len(parts) == 3 and parts[2]:
                    int(parts[2])
                return Slice(
                    int(parts[0]) if parts[0] else None, int(parts[1]) if parts[1] else None
                )
            return Index(tuple(int(p) for p in body.split(",")))
        except ValueError:
            self.pos = start
            raise self.error(f"bad array index or slice {body!r}") from None

    def quoted(self) -> str:
        """A quoted bracket name. A backslash keeps the next character from closing the name;
        it is dropped before the closing quote character or another backslash and kept before
        anything else: on AWS ``$['a\\"b']`` names the key ``a\\"b`` (a recorded execution),
        while ``$['it\\'s']`` names ``it's``. (Other escapes, ``\\n``, ``\\u0041``: unverified,
        read literally.)"""
        quote = self.peek()
        self.pos += 1
        out: list[str] = []
        while True:
            ch = self.peek()
            if ch == "":
                raise self.error("unterminated quoted name")
            self.pos += 1
            if ch == "\\" and self.peek():
                escaped = self.peek()
                out.append(escaped if escaped in (quote, "\\") else ch + escaped)
                self.pos += 1
            elif ch == quote:
                return "".join(out)
            else:
                out.append(ch)

    def close(self) -> None:
        self.skip_spaces()
        if self.peek() != "]":
            raise self.error("expected ']'")
        self.pos += 1

    def filter(self) -> Token:
        from eltflow.asl import jsonpath_filter as _filter  # cycle: it parses sub-paths

        self.pos += 1
        self.skip_spaces()
        if self.peek() != "(":
            raise self.error("expected '(' after '?'")
        end = _filter.matching_paren(self.text, self.pos)
        if end < 0:
            raise self.error("unbalanced '(' in filter")
        source = self.text[self.pos + 1 : end]
        try:
            expr = _filter.parse_filter(source)
        except ValueError as e:
            raise self.error(str(e)) from None
        self.pos = end + 1
        self.close()
        return Filter(source, expr)


def _make_path(text: str, root: Root, variable: str | None, tokens: tuple[Token, ...]) -> Path:
    n = len(tokens)
    definite = all(_token_definite(t, i == n - 1) for i, t in enumerate(tokens))
    keys: list[str | int] | None = []
    for t in tokens:
        if isinstance(t, Prop) and len(t.names) == 1:
            keys.append(t.names[0])  # type: ignore[union-attr]
        elif isinstance(t, Index) and len(t.indexes) == 1:
            keys.append(t.indexes[0])  # type: ignore[union-attr]
        else:
            keys = None
            break
    return Path(text, root, variable, tokens, definite, None if keys is None else tuple(keys))


@lru_cache(maxsize=4096)
def parse_path(text: str) -> Path:
    """Parse a JSONPath; raise ``ValueError`` naming the position of a syntax error."""
    if not isinstance(text, str):
        raise ValueError(f"Invalid JSONPath {text!r}: not a string")
    return _Parser(text).parse()


def is_reference_path(text: str) -> bool:
    """True if ``text`` is a Reference Path: only single names and indexes (no wildcard)."""
    try:
        return parse_path(text).is_reference
    except ValueError:
        return False


# --- evaluation -------------------------------------------------------------------------------


def evaluate(path: str, data: JSON) -> JSON:
    """Evaluate ``path`` (its tokens; the root is the caller's business) against ``data``.

    A definite path returns the value or raises :class:`PathNotFound`; an indefinite path
    returns the list of matches.
    """
    return evaluate_parsed(parse_path(path), data)


def evaluate_parsed(p: Path, data: JSON, *, strict: bool = False) -> JSON:
    """Evaluate a parsed path; see :func:`evaluate`.

    ``strict`` treats an array index past either end as a miss (:class:`PathNotFound`) instead
    of Jackson's ``null``: AWS resolves intrinsic function arguments that way (``$.items[5]``
    is "could not be found"), while a plain ``"v.$": "$.items[5]"`` gets ``null``.
    """
    keys = p.keys
    if keys is not None:
        node: Any = data
        for k in keys:  # fast path: plain dict/list walking, errors rebuilt by the slow path
            if isinstance(k, str):
                if type(node) is not dict or k not in node:
                    break
                node = node[k]
            else:
                if type(node) is not list:
                    break
                i = k + len(node) if k < 0 else k
                if 0 <= i < len(node):
                    node = node[i]
                elif strict:
                    raise PathNotFound(p.text, f"No results for path: {p.jayway()}")
                else:
                    node = None
        else:
            return node  # type: ignore[no-any-return]
    results: list[JSON] = []
    if p.definite:
        _Evaluator(p, data, results).walk(0, "$", data, True)
        if not results:
            raise PathNotFound(p.text, f"No results for path: {p.jayway()}")
        return results[0]
    try:
        _Evaluator(p, data, results).walk(0, "$", data, True)
    except PathNotFound:
        # AWS returns an empty list, not an error, when an indefinite path (wildcard, slice,
        # filter, scan) finds nothing - even past a missing property ($.missing[*]).
        return []
    return results


def compile_input_path(text: str) -> Callable[[JSON], JSON] | None:
    """A function of the input giving what :func:`evaluate_parsed` gives for ``text`` when
    the path is rooted at ``$`` and every step is one name or one in-range index (its fast
    path), or None for any other path. The function raises (``KeyError``, ``IndexError``,
    ``TypeError``, :class:`PathNotFound`) wherever ``evaluate_parsed`` would leave its fast
    path, strict or not: the caller then evaluates the general way, which words the error."""
    try:
        p = parse_path(text)
    except ValueError:
        return None
    keys = p.keys
    if p.root != "$" or keys is None:
        return None
    if not keys:
        return _identity
    if len(keys) == 1 and type(keys[0]) is str:
        key = keys[0]

        def member(data: JSON) -> JSON:
            if type(data) is not dict:
                raise PathNotFound(text, "not an object")
            return data[key]  # KeyError when absent

        return member

    def walk(data: JSON) -> JSON:
        node: Any = data
        for k in keys:
            if type(k) is str:
                if type(node) is not dict:
                    raise PathNotFound(text, "not an object")
                node = node[k]
            else:
                if type(node) is not list:
                    raise PathNotFound(text, "not an array")
                assert isinstance(k, int)
                i = k + len(node) if k < 0 else k
                if not 0 <= i < len(node):
                    raise PathNotFound(text, "index out of range")
                node = node[i]
        return node  # type: ignore[no-any-return]

    return walk


def _identity(data: JSON) -> JSON:
    return data


class _Evaluator:
    """Jayway's token-chain evaluation, including when it raises and when it stays quiet."""

    def __init__(self, path: Path, root_doc: JSON, out: list[JSON]) -> None:
        self.path = path
        self.tokens = path.tokens
        self.root_doc = root_doc
        self.out = out
        self.last = len(path.tokens) - 1
        # Jayway only raises while every token so far was definite; below a wildcard, slice,
        # filter or scan nothing can fail, so paths for messages are not even built there.
        self.definite = tuple(_token_definite(t, False) for t in path.tokens)

    def fail(self, detail: str) -> PathNotFound:
        return PathNotFound(self.path.text, detail)

    def emit(self, i: int, cur: str, value: JSON, upstream: bool) -> None:
        if i == self.last:
            self.out.append(value)
        else:
            self.walk(i + 1, cur, value, upstream and self.definite[i])

    def walk(self, i: int, cur: str, model: JSON, upstream: bool) -> None:
        if i == len(self.tokens):
            self.out.append(model)
            return
        tok = self.tokens[i]
        leaf = i == len(self.tokens) - 1
        if isinstance(tok, Prop):
            self.prop(i, tok, leaf, cur, model, upstream)
        elif isinstance(tok, Index):
            if self.check_array(i, cur, model, upstream):
                assert isinstance(model, list)
                for idx in tok.indexes:
                    self.index(i, idx, cur, model, upstream)
        elif isinstance(tok, Slice):
            if self.check_array(i, cur, model, upstream):
                assert isinstance(model, list)
                for idx in _slice_indexes(tok, len(model)):
                    self.index(i, idx, cur, model, upstream)
        elif isinstance(tok, Wildcard):
            if isinstance(model, dict):
                for key in model:
                    self.emit(i, "", model[key], False)  # below a wildcard: nothing can fail
            elif isinstance(model, list):
                for item in model:
                    self.emit(i, "", item, False)
        elif isinstance(tok, Scan):
            self.scan(i + 1, cur, model)
        else:
            self.filter(i, tok, cur, model, upstream)

    def prop(self, i: int, tok: Prop, leaf: bool, cur: str, model: JSON, upstream: bool) -> None:
        if not isinstance(model, dict):
            if upstream:
                raise self.fail(
                    f"Expected to find an object with property {tok.fragment()} in path {cur} "
                    f"but found '{java_class(model)}'. This is not a json object according to "
                    f"the JsonProvider: '{_JACKSON_PROVIDER}'."
                )
            return
        if len(tok.names) > 1 and leaf:
            self.out.append({n: model[n] for n in tok.names if n in model})
            return
        definite = len(tok.names) == 1
        for name in tok.names:
            here = f"{cur}['{name}']" if upstream else ""  # only messages need it
            if name not in model:
                if not leaf and upstream and definite:
                    raise self.fail(f"Missing property in path {here}")
                continue
            self.emit(i, here, model[name], upstream)

    def check_array(self, i: int, cur: str, model: JSON, upstream: bool) -> bool:
        if model is None:
            if upstream:
                raise self.fail(f"The path {cur} is null")
            return False
        if not isinstance(model, list):
            if upstream:
                rest = "".join(t.fragment() for t in self.tokens[i:])
                raise self.fail(
                    f"Filter: {rest} can only be applied to arrays. "
                    f"Current context is: {java_str(model)}"
                )
            return False
        return True

    def index(self, i: int, idx: int, cur: str, model: list[JSON], upstream: bool) -> None:
        eff = idx + len(model) if idx < 0 else idx
        hit = model[eff] if 0 <= eff < len(model) else None  # Jackson: out of range is null
        self.emit(i, f"{cur}[{idx}]" if upstream else "", hit, upstream)

    def scan(self, i: int, cur: str, model: JSON) -> None:
        """``..``: apply token ``i`` at every node (pre-order) where it can apply."""
        tok = self.tokens[i]
        applies = False
        if isinstance(tok, Prop):
            applies = isinstance(model, dict) and (
                len(tok.names) > 1 or all(n in model for n in tok.names)
            )
        elif isinstance(tok, Index | Slice):
            applies = isinstance(model, list)
        elif isinstance(tok, Wildcard | Filter):
            applies = isinstance(model, dict | list)
        if applies:
            self.walk(i, cur, model, False)
        if isinstance(model, dict):
            for value in model.values():
                self.scan(i, "", value)
        elif isinstance(model, list):
            for value in model:
                self.scan(i, "", value)

    def filter(self, i: int, tok: Filter, cur: str, model: JSON, upstream: bool) -> None:
        from eltflow.asl import jsonpath_filter as _filter

        if isinstance(model, dict):
            if _filter.accepts(tok.expr, model, self.root_doc):
                self.emit(i, "", model, False)
        elif isinstance(model, list):
            for item in model:
                if _filter.accepts(tok.expr, item, self.root_doc):
                    self.emit(i, "", item, False)
        elif upstream:
            rest = "".join(t.fragment() for t in self.tokens[i:])
            raise self.fail(
                f"Filter: {rest} can not be applied to primitives. "
                f"Current context is: {java_str(model)}"
            )


def _slice_indexes(tok: Slice, length: int) -> range:
    # Jayway's ArraySliceOperation, including its quirk that a negative start is only
    # adjusted in the open-ended `[a:]` form.
    if length == 0:
        return range(0)
    if tok.stop is None:
        start = tok.start or 0
        if start < 0:
            start += length
        return range(max(0, start), length)
    stop = tok.stop
    if tok.start is None:
        if stop < 0:
            stop += length
        return range(0, min(length, stop))
    return range(tok.start, min(length, stop)) if tok.start >= 0 else range(0)


# --- writing (ResultPath) ---------------------------------------------------------------------


class _NoMatch(Exception):
    pass


def set_at(path: str, data: JSON, value: JSON) -> JSON:
    """Return a copy of ``data`` with ``value`` placed at Reference Path ``path``.

    Missing intermediate objects are created; only the containers along the path are copied
    (copy-on-write), so ``data`` is never mutated and untouched subtrees are shared.
    Raises ``States.ResultPathMatchFailure`` when a step is not an object (or an array index
    outside the array); ``ValueError`` when ``path`` is not a ``$``-rooted Reference Path.
    """
    p = parse_path(path)
    if p.keys is None or p.root != "$":
        raise ValueError(f"{path!r} is not a Reference Path")
    try:
        return _set(data, p.keys, 0, value)
    except _NoMatch:
        raise StatesError(
            "States.ResultPathMatchFailure",
            f"Unable to apply ReferencePath {path} to input {compact_json(data)}",
        ) from None


def _set(node: JSON, keys: tuple[str | int, ...], i: int, value: JSON) -> JSON:
    if i == len(keys):
        return value
    key = keys[i]
    if isinstance(key, str):
        if not isinstance(node, dict):
            raise _NoMatch
        copy = dict(node)
        copy[key] = _set(node.get(key, {}), keys, i + 1, value)
        return copy
    if not isinstance(node, list):
        raise _NoMatch
    idx = key + len(node) if key < 0 else key
    if not 0 <= idx < len(node):
        raise _NoMatch
    items = list(node)
    items[idx] = _set(node[idx], keys, i + 1, value)
    return items
