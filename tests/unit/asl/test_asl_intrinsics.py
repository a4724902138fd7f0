"""Intrinsic functions: AWS documentation examples plus behaviour recorded against real AWS.

Paths are resolved by the real JSONPath engine (``eltflow.asl.dataflow.resolve_path``).
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Callable

import pytest

from eltflow.asl import intrinsics
from eltflow.asl.dataflow import resolve_path
from eltflow.asl.intrinsics import JavaRandom, check_syntax, evaluate, parse_intrinsic
from eltflow.errors import StatesError
from eltflow.types import JSON

CONTEXT: JSON = {
    "Execution": {"Id": "arn:aws:states:us-east-1:1:execution:m:e1", "Input": {"seed": 7}},
    "StateMachine": {"Name": "orders-daily"},
}


def resolver(data: JSON, variables: dict[str, JSON] | None = None) -> Callable[[str], JSON]:
    return lambda path: resolve_path(path, data, CONTEXT, variables or {})


def run(expression: str, data: JSON = None, *, seed: int = 0) -> JSON:
    return evaluate(expression, resolver(data), random.Random(seed), state_input=data)


def failure(expression: str, data: JSON = None) -> StatesError:
    with pytest.raises(StatesError) as info:
        run(expression, data)
    return info.value


# --- AWS documentation examples ---------------------------------------------------------------

DOC_EXAMPLES: list[tuple[str, JSON, JSON]] = [
    (
        "States.Format('Hello, my name is {}.', $.name)",
        {"name": "Arnav"},
        "Hello, my name is Arnav.",
    ),
    (
        "States.Format($.template, $.name)",
        {"name": "Arnav", "template": "Hello, my name is {}."},
        "Hello, my name is Arnav.",
    ),
    (
        "States.StringToJson($.escapedJsonString)",
        {"escapedJsonString": '{"foo": "bar"}'},
        {"foo": "bar"},
    ),
    ("States.JsonToString($.unescapedJson)", {"unescapedJson": {"foo": "bar"}}, '{"foo":"bar"}'),
    ("States.Array($.Id)", {"Id": 123456}, [123456]),
    (
        "States.ArrayPartition($.inputArray,4)",
        {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]},
        [[1, 2, 3, 4], [5, 6, 7, 8], [9]],
    ),
    (
        "States.ArrayContains($.inputArray, $.lookingFor)",
        {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "lookingFor": 5},
        True,
    ),
    ("States.ArrayRange(1, 9, 2)", None, [1, 3, 5, 7, 9]),
    (
        "States.ArrayGetItem($.inputArray, $.index)",
        {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5},
        6,
    ),
    ("States.ArrayLength($.inputArray)", {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, 9),
    ("States.ArrayUnique($.inputArray)", {"inputArray": [1, 2, 3, 3, 3, 3, 3, 3, 4]}, [1, 2, 3, 4]),
    ("States.Base64Encode($.input)", {"input": "Data to encode"}, "RGF0YSB0byBlbmNvZGU="),
    ("States.Base64Decode($.base64)", {"base64": "RGF0YSB0byBlbmNvZGU="}, "Data to encode"),
    (
        "States.Hash($.Data, $.Algorithm)",
        {"Data": "input data", "Algorithm": "SHA-1"},
        hashlib.sha1(b"input data").hexdigest(),
    ),
    (
        "States.JsonMerge($.json1, $.json2, false)",
        {"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}},
        {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3},
    ),
    ("States.MathAdd($.value1, $.step)", {"value1": 111, "step": -1}, 110),
    (
        "States.StringSplit($.inputString, $.splitter)",
        {"inputString": "1,2,3,4,5", "splitter": ","},
        ["1", "2", "3", "4", "5"],
    ),
    (
        "States.StringSplit($.inputString, $.splitter)",
        {"inputString": "This.is+a,test=string", "splitter": ".+,="},
        ["This", "is", "a", "test", "string"],
    ),
]


@pytest.mark.parametrize(("expression", "data", "expected"), DOC_EXAMPLES)
def test_documented_examples(expression: str, data: JSON, expected: JSON) -> None:
    assert run(expression, data) == expected


def test_nested_calls_from_the_docs() -> None:
    arn = "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/my.recipe.name/1.0.0"
    expression = (
        "States.Format('{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem("
        "States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem("
        "States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), "
        "'.'), 1))"
    )
    # The docs' own example has three '{}' for two arguments, which AWS rejects at run time;
    # with two placeholders it yields the major and minor version of the recipe.
    assert run(expression, {"ImageRecipe": {"Arn": arn}}) == "1.0"


def test_context_and_variable_paths() -> None:
    assert run("States.Format('{}', $$.StateMachine.Name)") == "orders-daily"
    fn = resolver({}, {"counter": {"n": 4}})
    assert evaluate("States.MathAdd($counter.n, 1)", fn, random.Random(0)) == 5


# --- escapes and Format rendering -------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (r"States.Format('Name: \'{}\'', 'Ana')", "Name: 'Ana'"),
        (r"States.Format('\{\} is literal, {} is not', 1)", "{} is literal, 1 is not"),
        (r"States.Format('back\\slash {}', 'x')", "back\\slash x"),
        ("States.Format('no placeholders')", "no placeholders"),
        ("States.Format('  {}  ', 'x')", "  x  "),
        (
            "States.Format('{}|{}|{}|{}|{}', null, false, -1, 3.5, 9007199254740991)",
            "null|false|-1|3.5|9007199254740991",
        ),
        ("States.Format('{} {}', 1.0, 1e20)", "1.0 1.0E20"),
        ("States.Format('{}', States.Array(1, 'a', null))", "[1, a, null]"),
    ],
)
def test_format_rendering(expression: str, expected: str) -> None:
    assert run(expression) == expected


def test_format_renders_objects_like_java_maps() -> None:
    # AWS (LocalStack snapshot test_context_json_path): {Id=arn:..., Name=...}
    assert run("States.Format('snd={}', $.sm)", {"sm": {"Id": "arn:x", "Name": "m"}}) == (
        "snd={Id=arn:x, Name=m}"
    )


@pytest.mark.parametrize(
    "expression",
    [
        "States.Format('{} {}', 'only one')",
        "States.Format('{}', 'a', 'b')",
        "States.Format('Hello {', 'x')",
        "States.Format('}')",
        "States.Format($.template, 'x')",
    ],
)
def test_format_errors(expression: str) -> None:
    error = failure(expression, {"template": 123})
    assert error.error == "States.Runtime"
    assert error.cause == (
        f"The function '{expression}' had the following error: Invalid arguments in States.Format"
    )


# --- arrays -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "data", "expected"),
    [
        ("States.ArrayPartition($.arr, 10)", {"arr": [1, 2, 3]}, [[1, 2, 3]]),
        ("States.ArrayPartition($.arr, 3)", {"arr": []}, []),
        ("States.ArrayPartition($.arr, 2.6)", {"arr": [1, 2, 3, 4, 5]}, [[1, 2], [3, 4], [5]]),
        ("States.ArrayPartition($.arr, 2147483647)", {"arr": [1, 2]}, [[1, 2]]),
        ("States.ArrayRange(5, 1, -2)", None, [5, 3, 1]),
        ("States.ArrayRange(5, 1, 1)", None, []),
        ("States.ArrayRange(3, 3, -1)", None, [3]),
        ("States.ArrayRange(1.4, 5.6, 2.2)", None, [1, 3, 5]),
        ("States.ArrayRange(1.6, 1.4, 1)", None, [1]),
        ("States.ArrayGetItem($.arr, 1.2)", {"arr": [10, 20, 30]}, 20),
        ("States.ArrayGetItem($.arr, 999)", {"arr": []}, None),
        (
            "States.ArrayContains($.arr, $.v)",
            {"arr": [{"1": 2, "2": []}], "v": {"2": [], "1": 2}},
            True,
        ),
        ("States.ArrayContains($.arr, 1)", {"arr": [True, "1"]}, False),
        (
            "States.ArrayUnique($.arr)",
            {"arr": [None, None, True, 1, 1.0, [], [], {"a": 1}, {"a": 1}]},
            [None, True, 1, [], {"a": 1}],
        ),
        ("States.Array()", None, []),
    ],
)
def test_array_functions(expression: str, data: JSON, expected: JSON) -> None:
    assert run(expression, data) == expected


def test_array_range_limit_is_1000_items() -> None:
    assert len(run("States.ArrayRange(1, 1000, 1)")) == 1000  # type: ignore[arg-type]
    assert len(run("States.ArrayRange(1000, 1, -1)")) == 1000  # type: ignore[arg-type]
    for expression in ("States.ArrayRange(1, 1001, 1)", "States.ArrayRange(1001, 1, -1)"):
        assert "Invalid arguments in States.ArrayRange" in failure(expression).cause


@pytest.mark.parametrize(
    ("expression", "data"),
    [
        ("States.ArrayPartition('not-array', 2)", None),
        ("States.ArrayPartition($.arr, 0.49)", {"arr": [1]}),
        ("States.ArrayPartition($.arr, -1)", {"arr": [1]}),
        ("States.ArrayPartition($.arr, '2')", {"arr": [1]}),
        ("States.ArrayPartition($.arr, null)", {"arr": [1]}),
        ("States.ArrayRange('a', 5, 1)", None),
        ("States.ArrayRange(1, 10, 0)", None),
        ("States.ArrayRange(1, 10, 0.49)", None),
        ("States.ArrayGetItem('not-array', 0)", None),
        ("States.ArrayGetItem($.arr, 3)", {"arr": [10, 20, 30]}),
        ("States.ArrayGetItem($.arr, -1)", {"arr": [10, 20, 30]}),
        ("States.ArrayGetItem($.arr, '1')", {"arr": [10, 20, 30]}),
        ("States.ArrayLength('x')", None),
        ("States.ArrayUnique(1)", None),
        ("States.ArrayContains(1, 1)", None),
        ("States.ArrayRange(1, 5)", None),
        ("States.ArrayPartition($.arr, 2, 999)", {"arr": [1]}),
    ],
)
def test_array_errors(expression: str, data: JSON) -> None:
    error = failure(expression, data)
    name = expression.split("(", 1)[0]
    assert error.error == "States.Runtime"
    assert (
        error.cause
        == f"The function '{expression}' had the following error: Invalid arguments in {name}"
    )


# --- encoding, hashing, JSON ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("States.Base64Decode('aGVsbG8=')", "hello"),
        ("States.Base64Decode('')", ""),
        ("States.Base64Decode('4pyT')", "\u2713"),
        ("States.Base64Decode('44GT44KT44Gr44Gh44Gv')", "こんにちは"),
        ("States.Base64Decode(' YWJjZA== ')", "abcd"),
        ("States.Base64Decode('ab==cd')", "i"),
        ("States.Base64Decode(States.Base64Encode('h\u00e9llo'))", "h\u00e9llo"),
        ("States.Hash('hello', 'MD5')", "5d41402abc4b2a76b9719d911017c592"),
        ("States.Hash('hello', 'SHA-1')", "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"),
        (
            "States.Hash('\u2713', 'SHA-256')",
            "1dabba21cdad44541f6b15796f8d22978fc7ea10c46aeceeeeb66c23b3ac7604",
        ),
        ("States.Hash('hello', 'SHA-384')", hashlib.sha384(b"hello").hexdigest()),
        ("States.Hash('hello', 'SHA-512')", hashlib.sha512(b"hello").hexdigest()),
        ("States.Hash(123, 'MD5')", hashlib.md5(b"123").hexdigest()),
        ("States.StringToJson('\"x\"')", "x"),
        # Recorded on AWS: an empty or blank string reads as null.
        ("States.StringToJson('')", None),
        ("States.StringToJson(' ')", None),
        (
            "States.JsonToString(States.Array(null, '', 0, true, States.Array(1)))",
            '[null,"",0,true,[1]]',
        ),
    ],
)
def test_encoding_hash_json(expression: str, expected: JSON) -> None:
    assert run(expression) == expected


def test_input_limits_are_10000_characters() -> None:
    ok: JSON = {"s": "a" * 10_000}
    too_long: JSON = {"s": "a" * 10_001}
    assert isinstance(run("States.Hash($.s, 'SHA-256')", ok), str)
    assert isinstance(run("States.Base64Encode($.s)", ok), str)
    for function in (
        "States.Hash($.s, 'SHA-256')",
        "States.Base64Encode($.s)",
        "States.Base64Decode($.s)",
    ):
        assert failure(function, too_long).error == "States.Runtime"


@pytest.mark.parametrize(
    "expression",
    [
        "States.Hash('data', 'sha-256')",
        "States.Hash('data', 'SHA256')",
        "States.Hash('data', '')",
        "States.Hash('hello', 123)",
        "States.Hash('hello')",
        "States.Base64Decode(123)",
        "States.Base64Decode()",
        "States.JsonMerge($.a, $.b, true)",
        "States.JsonMerge($.a, 1, false)",
        "States.JsonMerge($.a, $.b, 'false')",
        "States.StringToJson(1)",
        "States.StringToJson('{nope')",
        "States.UUID(1)",
    ],
)
def test_encoding_and_json_errors(expression: str) -> None:
    assert failure(expression, {"a": {"x": 1}, "b": {"y": 2}}).error == "States.Runtime"


# --- math, strings, uuid ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("States.MathAdd(1.6, 2.7)", 5),
        ("States.MathAdd(0.1, 0.2)", 0),
        ("States.MathAdd(2147483646, 1)", 2147483647),
        ("States.MathAdd(-2147483647, -1)", -2147483648),
        ("States.MathAdd(States.MathAdd(5, 1), 2)", 8),
        ("States.StringSplit('a,,b', ',')", ["a", "b"]),
        ("States.StringSplit(',a,b,', ',')", ["a", "b"]),
        ("States.StringSplit('', ',')", []),
        ("States.StringSplit('1a2b3ab4', 'ab')", ["1", "2", "3", "4"]),
        ("States.StringSplit('a.b|c', '.|')", ["a", "b", "c"]),
    ],
)
def test_math_and_strings(expression: str, expected: JSON) -> None:
    assert run(expression) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "States.MathAdd(2147483647, 1)",
        "States.MathAdd(3000000000, 1)",
        "States.MathAdd('a', 1)",
        "States.MathAdd(true, 1)",
        "States.MathAdd(null, 1)",
        "States.MathAdd(1)",
        "States.MathRandom(1, 1)",
        "States.MathRandom(10, 5)",
        "States.MathRandom(1.4, 1.6)",
        "States.MathRandom('a', 10)",
        "States.MathRandom(1, 10, null)",
        "States.MathRandom(1, 10, 'seed')",
        "States.StringSplit(123, ',')",
        "States.StringSplit('a,b', null)",
    ],
)
def test_math_and_string_errors(expression: str) -> None:
    assert failure(expression).error == "States.Runtime"


def test_math_random_range_and_determinism() -> None:
    values = {run("States.MathRandom(1.6, 5.4)", seed=s) for s in range(200)}
    assert values == {1, 2, 3, 4}  # truncated to [1, 5), end exclusive
    assert run("States.MathRandom(1, 999)", seed=5) == run("States.MathRandom(1, 999)", seed=5)
    seeded = {run("States.MathRandom(1, 100, 42)", seed=s) for s in range(5)}
    assert len(seeded) == 1  # the seed argument, not the execution's rng, decides
    value = seeded.pop()
    assert isinstance(value, int) and 1 <= value < 100


def test_uuid_is_v4_from_the_rng() -> None:
    first = run("States.UUID()", seed=9)
    assert first == run("States.UUID()", seed=9)
    assert first != run("States.UUID()", seed=10)
    parsed = uuid.UUID(str(first))
    assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_java_random_matches_java() -> None:
    # Known java.util.Random values: new Random(42).nextDouble(), .nextInt()
    assert JavaRandom(42).next_double() == 0.7275636800328681
    assert JavaRandom(42)._next(32) == -1170105035
    draws = [JavaRandom(s).next_int(10) for s in range(50)]
    assert all(0 <= d < 10 for d in draws) and len(set(draws)) > 5


# --- missing paths and causes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "data", "argument"),
    [
        ("States.Format('{}', $.nope)", {"other": 1}, "$.nope"),
        ("States.Format('{}',$.nope)", {"other": 1}, "$.nope"),
        ("States.Format('{} {}', $.other, $.a.b)", {"other": 1}, "$.a.b"),
        ("States.Format('{}', States.Format('{}', $.nope))", {"other": 1}, "$.nope"),
        ("States.ArrayLength($.nope)", {"other": 1}, "$.nope"),
        ("States.Format('{}', $$.Nope.Deep)", {"other": 1}, "$.Nope.Deep"),
    ],
)
def test_missing_path_argument_cause(expression: str, data: JSON, argument: str) -> None:
    # Causes captured from real AWS (us-east-1) by Floci's tests, minus the state prefix.
    error = failure(expression, data)
    assert error.error == "States.Runtime"
    shown = json.dumps(data, separators=(",", ":"))
    assert error.cause == (
        f"The function '{expression}' had the following error: The JsonPath argument for the "
        f"field '{argument}' could not be found in the input '{shown}'"
    )


def test_explicit_null_is_not_missing() -> None:
    assert run("States.Format('{}', $.nul)", {"nul": None}) == "null"
    assert run("States.ArrayLength($.items[*].nope)", {"items": [1, 2]}) == 0


# --- syntax -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "States.Format('x')",
        "States.Array()",
        "  States.UUID( )  ",
        "States.Array($['a b'], $.c[?(@.d > 1)], -1.5e3)",
    ],
)
def test_valid_syntax(expression: str) -> None:
    assert check_syntax(expression) is None


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("States.Nope(1)", "unknown intrinsic function 'States.Nope'"),
        ("States.Format('x'", "missing ')'"),
        ("States.Format('x)", "unterminated string literal"),
        (r"States.Format('a\nb')", "a backslash in a string literal must escape"),
        ("States.Array(1) extra", "unexpected text"),
        ("States.Array(1,)", "unexpected character ')'"),
        ("States.Array(foo)", "unexpected character 'f'"),
        ("$.a", "expected an intrinsic function call"),
    ],
)
def test_syntax_errors(expression: str, message: str) -> None:
    problem = check_syntax(expression)
    assert problem is not None and message in problem
    assert failure(expression).error == "States.Runtime"


def test_nesting_limit_is_ten() -> None:
    def nested(depth: int) -> str:
        return "States.Array(" * depth + "1" + ")" * depth

    assert check_syntax(nested(10)) is None
    problem = check_syntax(nested(11))
    assert problem is not None and "nested at most 10 deep" in problem


def test_parse_tree_keeps_literal_source() -> None:
    call = parse_intrinsic(r"States.Format('\{}', $.a, States.UUID())")
    assert call.name == "States.Format"
    first, second, third = call.args
    assert isinstance(first, intrinsics.Literal) and first.value == "{}" and first.raw == r"\{}"
    assert isinstance(second, intrinsics.Path) and second.path == "$.a"
    assert isinstance(third, intrinsics.Call) and third.args == ()


def test_all_eighteen_functions_are_known() -> None:
    assert len(intrinsics.names()) == 18
