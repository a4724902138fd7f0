"""ASL's JSONPath: syntax, Jayway's results and messages, Reference Paths and ResultPath writes."""

from __future__ import annotations

import copy

import pytest

from eltflow.asl.java import compact_json, java_double
from eltflow.asl.jsonpath import PathNotFound, evaluate, is_reference_path, parse_path, set_at
from eltflow.errors import StatesError
from eltflow.types import JSON

# The example document of the ASL specification's "Paths" section.
SPEC_DOC: JSON = {"foo": 123, "bar": ["a", "b", "c"], "car": {"cdr": True}}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", SPEC_DOC),
        ("$.foo", 123),
        ("$.bar", ["a", "b", "c"]),
        ("$.car.cdr", True),
        ("$['car']['cdr']", True),
        ('$["car"].cdr', True),
        ("$.bar[0]", "a"),
        ("$.bar[-1]", "c"),
        ("$.bar[*]", ["a", "b", "c"]),
        ("$.bar[0,2]", ["a", "c"]),
        ("$.*", [123, ["a", "b", "c"], {"cdr": True}]),
        ("$['foo','car']", {"foo": 123, "car": {"cdr": True}}),
        ("$..cdr", [True]),
    ],
)
def test_spec_paths(path: str, expected: JSON) -> None:
    assert evaluate(path, SPEC_DOC) == expected


def test_spec_parameters_example_index_and_slice() -> None:
    # ASL spec, "Parameters": "first.$": "$.vals[0]", "last3.$": "$.vals[3:]"
    doc: JSON = {"flagged": 7, "vals": [0, 10, 20, 30, 40, 50]}
    assert evaluate("$.vals[0]", doc) == 0
    assert evaluate("$.vals[3:]", doc) == [30, 40, 50]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.v[1:3]", [10, 20]),
        ("$.v[:2]", [0, 10]),
        ("$.v[-2:]", [40, 50]),
        ("$.v[:-4]", [0, 10]),
        ("$.v[4:100]", [40, 50]),
        ("$.v[3:1]", []),
        ("$.v[0:4:2]", [0, 10, 20, 30]),  # Jayway ignores a step
    ],
)
def test_slices_follow_jayway(path: str, expected: JSON) -> None:
    assert evaluate(path, {"v": [0, 10, 20, 30, 40, 50]}) == expected


def test_index_past_the_end_is_null_like_jackson() -> None:
    assert evaluate("$.bar[5]", SPEC_DOC) is None
    assert evaluate("$.bar[-9]", SPEC_DOC) is None


def test_a_dot_before_a_bracket_is_the_bracket() -> None:
    # Jayway (and AWS) read `$.[...]` as `$[...]`.
    doc: JSON = [{"year": 1997, "name": "a"}, {"year": 2001, "name": "b"}]
    assert evaluate("$.[0].name", doc) == "a"
    assert evaluate("$.[?(@.year < 1999)].name", doc) == ["a"]
    assert evaluate("$.['x']", {"x": 1}) == 1


def test_names_with_special_characters_use_brackets() -> None:
    doc: JSON = {"a b": {"c.d": 1}, "it's": 2, "x-y": 3, "length()": 4}
    assert evaluate("$['a b']['c.d']", doc) == 1
    assert evaluate("$['it\\'s']", doc) == 2
    # Recorded on AWS: a backslash before a character other than the quote or a backslash is
    # part of the name.
    assert evaluate("$['a\\\"b']", {'a\\"b': 5}) == 5
    assert evaluate("$['a\\\\b']", {"a\\b": 6}) == 6
    assert evaluate("$.x-y", doc) == 3
    # AWS does not support JSONPath functions: `length()` is just a property name.
    assert evaluate("$.length()", doc) == 4


# Results AWS Step Functions Local gives (floci-io/floci#3260).
LIST_DOC: JSON = {"list": [{"keep": True}, {"keep": False}, {"other": 1}]}


def test_filter_existence_keeps_items_whatever_the_value() -> None:
    assert evaluate("$.list[?(@.keep)]", LIST_DOC) == [{"keep": True}, {"keep": False}]


def test_filter_equality() -> None:
    assert evaluate("$.list[?(@.keep == true)]", LIST_DOC) == [{"keep": True}]


def test_deep_scan() -> None:
    doc: JSON = {"d": {"x": {"a": [1, 2]}}}
    assert evaluate("$.d..a", doc) == [[1, 2]]
    assert evaluate("$.d..a[*]", doc) == [1, 2]


ITEMS: JSON = {
    "items": [
        {"name": "a", "price": 5, "tags": ["x"], "status": "200"},
        {"name": "b", "price": 15, "tags": [], "status": "201"},
        {"name": "c", "price": 25.5, "status": 200},
    ],
    "limit": 10,
}


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("$.items[?(@.price > 10)]", ["b", "c"]),
        ("$.items[?(@.price >= 15)]", ["b", "c"]),
        ("$.items[?(@.price < 15)]", ["a"]),
        ("$.items[?(@.price <= 15)]", ["a", "b"]),
        ("$.items[?(@.price > $.limit)]", ["b", "c"]),
        ("$.items[?(@.name == 'b')]", ["b"]),
        ('$.items[?(@.name != "b")]', ["a", "c"]),
        ("$.items[?(@.price > 10 && @.name != 'c')]", ["b"]),
        ("$.items[?(@.price < 10 || @.name == 'c')]", ["a", "c"]),
        ("$.items[?(!(@.price < 10))]", ["b", "c"]),
        ("$.items[?(@.name =~ /[ab]/)]", ["a", "b"]),
        ("$.items[?(@.name =~ /A/i)]", ["a"]),
        ("$.items[?(@.name in ['a','c'])]", ["a", "c"]),
        ("$.items[?(@.name nin ['a','c'])]", ["b"]),
        ("$.items[?(@.tags size 1)]", ["a"]),
        ("$.items[?(@.tags empty true)]", ["b"]),
        ("$.items[?(@.tags contains 'x')]", ["a"]),
        # a missing value is "undefined": never equal, always "not equal"
        ("$.items[?(@.tags != ['x'])]", ["b", "c"]),
        # Jayway compares a number and a numeric string as equal
        ("$.items[?(@.status == 200)]", ["a", "c"]),
        ("$.items[?(@.status != '200')]", ["b"]),
    ],
)
def test_filters(path: str, names: list[str]) -> None:
    result = evaluate(path, ITEMS)
    assert isinstance(result, list)
    assert [item["name"] for item in result if isinstance(item, dict)] == names


def test_filter_then_property() -> None:
    assert evaluate("$.items[?(@.price > 10)].name", ITEMS) == ["b", "c"]


def test_wildcard_projection_skips_items_missing_the_property() -> None:
    assert evaluate("$.items[*].tags", ITEMS) == [["x"], []]


def test_indefinite_paths_that_find_nothing_give_an_empty_list() -> None:
    # AWS returns [] rather than failing for wildcards/slices/filters (LocalStack#12318)
    assert evaluate("$.missing[*]", {}) == []
    assert evaluate("$[*].type", {}) == []
    assert evaluate("$.a[1:]", {"a": "text"}) == []
    assert evaluate("$.items[?(@.price > 100)]", ITEMS) == []


@pytest.mark.parametrize(
    ("path", "doc", "detail"),
    [
        # from a real AWS cause: "Invalid path '$.Payload' : No results for path: $['Payload']"
        ("$.Payload", {"StatusCode": 200}, "No results for path: $['Payload']"),
        ("$.car.x", SPEC_DOC, "No results for path: $['car']['x']"),
        ("$.x.y", SPEC_DOC, "Missing property in path $['x']"),
        ("$.bar[1].x", SPEC_DOC, None),
        (
            "$.foo[0]",
            SPEC_DOC,
            "Filter: [0] can only be applied to arrays. Current context is: 123",
        ),
        ("$.n[0]", {"n": None}, "The path $['n'] is null"),
    ],
)
def test_definite_misses_quote_jayway(path: str, doc: JSON, detail: str | None) -> None:
    with pytest.raises(PathNotFound) as err:
        evaluate(path, doc)
    assert err.value.error == "States.Runtime"
    assert err.value.path == path
    if detail is not None:
        assert err.value.detail == detail
        assert err.value.cause == f"Invalid path '{path}' : {detail}"


def test_property_of_a_scalar_names_the_java_class() -> None:
    with pytest.raises(PathNotFound) as err:
        evaluate("$.foo.y", SPEC_DOC)
    assert err.value.detail == (
        "Expected to find an object with property ['y'] in path $['foo'] but found "
        "'java.lang.Integer'. This is not a json object according to the JsonProvider: "
        "'com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider'."
    )


def test_path_not_found_is_a_states_error() -> None:
    assert issubclass(PathNotFound, StatesError)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "foo",
        "$.",
        "$..",
        "$[",
        "$['a'",
        "$[a]",
        "$.a b",
        "$[1:2:3:4]",
        "$[?(@.a >)]",
        "$.a[?@]",
    ],
)
def test_bad_syntax_is_a_value_error_with_a_position(bad: str) -> None:
    with pytest.raises(ValueError, match="Invalid JSONPath"):
        parse_path(bad)


def test_roots() -> None:
    assert parse_path("$").root == "$"
    ctx = parse_path("$$.Execution.Id")
    assert (ctx.root, ctx.keys) == ("$$", ("Execution", "Id"))
    var = parse_path("$my_var.a[0]")
    assert (var.root, var.variable, var.keys) == ("var", "my_var", ("a", 0))


def test_parse_is_cached() -> None:
    assert parse_path("$.a.b[0]") is parse_path("$.a.b[0]")


@pytest.mark.parametrize(
    ("path", "reference"),
    [
        ("$", True),
        ("$.a.b", True),
        ("$['a'][0].c", True),
        ("$$.Execution.Input", True),
        ("$.a[*]", False),
        ("$..a", False),
        ("$.a[0,1]", False),
        ("$.a[1:]", False),
        ("$.a[?(@.b)]", False),
        ("$['a','b']", False),
        ("not a path", False),
    ],
)
def test_is_reference_path(path: str, reference: bool) -> None:
    assert is_reference_path(path) is reference


def test_set_at_creates_objects_and_copies_on_write() -> None:
    data: JSON = {"keep": {"deep": [1, 2]}, "a": {"x": 1}}
    before = copy.deepcopy(data)
    out = set_at("$.a.b.c", data, "v")
    assert out == {"keep": {"deep": [1, 2]}, "a": {"x": 1, "b": {"c": "v"}}}
    assert data == before
    assert isinstance(out, dict) and isinstance(data, dict)
    assert out["keep"] is data["keep"]  # untouched subtrees are shared, not copied


def test_set_at_root_and_array_element() -> None:
    assert set_at("$", {"a": 1}, [1]) == [1]
    assert set_at("$.a[1]", {"a": [1, 2, 3]}, "x") == {"a": [1, "x", 3]}
    assert set_at("$.a[-1].b", {"a": [{}, {"c": 1}]}, 2) == {"a": [{}, {"c": 1, "b": 2}]}


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("$.partitioned", '{"min_size":10000}'),
        ("$.a.b", {"a": "text"}),
        ("$.a.b", {"a": None}),
        ("$.a[5]", {"a": [1]}),
        ("$.a[0]", {"a": {}}),
    ],
)
def test_set_at_failures(path: str, data: JSON) -> None:
    with pytest.raises(StatesError) as err:
        set_at(path, data, 1)
    assert err.value.error == "States.ResultPathMatchFailure"
    assert err.value.cause == f"Unable to apply ReferencePath {path} to input {compact_json(data)}"


def test_set_at_failure_cause_of_a_string_input() -> None:
    # the shape AWS reported for a string input (aws-cdk#29473)
    with pytest.raises(StatesError) as err:
        set_at("$.partitioned", '{"min_size":10000}', {})
    assert (
        err.value.cause
        == 'Unable to apply ReferencePath $.partitioned to input "{\\"min_size\\":10000}"'
    )


def test_set_at_rejects_non_reference_paths() -> None:
    with pytest.raises(ValueError, match="not a Reference Path"):
        set_at("$.a[*]", {}, 1)


def test_compact_json_is_jackson_like() -> None:
    value: JSON = {"a": [1, 1.5, 1e10, 1e-05, None, True], "é": 'q"\n\x01/'}
    assert compact_json(value) == '{"a":[1,1.5,1.0E10,1.0E-5,null,true],"é":"q\\"\\n\\u0001/"}'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (0.001, "0.001"),
        (1234567.0, "1234567.0"),
        (1e7, "1.0E7"),
        (1.25e-4, "1.25E-4"),
        (-3.5e21, "-3.5E21"),
        (123456789.123, "1.23456789123E8"),
    ],
)
def test_java_double(value: float, text: str) -> None:
    assert java_double(value) == text
