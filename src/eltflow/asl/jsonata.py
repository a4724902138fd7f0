"""JSONata for ``"QueryLanguage": "JSONata"`` states, with AWS's bindings, functions and errors.

Wraps the jsonata-python library. What AWS does and this module follows (AWS docs
"Transforming data with JSONata in Step Functions", and AWS behaviour recorded by Floci's
TestState/StartExecution comparisons):

- A field value ``"{% expr %}"`` is an expression; ``$states`` (``input``, ``result``,
  ``errorOutput``, ``context``) and every workflow variable (``$name``) are bound; ``$`` is
  undefined at the top level.
- Step Functions adds ``$partition``, ``$range``, ``$hash``, ``$random([seed])``, ``$uuid()`` and
  ``$parse``, and removes ``$eval`` ("use $parse instead"): calling it is JSONata's T1006.
- A failure is ``States.QueryEvaluationError`` (catchable). Its cause names the expression and
  the field: ``The JSONata expression '<expr>' specified for the field 'Output/a' threw an error
  during evaluation. T2002: The right side of the "-" operator must evaluate to a number``; an
  expression that evaluates to nothing gives ``... returned nothing (undefined).``
- Evaluation is bounded (:class:`Bounds`): a runaway expression (``$f := function($n){
  $f($n+1) }``, tail-recursive so it never overflows a stack) fails the state with
  ``States.QueryEvaluationError`` instead of holding a worker, and the store, forever. The
  budget counts evaluation steps rather than milliseconds so a replay fails at the same point
  on any machine (and this layer reads no clock). AWS documents no such limit; its runtime
  (jsonata-js) stops unbounded recursion with a stack overflow (``D1011``'s wording here) and
  the step budget's error text is ours (unverified against AWS).
- ``$now()``/``$millis()`` return the time passed in (default: the state's entered time from
  the context object), never the wall clock, so replays agree.

Thread safety: compiled expressions are cached (an LRU keyed by text) and shared by threads.
Every evaluation binds its own frame, and no cached object is left as the library's per-thread
scratch instance (see :func:`_compile`), so nothing shared is mutated while evaluating.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from eltflow.asl import errors
from eltflow.asl.intrinsics import JavaRandom
from eltflow.errors import StatesError
from eltflow.types import JSON

CACHE_SIZE: Final = 1024
"""Compiled expressions kept (LRU by text); compiling costs about twice an evaluation."""


@dataclass(frozen=True)
class Bounds:
    """How far one expression's evaluation may go before it fails as a runaway.

    ``steps``: expression nodes evaluated (2-10 µs each here, so the default stops an
    infinite loop within seconds, well before the store's 30 s lock timeout, while a
    ``$map`` over every item of a 256 KiB payload uses a few hundred thousand).
    ``depth``: nested evaluations (about three per non-tail-recursive function call), below
    the depth where Python itself would overflow.
    """

    steps: int = 1_000_000
    depth: int = 1_000


DEFAULT_BOUNDS: Final = Bounds()

_HASH_ALGORITHMS: Final = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}
_ARRAY_ELEMENT_TYPES: Final = {
    "a": "arrays",
    "b": "booleans",
    "f": "functions",
    "n": "numbers",
    "o": "objects",
    "s": "strings",
}


def is_expression(value: object) -> bool:
    """Whether ``value`` is a JSONata field value: a string starting ``{%`` and ending ``%}``."""
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def inner(value: str) -> str:
    """The expression inside ``{% ... %}`` (trimmed), or ``value`` itself if not delimited."""
    return value[2:-2].strip() if is_expression(value) else value.strip()


# --- compilation ------------------------------------------------------------------------------


@lru_cache(maxsize=CACHE_SIZE)
def _compile(text: str) -> Any:
    import jsonata  # lazy: the library costs start-up time that CLI commands should not pay

    expression = jsonata.Jsonata(text, regex_engine=_bounded_regex)
    # Keep JSONata's null marker distinct from "undefined": AWS keeps a JSON null and fails on
    # an expression that returned nothing.
    expression.set_output_convert_nulls(False)
    # The library keeps evaluation scratch state (current frame, input) on a per-thread
    # "current" instance, and a constructor makes the new object its thread's current one. A
    # cached object shared by several threads must never be anyone's scratch instance, so drop
    # that registration: the next evaluation in this thread makes itself a private copy.
    with contextlib.suppress(AttributeError):
        del jsonata.Jsonata.CURRENT.jsonata
    return expression


def check_syntax(expr_text: str) -> str | None:
    """For the validator: ``None`` if the expression parses, else JSONata's message.

    AWS reports the message without JSONata's error code at creation time.
    """
    from jsonata.jexception import JException

    try:
        _compile(inner(expr_text))
    except JException as exc:
        return _message(exc)
    except Exception as exc:
        return str(exc) or type(exc).__name__
    return None


# --- errors -----------------------------------------------------------------------------------


class _FunctionError(Exception):
    """An error raised by one of AWS's extra functions, already in ``CODE: message`` form."""


def _signature_error(function: str, argument: int) -> _FunctionError:
    return _FunctionError(
        f'T0410: Argument {argument} of function "{function}" does not match function signature'
    )


def _message(exc: Any) -> str:
    """JSONata's message as jsonata-js (and so AWS) words it, without the code.

    jsonata-python's catalogue says "Object" where jsonata-js says "function" and inserts values
    raw where jsonata-js JSON-quotes them; rebuild the sentence from the template instead.
    """
    from jsonata.jexception import JException

    if exc.error == "D1012":  # only our step budget raises it; the library's says milliseconds
        return f"Evaluation stopped after {exc.current} steps. Check for infinite loop"
    template = JException.error_codes.get(exc.error)
    if template is None:
        return str(exc)
    if template == "{{{message}}}":
        return str(exc.current)
    values: list[object] = [exc.current, exc.expected]
    if exc.error == "T0412":
        values.append(_ARRAY_ELEMENT_TYPES.get(str(exc.extra), exc.extra))
    elif exc.extra is not None:
        values.append(exc.extra)
    parts = template.replace("Object", "function").split("{{")
    rendered = [parts[0]]
    for index, part in enumerate(parts[1:]):
        _, _, rest = part.partition("}}")
        value = values[index] if index < len(values) else None
        rendered.append(_quote(value) + rest)
    return "".join(rendered)


def _quote(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _failure(expression: str, field: str, exc: Exception) -> StatesError:
    from jsonata.jexception import JException

    if isinstance(exc, JException) and exc.error in JException.error_codes:
        tail = f". {exc.error}: {_message(exc)}"
    elif isinstance(exc, JException):
        # Raised with a bare message in the code slot: AWS shows such messages after a colon.
        tail = f": {exc.error}"
    elif isinstance(exc, _FunctionError):
        tail = f". {exc}"
    else:
        tail = f": {exc or type(exc).__name__}"
    return StatesError(
        errors.QUERY_EVALUATION_ERROR,
        f"The JSONata expression '{expression}'{_for_field(field)} threw an error during "
        f"evaluation{tail}",
    )


def _for_field(field: str) -> str:
    return f" specified for the field '{field}'" if field else ""


REGEX_SECONDS: Final = 1.0
"""How long one regex call of ``$match``/``$replace``/``$split``/``$contains`` may run. A
single regex call is one evaluation step, so the step budget cannot stop a catastrophic
pattern (``/(a+)+$/`` on a long run of ``a``); the ``regex`` engine's own timeout does. It is
wall time, so unlike the step budget it is not replay-exact (unverified against AWS, which
runs JavaScript's backtracking engine)."""


class _BoundedPattern:
    """A JSONata regex literal run by ``regex`` with a timeout; stdlib ``re`` still checks
    replacement templates, whose error wording the library parses (``$12`` means ``$1``
    then ``2`` when there is one group)."""

    def __init__(self, stdlib: Any, bounded: Any) -> None:
        self._stdlib = stdlib
        self._bounded = bounded

    def search(self, string: str) -> Any:
        return self._bounded.search(string, timeout=REGEX_SECONDS)

    def finditer(self, string: str) -> Any:
        return self._bounded.finditer(string, timeout=REGEX_SECONDS)

    def sub(self, repl: Any, string: str, count: int = 0) -> str:
        if isinstance(repl, str):
            self._stdlib.sub(repl, "")  # raises re's error for a bad group reference
        result: str = self._bounded.sub(repl, string, count=count, timeout=REGEX_SECONDS)
        return result

    def split(self, string: str, maxsplit: int = 0) -> list[str]:
        parts: list[str] = self._bounded.split(string, maxsplit=maxsplit, timeout=REGEX_SECONDS)
        return parts


def _bounded_regex(pattern: str, flags: Any) -> _BoundedPattern:
    import regex  # type: ignore[import-untyped]  # no stubs; used through _BoundedPattern
    from jsonata.regex_engine import default_regex_engine

    stdlib = default_regex_engine(pattern, flags)  # the same syntax errors as before
    native = regex.VERSION0 | (regex.IGNORECASE if flags.case_insensitive else 0)
    native |= regex.MULTILINE if flags.multiline else 0
    return _BoundedPattern(stdlib, regex.compile(pattern, native))


class _Budget:
    """Counts one evaluation's steps and depth through the library's entry/exit hooks."""

    def __init__(self, bounds: Bounds) -> None:
        self.bounds = bounds
        self.steps = 0
        self.depth = 0

    def enter(self, expr: Any, input: Any, env: Any) -> None:
        from jsonata.jexception import JException

        self.steps += 1
        if self.steps > self.bounds.steps:
            # A JSONata exception, so the library passes it through unchanged (it turns
            # other exceptions raised under ``and``/``or`` into "Unexpected").
            raise JException("D1012", -1, self.bounds.steps)
        if not env.is_parallel_call:  # as the library's own Timebox counts depth
            self.depth += 1
            if self.depth > self.bounds.depth:
                raise JException("D1011", -1)

    def exit(self, expr: Any, input: Any, env: Any, result: Any) -> None:
        if not env.is_parallel_call:
            self.depth -= 1


# --- values -----------------------------------------------------------------------------------


def _to_json(value: Any, null_marker: object) -> JSON:
    """A plain JSON value from a JSONata result (sequences, null marker, whole floats)."""
    if value is None or value is null_marker:
        return None
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            # JSON has no such number; AWS writes the JavaScript name as a string.
            return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        # AWS's runtime writes a whole double as an integer: 2.0 comes back as 2.
        if value.is_integer() and abs(value) < 2**63:
            return int(value)
        return value
    if isinstance(value, Mapping):
        return {str(k): _to_json(v, null_marker) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v, null_marker) for v in value]
    raise TypeError(f"the expression returned a {type(value).__name__}, not a JSON value")


def _number(value: Any, function: str, argument: int) -> int:
    """AWS's extra functions truncate a number towards zero (a Java cast)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _signature_error(function, argument)
    return int(value)


# --- AWS's extra functions --------------------------------------------------------------------


def _extensions(rng: random.Random) -> dict[str, Callable[..., Any]]:
    """Step Functions' additions, bound per evaluation so ``rng`` is this evaluation's."""

    def partition(array: Any = None, size: Any = None, *surplus: Any) -> Any:
        if surplus:
            raise _signature_error("partition", 3)
        if array is None:
            return None
        if not isinstance(array, list):
            raise _FunctionError(
                'T0412: Argument 1 of function "partition" must be an array of undefined'
            )
        if not array:
            return None
        if size is None:
            return [list(array)]
        chunk = _number(size, "partition", 2)
        if chunk < 0:
            raise _FunctionError("D3137: Second argument must be zero or greater")
        if chunk == 0:
            return None
        return [list(array[i : i + chunk]) for i in range(0, len(array), chunk)]

    def range_(start: Any = None, end: Any = None, step: Any = None, *surplus: Any) -> Any:
        if surplus:
            raise _signature_error("range", 4)
        first = _number(start, "range", 1)
        last = _number(end, "range", 2)
        if step is None:
            return None
        increment = _number(step, "range", 3)
        if increment == 0:
            return None
        if first != last and (increment > 0) != (last > first):
            return None
        values = list(range(first, last + (1 if increment > 0 else -1), increment))
        # AWS's $range gives a JSONata sequence, and a sequence of one value is that value:
        # $range(1, 9, 9) and $range(3, 3, 1) answer the bare number, not a one-element array.
        return values[0] if len(values) == 1 else values

    def hash_(value: Any = None, algorithm: Any = None, *surplus: Any) -> Any:
        if surplus:
            raise _signature_error("hash", 3)
        if not isinstance(value, str):
            raise _signature_error("hash", 1)
        if algorithm is None:
            return None
        if not isinstance(algorithm, str):
            raise _signature_error("hash", 2)
        if algorithm not in _HASH_ALGORITHMS:
            raise _FunctionError(
                f"D3137: Hash algorithm '{algorithm}' must be one of SHA-1, SHA-384, SHA-256, "
                "SHA-512, MD5"
            )
        return hashlib.new(_HASH_ALGORITHMS[algorithm], value.encode("utf-8")).hexdigest()

    def random_(seed: Any = None, *surplus: Any) -> Any:
        if surplus:
            raise _signature_error("random", 2)
        if seed is None:
            return rng.random()
        # AWS draws from java.util.Random: $random(42) is 0.7275636800328681 there.
        return JavaRandom(_number(seed, "random", 1)).next_double()

    def uuid_(*surplus: Any) -> Any:
        if surplus:
            raise _signature_error("uuid", 1)
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def parse(text: Any = None, *surplus: Any) -> Any:
        if surplus:
            raise _signature_error("parse", 2)
        if text is None:
            return None
        if not isinstance(text, str):
            raise _signature_error("parse", 1)
        try:
            return json.loads(text, object_pairs_hook=_no_duplicate_keys)
        except ValueError:
            raise _FunctionError("D3137: Invalid JSON") from None

    return {
        "partition": partition,
        "range": range_,
        "hash": hash_,
        "random": random_,
        "uuid": uuid_,
        "parse": parse,
    }


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _default_now_millis(states: JSON) -> int | None:
    """The state's entered time (``$states.context.State.EnteredTime``) in epoch millis."""
    if not isinstance(states, dict):
        return None
    context = states.get("context")
    if not isinstance(context, dict):
        return None
    for section, key in (("State", "EnteredTime"), ("Execution", "StartTime")):
        part = context.get(section)
        stamp = part.get(key) if isinstance(part, dict) else None
        if isinstance(stamp, str):
            try:
                return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)
            except ValueError:
                continue
    return None


# --- evaluation -------------------------------------------------------------------------------


def evaluate(
    expr_text: str,
    *,
    states: JSON,
    variables: Mapping[str, JSON],
    rng: random.Random,
    field: str = "",
    now_millis: int | None = None,
    bounds: Bounds = DEFAULT_BOUNDS,
) -> JSON:
    """Evaluate one expression (with or without ``{% %}``) and return a JSON value.

    ``field`` is the field's path as AWS names it in causes (``Output``, ``Arguments/a[0]``,
    ``Choices[1]/Condition``). An undefined result, or one past ``bounds``, raises
    ``States.QueryEvaluationError``.
    """
    import jsonata
    from jsonata.utils import Utils

    expression = inner(expr_text)
    try:
        compiled = _compile(expression)
    except Exception as exc:
        raise _failure(expression, field, exc) from None
    null = Utils.NULL_VALUE
    bindings: dict[str, Any] = {
        name: null if value is None else value for name, value in variables.items()
    }
    for name, function in _extensions(rng).items():
        bindings[name] = jsonata.Jsonata.JLambda(function)
    millis = now_millis if now_millis is not None else _default_now_millis(states)
    bindings.update(_clock_functions(jsonata, millis))
    bindings["eval"] = None  # AWS removes $eval: calling it is T1006
    bindings["states"] = null if states is None else states  # last: reserved over variables
    # The library looks its evaluation hooks up as bindings: bound here, they are this
    # evaluation's own, however many threads share the compiled expression.
    budget = _Budget(bounds)
    bindings["__evaluate_entry"] = budget.enter
    bindings["__evaluate_exit"] = budget.exit
    try:
        result = compiled.evaluate(None, bindings)
    except Exception as exc:
        raise _failure(expression, field, exc) from None
    if result is None:
        raise StatesError(
            errors.QUERY_EVALUATION_ERROR,
            f"The JSONata expression '{expression}'{_for_field(field)} returned nothing "
            "(undefined).",
        )
    try:
        return _to_json(result, null)
    except TypeError:
        # A function (``function($x){$x}``, ``$sum``) has no JSON form: AWS's wording.
        raise StatesError(
            errors.QUERY_EVALUATION_ERROR,
            f"The JSONata expression '{expression}'{_for_field(field)} returned an unsupported "
            "result type.",
        ) from None


def _clock_functions(jsonata: Any, millis: int | None) -> dict[str, Any]:
    from jsonata.functions import Functions

    def now(picture: Any = None, timezone: Any = None) -> Any:
        if millis is None:
            raise _FunctionError("D3137: $now() needs the state's entered time in the context")
        return Functions.datetime_from_millis(millis, picture, timezone)

    def millis_() -> Any:
        if millis is None:
            raise _FunctionError("D3137: $millis() needs the state's entered time in the context")
        return millis

    return {"now": jsonata.Jsonata.JLambda(now), "millis": jsonata.Jsonata.JLambda(millis_)}


def evaluate_template(
    template: JSON,
    *,
    states: JSON,
    variables: Mapping[str, JSON],
    rng: random.Random,
    field: str,
    now_millis: int | None = None,
) -> JSON:
    """Evaluate every ``{% %}`` string in ``template`` (objects and arrays, any depth).

    Other values pass through. ``field`` is the template's field name (``Output``,
    ``Arguments``, ``Assign``); nested positions extend it as AWS does: ``Output/a/b[0]``.
    """
    if isinstance(template, str):
        if is_expression(template):
            return evaluate(
                template,
                states=states,
                variables=variables,
                rng=rng,
                field=field,
                now_millis=now_millis,
            )
        return template
    if isinstance(template, dict):
        return {
            key: evaluate_template(
                value,
                states=states,
                variables=variables,
                rng=rng,
                field=f"{field}/{key}",
                now_millis=now_millis,
            )
            for key, value in template.items()
        }
    if isinstance(template, list):
        return [
            evaluate_template(
                value,
                states=states,
                variables=variables,
                rng=rng,
                field=f"{field}[{index}]",
                now_millis=now_millis,
            )
            for index, value in enumerate(template)
        ]
    return template
