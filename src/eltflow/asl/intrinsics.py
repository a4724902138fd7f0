"""Intrinsic functions (``States.Format(...)`` and friends) for JSONPath states.

A call is parsed once into a small tree (:class:`Call`, :class:`Literal`, :class:`Path`) and
evaluated against a ``resolve_path`` callback that knows the state input, the context object and
workflow variables. Evaluation is pure: randomness comes only from the ``random.Random`` passed
in, so a replay that reseeds it the same way makes the same choices.

What AWS does, as recorded against the real service (LocalStack snapshot tests, Floci's
AWS-captured tests, an AWS-run conformance corpus), and which this module follows:

- A failure at run time is ``States.Runtime`` -- not ``States.IntrinsicFailure`` -- so no Catch,
  not even ``States.ALL``, handles it. The cause names the whole expression as written:
  ``The function 'States.MathAdd($.a, 1)' had the following error: Invalid arguments in
  States.MathAdd``; a path argument that matches nothing says ``The JsonPath argument for the
  field '$.a' could not be found in the input '{"b":1}'`` (the input as compact JSON).
  The interpreter prefixes "An error occurred while executing the state ..." (see
  :func:`eltflow.asl.errors.state_failure_cause`).
- Wrong argument counts are run-time errors too (AWS accepts ``States.Hash('x')`` at creation).
- ``ArrayPartition``, ``ArrayRange``, ``ArrayGetItem`` and ``MathRandom`` truncate fractional
  numbers towards zero; ``MathAdd`` rounds to the nearest integer and works in 32-bit ints.
- ``StringSplit`` splits on any of the delimiter's characters and drops empty tokens.
- ``Format`` renders ``null`` as ``null`` and objects/arrays the way Java prints maps and lists.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, TypeAlias

from eltflow.asl import errors
from eltflow.asl.java import java_to_string
from eltflow.asl.jsonpath import PathNotFound
from eltflow.errors import StatesError
from eltflow.types import JSON

FAILURE_ERROR: Final = errors.RUNTIME
"""The error a failing intrinsic raises on AWS: ``States.Runtime`` (terminal, uncatchable), as
recorded from real executions -- not the ``States.IntrinsicFailure`` the docs list."""

MAX_NESTING: Final = 10
""""You can nest up to 10 intrinsic functions within a field" (intrinsic functions page)."""

MAX_STRING_INPUT: Final = 10_000
"""Base64Encode, Base64Decode and Hash accept inputs of at most 10,000 characters."""

MAX_RANGE_ITEMS: Final = 1_000
"""ArrayRange: "The newly generated array can't contain more than 1000 items"."""

_INT32_MIN: Final = -(2**31)
_INT32_MAX: Final = 2**31 - 1
_HASH_ALGORITHMS: Final = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


# ---------------------------------------------------------------------------------------------
# Syntax tree and parser
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal argument. ``raw`` keeps a string literal's source text (escapes included) so
    ``States.Format`` can tell an escaped ``\\{`` from a placeholder brace."""

    value: JSON
    raw: str | None = None


@dataclass(frozen=True, slots=True)
class Path:
    """A path argument (``$.a``, ``$$.Execution.Id``, ``$var.x``), resolved at run time."""

    path: str


@dataclass(frozen=True, slots=True)
class Call:
    """``States.<Name>(args...)``."""

    name: str
    args: tuple[Argument, ...]


Argument: TypeAlias = "Literal | Path | Call"


class IntrinsicSyntaxError(ValueError):
    """The text is not a well-formed intrinsic function call."""


_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_KEYWORDS: Final[dict[str, JSON]] = {"true": True, "false": False, "null": None}
_ESCAPABLE: Final = frozenset("'{}\\")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> IntrinsicSyntaxError:
        return IntrinsicSyntaxError(f"{message} at position {self.pos}")

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def parse(self) -> Call:
        self.skip_spaces()
        call = self.call(depth=1)
        self.skip_spaces()
        if self.pos != len(self.text):
            raise self.fail(f"unexpected text {self.text[self.pos :]!r} after the call")
        return call

    def call(self, depth: int) -> Call:
        match = _NAME.match(self.text, self.pos)
        if match is None:
            raise self.fail("expected an intrinsic function call such as States.Format(...)")
        name = match.group(0)
        if name not in FUNCTIONS:
            raise self.fail(f"unknown intrinsic function {name!r}")
        if depth > MAX_NESTING:
            raise self.fail(f"intrinsic functions can be nested at most {MAX_NESTING} deep")
        self.pos = match.end()
        self.skip_spaces()
        if self.pos >= len(self.text) or self.text[self.pos] != "(":
            raise self.fail(f"expected '(' after {name}")
        self.pos += 1
        args: list[Argument] = []
        self.skip_spaces()
        if self.pos < len(self.text) and self.text[self.pos] == ")":
            self.pos += 1
            return Call(name, ())
        while True:
            self.skip_spaces()
            args.append(self.argument(depth))
            self.skip_spaces()
            if self.pos >= len(self.text):
                raise self.fail(f"missing ')' to close {name}(")
            separator = self.text[self.pos]
            self.pos += 1
            if separator == ")":
                return Call(name, tuple(args))
            if separator != ",":
                self.pos -= 1
                raise self.fail(f"expected ',' or ')' but found {separator!r}")

    def argument(self, depth: int) -> Argument:
        if self.pos >= len(self.text):
            raise self.fail("expected an argument")
        char = self.text[self.pos]
        if char == "'":
            return self.string()
        if char == "$":
            return self.path()
        if self.text.startswith("States.", self.pos):
            return self.call(depth + 1)
        number = _NUMBER.match(self.text, self.pos)
        if number is not None:
            self.pos = number.end()
            text = number.group(0)
            is_float = number.group(1) is not None or number.group(2) is not None
            return Literal(float(text) if is_float else int(text))
        for keyword, value in _KEYWORDS.items():
            end = self.pos + len(keyword)
            if self.text.startswith(keyword, self.pos) and not self.text[end : end + 1].isalnum():
                self.pos = end
                return Literal(value)
        raise self.fail(f"unexpected character {char!r}")

    def string(self) -> Literal:
        start = self.pos + 1
        self.pos = start
        chars: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\":
                escaped = self.text[self.pos + 1 : self.pos + 2]
                if escaped not in _ESCAPABLE or not escaped:
                    raise self.fail("a backslash in a string literal must escape one of ' { } \\")
                chars.append(escaped)
                self.pos += 2
                continue
            if char == "'":
                raw = self.text[start : self.pos]
                self.pos += 1
                return Literal("".join(chars), raw)
            chars.append(char)
            self.pos += 1
        raise self.fail("unterminated string literal")

    def path(self) -> Path:
        # A path runs to the next ',' or ')' outside brackets; brackets may hold quoted names
        # and filter expressions with their own parentheses and commas.
        start = self.pos
        depth = 0
        quote: str | None = None
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote is not None:
                if char == quote:
                    quote = None
            elif char in "'\"" and depth > 0:
                quote = char
            elif char in "[(" and (depth > 0 or char == "["):
                depth += 1
            elif char in "])" and depth > 0:
                depth -= 1
            elif char in ",)":
                break
            self.pos += 1
        path = self.text[start : self.pos].rstrip()
        if quote is not None or depth > 0:
            raise self.fail(f"unterminated path {path!r}")
        return Path(path)


@lru_cache(maxsize=2048)
def parse_intrinsic(expression: str) -> Call:
    """Parse an intrinsic call; raise :class:`IntrinsicSyntaxError` saying what and where."""
    return _Parser(expression).parse()


def check_syntax(expression: str) -> str | None:
    """For the validator: ``None`` if ``expression`` is a well-formed call, else the problem.

    Argument counts and types are not checked: AWS accepts those definitions and fails the
    execution instead.
    """
    try:
        parse_intrinsic(expression)
    except IntrinsicSyntaxError as exc:
        return str(exc)
    return None


def is_intrinsic(value: str) -> bool:
    """Whether a ``.$`` field's value is an intrinsic call rather than a path."""
    return value.startswith("States.")


# ---------------------------------------------------------------------------------------------
# java.util.Random -- AWS's runtime is Java, and seeded results should match it
# ---------------------------------------------------------------------------------------------


class JavaRandom:
    """``java.util.Random``'s 48-bit LCG, so seeded draws equal AWS's.

    AWS's JSONata ``$random(42)`` is ``0.7275636800328681``, which is ``new
    java.util.Random(42).nextDouble()``.
    """

    _MULTIPLIER: Final = 0x5DEECE66D
    _MASK: Final = (1 << 48) - 1

    def __init__(self, seed: int) -> None:
        self._seed = (seed ^ self._MULTIPLIER) & self._MASK

    def _next(self, bits: int) -> int:
        self._seed = (self._seed * self._MULTIPLIER + 0xB) & self._MASK
        value = self._seed >> (48 - bits)
        return value - (1 << 32) if value >= 1 << 31 else value  # Java's (int) cast

    def next_double(self) -> float:
        return ((self._next(26) << 27) + self._next(27)) * (1.0 / (1 << 53))

    def next_int(self, bound: int) -> int:
        """``nextInt(bound)``: uniform in ``[0, bound)``, Java's rejection loop included."""
        if bound <= 0:
            raise ValueError("bound must be positive")
        r = self._next(31)
        m = bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        while True:
            r = u % bound
            total = (u - r + m) & 0xFFFFFFFF
            if total < 0x80000000:  # Java's int overflow check: u - r + m must stay >= 0
                return r
            u = self._next(31)


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


class _Invalid(Exception):
    """An argument problem; becomes AWS's ``States.Runtime`` cause for the whole expression."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _invalid(name: str) -> _Invalid:
    return _Invalid(f"Invalid arguments in {name}")


def _compact(value: JSON) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def evaluate(
    expression: str,
    resolve_path: Callable[[str], JSON],
    rng: random.Random,
    *,
    state_input: JSON = None,
) -> JSON:
    """Evaluate an intrinsic call such as ``States.Format('x={}', $.x)``.

    ``resolve_path`` resolves every path argument (``$.a``, ``$$.Execution.Id``, ``$var``) and
    raises :class:`eltflow.asl.jsonpath.PathNotFound` (or any ``LookupError``) when nothing
    matches; another ``StatesError``'s cause is kept inside the function's cause.
    ``state_input`` is only quoted in the not-found cause, as AWS does. Failures raise
    ``StatesError('States.Runtime', cause)``.
    """
    try:
        call = parse_intrinsic(expression)
        return _Evaluator(resolve_path, rng, state_input).call(call)
    except IntrinsicSyntaxError as exc:
        detail = f"Invalid intrinsic function call: {exc}"
    except _Invalid as exc:
        detail = exc.detail
    raise StatesError(
        FAILURE_ERROR, f"The function '{expression}' had the following error: {detail}"
    )


class _Evaluator:
    def __init__(
        self, resolve_path: Callable[[str], JSON], rng: random.Random, state_input: JSON
    ) -> None:
        self.resolve_path = resolve_path
        self.rng = rng
        self.state_input = state_input

    def argument(self, node: Argument) -> JSON:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Call):
            return self.call(node)
        try:
            return self.resolve_path(node.path)
        except (PathNotFound, LookupError):
            # AWS reports a context path rewritten against '$' and always quotes the state input.
            shown = node.path[1:] if node.path.startswith("$$") else node.path
            raise _Invalid(
                f"The JsonPath argument for the field '{shown}' could not be found in the "
                f"input '{_compact(self.state_input)}'"
            ) from None
        except StatesError as exc:
            raise _Invalid(exc.cause or exc.error) from None

    def call(self, node: Call) -> JSON:
        low, high, function = FUNCTIONS[node.name]
        if len(node.args) < low or (high is not None and len(node.args) > high):
            raise _invalid(node.name)
        values = [self.argument(arg) for arg in node.args]
        if node.name == "States.Format":
            first = node.args[0]
            raw = first.raw if isinstance(first, Literal) else None
            return _format(values, raw)
        return function(values, self.rng)


# Every function but these two is a pure function of its arguments (no draw from ``rng``).
_DRAWING: Final = frozenset({"States.MathRandom", "States.UUID"})


def compile_call(
    expression: str, compile_path: Callable[[str], Callable[[JSON], JSON] | None]
) -> Callable[[JSON], JSON] | None:
    """``expression`` compiled once into a function of the state's input, or None.

    Only for calls that draw no random number and whose path arguments ``compile_path``
    compiles (paths into the input); the function gives what :func:`evaluate` gives when the
    call succeeds and raises (any exception) otherwise, having drawn nothing, so the caller
    can evaluate the general way, which words AWS's error. (A Choice loop's ``MathAdd``
    went through ~20 Python calls per evaluation this way.)"""
    try:
        call = parse_intrinsic(expression)
    except IntrinsicSyntaxError:
        return None
    return _compile(call, compile_path)


def _compile(
    node: Call, compile_path: Callable[[str], Callable[[JSON], JSON] | None]
) -> Callable[[JSON], JSON] | None:
    low, high, function = FUNCTIONS[node.name]
    if (
        node.name in _DRAWING
        or len(node.args) < low
        or (high is not None and len(node.args) > high)
    ):
        return None
    getters: list[Callable[[JSON], JSON]] = []
    for arg in node.args:
        getter: Callable[[JSON], JSON] | None
        if isinstance(arg, Literal):
            getter = _constant(arg.value)
        elif isinstance(arg, Call):
            getter = _compile(arg, compile_path)
        else:
            getter = compile_path(arg.path)
        if getter is None:
            return None
        getters.append(getter)
    if node.name == "States.Format":
        first = node.args[0]
        raw = first.raw if isinstance(first, Literal) else None

        def format_call(data: JSON) -> JSON:
            return _format([g(data) for g in getters], raw)

        return format_call
    no_rng: Any = None  # never read: _DRAWING's functions are not compiled
    if len(getters) == 2:
        a, b = getters

        def binary(data: JSON) -> JSON:
            return function([a(data), b(data)], no_rng)

        return binary

    def call(data: JSON) -> JSON:
        return function([g(data) for g in getters], no_rng)

    return call


def _constant(value: JSON) -> Callable[[JSON], JSON]:
    return lambda _data: value


# --- argument helpers -------------------------------------------------------------------------


# A tuple, not ``int | float``: the union is rebuilt on every call (3x slower, per Choice rule).
_NUMBER_TYPES = (int, float)


def _is_number(value: JSON) -> bool:
    return isinstance(value, _NUMBER_TYPES) and not isinstance(value, bool)


def _truncated(value: JSON, name: str) -> int:
    """An integer argument, fractional part dropped towards zero (AWS's Java ``(int)`` cast)."""
    if not _is_number(value):
        raise _invalid(name)
    assert isinstance(value, _NUMBER_TYPES)
    if isinstance(value, float) and not math.isfinite(value):
        raise _invalid(name)
    return int(value)


def _rounded(value: JSON, name: str) -> int:
    """Nearest integer, halves up (Java ``Math.round``), as MathAdd documents."""
    if type(value) is int:  # the usual argument, first: the exact type, so never a bool
        return value
    if not _is_number(value):
        raise _invalid(name)
    assert isinstance(value, _NUMBER_TYPES)
    if isinstance(value, int):
        return value
    if not math.isfinite(value):
        raise _invalid(name)
    return math.floor(value + 0.5)


def _string(value: JSON, name: str) -> str:
    if not isinstance(value, str):
        raise _invalid(name)
    return value


def _array(value: JSON, name: str) -> list[JSON]:
    if not isinstance(value, list):
        raise _invalid(name)
    return value


def _key(value: JSON) -> object:
    """A hashable identity for JSON equality: booleans are not numbers, 1 equals 1.0."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, _NUMBER_TYPES):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if value is None:
        return ("z",)
    if isinstance(value, list):
        return ("a", tuple(_key(item) for item in value))
    return ("o", tuple(sorted((k, _key(v)) for k, v in value.items())))


# --- the 18 functions -------------------------------------------------------------------------

Impl: TypeAlias = Callable[[list[JSON], random.Random], JSON]


def _array_fn(args: list[JSON], rng: random.Random) -> JSON:
    return list(args)


def _array_partition(args: list[JSON], rng: random.Random) -> JSON:
    name = "States.ArrayPartition"
    items = _array(args[0], name)
    size = _truncated(args[1], name)
    if size <= 0:
        raise _invalid(name)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _array_contains(args: list[JSON], rng: random.Random) -> JSON:
    items = _array(args[0], "States.ArrayContains")
    wanted = _key(args[1])
    return any(_key(item) == wanted for item in items)


def _array_range(args: list[JSON], rng: random.Random) -> JSON:
    name = "States.ArrayRange"
    start, end, step = (_truncated(arg, name) for arg in args)
    if step == 0:
        raise _invalid(name)
    count = max(0, (end - start) // step + 1)
    if count > MAX_RANGE_ITEMS:
        raise _invalid(name)
    return list(range(start, end + (1 if step > 0 else -1), step))


def _array_get_item(args: list[JSON], rng: random.Random) -> JSON:
    name = "States.ArrayGetItem"
    items = _array(args[0], name)
    index = _truncated(args[1], name)
    if index < 0:
        raise _invalid(name)
    if index >= len(items):
        # AWS answers null for any index into an empty array but fails past the end of a
        # non-empty one (AWS-run conformance corpus, ArrayGetItem AGI-009/AGI-011).
        if not items:
            return None
        raise _invalid(name)
    return items[index]


def _array_length(args: list[JSON], rng: random.Random) -> JSON:
    return len(_array(args[0], "States.ArrayLength"))


def _array_unique(args: list[JSON], rng: random.Random) -> JSON:
    seen: set[object] = set()
    unique: list[JSON] = []
    for item in _array(args[0], "States.ArrayUnique"):
        key = _key(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def _limited_string(value: JSON, name: str) -> str:
    text = _string(value, name)
    if len(text) > MAX_STRING_INPUT:
        raise _invalid(name)
    return text


def _base64_encode(args: list[JSON], rng: random.Random) -> JSON:
    text = _limited_string(args[0], "States.Base64Encode")
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _base64_decode(args: list[JSON], rng: random.Random) -> JSON:
    # AWS decodes leniently, like Java's MIME decoder: characters outside the alphabet are
    # skipped, decoding stops at padding, and a short final group still yields its bytes.
    text = _limited_string(args[0], "States.Base64Decode")
    kept = "".join(c for c in text if c.isascii() and (c.isalnum() or c in "+/="))
    data = kept.split("=", 1)[0]
    if len(data) % 4 == 1:
        data = data[:-1]
    data += "=" * (-len(data) % 4)
    return base64.b64decode(data).decode("utf-8", errors="replace")


def _hash(args: list[JSON], rng: random.Random) -> JSON:
    name = "States.Hash"
    algorithm = args[1]
    if not isinstance(algorithm, str) or algorithm not in _HASH_ALGORITHMS:
        raise _invalid(name)
    # AWS hashes a non-string value's text instead of refusing it.
    data = args[0] if isinstance(args[0], str) else _compact(args[0])
    if len(data) > MAX_STRING_INPUT:
        raise _invalid(name)
    return hashlib.new(_HASH_ALGORITHMS[algorithm], data.encode("utf-8")).hexdigest()


def _json_merge(args: list[JSON], rng: random.Random) -> JSON:
    name = "States.JsonMerge"
    first, second, deep = args
    if not isinstance(first, dict) or not isinstance(second, dict):
        raise _invalid(name)
    # "Step Functions only supports the shallow merging mode; therefore, you must specify the
    # boolean value as false."
    if deep is not False:
        raise _invalid(name)
    return {**first, **second}


_JSON_WHITESPACE = " \t\n\r"


def _string_to_json(args: list[JSON], rng: random.Random) -> JSON:
    name = "States.StringToJson"
    text = _string(args[0], name)
    if not text.strip(_JSON_WHITESPACE):
        # AWS's JSON reader reads no document at all from an empty or blank string: null.
        return None
    try:
        parsed: JSON = json.loads(text)
    except ValueError:
        raise _invalid(name) from None
    return parsed


def _json_to_string(args: list[JSON], rng: random.Random) -> JSON:
    return _compact(args[0])


def _math_random(args: list[JSON], rng: random.Random) -> JSON:
    name = "States.MathRandom"
    start = _truncated(args[0], name)
    end = _truncated(args[1], name)
    if start >= end:
        raise _invalid(name)
    if len(args) == 3:
        # The seeded draw follows java.util.Random, which AWS's Java runtime uses.
        seed = _truncated(args[2], name)
        span = end - start
        if span > _INT32_MAX:  # beyond Java's int range: still deterministic per seed
            return random.Random(seed).randrange(start, end)
        return start + JavaRandom(seed).next_int(span)
    return rng.randrange(start, end)


def _math_add(args: list[JSON], rng: random.Random) -> JSON:
    name = "States.MathAdd"
    first, second = args  # the arity is checked before the call
    first, second = _rounded(first, name), _rounded(second, name)
    total = first + second
    # Spelled out, not all() over a generator: this runs once per loop iteration of a counter.
    if not (
        _INT32_MIN <= first <= _INT32_MAX
        and _INT32_MIN <= second <= _INT32_MAX
        and _INT32_MIN <= total <= _INT32_MAX
    ):
        raise _invalid(name)
    return total


def _string_split(args: list[JSON], rng: random.Random) -> JSON:
    # java.util.StringTokenizer semantics: every delimiter character separates tokens and
    # empty tokens are dropped ("a,,b" -> ["a", "b"], "" -> []).
    name = "States.StringSplit"
    text = _string(args[0], name)
    delimiters = _string(args[1], name)
    if not delimiters:
        return [text] if text else []
    pattern = "[" + re.escape(delimiters) + "]"
    return [token for token in re.split(pattern, text) if token]


def _uuid(args: list[JSON], rng: random.Random) -> JSON:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _template(template: str) -> list[str | None]:
    """Split a Format template into literal text and ``None`` for each ``{}`` placeholder."""
    parts: list[str | None] = []
    text: list[str] = []
    i = 0
    while i < len(template):
        char = template[i]
        if char == "\\" and template[i + 1 : i + 2] in _ESCAPABLE:
            text.append(template[i + 1])
            i += 2
            continue
        if char == "{":
            if template[i + 1 : i + 2] != "}":
                raise _invalid("States.Format")
            parts.append("".join(text))
            parts.append(None)
            text = []
            i += 2
            continue
        if char == "}":
            raise _invalid("States.Format")
        text.append(char)
        i += 1
    parts.append("".join(text))
    return parts


def _format(args: list[JSON], raw_template: str | None) -> JSON:
    name = "States.Format"
    template = raw_template if raw_template is not None else _string(args[0], name)
    parts = _template(template)
    values = args[1:]
    if sum(part is None for part in parts) != len(values):
        raise _invalid(name)
    rendered = iter(values)
    return "".join(part if part is not None else java_to_string(next(rendered)) for part in parts)


def _format_placeholder(args: list[JSON], rng: random.Random) -> JSON:
    return _format(args, None)


FUNCTIONS: Final[dict[str, tuple[int, int | None, Impl]]] = {
    "States.Array": (0, None, _array_fn),
    "States.ArrayPartition": (2, 2, _array_partition),
    "States.ArrayContains": (2, 2, _array_contains),
    "States.ArrayRange": (3, 3, _array_range),
    "States.ArrayGetItem": (2, 2, _array_get_item),
    "States.ArrayLength": (1, 1, _array_length),
    "States.ArrayUnique": (1, 1, _array_unique),
    "States.Base64Encode": (1, 1, _base64_encode),
    "States.Base64Decode": (1, 1, _base64_decode),
    "States.Hash": (2, 2, _hash),
    "States.JsonMerge": (3, 3, _json_merge),
    "States.StringToJson": (1, 1, _string_to_json),
    "States.JsonToString": (1, 1, _json_to_string),
    "States.MathRandom": (2, 3, _math_random),
    "States.MathAdd": (2, 2, _math_add),
    "States.StringSplit": (2, 2, _string_split),
    "States.Format": (1, None, _format_placeholder),
    "States.UUID": (0, 0, _uuid),
}
"""Name -> (minimum arguments, maximum or None, implementation). One table drives parsing
(unknown names are syntax errors) and evaluation (counts are checked at run time, as AWS does)."""


def names() -> Sequence[str]:
    """The 18 intrinsic function names."""
    return tuple(FUNCTIONS)
