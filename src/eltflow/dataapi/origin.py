"""Which execution (and state) submitted a statement: a context variable the caller sets
around its work.

The Data API has no notion of state machines (contract ``services-know-no-state-machines``);
it records two opaque labels, the execution ARN and the state name, that the runtime sets
around each task it runs (:func:`eltflow.runtime.tasks.run_task`), so the console can link a
statement to the execution that ran it and show an execution's SQL per state. A Lambda handler
run in a thread sees its caller's context (the Lambda runner copies it); a process-isolated
handler reaches the Data API through the AWS endpoint, which runs its calls in the invoking
caller's context (``lambdas.runner.INVOCATION_HEADER``: the handler process's boto3 default
session tags each request with the running invocation; a session the handler builds itself is
not tagged, and its statements carry no execution).
AWS's Data API records nothing of the kind: the labels are eltflow's own and never appear in an
AWS-shaped response.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Submitter:
    execution_arn: str
    state_name: str | None = None


_SUBMITTER: ContextVar[Submitter | None] = ContextVar("eltflow_dataapi_submitter", default=None)


@contextlib.contextmanager
def submitted_by(execution_arn: str, state_name: str | None = None) -> Iterator[None]:
    """Statements submitted inside the block (this thread or task) record ``execution_arn``
    and ``state_name``."""
    token = _SUBMITTER.set(Submitter(execution_arn, state_name))
    try:
        yield
    finally:
        _SUBMITTER.reset(token)


def submitter() -> Submitter | None:
    """Whom the current context submits statements for, if anyone."""
    return _SUBMITTER.get()
