"""The scheduler's target: the local Step Functions service (eltflow.runtime).

Adapts :class:`~eltflow.runtime.service.StatesService` to the two callbacks the scheduler
needs. A fire whose execution already exists counts as started: that is exactly the duplicate
start (a retried or taken-over fire) that deterministic execution names are there to absorb —
Step Functions itself only treats same-name starts as idempotent while the execution runs.
"""

from __future__ import annotations

from eltflow.errors import AwsApiError, NotFoundError
from eltflow.runtime import arns
from eltflow.runtime.service import StatesService


class StatesTarget:
    def __init__(self, service: StatesService) -> None:
        self.service = service

    def start_execution(self, state_machine: str, input: str, name: str) -> str:
        machine = arns.machine_name(state_machine)
        try:
            out = self.service.start_execution(
                state_machine_arn=arns.machine_arn(machine), input=input, name=name
            )
        except AwsApiError as e:
            if e.code == "ExecutionAlreadyExists":
                return arns.execution_arn(machine, name)
            raise
        arn = out["executionArn"]
        assert isinstance(arn, str)
        return arn

    def execution_status(self, execution_arn: str) -> str:
        try:
            out = self.service.describe_execution(execution_arn=execution_arn)
        except AwsApiError as e:
            if e.code == "ExecutionDoesNotExist":
                raise NotFoundError(e.message) from e
            raise
        status = out["status"]
        assert isinstance(status, str)
        return status
