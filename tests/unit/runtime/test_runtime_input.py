"""Execution input AWS would refuse gets InvalidExecutionInput, never a Python error: NaN and
Infinity (not JSON), lone surrogates (not Unicode), and nesting deeper than any parser
keeps on a stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eltflow.app import App, build_app
from eltflow.errors import AwsApiError


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    built = build_app(state_url=f"sqlite:///{tmp_path / 'state.db'}")
    built.service.create_state_machine(
        name="m", definition={"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    )
    yield built
    built.close()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"a": NaN}', "NaN"),
        ('{"a": -Infinity}', "Infinity"),
        ('{"a": "\\ud800"}', "surrogate"),
        ("[" * 10_000 + "]" * 10_000, "nested"),
        ('{"a":' * 2_000 + "1" + "}" * 2_000, "nested"),
    ],
)
def test_input_aws_refuses_is_invalid_execution_input(app: App, text: str, fragment: str) -> None:
    with pytest.raises(AwsApiError) as caught:
        app.service.start_execution(state_machine_arn="m", input=text)
    assert caught.value.code == "InvalidExecutionInput"
    assert fragment in caught.value.message
    assert app.service.list_executions(state_machine_arn="m")["executions"] == []


def test_deep_but_reasonable_input_is_taken(app: App) -> None:
    text = "[" * 500 + "]" * 500
    out = app.service.start_execution(state_machine_arn="m", input=text)
    assert out["executionArn"]
