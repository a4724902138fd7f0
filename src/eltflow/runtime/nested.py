"""Nested workflows as links: the execution that started this one, and the executions this
one's ``states:startExecution`` tasks started (what the console links both ways).

- **Parent:** the ARN the child's input names under ``AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID``,
  which AWS's nested-workflow documentation passes as ``$$.Execution.Id`` and its console reads
  to show "started by" (:func:`eltflow.integrations.states.parent_of`). A child started without
  it has no parent link, as on AWS.
- **Children:** per ``startExecution`` task, the child named in its history:
  ``ExecutionArn`` in the ``TaskSubmitted`` event's output (StartExecution's response, which
  AWS records for ``.sync``, ``.sync:2`` and ``.waitForTaskToken`` tasks once the child
  started, so a ``.waitForTaskToken`` child is linked although the task's own result is the
  token's answer), in the output of a succeeded task, or in the JSON cause of a failed
  ``.sync`` one; and, while the task runs, its checkpoint (the integration records the
  child's ARN before it reports the submission).
"""

from __future__ import annotations

import json
from typing import TypedDict

from eltflow.errors import AwsApiError
from eltflow.integrations.states import START_EXECUTION, parent_of
from eltflow.runtime.service import StatesService
from eltflow.runtime.state_runs import StateRuns
from eltflow.store.interface import StateStore
from eltflow.types import JSON, JSONObject

_RESOURCE = START_EXECUTION.removeprefix("arn:aws:states:::")  # states:startExecution
# The events of a startExecution task that name its child, and the field (JSON text) naming it.
_CHILD_FIELD = {"TaskSubmitted": "output", "TaskSucceeded": "output", "TaskFailed": "cause"}


class Linked(TypedDict):
    executionArn: str
    name: str
    status: str | None  # None when the linked execution is gone (deleted machine)


class ChildLink(Linked):
    stateName: str


class ExecutionLinks(TypedDict):
    parent: Linked | None
    children: list[ChildLink]


def _child_arn(text: JSON) -> str | None:
    """``ExecutionArn`` of a startExecution result or failure cause (JSON text)."""
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    arn = value.get("ExecutionArn") if isinstance(value, dict) else None
    return arn if isinstance(arn, str) else None


def _details(event: JSONObject) -> JSONObject:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def _is_start_execution(details: JSONObject) -> bool:
    # The resource is split in two fields (resourceType "states", resource "startExecution..."):
    # joined back, wherever the split falls.
    joined = f"{details.get('resourceType', '')}:{details.get('resource', '')}"
    return joined.startswith(_RESOURCE)


class NestedExecutions:
    def __init__(self, states: StatesService, runs: StateRuns, store: StateStore) -> None:
        self.states = states
        self.runs = runs
        self.store = store

    def _linked(self, arn: str) -> Linked:
        try:
            status = self.states.describe_execution(execution_arn=arn).get("status")
        except AwsApiError:
            status = None
        return Linked(
            executionArn=arn,
            name=arn.rsplit(":", 1)[-1],
            status=status if isinstance(status, str) else None,
        )

    def of(self, execution_arn: str) -> ExecutionLinks:
        described = self.states.describe_execution(execution_arn=execution_arn)
        raw_input = described.get("input")
        parent = parent_of(raw_input if isinstance(raw_input, str) else None)
        children: list[ChildLink] = []
        seen: set[str] = set()

        def add(state: str, arn: str | None) -> None:
            if arn is not None and arn not in seen:
                seen.add(arn)
                children.append(ChildLink(stateName=state, **self._linked(arn)))

        # Finished tasks: each event's state is the one its previousEventId chain leads to.
        state_of: dict[JSON, str] = {}
        for event in self.runs.history(execution_arn):
            details = _details(event)
            name = details.get("name")
            owner = name if isinstance(name, str) else state_of.get(event.get("previousEventId"))
            if owner is None:
                continue
            state_of[event.get("id")] = owner
            kind = str(event.get("type"))
            if kind in _CHILD_FIELD and _is_start_execution(details):
                add(owner, _child_arn(details.get(_CHILD_FIELD[kind])))
        # Running tasks: the child the integration checkpointed before waiting for it.
        row = self.store.get_execution_by_arn(execution_arn)
        if row is not None and row.status == "RUNNING":
            for task in self.store.tasks(row.id):
                if task.resource.startswith(START_EXECUTION) and task.checkpoint:
                    recorded = json.loads(task.checkpoint)
                    add(task.state_name, recorded if isinstance(recorded, str) else None)
        return ExecutionLinks(parent=self._linked(parent) if parent else None, children=children)
