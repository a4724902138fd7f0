"""parse() and to_dict(): valid definitions (AWS documentation examples) build the model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eltflow.asl import (
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    Retrier,
    StateMachine,
    TaskState,
    Template,
    WaitState,
    parse,
    to_dict,
)
from eltflow.asl.fields import STATE_SPECS
from eltflow.asl.parser import STATE_BUILDERS
from eltflow.errors import DefinitionError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "definitions"
FIXTURE_FILES = sorted(FIXTURES.glob("*.json"))


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def test_fixtures_exist() -> None:
    assert len(FIXTURE_FILES) >= 10


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_documentation_examples_parse_from_text_and_dict(path: Path) -> None:
    text = path.read_text()
    from_text = parse(text)
    assert from_text == parse(json.loads(text))
    assert set(from_text.states) == set(json.loads(text)["States"])


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_to_dict_round_trips(path: Path) -> None:
    machine = parse(path.read_text())
    written = to_dict(machine)
    assert parse(written) == machine
    assert to_dict(parse(written)) == written


def test_every_state_type_has_a_builder() -> None:
    assert (
        set(STATE_BUILDERS)
        == set(STATE_SPECS)
        == {
            "Pass",
            "Task",
            "Choice",
            "Wait",
            "Succeed",
            "Fail",
            "Parallel",
            "Map",
        }
    )


def test_hello_world_pass_state() -> None:
    machine = parse(_load("hello_world.json"))
    state = machine.states["HelloWorld"]
    assert isinstance(state, PassState)
    assert state.result == Template("Hello World!")
    assert state.end is True and state.next is None
    assert (state.input_path, state.output_path, state.result_path) == ("$", "$", "$")
    assert machine.comment is not None and machine.comment.startswith("A Hello World")


def test_null_paths_are_kept_distinct_from_absent() -> None:
    machine = parse(_load("retry_catch.json"))
    recovery = machine.states["RecoveryState"]
    assert recovery.input_path is None and recovery.output_path is None
    task = machine.states["X"]
    assert isinstance(task, TaskState)
    assert task.result_path is None
    assert task.catch[0].result_path == "$.error-info"
    assert task.catch[1].result_path is None


def test_task_retry_and_catch_fields() -> None:
    machine = parse(_load("retry_catch.json"))
    assert machine.timeout_seconds == 3600 and machine.version == "1.0"
    task = machine.states["X"]
    assert isinstance(task, TaskState)
    assert task.resource == "arn:aws:states:us-east-1:123456789012:activity:task"
    assert (task.timeout_seconds, task.heartbeat_seconds) == (300, 60)
    assert task.retry[0] == Retrier(error_equals=("ErrorA", "ErrorB"), max_attempts=2)
    assert task.retry[1].max_delay_seconds == 30 and task.retry[1].jitter_strategy == "FULL"
    assert task.retry[1].interval_seconds == 5 and task.retry[1].max_attempts == 3
    assert task.retry[2].max_attempts == 0
    assert isinstance(task.retry[0].backoff_rate, float)
    assert [c.next for c in task.catch] == ["RecoveryState", "EndState"]


def test_choice_rules_build_nested_expressions() -> None:
    machine = parse(_load("choice_state.json"))
    choice = machine.states["ChoiceStateX"]
    assert isinstance(choice, ChoiceState)
    assert choice.default == "DefaultState"
    not_rule, zero, and_rule, or_rule, boolean = choice.choices
    assert not_rule.kind == "Not" and not_rule.next == "Public"
    inner = not_rule.children[0]
    assert (inner.kind, inner.variable, inner.operator, inner.operand) == (
        "Compare",
        "$.type",
        "StringEquals",
        "Private",
    )
    assert inner.next is None
    assert (zero.operator, zero.operand, zero.next) == ("NumericEquals", 0, "ValueIsZero")
    assert and_rule.kind == "And" and len(and_rule.children) == 2
    assert [c.operator for c in or_rule.children] == [
        "TimestampLessThan",
        "NumericLessThanPath",
        "StringMatches",
        "IsPresent",
    ]
    assert boolean.operand is False


def test_parallel_branches_are_nested_machines() -> None:
    machine = parse(_load("parallel.json"))
    parallel = machine.states["LookupCustomerInfo"]
    assert isinstance(parallel, ParallelState)
    assert [b.start_at for b in parallel.branches] == ["LookupAddress", "LookupPhone"]
    assert all(isinstance(b, StateMachine) for b in parallel.branches)
    assert parallel.result_selector == Template({"address.$": "$[0]", "phone.$": "$[1]"})


def test_map_older_iterator_and_parameters() -> None:
    machine = parse(_load("map_iterator.json"))
    state = machine.states["Validate-All"]
    assert isinstance(state, MapState)
    assert state.item_processor is not None
    assert state.item_processor.start_at == "Validate"
    assert state.item_selector == Template(
        {"parcel.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"}
    )
    assert (state.items_path, state.input_path, state.max_concurrency) == (
        "$.shipped",
        "$.detail",
        0,
    )
    assert state.processor_mode == "INLINE"
    written = to_dict(machine)["States"]["Validate-All"]
    assert "ItemProcessor" in written and "Iterator" not in written
    assert "ItemSelector" in written and "Parameters" not in written


def test_distributed_map_processor_config() -> None:
    state = parse(_load("distributed_map.json")).states["Map"]
    assert isinstance(state, MapState)
    assert (state.processor_mode, state.execution_type) == ("DISTRIBUTED", "STANDARD")
    assert state.tolerated_failure_percentage == 5.0
    assert state.label == "Map" and state.max_concurrency == 1000
    assert state.item_reader is not None and state.item_batcher is not None
    assert state.result_writer is not None


def test_wait_and_fail_paths() -> None:
    machine = parse(_load("wait_states.json"))
    waits = [machine.states[n] for n in ("wait_ten_seconds", "wait_until", "wait_path")]
    assert all(isinstance(w, WaitState) for w in waits)
    fields = [(w.seconds, w.timestamp, w.seconds_path) for w in waits if isinstance(w, WaitState)]
    assert fields == [
        (10, None, None),
        (None, "2016-03-14T01:59:00Z", None),
        (None, None, "$.wait"),
    ]
    fail = machine.states["fail_paths"]
    assert isinstance(fail, FailState)
    assert (fail.error_path, fail.cause_path, fail.error) == ("$.error", "$.cause", None)


def test_jsonata_machine_resolves_every_state_and_nested_scope() -> None:
    machine = parse(_load("jsonata.json"))
    assert machine.query_language == "JSONata"
    assert {s.query_language for s in machine.states.values()} == {"JSONata"}
    each = machine.states["EachOrder"]
    assert isinstance(each, MapState)
    assert each.items == "{% $states.input.orders %}"
    assert each.max_concurrency == "{% $threshold %}"
    assert each.item_processor is not None
    assert each.item_processor.query_language == "JSONata"
    price = each.item_processor.states["Price"]
    assert isinstance(price, TaskState)
    assert price.query_language == "JSONata"
    assert price.arguments == Template({"FunctionName": "price", "Payload": "{% $states.input %}"})
    assert price.timeout_seconds == "{% 30 %}"
    assert price.catch[0].output == Template("{% $states.errorOutput %}")
    check = machine.states["Check"]
    assert isinstance(check, ChoiceState)
    rule = check.choices[0]
    assert rule.kind == "Condition" and rule.condition == "{% $total > $threshold %}"
    assert rule.assign == Template({"big": True})
    skip = each.item_processor.states["Skip"]
    assert skip.output == Template(None)  # "Output": null is kept, distinct from absent


def test_per_state_query_language_override() -> None:
    machine = parse(_load("mixed_languages.json"))
    assert machine.query_language == "JSONPath"
    assert machine.states["Get"].query_language == "JSONPath"
    assert machine.states["Compute"].query_language == "JSONata"
    assert machine.states["Get"].assign == Template({"jobId.$": "$.JobID"})
    written = to_dict(machine)
    assert written["States"]["Compute"]["QueryLanguage"] == "JSONata"
    assert "QueryLanguage" not in written["States"]["Get"]


def test_nested_states_inherit_the_machine_language_not_the_parent_state() -> None:
    # AWS: a Map declaring "QueryLanguage": "JSONata" does not change its ItemProcessor states.
    machine = parse(
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "QueryLanguage": "JSONata",
                    "Items": [1, 2],
                    "ItemProcessor": {
                        "StartAt": "P",
                        "States": {"P": {"Type": "Pass", "InputPath": "$", "End": True}},
                    },
                    "End": True,
                }
            },
        }
    )
    state = machine.states["M"]
    assert isinstance(state, MapState) and state.item_processor is not None
    assert state.query_language == "JSONata"
    assert state.items == [1, 2]
    assert state.item_processor.states["P"].query_language == "JSONPath"


def test_invalid_definition_raises_with_all_diagnostics() -> None:
    with pytest.raises(DefinitionError) as caught:
        parse(
            {
                "StartAt": "Missing",
                "States": {
                    "A": {"Type": "Pass", "Next": "Nowhere", "End": True},
                    "B": {"Type": "Bogus"},
                },
            }
        )
    codes = {(d.code, d.path) for d in caught.value.diagnostics}
    assert ("MISSING_TRANSITION_TARGET", "/StartAt") in codes
    assert ("MISSING_TRANSITION_TARGET", "/States/A/Next") in codes
    assert ("SCHEMA_VALIDATION_FAILED", "/States/A") in codes
    assert ("SCHEMA_VALIDATION_FAILED", "/States/B/Type") in codes
    assert "/States/A/Next" in str(caught.value)


def test_json_syntax_error_names_line_and_column() -> None:
    with pytest.raises(DefinitionError) as caught:
        parse('{\n  "StartAt": "A",\n  "States": {,}\n}')
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "INVALID_JSON_DESCRIPTION"
    assert "line 3, column 14" in diagnostic.message


def test_to_dict_omits_defaults() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "InputPath": "$",
                "ResultPath": "$",
                "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 1, "MaxAttempts": 3}],
                "End": True,
            }
        },
    }
    assert to_dict(parse(definition)) == {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Retry": [{"ErrorEquals": ["E"]}],
                "End": True,
            }
        },
    }


def test_templates_are_plain_json_copies() -> None:
    text = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"k": [1]}, "End": true}}}'
    state = parse(text).states["A"]
    assert isinstance(state, PassState) and state.result is not None
    assert type(state.result.value) is dict
    assert json.dumps(state.result.value) == '{"k": [1]}'
