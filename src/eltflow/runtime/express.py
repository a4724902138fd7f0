"""Express executions: StartSyncExecution, and StartExecution of an EXPRESS state machine.

AWS runs Express workflows differently from Standard ones, and so does this module:

- **No durable record.** AWS keeps no execution history for Express workflows (their events go
  to CloudWatch Logs, when logging is configured), so DescribeExecution, GetExecutionHistory,
  StopExecution and ListExecutions do not take them. Here an Express execution runs in memory,
  through the one driver :func:`eltflow.runtime.local.run_in_memory` (the engine, worker and
  task runner over a private :class:`~eltflow.store.memory.MemoryStore`) with the project's
  integrations, and nothing of it is written to the state store. The execution APIs answer an
  Express ARN with ``InvalidArn`` (:data:`eltflow.runtime.arns.EXPRESS_NOT_VALID`).
- **ARNs.** ``arn:aws:states:R:A:express:MACHINE:NAME:UUID``: the name (given, or a UUID) and
  a UUID of the run, so a name may be reused (StartExecution "isn't idempotent for EXPRESS
  workflows"; there is no ``ExecutionAlreadyExists``).
- **Five minutes.** An Express execution ends ``TIMED_OUT`` with ``States.Timeout`` after
  :data:`~eltflow.asl.express.EXPRESS_MAX_SECONDS` (or the definition's own, shorter,
  ``TimeoutSeconds``): the machine's timeout is capped, so the interpreter's own execution
  timer ends it, as any machine timeout does.
- **Synchronous** (:meth:`ExpressExecutions.run_sync`, StartSyncExecution): at most once, as
  AWS's synchronous Express workflows (a run that fails is not restarted); the call runs the
  execution to its end and answers AWS's StartSyncExecution shape — ``status`` SUCCEEDED,
  FAILED or TIMED_OUT (a failed execution is still a 200 answer, as on AWS), ``output`` when
  it succeeded, ``error``/``cause``, ``inputDetails``/``outputDetails`` (``included``), and
  ``billingDetails``: the duration rounded up to the next 100 ms (at least 100) and 64 MB, the
  smallest memory AWS bills (recorded AWS answers show 100 ms / 64 MB for a Pass machine).
  Memory is not measured here.
- **Asynchronous** (:meth:`ExpressExecutions.start`, StartExecution on an EXPRESS machine):
  the execution runs on a thread pool of the process that was asked (``eltflow serve``,
  ``eltflow endpoint``, the ``eltflow start`` command itself, which waits for it before
  exiting); its outcome is logged (logger ``eltflow.runtime.express``: INFO when it succeeded,
  WARNING otherwise), nowhere else. **Known difference:** AWS runs asynchronous Express
  workflows *at least once* (Developer Guide, "Execution guarantees"); here the run is at most
  once: a process that stops while it runs loses it, since nothing was recorded for a worker
  to resume (the simplest choice that keeps Express executions out of the state store).
  Executions over the pool's size wait for a thread (AWS starts them at once).

Known differences (unverified on AWS): Express executions send no EventBridge status events
(AWS documents those for Standard workflows); the context object's ``Execution`` carries
``RedriveCount`` 0 (a recorded synchronous AWS execution shows none, an asynchronous one 0).
"""

from __future__ import annotations

import logging
import math
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from eltflow.asl.express import EXPRESS_MAX_SECONDS
from eltflow.asl.model import StateMachine
from eltflow.clock import Clock
from eltflow.integrations.base import Registry
from eltflow.interpreter.protocol import ExecutionContext
from eltflow.runtime import arns
from eltflow.runtime.local import ExecutionResult, run_in_memory
from eltflow.store.runtime_store import dumps
from eltflow.types import JSON, JSONObject

if TYPE_CHECKING:
    from eltflow.s3.service import S3Service

log = logging.getLogger(__name__)

BILLED_MEMORY_MB = 64
"""AWS bills Express memory in 64 MB steps; the smallest is what a small workflow shows."""
BILLING_STEP_MS = 100


@dataclass(frozen=True, kw_only=True)
class ExpressRequest:
    """One Express execution to run: the machine (as parsed, and its source), who it is, and
    its input (the text as given and its value)."""

    machine: StateMachine
    definition: str
    machine_name: str
    machine_arn: str
    role_arn: str
    name: str | None
    input_text: str
    input: JSON
    trace_header: str | None = None


class ExpressExecutions:
    """Runs Express executions in memory with ``registry``'s integrations and ``s3`` (a
    Distributed Map's ItemReader/ResultWriter) — see the module docstring; ``threads`` bounds
    the asynchronous ones running at once."""

    def __init__(
        self, registry: Registry, clock: Clock, *, s3: S3Service | None = None, threads: int = 16
    ) -> None:
        self._registry = registry
        self._clock = clock
        self._s3 = s3
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="eltflow-express")

    def run_sync(self, request: ExpressRequest) -> JSONObject:
        """StartSyncExecution: run to the end, answer AWS's response."""
        context = self._context(request)
        result = self._run(request, context)
        return _sync_response(request, context, result, self._clock.now())

    def start(self, request: ExpressRequest) -> JSONObject:
        """StartExecution on an EXPRESS machine: ``executionArn`` and ``startDate`` at once,
        the run on the pool (at most once here; AWS: at least once)."""
        context = self._context(request)
        self._pool.submit(self._run_logged, request, context)
        return {"executionArn": context.execution_arn, "startDate": context.start_time.isoformat()}

    def close(self) -> None:
        """Let the asynchronous executions still running end (their process is stopping)."""
        self._pool.shutdown(wait=True)

    def _context(self, request: ExpressRequest) -> ExecutionContext:
        name = request.name or str(uuid.uuid4())
        arn = arns.express_execution_arn(request.machine_name, name, str(uuid.uuid4()))
        return ExecutionContext(
            execution_arn=arn,
            execution_name=name,
            state_machine_arn=request.machine_arn,
            state_machine_name=request.machine_name,
            start_time=self._clock.now(),
            role_arn=request.role_arn,
            seed=arn,
        )

    def _run(self, request: ExpressRequest, context: ExecutionContext) -> ExecutionResult:
        own = request.machine.timeout_seconds
        limit = EXPRESS_MAX_SECONDS if own is None else min(own, EXPRESS_MAX_SECONDS)
        return run_in_memory(
            replace(request.machine, timeout_seconds=limit),
            request.definition,
            request.input,
            context,
            clock=self._clock,
            registry=self._registry,
            s3=self._s3,
            machine_type="EXPRESS",
        )

    def _run_logged(self, request: ExpressRequest, context: ExecutionContext) -> None:
        try:
            result = self._run(request, context)
        except Exception:  # a bug of ours: the caller is gone, the log is all there is
            log.exception("express execution %s failed to run", context.execution_arn)
            return
        if result.status == "SUCCEEDED":
            log.info("express execution %s SUCCEEDED", context.execution_arn)
        else:
            log.warning(
                "express execution %s %s: %s %s",
                context.execution_arn,
                result.status,
                result.error or "",
                result.cause or "",
            )


def billed_milliseconds(start: datetime, stop: datetime) -> int:
    """The duration AWS bills: rounded up to the next 100 ms, at least 100 ms."""
    elapsed_ms = max((stop - start).total_seconds() * 1000, 0.0)
    return max(BILLING_STEP_MS, math.ceil(elapsed_ms / BILLING_STEP_MS) * BILLING_STEP_MS)


def _sync_response(
    request: ExpressRequest, context: ExecutionContext, result: ExecutionResult, now: datetime
) -> JSONObject:
    stop = result.stop_date or now
    out: JSONObject = {
        "executionArn": context.execution_arn,
        "stateMachineArn": request.machine_arn,
        "name": context.execution_name,
        "startDate": context.start_time.isoformat(),
        "stopDate": stop.isoformat(),
        "status": result.status,
        "input": request.input_text,
        "inputDetails": {"included": True},
        # AWS sends outputDetails whatever the status (recorded: a FAILED answer has it too).
        "outputDetails": {"included": True},
        "billingDetails": {
            "billedMemoryUsedInMB": BILLED_MEMORY_MB,
            "billedDurationInMilliseconds": billed_milliseconds(context.start_time, stop),
        },
    }
    if result.status == "SUCCEEDED":
        out["output"] = dumps(result.output)
    if result.error is not None:
        out["error"] = result.error
    if result.cause is not None:
        out["cause"] = result.cause
    if request.trace_header is not None:
        out["traceHeader"] = request.trace_header
    return out
