"""The pure expression layer: parsing (with DynamoDB's syntax-error context), conditions,
updates on nested documents, projections and attribute values."""

from __future__ import annotations

from typing import Any

import pytest

from eltflow.errors import AwsApiError
from eltflow.items import values as av
from eltflow.items.evaluate import Env, apply_update, evaluate, project
from eltflow.items.parser import parse_condition, parse_projection, parse_update
from eltflow.items.syntax import And, Between, Call, Compare, Not, Or, Path, Update, Value

ITEM: dict[str, Any] = {
    "JobID": {"S": "101"},
    "JobState": {"S": "Ready"},
    "Runs": {"N": "3"},
    "Tags": {"SS": ["nightly", "tpch"]},
    "Steps": {"L": [{"S": "supplier"}, {"S": "customer"}, {"S": "fact"}]},
    "Meta": {"M": {"team": {"S": "data"}, "limits": {"M": {"maxrows": {"N": "10"}}}}},
    "Bin": {"B": "AAEC"},
}


def env(values: dict[str, Any] | None = None, names: dict[str, str] | None = None) -> Env:
    return Env(names or {}, {k: av.validate(v) for k, v in (values or {}).items()})


def cond(text: str, values: dict[str, Any] | None = None, **names: str) -> bool:
    tree = parse_condition(text).tree
    return evaluate(tree, ITEM, env(values, {f"#{k}": v for k, v in names.items()}))  # type: ignore[arg-type]


def update(text: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    tree = parse_update(text).tree
    assert isinstance(tree, Update)
    new, _ = apply_update(tree, ITEM, env(values))
    return new


def test_precedence_not_and_or() -> None:
    tree = parse_condition("NOT a = :x AND b < :y OR c BETWEEN :l AND :h").tree
    assert tree == Or(
        And(
            Not(Compare("=", Path(("a",)), Value(":x"))),
            Compare("<", Path(("b",)), Value(":y")),
        ),
        Between(Path(("c",)), Value(":l"), Value(":h")),
    )


def test_paths_with_names_and_indexes() -> None:
    tree = parse_condition("size(#m.limits.maxrows) > :n AND attribute_exists(Steps[2])").tree
    assert isinstance(tree, And)
    assert tree.left == Compare(
        ">", Call("size", (Path(("#m", "limits", "maxrows")),)), Value(":n")
    )


@pytest.mark.parametrize(
    ("text", "token", "near"),
    [
        ("SET a = :v WHERE x", "WHERE", ":v WHERE x"),
        ("SET a = ", "<EOF>", "="),
        ("SET a :v", ":v", "a :v"),
        ("SET a = :v,", "<EOF>", ","),
        ("SET a[x] = :v", "x", "[x]"),
        ("SET a = :v $", "$", ":v $"),
    ],
)
def test_update_syntax_errors_show_the_token_and_its_neighbours(
    text: str, token: str, near: str
) -> None:
    with pytest.raises(AwsApiError) as e:
        parse_update(text)
    assert e.value.code == "ValidationException"
    assert e.value.message == (
        f'Invalid UpdateExpression: Syntax error; token: "{token}", near: "{near}"'
    )


def test_condition_functions() -> None:
    assert cond("begins_with(JobState, :r)", {":r": {"S": "Re"}})
    assert cond("contains(Tags, :t)", {":t": {"S": "tpch"}})
    assert not cond("contains(Tags, :t)", {":t": {"S": "tp"}})
    assert cond("contains(Steps, :s)", {":s": {"S": "fact"}})
    assert cond("attribute_type(Meta, :m)", {":m": {"S": "M"}})
    assert cond(
        "size(Steps) = :three AND size(JobState) = :five",
        {":three": {"N": "3"}, ":five": {"N": "5"}},
    )
    assert cond("Runs IN (:a, :b)", {":a": {"N": "1"}, ":b": {"N": "3.0"}})
    assert cond("attribute_not_exists(Nope) AND Nope <> :x", {":x": {"S": "x"}})
    assert not cond("Nope = :x OR Nope < :x", {":x": {"S": "x"}})
    assert not cond("JobState < :n", {":n": {"N": "1"}})  # different types never order
    assert cond("#r BETWEEN :lo AND :hi", {":lo": {"N": "3"}, ":hi": {"N": "3"}}, r="Runs")
    assert cond("begins_with(Bin, :b)", {":b": {"B": "AAE="}})


def test_strings_order_by_utf8_bytes() -> None:
    assert cond("JobState < :s", {":s": {"S": "a"}})  # "R" < "a" in byte order
    assert cond("JobState > :s", {":s": {"S": "R"}})


def test_nested_updates() -> None:
    new = update(
        "SET Meta.limits.maxrows = Meta.limits.maxrows + :one, Steps[1] = :x, Steps[9] = :y "
        "REMOVE Steps[0], Meta.team ADD Tags :t, Runs :one DELETE Nope :t",
        {":one": {"N": "1"}, ":x": {"S": "cust"}, ":y": {"S": "end"}, ":t": {"SS": ["adhoc"]}},
    )
    assert new["Meta"] == {"M": {"limits": {"M": {"maxrows": {"N": "11"}}}}}
    # index 1 replaced, 9 appended, then the original index 0 removed
    assert new["Steps"] == {"L": [{"S": "cust"}, {"S": "fact"}, {"S": "end"}]}
    assert new["Tags"] == {"SS": ["nightly", "tpch", "adhoc"]}
    assert new["Runs"] == {"N": "4"}
    assert ITEM["Runs"] == {"N": "3"}  # the input item is not modified


def test_remove_list_indexes_refer_to_the_original_list() -> None:
    new = update("REMOVE Steps[0], Steps[2]")
    assert new["Steps"] == {"L": [{"S": "customer"}]}


def test_delete_last_element_removes_the_set() -> None:
    new = update("DELETE Tags :t", {":t": {"SS": ["nightly", "tpch"]}})
    assert "Tags" not in new


def test_set_under_a_missing_or_scalar_parent_is_invalid() -> None:
    for text in ("SET Nope.x = :v", "SET JobState.x = :v", "SET Runs[0] = :v"):
        with pytest.raises(AwsApiError) as e:
            update(text, {":v": {"S": "x"}})
        assert e.value.message == (
            "The document path provided in the update expression is invalid for update"
        )


def test_arithmetic_is_exact_decimal() -> None:
    new = update("SET Runs = Runs + :x", {":x": {"N": "0.1"}})
    assert new["Runs"] == {"N": "3.1"}
    new = update("SET Runs = Runs - :x", {":x": {"N": "12345678901234567890.5"}})
    assert new["Runs"] == {"N": "-12345678901234567887.5"}


def test_projection_keeps_nested_shape() -> None:
    tree = parse_projection("Meta.limits.maxrows, Steps[2], JobID").tree
    assert isinstance(tree, tuple)
    e = env()
    out = project(ITEM, [e.resolve(p) for p in tree])
    assert out == {
        "JobID": {"S": "101"},
        "Meta": {"M": {"limits": {"M": {"maxrows": {"N": "10"}}}}},
        "Steps": {"L": [{"S": "fact"}]},
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"N": "abc"}, "The parameter cannot be converted to a numeric value: abc"),
        ({"N": "1e126"}, "Number overflow. Attempting to store a number with magnitude larger "
         "than supported range"),
        ({"NULL": False}, "One or more parameter values were invalid: Null attribute value types "
         "must have the value of true"),
        ({"SS": ["a", "a"]}, "One or more parameter values were invalid: Input collection [a, a] "
         "contains duplicates."),
        ({"S": "x", "N": "1"}, "Supplied AttributeValue has more than one datatypes set, must "
         "contain exactly one of the supported datatypes"),
    ],
)  # fmt: skip
def test_invalid_values(value: dict[str, Any], message: str) -> None:
    with pytest.raises(AwsApiError) as e:
        av.validate(value)
    assert (e.value.code, e.value.message) == ("ValidationException", message)


def test_numbers_are_canonical() -> None:
    assert av.validate({"N": "1.50"}) == {"N": "1.5"}
    assert av.validate({"N": "1e2"}) == {"N": "100"}
    assert av.validate({"N": "-0.0"}) == {"N": "0"}


def test_duplicate_numbers_by_value_are_rejected() -> None:
    with pytest.raises(AwsApiError):
        av.validate({"NS": ["1", "1.0"]})
