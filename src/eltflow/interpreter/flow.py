"""The interpreter's side of data flow: thin calls into ``eltflow.asl`` with the right field names.

JSONPath states: InputPath → Parameters → (task) → ResultSelector → ResultPath → OutputPath, and
Assign evaluated against the state's result. JSONata states: ``$states.input`` / ``.result`` /
``.errorOutput`` / ``.context`` feed Arguments, Output and Assign. Every failure is a
:class:`~eltflow.errors.StatesError` raised by the ``asl`` helpers, with AWS's names and causes.
"""

from __future__ import annotations

import random
from typing import Any, cast

from eltflow.asl import dataflow, intrinsics
from eltflow.asl import jsonata as asl_jsonata
from eltflow.asl.model import Template, keep_plan
from eltflow.types import JSON, JSONObject


def select(
    path: str | None,
    data: JSON,
    field: str,
    context: JSONObject | None = None,
    variables: dict[str, JSON] | None = None,
) -> JSON:
    """InputPath / OutputPath / ItemsPath: ``"$"`` is the identity, ``None`` (null) gives ``{}``;
    a ``$$...`` path reads ``context``, a ``$name...`` path ``variables``."""
    if path == "$":
        return data
    if path is None:
        return {}
    return dataflow.select(path, data, field=field, context=context, variables=variables)


def place_result(path: str | None, input: JSON, result: JSON) -> JSON:
    """ResultPath: ``"$"`` replaces the input, ``None`` (null) keeps the input unchanged."""
    if path == "$":
        return result
    if path is None:
        return input
    return dataflow.apply_result_path(path, input, result)


UNCOMPILED = object()
"""What :func:`compiled` returns when the template must be evaluated the general way."""


def compiled(tpl: Template, input: JSON) -> Any:
    """A JSONPath template's value through its compiled form (built on first use and kept on
    the parsed machine's ``Template``, see :func:`eltflow.asl.dataflow.compile_template`),
    or :data:`UNCOMPILED` when it has none or it left its fast path: then :func:`template`
    evaluates it (and words any error). Needs no context object, variables or generator."""
    plan: Any = tpl.plan
    if plan is None:
        plan = keep_plan(tpl, dataflow.compile_template(tpl.value))
    if plan is False:
        return UNCOMPILED
    try:
        return plan(input)
    except Exception:
        return UNCOMPILED


def template(
    tpl: Template,
    input: JSON,
    context: JSONObject,
    variables: dict[str, JSON],
    rng: random.Random,
    field: str,
) -> JSON:
    """A JSONPath payload template (Parameters, ResultSelector, ItemSelector, Result...)."""
    value = compiled(tpl, input)
    if value is not UNCOMPILED:
        return cast(JSON, value)
    return dataflow.resolve_template(
        tpl.value,
        input=input,
        context=context,
        variables=variables,
        intrinsic=_intrinsic(input, context, variables, rng),
        field=field,
    )


def field_value(
    path: str,
    input: JSON,
    context: JSONObject,
    variables: dict[str, JSON],
    rng: random.Random,
    field: str,
) -> JSON:
    """A Fail state's ``ErrorPath`` / ``CausePath``: a path or an intrinsic function call."""
    return dataflow.resolve_field(
        path,
        input,
        field=field,
        context=context,
        variables=variables,
        intrinsic=_intrinsic(input, context, variables, rng),
    )


def _intrinsic(
    input: JSON, context: JSONObject, variables: dict[str, JSON], rng: random.Random
) -> dataflow.Intrinsic:
    """Intrinsic calls see the state's documents through a strict resolver.

    Strict: an argument whose path matches nothing -- including an array index past the end,
    which a plain ``.$`` reference reads as ``null`` -- raises ``PathNotFound``, so the
    intrinsics module words AWS's cause (``The JsonPath argument for the field '$.x' could not
    be found in the input '...'``), quoting the state input it was given.
    """

    def resolve(path: str) -> JSON:
        return dataflow.resolve_path(path, input, context, variables, strict=True)

    return lambda expr, _template_resolve: intrinsics.evaluate(
        expr, resolve, rng, state_input=input
    )


def assign_jsonpath(
    tpl: Template | None,
    result: JSON,
    context: JSONObject,
    variables: dict[str, JSON],
    rng: random.Random,
) -> dict[str, JSON] | None:
    if tpl is None:
        return None
    value = template(tpl, result, context, variables, rng, "Assign")
    return cast(dict[str, JSON], value)


def jsonata(
    tpl: Template | JSON,
    states: JSONObject,
    variables: dict[str, JSON],
    rng: random.Random,
    field: str,
) -> JSON:
    """Evaluate a JSONata field (a template with ``{% %}`` strings, or one expression)."""
    value = tpl.value if isinstance(tpl, Template) else tpl
    return asl_jsonata.evaluate_template(
        value, states=states, variables=variables, rng=rng, field=field
    )


def assign_jsonata(
    tpl: Template | None,
    states: JSONObject,
    variables: dict[str, JSON],
    rng: random.Random,
    field: str = "Assign",
) -> dict[str, JSON] | None:
    if tpl is None:
        return None
    return cast(dict[str, JSON], jsonata(tpl, states, variables, rng, field))
