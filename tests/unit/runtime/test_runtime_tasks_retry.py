"""runtime/tasks.run_task: a try after a store failure re-attaches to what the failed try
submitted and checkpointed, instead of submitting it again (a task's integration runs once per
attempt: a StartExecution whose link failed started a second child)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from eltflow.clock import VirtualClock
from eltflow.errors import StoreError
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.interpreter.protocol import TaskSucceeded
from eltflow.runtime.tasks import run_task
from eltflow.store.rows import TaskRow

RESOURCE = "arn:aws:states:::example:submit"


class Checkpoints:
    """The store's part run_task uses: the task's checkpoint, which may fail once."""

    def __init__(self, fail_writes: int = 0) -> None:
        self.written: list[Any] = []
        self.fail_writes = fail_writes

    def set_checkpoint(self, execution_id: str, task_id: str, value: Any) -> None:
        if self.fail_writes:
            self.fail_writes -= 1
            raise StoreError("the store failed")
        self.written.append(value)


class SubmitThenFail:
    """Submits a job (checkpointed) unless one is recorded, then fails on the store once."""

    def __init__(self) -> None:
        self.submitted: list[str] = []
        self.seen: list[Any] = []

    def __call__(self, request: TaskRequest) -> Any:
        self.seen.append(request.recorded)
        job = request.recorded
        if job is None:
            job = f"job-{len(self.submitted) + 1}"
            self.submitted.append(job)
            assert request.checkpoint is not None
            request.checkpoint(job)
        if len(self.seen) == 1:
            raise StoreError("deadlock detected")  # after the submission: the link, say
        return {"Job": job}


def _run(store: Checkpoints, integration: SubmitThenFail) -> Any:
    registry = Registry()
    registry.add(RESOURCE, integration)
    task = TaskRow(
        execution_id="e",
        task_id="t",
        state_name="S",
        resource=RESOURCE,
        parameters="{}",
        timeout_seconds=None,
        heartbeat_seconds=None,
        task_token=None,
        started=True,
        attempt=1,
        checkpoint=None,
        created_us=0,
    )
    clock = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))
    return run_task(registry=registry, store=store, clock=clock, execution_arn="a", task=task)  # type: ignore[arg-type]


def test_a_try_after_a_store_failure_reattaches_to_the_submission_checkpointed() -> None:
    store, integration = Checkpoints(), SubmitThenFail()
    outcome = _run(store, integration)
    assert outcome == TaskSucceeded(task_id="t", output={"Job": "job-1"})
    assert integration.submitted == ["job-1"]  # submitted once (twice without the fix)
    assert integration.seen == [None, "job-1"]
    assert store.written == ["job-1"]


def test_a_checkpoint_whose_write_failed_is_reattached_to_and_written_again() -> None:
    # The checkpoint's own write fails: the job exists all the same, so the next try
    # re-attaches to it, and writes the checkpoint first (a crash later re-attaches too).
    store, integration = Checkpoints(fail_writes=1), SubmitThenFail()
    outcome = _run(store, integration)
    assert outcome == TaskSucceeded(task_id="t", output={"Job": "job-1"})
    assert integration.submitted == ["job-1"]
    assert store.written == ["job-1"]
