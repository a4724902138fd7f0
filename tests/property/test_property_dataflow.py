"""Property tests: JSONPath reads what is there, ResultPath writes obey merge laws."""

from __future__ import annotations

import copy
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from eltflow.asl.dataflow import apply_result_path, resolve_template, select
from eltflow.asl.java import compact_json
from eltflow.asl.jsonpath import evaluate, parse_path
from eltflow.errors import StatesError
from eltflow.types import JSON

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
keys = st.text(min_size=1, max_size=8)
json_values: st.SearchStrategy[JSON] = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)
documents = st.dictionaries(keys, json_values, max_size=5)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def quote(key: str) -> str:
    return "['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"


def step(key: str | int, dotted: bool) -> str:
    if isinstance(key, int):
        return f"[{key}]"
    return f".{key}" if dotted and _IDENTIFIER.match(key) else quote(key)


@st.composite
def document_and_existing_path(
    draw: st.DrawFn,
) -> tuple[JSON, list[str | int], JSON]:
    doc = draw(documents)
    node: JSON = doc
    route: list[str | int] = []
    while draw(st.booleans()):
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            route.append(key)
            node = node[key]
        elif isinstance(node, list) and node:
            index = draw(st.integers(-len(node), len(node) - 1))
            route.append(index)
            node = node[index]
        else:
            break
    return doc, route, node


@settings(max_examples=100, deadline=None)
@given(document_and_existing_path(), st.booleans())
def test_evaluate_reads_back_every_node(
    case: tuple[JSON, list[str | int], JSON], dotted: bool
) -> None:
    doc, route, node = case
    path = "$" + "".join(step(k, dotted) for k in route)
    assert parse_path(path).is_reference
    assert evaluate(path, doc) == node
    # the same node through a payload template and through a path field
    tpl: JSON = {"v.$": path}
    resolved = resolve_template(tpl, input=doc, context={}, variables={}, intrinsic=None, field="P")
    assert resolved == {"v": node}
    assert select(path, doc, field="InputPath") == node


@settings(max_examples=100, deadline=None)
@given(documents)
def test_wildcard_lists_the_children_in_order(doc: dict[str, JSON]) -> None:
    assert evaluate("$.*", doc) == list(doc.values())
    assert evaluate("$[*]", doc) == list(doc.values())


@settings(max_examples=150, deadline=None)
@given(documents, st.lists(keys, min_size=1, max_size=4), json_values)
def test_result_path_merge_laws(doc: dict[str, JSON], route: list[str], result: JSON) -> None:
    path = "$" + "".join(quote(k) for k in route)
    before = copy.deepcopy(doc)
    try:
        out = apply_result_path(path, doc, result)
    except StatesError as err:
        # only possible when something on the way exists and is not an object
        assert err.error == "States.ResultPathMatchFailure"
        assert err.cause == f"Unable to apply ReferencePath {path} to input {compact_json(doc)}"
        node: JSON = doc
        blocked = False
        for key in route:
            if not isinstance(node, dict):
                blocked = True
                break
            if key not in node:
                break
            node = node[key]
        assert blocked
        assert doc == before
        return
    # 1. the result is at the path
    assert evaluate(path, out) == result
    # 2. the input is never mutated
    assert doc == before
    # 3. everything off the path is unchanged (and shared, not copied)
    assert isinstance(out, dict)
    for key, value in doc.items():
        if key != route[0]:
            assert out[key] is value
    assert set(out) == set(doc) | {route[0]}
    # 4. writing the same result again changes nothing
    assert apply_result_path(path, out, result) == out


@settings(max_examples=100, deadline=None)
@given(json_values, json_values)
def test_result_path_identities(data: JSON, result: JSON) -> None:
    assert apply_result_path("$", data, result) is result
    assert apply_result_path(None, data, result) is data


# --- compiled templates (dataflow.compile_template) give the general evaluation's value -------

_CALLS = [
    "States.MathAdd({p}, 1)",
    "States.MathAdd({p}, {p})",
    "States.Format('v={{}}', {p})",
    "States.Array({p}, 'x', 2, States.ArrayLength(States.Array({p})))",
    "States.JsonToString({p})",
    "States.ArrayLength({p})",
    "States.StringToJson({p})",
]


@st.composite
def template_and_document(draw: st.DrawFn) -> tuple[JSON, JSON]:
    doc, route, _ = draw(document_and_existing_path())
    path = "$" + "".join(step(k, draw(st.booleans())) for k in route)
    if draw(st.booleans()):  # sometimes a path that may match nothing
        path += step(draw(keys | st.integers(-3, 3)), True)
    dynamic = draw(st.sampled_from([path, *(c.format(p=path) for c in _CALLS)]))
    tpl: dict[str, JSON] = {"a.$": dynamic, "k": draw(json_values)}
    tpl["n"] = {"b.$": path, "c": [1, {"d": 2}]}
    if draw(st.booleans()):
        tpl = {"a": 0, **tpl, "a.$": dynamic}  # a key given twice keeps its first place
    return tpl, doc


@settings(max_examples=300, deadline=None)
@given(template_and_document())
def test_a_compiled_template_gives_the_general_value_or_steps_aside(
    case: tuple[JSON, JSON],
) -> None:
    from eltflow.asl.dataflow import compile_template
    from eltflow.interpreter.flow import _intrinsic

    tpl, doc = case
    compiled = compile_template(tpl)
    if compiled is None:
        return  # a key an intrinsic's syntax cannot quote: the general way only
    import random

    rng = random.Random(0)
    try:
        general = resolve_template(
            tpl,
            input=doc,
            context={},
            variables={},
            intrinsic=_intrinsic(doc, {}, {}, rng),
            field="Parameters",
        )
    except StatesError:
        failed = True
    else:
        failed = False
    try:
        fast = compiled(doc)
    except Exception:
        return
    assert not failed, "compiled succeeded where AWS's evaluation fails"
    assert compact_json(fast) == compact_json(general)
    assert list(fast) == list(general)  # type: ignore[arg-type]


def test_templates_reading_context_variables_or_drawing_are_not_compiled() -> None:
    from eltflow.asl.dataflow import compile_template

    assert compile_template({"a.$": "$$.Execution.Id"}) is None
    assert compile_template({"a.$": "$v"}) is None
    assert compile_template({"a.$": "$.items[*]"}) is None
    assert compile_template({"a.$": "States.UUID()"}) is None
    assert compile_template({"a.$": "States.Format('{}', States.MathRandom(1, 9))"}) is None
    assert compile_template({"a.$": 3}) is None
    assert compile_template({"a.$": "States.MathAdd($.a)"}) is None  # wrong arity: general
    assert compile_template({"i.$": "States.MathAdd($.i, 1)", "x": [1, {"y.$": "$.a[0]"}]})
