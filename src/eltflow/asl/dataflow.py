"""JSONPath-mode data flow: InputPath → Parameters → ResultSelector → ResultPath → OutputPath.

Each step is a pure function over JSON values; the interpreter chains them. Errors are
:class:`~eltflow.errors.StatesError` with AWS's names and causes. AWS prefixes causes of
failures it detects itself with "An error occurred while executing the state 'X' (entered at
the event id #N). "; that prefix needs history, so the interpreter adds it, not this module.

Causes reproduced here (quoted from AWS executions):
- a path field (InputPath, OutputPath, ItemsPath, ...) that matches nothing:
  ``Invalid path '$.x' : No results for path: $['x']`` (``States.Runtime``);
- a ``.$`` key of a payload template (or ErrorPath/CausePath) whose path matches nothing:
  ``The JSONPath '$.x' specified for the field 'a.$' could not be found in the input '{}'``
  (``States.Runtime``);
- a ResultPath that cannot be applied:
  ``Unable to apply ReferencePath $.a.b to input "text"`` (``States.ResultPathMatchFailure``).

Values are never mutated; results share unchanged subtrees with their inputs, so callers must
treat every JSON value as immutable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from eltflow.asl.intrinsics import compile_call
from eltflow.asl.java import compact_json
from eltflow.asl.jsonpath import (
    Path,
    PathNotFound,
    compile_input_path,
    evaluate_parsed,
    parse_path,
    set_at,
)
from eltflow.errors import StatesError
from eltflow.types import JSON

__all__ = [
    "Compiled",
    "Intrinsic",
    "apply_result_path",
    "compile_template",
    "resolve_field",
    "resolve_path",
    "resolve_template",
    "resolve_variable_path",
    "select",
]

Intrinsic = Callable[[str, Callable[[str], JSON]], JSON]
"""``intrinsic(expression, resolve_path) -> value``: evaluates ``States.*`` calls;
``resolve_path`` raises :class:`PathNotFound` for a path argument that matches nothing."""

_EMPTY: Mapping[str, JSON] = {}


def _parse(path: str) -> Path:
    try:
        return parse_path(path)
    except ValueError as e:
        # The validator rejects bad paths at definition time; reaching here is a bug upstream
        # or a definition that skipped validation - still report it as AWS would at run time.
        raise StatesError("States.Runtime", str(e)) from None


def resolve_variable_path(
    path: str | Path, variables: Mapping[str, JSON], *, strict: bool = False
) -> JSON:
    """Evaluate ``$name`` / ``$name.field...`` against the workflow variables.

    Raises :class:`PathNotFound` when the variable is not assigned or the rest of the path
    matches nothing.
    """
    p = path if isinstance(path, Path) else _parse(path)
    if p.root != "var" or p.variable is None:
        raise ValueError(f"{p.text!r} is not a variable reference")
    if p.variable not in variables:
        raise PathNotFound(p.text, f"No results for path: ${p.variable}")
    return evaluate_parsed(p, variables[p.variable], strict=strict)


def resolve_path(
    path: str | Path,
    input: JSON,
    context: JSON = None,
    variables: Mapping[str, JSON] | None = None,
    *,
    strict: bool = False,
) -> JSON:
    """Evaluate a path whose root picks the document: ``$`` input, ``$$`` context, ``$name``.

    ``strict``: an out-of-range array index is a miss (:class:`PathNotFound`) rather than
    ``null``, as for intrinsic function arguments (see :func:`jsonpath.evaluate_parsed`).
    """
    p = path if isinstance(path, Path) else _parse(path)
    if p.root == "$":
        return evaluate_parsed(p, input, strict=strict)
    if p.root == "$$":
        return evaluate_parsed(p, context, strict=strict)
    return resolve_variable_path(p, variables if variables is not None else _EMPTY, strict=strict)


def select(
    path: str | None,
    data: JSON,
    *,
    field: str,
    context: JSON = None,
    variables: Mapping[str, JSON] | None = None,
) -> JSON:
    """Apply a path field (InputPath, OutputPath, ItemsPath, ...) to ``data``.

    ``None`` (the definition said ``null``) selects ``{}``; ``"$"`` is ``data`` itself.
    ``field`` names the definition field, for diagnostics of malformed paths.
    """
    if path is None:
        return {}
    if path == "$":
        return data
    try:
        return resolve_path(path, data, context, variables)
    except PathNotFound as e:
        raise StatesError("States.Runtime", f"Invalid path '{path}' : {e.detail}") from None
    except StatesError as e:
        raise StatesError(e.error, f"{field}: {e.cause}") from None


def resolve_field(
    path: str,
    data: JSON,
    *,
    field: str,
    context: JSON = None,
    variables: Mapping[str, JSON] | None = None,
    intrinsic: Intrinsic | None = None,
) -> JSON:
    """Resolve a single-value path field such as a Fail state's ``ErrorPath``/``CausePath``.

    AWS words a miss in these fields like a template key (``The JSONPath '$.ErrorX' specified
    for the field 'ErrorPath' could not be found in the input '{...}'``), unlike InputPath's
    ``Invalid path`` (see :func:`select`). ``ErrorPath``/``CausePath`` may also hold an
    intrinsic function call, evaluated through ``intrinsic``.
    """
    resolver = _Resolver(data, context, variables or _EMPTY, intrinsic, field)
    if path.startswith("States."):
        return resolver.dynamic(field, path)
    return resolver.path(field, path)


def apply_result_path(path: str | None, input: JSON, result: JSON) -> JSON:
    """Combine a state's input and its result per ResultPath.

    ``None`` discards the result (the input passes through); ``"$"`` replaces the input with
    the result; any other Reference Path places the result into a copy of the input, creating
    missing objects on the way. A step through a non-object raises
    ``States.ResultPathMatchFailure``.
    """
    if path is None:
        return input
    if path == "$":
        return result
    try:
        return set_at(path, input, result)
    except ValueError as e:
        raise StatesError("States.ResultPathMatchFailure", str(e)) from None


def resolve_template(
    template: JSON,
    *,
    input: JSON,
    context: JSON,
    variables: Mapping[str, JSON],
    intrinsic: Intrinsic | None,
    field: str,
) -> JSON:
    """Evaluate a payload template (Parameters, ResultSelector, ItemSelector, Assign, ...).

    A key ending in ``.$`` takes its value from a path (``$...`` input, ``$$...`` context,
    ``$name...`` variable) or an intrinsic function call (``States.Format(...)``), and loses
    the ``.$`` suffix; other values are copied, recursing into objects and arrays.
    """
    return _Resolver(input, context, variables, intrinsic, field).value(template)


Compiled = Callable[[JSON], JSON]
"""A payload template compiled by :func:`compile_template`: a function of the input."""


def compile_template(template: JSON) -> Compiled | None:
    """``template`` compiled once into a function of the input, or None when it reads anything
    else (a ``$$`` or ``$var`` path, a path with a wildcard, filter or slice) or calls an
    intrinsic that draws a random number.

    The function gives what :func:`resolve_template` gives, building the same objects in the
    same key order (a template evaluated ~20 Python calls deep per ``.$`` key; a compiled
    one, two or three). Off its fast path (a path that matches nothing, an intrinsic whose
    arguments are wrong) it raises, having changed nothing and drawn no random number: the
    caller then calls :func:`resolve_template`, which gives the result or AWS's error."""
    if isinstance(template, dict):
        pairs: list[tuple[str, Compiled]] = []
        for key, v in template.items():
            getter: Compiled | None
            if key.endswith(".$"):
                if not isinstance(v, str):
                    return None
                if v.startswith("States."):
                    getter = compile_call(v, compile_input_path)
                else:
                    getter = compile_input_path(v)
                key = key[:-2]
            else:
                getter = compile_template(v)
            if getter is None:
                return None
            pairs.append((key, getter))
        if len(pairs) == 1:
            (only, get) = pairs[0]
            return lambda data: {only: get(data)}
        return lambda data: {k: g(data) for k, g in pairs}
    if isinstance(template, list):
        items: list[Compiled] = []
        for v in template:
            getter = compile_template(v)
            if getter is None:
                return None
            items.append(getter)
        return lambda data: [g(data) for g in items]
    return lambda _data: template  # scalars are immutable: shared, as resolve_template does


class _Resolver:
    __slots__ = ("context", "field", "input", "intrinsic", "variables")

    def __init__(
        self,
        input: JSON,
        context: JSON,
        variables: Mapping[str, JSON],
        intrinsic: Intrinsic | None,
        field: str,
    ) -> None:
        self.input = input
        self.context = context
        self.variables = variables
        self.intrinsic = intrinsic
        self.field = field

    def value(self, node: JSON) -> JSON:
        if isinstance(node, dict):
            out: dict[str, JSON] = {}
            for key, v in node.items():
                if key.endswith(".$"):
                    out[key[:-2]] = self.dynamic(key, v)
                else:
                    out[key] = self.value(v)
            return out
        if isinstance(node, list):
            return [self.value(v) for v in node]
        return node  # scalars are immutable: share them

    def dynamic(self, key: str, expression: Any) -> JSON:
        if not isinstance(expression, str):
            raise StatesError(
                "States.Runtime",
                f"The value of the field '{key}' in {self.field} must be a JSONPath or an "
                f"intrinsic function, not {compact_json(expression)}",
            )
        if expression.startswith("States."):
            if self.intrinsic is None:
                raise StatesError(
                    "States.Runtime",
                    f"Intrinsic functions are not supported in {self.field} (field '{key}')",
                )
            # Path arguments raise PathNotFound untouched (strictly: an index past the end is
            # a miss too): the intrinsics module words the cause for a missing argument itself.
            return self.intrinsic(expression, self.raw_path)
        return self.path(key, expression)

    def raw_path(self, path: str) -> JSON:
        return resolve_path(_parse(path), self.input, self.context, self.variables, strict=True)

    def path(self, key: str, path: str) -> JSON:
        p = _parse(path)
        try:
            return resolve_path(p, self.input, self.context, self.variables)
        except PathNotFound:
            if p.root == "$$":
                document = self.context
            elif p.root == "var":
                document = self.variables.get(p.variable or "")
            else:
                document = self.input
            raise StatesError(
                "States.Runtime",
                f"The JSONPath '{path}' specified for the field '{key}' could not be found "
                f"in the input '{compact_json(document)}'",
            ) from None
