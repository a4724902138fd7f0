"""JSONata in Step Functions: AWS documentation examples and AWS-recorded errors."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Mapping

import pytest

from eltflow.asl import jsonata as sfn_jsonata
from eltflow.asl.jsonata import check_syntax, evaluate, evaluate_template, is_expression
from eltflow.errors import StatesError
from eltflow.types import JSON

STATES: JSON = {
    "input": {
        "customer": {"name": "Ana", "orders": [{"id": 1, "total": 20}, {"id": 2, "total": 5}]},
        "nothing": None,
        "json": '{"a": [1, 2], "b": null}',
        "content": "hello",
    },
    "context": {
        "Execution": {"Id": "arn:aws:states:us-east-1:1:execution:m:e1", "Name": "e1"},
        "State": {"Name": "Load", "EnteredTime": "2024-01-02T03:04:05.678Z"},
    },
}


def ev(expr: str, variables: Mapping[str, JSON] | None = None, *, seed: int = 0) -> JSON:
    return evaluate(
        expr, states=STATES, variables=variables or {}, rng=random.Random(seed), field="Output"
    )


def err(expr: str, variables: Mapping[str, JSON] | None = None) -> StatesError:
    with pytest.raises(StatesError) as info:
        ev(expr, variables)
    assert info.value.error == "States.QueryEvaluationError"
    return info.value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{% $states.input %}", True),
        ("{%$x%}", True),
        (" {% $x %}", False),
        ("{% $x %} ", False),
        ("$.x", False),
        (1, False),
        (None, False),
    ],
)
def test_is_expression(value: object, expected: bool) -> None:
    assert is_expression(value) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("{% $states.input.customer.name %}", "Ana"),
        ("{% $states.input.customer.orders.total %}", [20, 5]),
        ("{% $sum($states.input.customer.orders.total) %}", 25),
        ("{% $states.input.customer.orders[total > 10].id %}", 1),
        ("{% 'Hello ' & $states.input.customer.name %}", "Hello Ana"),
        ("{% $states.context.State.Name %}", "Load"),
        ("{% $states.input.nothing %}", None),
        ("{% $exists($states.input.nothing) %}", True),
        ("{% $type($states.input.nothing) %}", "null"),
        ("{% 4 / 2 %}", 2),
        ("{% 5 / 2 %}", 2.5),
        ("{% [1, 2, 3].($ * 2) %}", [2, 4, 6]),
        ("{% ($x := 2; $x * 3) %}", 6),
        ("{% {'a': $states.input.missing, 'b': 1} %}", {"b": 1}),
    ],
)
def test_expressions(expr: str, expected: JSON) -> None:
    assert ev(expr) == expected


def test_workflow_variables_are_top_level_names() -> None:
    variables: dict[str, JSON] = {"count": 41, "flag": None, "states": "shadowed"}
    assert ev("{% $count + 1 %}", variables) == 42
    assert ev("{% $flag %}", variables) is None
    # $states is reserved: a variable cannot hide it.
    assert ev("{% $states.context.State.Name %}", variables) == "Load"


# --- AWS's extra functions (docs: "Transforming data with JSONata in Step Functions") ---------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("{% $partition([1,2,3,4,5,6,7,8,9], 3) %}", [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
        ("{% $partition([1,2,3,4,5], 2) %}", [[1, 2], [3, 4], [5]]),
        ("{% $partition([1,2,3], 2.9) %}", [[1, 2], [3]]),
        ("{% $partition([1,2,3]) %}", [[1, 2, 3]]),
        ("{% $range(0, 10, 2) %}", [0, 2, 4, 6, 8, 10]),
        ("{% $range(10, 0, -5) %}", [10, 5, 0]),
        ("{% $range(3, 3, 1) %}", 3),
        # A one-value sequence is its value (recorded on AWS: $range(1, 9, 9) is 1).
        ("{% $range(1, 9, 9) %}", 1),
        ("{% $range(1.9, 4.2, 1) %}", [1, 2, 3, 4]),
        (
            "{% $hash($states.input.content, 'SHA-256') %}",
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        ),
        ("{% $hash('hello', 'MD5') %}", "5d41402abc4b2a76b9719d911017c592"),
        ("{% $random(42) %}", 0.7275636800328681),
        ("{% $parse($states.input.json) %}", {"a": [1, 2], "b": None}),
        ("{% $parse('\"x\"') %}", "x"),
    ],
)
def test_step_functions_functions(expr: str, expected: JSON) -> None:
    assert ev(expr) == expected


@pytest.mark.parametrize(
    "expr",
    [
        "{% $partition([], 2) %}",
        "{% $partition([1], 0) %}",
        "{% $partition($states.input.missing, 2) %}",
        "{% $range(1, 5, 0) %}",
        "{% $range(5, 1, 1) %}",
        "{% $range(1, 5) %}",
        "{% $hash('x') %}",
    ],
)
def test_extra_functions_returning_nothing(expr: str) -> None:
    assert "returned nothing (undefined)." in err(expr).cause


def test_random_and_uuid_come_from_the_rng() -> None:
    first = ev("{% $random() %}", seed=3)
    assert isinstance(first, float) and 0 <= first < 1
    assert first == ev("{% $random() %}", seed=3)
    assert ev("{% $random(7) %}", seed=1) == ev("{% $random(7) %}", seed=2)
    made = ev("{% $uuid() %}", seed=5)
    assert made == ev("{% $uuid() %}", seed=5) and made != ev("{% $uuid() %}", seed=6)
    assert uuid.UUID(str(made)).version == 4


def test_now_and_millis_use_the_state_entered_time() -> None:
    assert ev("{% $now() %}") == "2024-01-02T03:04:05.678Z"
    assert ev("{% $millis() %}") == 1704164645678
    fixed = evaluate(
        "{% $millis() %}", states={}, variables={}, rng=random.Random(0), now_millis=1000
    )
    assert fixed == 1000


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "tail"),
    [
        ("1 - 'a'", 'T2002: The right side of the "-" operator must evaluate to a number'),
        ("$eval('1+1')", "T1006: Attempted to invoke a non-function"),
        ("$abs('x')", 'T0410: Argument 1 of function "abs" does not match function signature'),
        ("$sum(['a'])", 'T0412: Argument 1 of function "sum" must be an array of "numbers"'),
        (
            "$hash('a', 'sha')",
            "D3137: Hash algorithm 'sha' must be one of SHA-1, SHA-384, SHA-256, SHA-512, MD5",
        ),
        ("$hash(1, 'MD5')", 'T0410: Argument 1 of function "hash" does not match function'),
        ("$partition([1], -2)", "D3137: Second argument must be zero or greater"),
        ("$partition('x', 1)", 'T0412: Argument 1 of function "partition" must be an array'),
        ("$parse('{')", "D3137: Invalid JSON"),
        ("$parse('')", "D3137: Invalid JSON"),
        ('$parse(\'{"a":1,"a":2}\')', "D3137: Invalid JSON"),
        ("$uuid(1)", 'T0410: Argument 1 of function "uuid" does not match function signature'),
        ("$random('x')", 'T0410: Argument 1 of function "random" does not match'),
    ],
)
def test_evaluation_errors_name_expression_and_field(expr: str, tail: str) -> None:
    cause = err("{% " + expr + " %}").cause
    prefix = (
        f"The JSONata expression '{expr}' specified for the field 'Output' threw an error "
        "during evaluation. "
    )
    assert cause.startswith(prefix)
    assert cause[len(prefix) :].startswith(tail)


@pytest.mark.parametrize("expr", ["function($x){$x}", "$fn := function($x){$x}", "$sum"])
def test_a_function_result_is_an_unsupported_result_type(expr: str) -> None:
    assert err("{% " + expr + " %}").cause == (
        f"The JSONata expression '{expr}' specified for the field 'Output' returned an "
        "unsupported result type."
    )


def test_undefined_result_cause() -> None:
    # Cause recorded from real AWS (Floci issue #2665), minus the state prefix.
    assert err("{% $states.input.missing %}").cause == (
        "The JSONata expression '$states.input.missing' specified for the field 'Output' "
        "returned nothing (undefined)."
    )


# --- templates --------------------------------------------------------------------------------


def test_template_evaluates_every_expression_and_keeps_the_rest() -> None:
    template: JSON = {
        "name": "{% $states.input.customer.name %}",
        "literal": "plain {% not an expression",
        "nested": {"ids": ["{% $states.input.customer.orders[0].id %}", 7, None, True]},
        "count": 3,
    }
    out = evaluate_template(
        template, states=STATES, variables={}, rng=random.Random(0), field="Output"
    )
    assert out == {
        "name": "Ana",
        "literal": "plain {% not an expression",
        "nested": {"ids": [1, 7, None, True]},
        "count": 3,
    }


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ("{% $states.input.missing %}", "Output"),
        ({"v": "{% $states.input.missing %}"}, "Output/v"),
        ({"a": {"b": "{% $states.input.missing %}"}}, "Output/a/b"),
        ({"a": [1, ["{% $states.input.missing %}"]]}, "Output/a[1][0]"),
    ],
)
def test_template_names_the_failing_position(template: JSON, field: str) -> None:
    with pytest.raises(StatesError) as info:
        evaluate_template(
            template, states=STATES, variables={}, rng=random.Random(0), field="Output"
        )
    assert f"specified for the field '{field}' returned nothing" in info.value.cause


# --- syntax and concurrency -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("{% $states.input %}", None),
        ("{% 1 + %}", "Unexpected end of expression"),
        ("{% a[1,2) %}", 'Expected "]", got ","'),
        ("{% 'unterminated %}", "String literal must be terminated by a matching quote"),
    ],
)
def test_check_syntax(expr: str, message: str | None) -> None:
    assert check_syntax(expr) == message


def test_concurrent_evaluations_keep_their_own_bindings() -> None:
    # Each worker binds a variable only it has; a frame leaking between threads would let
    # another worker see it. With the library's default per-thread bookkeeping, this exact
    # workload saw other workers' variables in about half the evaluations.
    failures: list[str] = []
    start = threading.Barrier(4)
    expression = (
        "{% [$n * 2 + $states.input.k, $exists($only0), $exists($only1), $exists($only2), "
        "$exists($only3)] %}"
    )

    def work(worker: int) -> None:
        rng = random.Random(worker)
        start.wait()
        for i in range(200):
            variables: dict[str, JSON] = {"n": i, f"only{worker}": True}
            got = evaluate(
                expression,
                states={"input": {"k": worker}},
                variables=variables,
                rng=rng,
                field="Output",
            )
            if got != [i * 2 + worker, *(w == worker for w in range(4))]:
                failures.append(f"worker {worker} iteration {i}: {got}")

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_compiled_expressions_are_cached() -> None:
    ev("{% 1 + 1 %}")
    first = sfn_jsonata._compile("1 + 1")
    assert sfn_jsonata._compile("1 + 1") is first
