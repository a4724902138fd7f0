"""Step Functions Local's mock configuration file, and running a test case with it.

The file (AWS: "Using mocked service integrations for testing in Step Functions Local")::

    {
      "StateMachines": {
        "Orders": {"TestCases": {"HappyPath": {"Charge": "ChargeOk"}}}
      },
      "MockedResponses": {
        "ChargeOk": {
          "0": {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "busy"}},
          "1-2": {"Return": {"StatusCode": 200, "Payload": {"charged": true}}}
        }
      }
    }

A test case maps state names to mocked responses; a mocked response maps the state's
invocation numbers (from 0; ``"1-2"`` is a range) to ``Return`` (the task's result) or
``Throw`` (its ``Error`` and ``Cause``); for a ``.sync`` or ``.waitForTaskToken`` task it is
the job's or the token's answer (recorded after ``TaskSubmitted``). Each Task state of the
case answers from its mock instead of calling its resource; a Task state the case does not
mock calls ``tasks`` (Python callables by Resource ARN) or fails with ``States.Runtime`` saying
it has no mock.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eltflow.errors import EltflowError, StatesError
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.interpreter.protocol import HistoryEvent
from eltflow.runtime.local import ExecutionResult, execute
from eltflow.types import JSON


class MockError(EltflowError):
    """The mock configuration is not usable: says where and what."""


@dataclass(frozen=True, slots=True)
class _Response:
    first: int
    last: int
    value: JSON = None
    error: str | None = None
    cause: str = ""


@dataclass(frozen=True, slots=True)
class MockConfig:
    """A parsed mock file: test cases per state machine, responses by name."""

    test_cases: Mapping[str, Mapping[str, Mapping[str, str]]]
    responses: Mapping[str, tuple[_Response, ...]]

    @classmethod
    def load(cls, source: str | Path | Mapping[str, Any]) -> MockConfig:
        """From a path to the JSON file or from the decoded object."""
        if isinstance(source, str | Path):
            try:
                data: Any = json.loads(Path(source).read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as e:
                raise MockError(f"mock config {source}: {e}") from e
        else:
            data = source
        if not isinstance(data, Mapping):
            raise MockError("mock config: expected a JSON object")
        machines = data.get("StateMachines", {})
        cases: dict[str, dict[str, dict[str, str]]] = {}
        for machine, body in dict(machines).items():
            found = body.get("TestCases") if isinstance(body, Mapping) else None
            if not isinstance(found, Mapping):
                raise MockError(f"mock config: StateMachines.{machine}.TestCases must be an object")
            cases[str(machine)] = {str(k): dict(v) for k, v in found.items()}
        responses = {
            str(name): _responses(str(name), body)
            for name, body in dict(data.get("MockedResponses", {})).items()
        }
        for machine, by_case in cases.items():
            for case, states in by_case.items():
                for state, response in states.items():
                    if response not in responses:
                        raise MockError(
                            f"mock config: StateMachines.{machine}.TestCases.{case}.{state} "
                            f"names {response!r}, which MockedResponses does not define"
                        )
        return cls(test_cases=cases, responses=responses)

    def case(self, state_machine: str, test_case: str) -> Mapping[str, str]:
        try:
            return self.test_cases[state_machine][test_case]
        except KeyError:
            known = sorted(f"{m}.{c}" for m, cs in self.test_cases.items() for c in cs)
            raise MockError(
                f"mock config has no test case {state_machine}.{test_case} "
                f"(it has: {', '.join(known) or 'none'})"
            ) from None


def _responses(name: str, body: Any) -> tuple[_Response, ...]:
    if not isinstance(body, Mapping):
        raise MockError(f"mock config: MockedResponses.{name} must be an object")
    out: list[_Response] = []
    for key, item in body.items():
        where = f"MockedResponses.{name}.{key}"
        first, _, last = str(key).partition("-")
        try:
            lo, hi = int(first), int(last or first)
        except ValueError:
            raise MockError(
                f"mock config: {where}: a key is an invocation number or range like 1-2"
            ) from None
        if not isinstance(item, Mapping) or len({"Return", "Throw"} & set(item)) != 1:
            raise MockError(f"mock config: {where}: give exactly one of Return or Throw")
        if "Throw" in item:
            throw = item["Throw"]
            if not isinstance(throw, Mapping) or not isinstance(throw.get("Error"), str):
                raise MockError(f"mock config: {where}.Throw needs an Error string")
            out.append(_Response(lo, hi, error=throw["Error"], cause=str(throw.get("Cause", ""))))
        else:
            out.append(_Response(lo, hi, value=item["Return"]))
    return tuple(sorted(out, key=lambda r: r.first))


class _Mocked:
    """The integration answering every Task resource: the state's mock, else ``tasks``."""

    def __init__(
        self,
        config: MockConfig,
        case: Mapping[str, str],
        tasks: Mapping[str, Callable[[JSON], JSON]],
    ) -> None:
        self.config = config
        self.case = case
        self.tasks = tasks
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, request: TaskRequest) -> JSON:
        state = request.state_name
        mock = self.case.get(state)
        if mock is None:
            fn = self.tasks.get(request.resource)
            if fn is None:
                raise StatesError(
                    "States.Runtime", f"No mocked response for state '{state}' in this test case"
                )
            result: JSON = fn(request.parameters)
            return result
        with self.lock:
            n = self.calls[state]
            self.calls[state] += 1
        resource = request.resource
        if request.submitted is not None and (
            resource.endswith(".waitForTaskToken") or ".sync" in resource
        ):
            # The mock stands in for the job's end or the token's answer: the request counts
            # as submitted first (TaskSubmitted, as AWS records before the outcome). What
            # Step Functions Local records as the submission's output is unverified: empty.
            request.submitted({})
        for response in self.config.responses[mock]:
            if response.first <= n <= response.last:
                if response.error is not None:
                    raise StatesError(response.error, response.cause)
                return response.value
        raise StatesError(
            "States.Runtime",
            f"Mocked response {mock!r} has no answer for invocation {n} of '{state}'",
        )


def run_test_case(
    definition: str | Mapping[str, Any],
    input: JSON = None,
    *,
    mock_config: MockConfig | str | Path | Mapping[str, Any],
    state_machine: str,
    test_case: str,
    tasks: Mapping[str, Callable[[JSON], JSON]] | None = None,
) -> ExecutionResult:
    """Run ``definition`` in memory on the virtual clock with ``test_case``'s mocks."""
    config = mock_config if isinstance(mock_config, MockConfig) else MockConfig.load(mock_config)
    registry = Registry()
    registry.add_prefix("arn:", _Mocked(config, config.case(state_machine, test_case), tasks or {}))
    return execute(definition, input, registry=registry, virtual_time=True)


def states_entered(result: ExecutionResult) -> list[str]:
    """The names of the states entered, in history order (a state retried once appears once
    per entry, not per attempt)."""
    out: list[str] = []
    for event in result.history:
        if event.type.endswith("StateEntered"):
            details = next(iter(event.details.values()), {})
            if isinstance(details, dict):
                out.append(str(details.get("name")))
    return out


def state_output(result: ExecutionResult, state: str) -> JSON:
    """The output of the last exit of ``state`` (parsed JSON); KeyError if it never exited."""
    found: HistoryEvent | None = None
    for event in result.history:
        if event.type.endswith("StateExited"):
            details = next(iter(event.details.values()), {})
            if isinstance(details, dict) and details.get("name") == state:
                found = event
    if found is None:
        raise KeyError(f"state {state!r} never exited")
    details = next(iter(found.details.values()))
    assert isinstance(details, dict)
    output: JSON = json.loads(str(details["output"]))
    return output
