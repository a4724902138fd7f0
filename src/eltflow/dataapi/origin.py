"""Which execution submitted a statement: a context variable the caller sets around its work.

The Data API has no notion of state machines (contract ``services-know-no-state-machines``);
it records an opaque label, the execution ARN, that the runtime sets around each task it runs
(:func:`eltflow.runtime.tasks.run_task`), so the console can link a statement to the
execution that ran it. A Lambda handler run in a thread sees its caller's context (the Lambda
runner copies it); a process-isolated handler reaches the Data API through the AWS endpoint and
its statements carry no execution. AWS's Data API records nothing of the kind: the label is
eltflow's own and never appears in an AWS-shaped response.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

_SUBMITTER: ContextVar[str | None] = ContextVar("eltflow_dataapi_submitter", default=None)


@contextlib.contextmanager
def submitted_by(execution_arn: str | None) -> Iterator[None]:
    """Statements submitted inside the block (this thread or task) record ``execution_arn``."""
    token = _SUBMITTER.set(execution_arn)
    try:
        yield
    finally:
        _SUBMITTER.reset(token)


def submitter() -> str | None:
    """The execution ARN the current context submits statements for, if any."""
    return _SUBMITTER.get()
