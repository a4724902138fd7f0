"""Property: parse(to_dict(parse(d))) == parse(d) for generated valid ASL definitions.

The generator builds chains of states of every type with random optional fields (both query
languages, Retry/Catch, Choice rule trees, nested Parallel branches and Map item processors), so
the property also checks that the validator accepts what it should.
"""

from __future__ import annotations

from typing import Any

# jsonata's import raises sys's recursion limit; doing that inside a Hypothesis test (the
# validator imports it lazily) trips HypothesisWarning, so import it up front.
import jsonata  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eltflow.asl import parse, to_dict, validate

JSONPATH, JSONATA = "JSONPath", "JSONata"
ARN = "arn:aws:states:::lambda:invoke"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=8).filter(lambda s: not s.startswith("{%")),
)
payloads = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text("abcxyz", min_size=1, max_size=5), inner, max_size=3),
    ),
    max_leaves=6,
)
paths = st.sampled_from(["$", "$.a", "$.a.b", "$['k']", "$.items[0]"])
any_paths = st.sampled_from(["$", "$.a", "$$.Execution.Input", "$.a[*].b", "$..x", "$v.f"])
expressions = st.sampled_from(["{% $states.input %}", "{% 1 + 2 %}", "{% $count([1, 2]) %}"])
errors = st.lists(st.sampled_from(["E1", "E2", "States.Timeout", "States.TaskFailed"]), min_size=1)


def _maybe(draw: st.DrawFn, out: dict[str, Any], key: str, strategy: Any) -> None:
    if draw(st.booleans()):
        out[key] = draw(strategy)


@st.composite
def retriers(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for names in draw(st.lists(errors, max_size=2)):
        r: dict[str, Any] = {"ErrorEquals": names}
        _maybe(draw, r, "IntervalSeconds", st.integers(1, 100))
        _maybe(draw, r, "MaxAttempts", st.integers(0, 10))
        _maybe(draw, r, "BackoffRate", st.sampled_from([1, 1.5, 2.0, 3]))
        _maybe(draw, r, "MaxDelaySeconds", st.integers(1, 1000))
        _maybe(draw, r, "JitterStrategy", st.sampled_from(["FULL", "NONE"]))
        out.append(r)
    if draw(st.booleans()):
        out.append({"ErrorEquals": ["States.ALL"]})
    return out


@st.composite
def catchers(draw: st.DrawFn, target: str, ql: str) -> list[dict[str, Any]]:
    out = []
    for names in draw(st.lists(errors, max_size=2)):
        c: dict[str, Any] = {"ErrorEquals": names, "Next": target}
        if ql == JSONPATH:
            _maybe(draw, c, "ResultPath", st.one_of(st.none(), paths))
        else:
            _maybe(draw, c, "Output", expressions)
        _maybe(draw, c, "Assign", st.just({"err": 1}))
        out.append(c)
    return out


@st.composite
def rules(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    kind = draw(st.sampled_from(["compare", "compare", "and", "not"] if depth < 2 else ["compare"]))
    if kind == "and":
        op = draw(st.sampled_from(["And", "Or"]))
        return {op: draw(st.lists(rules(depth + 1), min_size=1, max_size=2))}
    if kind == "not":
        return {"Not": draw(rules(depth + 1))}
    operator, operand = draw(
        st.sampled_from(
            [
                ("StringEquals", "x"),
                ("NumericLessThan", 3),
                ("NumericGreaterThanEqualsPath", "$.n"),
                ("BooleanEquals", True),
                ("TimestampEquals", "2024-01-01T00:00:00Z"),
                ("IsPresent", False),
                ("StringMatches", "a*b"),
            ]
        )
    )
    return {"Variable": draw(paths), operator: operand}


@st.composite
def sub_machine(draw: st.DrawFn, prefix: str, top: str, depth: int) -> dict[str, Any]:
    states = draw(state_chain(prefix, top, depth + 1, max_states=2))
    return {"StartAt": next(iter(states)), "States": states}


@st.composite
def state(draw: st.DrawFn, name: str, nxt: str | None, top: str, depth: int) -> dict[str, Any]:
    types = ["Pass", "Task", "Wait"] + (["Parallel", "Map"] if depth < 2 else [])
    # The last state of a chain must end it; a Choice needs somewhere to go.
    types += ["Succeed", "Fail"] if nxt is None else ["Choice"]
    stype = draw(st.sampled_from(types))
    ql = top if top == JSONATA else draw(st.sampled_from([JSONPATH, JSONPATH, JSONATA]))
    s: dict[str, Any] = {"Type": stype}
    if ql != top:
        s["QueryLanguage"] = ql
    _maybe(draw, s, "Comment", st.text(max_size=5))
    if stype == "Fail":
        if ql == JSONPATH:
            _maybe(draw, s, "ErrorPath", paths)
        else:
            _maybe(draw, s, "Error", st.one_of(st.text(max_size=5), expressions))
        _maybe(draw, s, "Cause", st.text(max_size=5))
        return s
    if ql == JSONPATH:
        _maybe(draw, s, "InputPath", st.one_of(st.none(), any_paths))
        _maybe(draw, s, "OutputPath", st.one_of(st.none(), any_paths))
    else:
        _maybe(draw, s, "Output", st.one_of(payloads, expressions))
    if stype == "Succeed":
        return s
    _maybe(draw, s, "Assign", st.dictionaries(st.sampled_from(["a", "b", "c1"]), payloads))
    target = nxt or name  # Choice rules and catchers need a target; self-loops are fine
    if stype == "Choice":
        rule_list = (
            draw(st.lists(rules(), min_size=1, max_size=3))
            if ql == JSONPATH
            else [{"Condition": draw(st.one_of(st.booleans(), expressions))}]
        )
        s["Choices"] = [{**r, "Next": target} for r in rule_list]
        if nxt is not None:
            s["Default"] = nxt
        return s
    if ql == JSONPATH and stype in ("Pass", "Task", "Parallel", "Map"):
        _maybe(draw, s, "ResultPath", st.one_of(st.none(), paths))
    if stype == "Pass" and ql == JSONPATH:
        _maybe(draw, s, "Result", payloads)
        _maybe(draw, s, "Parameters", st.just({"x.$": "$.a", "y": 1}))
    elif stype == "Task":
        s["Resource"] = ARN
        if ql == JSONPATH:
            _maybe(draw, s, "Parameters", st.just({"Payload.$": "$", "FunctionName": "f"}))
            _maybe(draw, s, "ResultSelector", st.just({"r.$": "$.Payload"}))
            _maybe(draw, s, "TimeoutSecondsPath", paths)
        else:
            _maybe(draw, s, "Arguments", st.just({"Payload": "{% $states.input %}"}))
            _maybe(draw, s, "TimeoutSeconds", st.one_of(st.integers(100, 200), expressions))
        _maybe(draw, s, "HeartbeatSeconds", st.integers(1, 99))
        _maybe(draw, s, "Credentials", st.just({"RoleArn": "arn:aws:iam::1:role/r"}))
    elif stype == "Wait":
        key = draw(st.sampled_from(["Seconds", "Timestamp"] + (["SecondsPath"] * (ql == JSONPATH))))
        s[key] = {"Seconds": 5, "Timestamp": "2030-01-01T00:00:00Z", "SecondsPath": "$.s"}[key]
    elif stype == "Parallel":
        s["Branches"] = [
            draw(sub_machine(f"{name}b{i}", top, depth)) for i in range(draw(st.integers(1, 2)))
        ]
    elif stype == "Map":
        key = draw(st.sampled_from(["ItemProcessor", "Iterator"]))
        processor = draw(sub_machine(f"{name}m", top, depth))
        if draw(st.booleans()):
            processor["ProcessorConfig"] = draw(
                st.sampled_from(
                    [{"Mode": "INLINE"}, {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}]
                )
            )
        s[key] = processor
        if ql == JSONPATH:
            _maybe(draw, s, "ItemsPath", paths)
            _maybe(
                draw,
                s,
                draw(st.sampled_from(["ItemSelector", "Parameters"])),
                st.just({"v.$": "$$.Map.Item.Value"}),
            )
            _maybe(draw, s, "MaxConcurrencyPath", paths)
        else:
            _maybe(draw, s, "Items", st.one_of(st.lists(payloads, max_size=2), expressions))
            _maybe(draw, s, "MaxConcurrency", st.one_of(st.integers(0, 5), expressions))
        _maybe(draw, s, "ToleratedFailurePercentage", st.sampled_from([0, 12.5, 100]))
        _maybe(draw, s, "ToleratedFailureCount", st.integers(0, 3))
        _maybe(draw, s, "Label", st.just(f"label{name}"))  # labels are unique
    if stype in ("Task", "Parallel", "Map"):
        _maybe(draw, s, "Retry", retriers())
        _maybe(draw, s, "Catch", catchers(target, ql))
    if nxt is None:
        s["End"] = True
    else:
        s["Next"] = nxt
    return s


@st.composite
def state_chain(
    draw: st.DrawFn, prefix: str, top: str, depth: int, max_states: int = 5
) -> dict[str, Any]:
    names = [f"{prefix}{i}" for i in range(draw(st.integers(1, max_states)))]
    states = {}
    for i, name in enumerate(names):
        nxt = names[i + 1] if i + 1 < len(names) else None
        states[name] = draw(state(name, nxt, top, depth))
    return states


@st.composite
def definitions(draw: st.DrawFn) -> dict[str, Any]:
    top = draw(st.sampled_from([JSONPATH, JSONATA]))
    states = draw(state_chain("S", top, 0))
    d: dict[str, Any] = {"StartAt": "S0", "States": states}
    if top == JSONATA or draw(st.booleans()):
        d["QueryLanguage"] = top
    _maybe(draw, d, "Comment", st.text(max_size=10))
    _maybe(draw, d, "TimeoutSeconds", st.integers(1, 1000))
    _maybe(draw, d, "Version", st.just("1.0"))
    return d


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(definitions())
def test_parse_to_dict_round_trip(definition: dict[str, Any]) -> None:
    assert validate(definition) == []
    machine = parse(definition)
    written = to_dict(machine)
    assert validate(written) == []
    assert parse(written) == machine
    assert to_dict(parse(written)) == written


@settings(max_examples=50, deadline=None)
@given(definitions())
def test_text_and_mapping_parse_alike(definition: dict[str, Any]) -> None:
    import json

    assert parse(json.dumps(definition)) == parse(definition)
