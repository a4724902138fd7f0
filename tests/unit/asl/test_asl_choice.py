"""Choice rules: every operator and its Path form, AWS's type and missing-path semantics."""

from __future__ import annotations

import pytest

from eltflow.asl.choice import (
    OPERATORS,
    PATH_OPERATORS,
    choose,
    evaluate_rule,
    parse_timestamp,
    string_matches,
)
from eltflow.asl.model import ChoiceRule, ChoiceState
from eltflow.errors import StatesError
from eltflow.types import JSON

CONTEXT: JSON = {"Execution": {"Name": "e1"}, "State": {"RetryCount": 2}}


def cmp(variable: str, operator: str, operand: JSON, next: str | None = None) -> ChoiceRule:
    return ChoiceRule(
        kind="Compare", variable=variable, operator=operator, operand=operand, next=next
    )


def holds(rule: ChoiceRule, data: JSON, variables: dict[str, JSON] | None = None) -> bool:
    return evaluate_rule(rule, data, CONTEXT, variables or {})


COMPARISONS = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")


def test_operator_table_is_complete() -> None:
    expected = {f"{kind}{c}" for kind in ("String", "Numeric", "Timestamp") for c in COMPARISONS}
    expected |= {"BooleanEquals", "StringMatches"}
    expected |= {f"{name}Path" for name in expected if name != "StringMatches"}
    expected |= {"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"}
    assert set(OPERATORS) == expected
    assert {"StringMatchesPath", "IsNullPath"}.isdisjoint(PATH_OPERATORS)


@pytest.mark.parametrize(
    ("operator", "value", "operand", "expected"),
    [
        ("StringEquals", "abc", "abc", True),
        ("StringEquals", "abc", "abd", False),
        ("StringLessThan", "abc", "abd", True),
        ("StringLessThan", "abd", "abc", False),
        ("StringGreaterThan", "b", "a", True),
        ("StringLessThanEquals", "a", "a", True),
        ("StringGreaterThanEquals", "a", "b", False),
        # Java orders UTF-16 code units: U+FF5E sorts after U+1F600 (a surrogate pair)
        ("StringLessThan", "\U0001f600", "\uff5e", True),
        ("NumericEquals", 1, 1.0, True),
        ("NumericEquals", 1, 2, False),
        ("NumericLessThan", 1.5, 2, True),
        ("NumericGreaterThan", 10**20, 10**19, True),
        ("NumericLessThanEquals", 2, 2, True),
        ("NumericGreaterThanEquals", -1, 0, False),
        ("BooleanEquals", True, True, True),
        ("BooleanEquals", False, True, False),
        ("TimestampEquals", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00Z", True),
        ("TimestampEquals", "2016-03-14T02:59:00+01:00", "2016-03-14T01:59:00Z", True),
        ("TimestampEquals", "2016-03-14T01:59:00.000Z", "2016-03-14T01:59:00Z", True),
        ("TimestampLessThan", "2016-03-14T01:59:00.1Z", "2016-03-14T01:59:00.2Z", True),
        (
            "TimestampLessThan",
            "2016-03-14T01:59:00.0000001Z",
            "2016-03-14T01:59:00.0000002Z",
            True,
        ),
        ("TimestampGreaterThan", "2016-03-14T01:59:00-05:00", "2016-03-14T05:00:00Z", True),
        ("TimestampLessThanEquals", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00Z", True),
        ("TimestampGreaterThanEquals", "2015-03-14T01:59:00Z", "2016-03-14T01:59:00Z", False),
    ],
)
def test_comparisons(operator: str, value: JSON, operand: JSON, expected: bool) -> None:
    assert holds(cmp("$.v", operator, operand), {"v": value}) is expected
    # ...and the Path form reads the operand from the input
    path_rule = cmp("$.v", f"{operator}Path", "$.o")
    assert holds(path_rule, {"v": value, "o": operand}) is expected


@pytest.mark.parametrize(
    ("operator", "value", "operand"),
    [
        ("StringEquals", 1, "1"),
        ("StringLessThan", None, "a"),
        ("NumericEquals", "1", 1),
        ("NumericEquals", True, 1),  # booleans are not numbers
        ("NumericLessThan", [1], 2),
        ("BooleanEquals", 1, True),
        ("BooleanEquals", "true", True),
        ("TimestampEquals", "2016-03-14", "2016-03-14T01:59:00Z"),
        ("TimestampEquals", "2016-03-14t01:59:00z", "2016-03-14T01:59:00Z"),
        ("TimestampLessThan", 5, "2016-03-14T01:59:00Z"),
        ("StringMatches", 5, "*"),
    ],
)
def test_type_mismatch_is_false_not_an_error(operator: str, value: JSON, operand: JSON) -> None:
    assert holds(cmp("$.v", operator, operand), {"v": value}) is False


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        # the ASL specification's examples
        ("foo23.log", "foo*.log", True),
        ("zebra.log", "*.log", True),
        ("foobar.zebra", "foo*.*", True),
        ("foo.txt", "foo*.log", False),
        ("log", "*", True),
        ("", "*", True),
        ("abc", "abc", True),
        ("abcd", "abc", False),
        # "\\*" in JSON is the two characters \* : a literal star
        ("a*b", "a\\*b", True),
        ("axb", "a\\*b", False),
        # "\\\\" in JSON is \\ : a literal backslash
        ("a\\b", "a\\\\b", True),
        ("a\\xyzb", "a\\\\*b", True),
        # regex metacharacters mean nothing
        ("a.c", "a.c", True),
        ("abc", "a.c", False),
        ("(x)+[y]", "(x)+[y]", True),
        ("line1\nline2", "line1*", True),
    ],
)
def test_string_matches(value: str, pattern: str, expected: bool) -> None:
    assert string_matches(value, pattern) is expected
    assert holds(cmp("$.v", "StringMatches", pattern), {"v": value}) is expected


@pytest.mark.parametrize(
    ("operator", "value", "true_for"),
    [
        ("IsNull", None, True),
        ("IsNull", 0, False),
        ("IsNumeric", 3, True),
        ("IsNumeric", 3.5, True),
        ("IsNumeric", "3", False),
        ("IsNumeric", False, False),
        ("IsString", "x", True),
        ("IsString", None, False),
        ("IsBoolean", False, True),
        ("IsBoolean", 0, False),
        ("IsTimestamp", "2016-03-14T01:59:00Z", True),
        ("IsTimestamp", "2016-03-14T01:59:00.123456789+05:30", True),
        ("IsTimestamp", "2016-03-14 01:59:00Z", False),
        ("IsTimestamp", "2016-02-30T01:59:00Z", False),
        ("IsTimestamp", "2016-03-14T01:59:00", False),
        ("IsTimestamp", 1457920740, False),
        ("IsPresent", None, True),
    ],
)
def test_type_tests(operator: str, value: JSON, true_for: bool) -> None:
    assert holds(cmp("$.v", operator, True), {"v": value}) is true_for
    assert holds(cmp("$.v", operator, False), {"v": value}) is (not true_for)


def test_is_present_on_a_missing_field() -> None:
    assert holds(cmp("$.missing", "IsPresent", False), {}) is True
    assert holds(cmp("$.missing", "IsPresent", True), {}) is False
    assert holds(cmp("$.a.b.c", "IsPresent", False), {"a": 1}) is True


@pytest.mark.parametrize("operator", ["NumericEquals", "StringEquals", "IsNull", "IsString"])
def test_missing_variable_fails_with_aws_cause(operator: str) -> None:
    operand: JSON = True if operator.startswith("Is") else 1
    with pytest.raises(StatesError) as err:
        holds(cmp("$.processing_type", operator, operand), {"other": 1})
    assert err.value.error == "States.Runtime"
    assert err.value.cause == (
        "Invalid path '$.processing_type': The choice state's condition path references an "
        "invalid value."
    )


def test_missing_path_operand_fails_with_aws_cause() -> None:
    with pytest.raises(StatesError) as err:
        holds(cmp("$.left", "TimestampLessThanPath", "$.right"), {"left": "2025-01-01T00:00:10Z"})
    assert err.value.cause == (
        "Invalid path '$.right': The choice state's condition path references an invalid value."
    )


def test_variables_and_context_paths() -> None:
    assert holds(cmp("$$.State.RetryCount", "NumericGreaterThan", 1), {})
    assert holds(cmp("$limit", "NumericEquals", 5), {}, {"limit": 5})
    assert holds(cmp("$cfg.mode", "StringEquals", "full"), {}, {"cfg": {"mode": "full"}})
    assert holds(cmp("$.n", "NumericLessThanPath", "$limit"), {"n": 1}, {"limit": 5})
    assert holds(cmp("$.name", "StringEqualsPath", "$$.Execution.Name"), {"name": "e1"})


def test_boolean_combinators() -> None:
    yes = cmp("$.v", "NumericEquals", 1)
    no = cmp("$.v", "NumericEquals", 2)
    data: JSON = {"v": 1}
    assert holds(ChoiceRule(kind="And", children=(yes, yes)), data)
    assert not holds(ChoiceRule(kind="And", children=(yes, no)), data)
    assert holds(ChoiceRule(kind="Or", children=(no, yes)), data)
    assert not holds(ChoiceRule(kind="Or", children=(no, no)), data)
    assert holds(ChoiceRule(kind="Not", children=(no,)), data)
    assert not holds(ChoiceRule(kind="Not", children=(yes,)), data)


def test_and_short_circuits_before_a_missing_path() -> None:
    # The usual guard: IsPresent first, so the comparison never sees a missing field.
    guarded = ChoiceRule(
        kind="And",
        children=(cmp("$.x", "IsPresent", True), cmp("$.x", "NumericEquals", 1)),
    )
    assert holds(guarded, {}) is False


# The ASL specification's Choice state example.
SPEC_CHOICE = ChoiceState(
    name="ChoiceStateX",
    type="Choice",
    choices=(
        ChoiceRule(kind="Not", children=(cmp("$.type", "StringEquals", "Private"),), next="Public"),
        ChoiceRule(
            kind="And",
            children=(
                cmp("$.value", "IsPresent", True),
                cmp("$.value", "IsNumeric", True),
                cmp("$.value", "NumericGreaterThanEquals", 20),
                cmp("$.value", "NumericLessThan", 30),
            ),
            next="ValueInTwenties",
        ),
        cmp("$.rating", "NumericGreaterThanPath", "$.auditThreshold", next="StartAudit"),
    ),
    default="RecordEvent",
)


@pytest.mark.parametrize(
    ("data", "target"),
    [
        ({"type": "Public"}, "Public"),
        ({"type": "Private", "value": 22}, "ValueInTwenties"),
        ({"type": "Private", "value": 35, "rating": 60, "auditThreshold": 50}, "StartAudit"),
        ({"type": "Private", "value": 35, "rating": 40, "auditThreshold": 50}, None),
    ],
)
def test_choose_spec_example(data: JSON, target: str | None) -> None:
    rule = choose(SPEC_CHOICE, data, CONTEXT, {})
    assert (rule.next if rule else None) == target


def test_choose_uses_the_condition_callback_for_jsonata_rules() -> None:
    first = ChoiceRule(kind="Condition", condition="{% false %}", next="A")
    second = ChoiceRule(kind="Condition", condition="{% true %}", next="B")
    state = ChoiceState(name="C", type="Choice", query_language="JSONata", choices=(first, second))
    seen: list[JSON] = []

    def condition(rule: ChoiceRule) -> bool:
        seen.append(rule.condition)
        return rule.condition == "{% true %}"

    assert choose(state, {}, CONTEXT, {}, condition) is second
    assert seen == ["{% false %}", "{% true %}"]
    with pytest.raises(ValueError, match="condition callback"):
        choose(state, {}, CONTEXT, {})


def test_parse_timestamp_precision_and_offsets() -> None:
    assert parse_timestamp("1970-01-01T00:00:00Z") == 0
    assert parse_timestamp("1970-01-01T01:00:00+01:00") == 0
    assert parse_timestamp("1970-01-01T00:00:01.5Z") == 1.5
    assert parse_timestamp("1970-01-01T00:00:00+24:00") is None
    assert parse_timestamp("not a timestamp") is None


# --- compiled rules (compile_choices) choose what choose chooses, or step aside -----------------

_COMPILED_DOCS: list[JSON] = [
    {"i": 3, "s": "b", "t": "2026-03-01T12:00:00Z", "b": True, "n": None, "a": [1, "x"]},
    {"i": 3.5, "s": "a", "t": "not a time", "b": 0, "a": []},
    {"i": True, "s": 1, "a": {"0": 1}},
    {"i": 1, "s": "z", "b": False, "t": "2020-01-01T00:00:00Z", "a": [2], "n": 1},
    {"i": 1, "s": "z", "b": False, "t": "2020-01-01T00:00:00Z", "a": [1], "n": None},
    {"i": 1, "s": "z", "b": False, "t": "2020-01-01T00:00:00Z", "a": [1], "n": 0},
    {},
    [1, 2],
    "text",
    None,
]


@pytest.mark.parametrize("doc", _COMPILED_DOCS)
def test_compiled_rules_choose_as_the_general_evaluation(doc: JSON) -> None:
    from eltflow.asl.choice import compile_choices

    rules = (
        cmp("$.i", "NumericGreaterThanEquals", 3, next="A"),
        ChoiceRule(
            kind="And",
            children=(cmp("$.s", "StringLessThan", "c"), cmp("$.b", "BooleanEquals", True)),
            next="B",
        ),
        ChoiceRule(
            kind="Or",
            children=(
                cmp("$.t", "TimestampGreaterThan", "2026-01-01T00:00:00Z"),
                ChoiceRule(kind="Not", children=(cmp("$.a[0]", "NumericEquals", 1),)),
            ),
            next="C",
        ),
        cmp("$.n", "IsNull", True, next="D"),
        cmp("$.s", "StringMatches", "a*", next="E"),
    )
    for first in range(len(rules)):
        state = ChoiceState(name="C", type="Choice", choices=rules[first:], default="Z")
        compiled = compile_choices(state)
        assert compiled is not None
        try:
            general: object = choose(state, doc, CONTEXT, {})
        except StatesError:
            general = StatesError
        try:
            fast: object = compiled(doc)
        except Exception:
            continue  # the interpreter then asks choose(), which decides
        assert fast is general


def test_rules_reading_context_variables_paths_or_presence_are_not_compiled() -> None:
    from eltflow.asl.choice import compile_choices

    for rule in (
        cmp("$$.Execution.Name", "StringEquals", "e1"),
        cmp("$v", "NumericEquals", 1),
        cmp("$.a", "NumericEqualsPath", "$.b"),
        cmp("$.a", "IsPresent", True),
        cmp("$.a[*]", "IsPresent", True),
        ChoiceRule(kind="Not", children=(cmp("$$.State.RetryCount", "NumericEquals", 1),)),
    ):
        state = ChoiceState(name="C", type="Choice", choices=(cmp("$.x", "IsNull", True), rule))
        assert compile_choices(state) is None
