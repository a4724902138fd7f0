"""Run one execution durably to its end in this process (``eltflow start --wait``, and what
``eltflow execute --store`` needs): record it in the store, run only it, describe the result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from eltflow.errors import AwsApiError
from eltflow.runtime.service import StatesService, execution_by_arn
from eltflow.runtime.worker import Worker, WorkerHost
from eltflow.types import JSONObject


class RunHost(WorkerHost, Protocol):
    """What running one execution needs from the application (:class:`eltflow.app.App` has
    it); a protocol so the runtime does not import the composition root above it."""

    service: StatesService

    def worker(self, **options: Any) -> Worker: ...


def run_to_end(app: RunHost, execution_arn: str, **worker_options: Any) -> JSONObject:
    """Work on ``execution_arn`` only, until it is no longer RUNNING; return DescribeExecution."""
    row = execution_by_arn(app.store, execution_arn)

    def finished() -> bool:
        now = app.store.get_execution(row.id)
        return now is None or now.status != "RUNNING"

    if not finished():
        app.worker(only=row.id, **worker_options).run(until=finished)
    return app.service.describe_execution(execution_arn=execution_arn)


def execute_stored(
    app: RunHost,
    *,
    machine_name: str,
    definition: str | Mapping[str, Any],
    input: str | None = None,
    execution_name: str | None = None,
) -> JSONObject:
    """Create (or, if the definition changed, publish a new version of) ``machine_name``,
    start an execution and run it to its end here; returns DescribeExecution's shape."""
    service = app.service
    try:
        service.create_state_machine(name=machine_name, definition=definition)
    except AwsApiError as e:
        if e.code != "StateMachineAlreadyExists":
            raise
        service.update_state_machine(state_machine_arn=machine_name, definition=definition)
    started = service.start_execution(
        state_machine_arn=machine_name, input=input, name=execution_name
    )
    return run_to_end(app, str(started["executionArn"]))
