"""The context object (``$$`` in JSONPath, ``$states.context`` in JSONata) and seeded randomness.

Field names and formats follow AWS: timestamps are ISO-8601 UTC with milliseconds and a ``Z``
(``2019-03-26T20:14:13.192Z``).
"""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from eltflow.interpreter.protocol import ExecutionContext
from eltflow.types import JSON, JSONObject


@lru_cache(maxsize=1024)
def iso(ts: datetime) -> str:
    """AWS's context-object timestamp format.

    Cached: every state's context object formats the execution's start and the state's entry
    time, and one step enters many states at the same instant (``strftime`` was the largest
    single cost of a Choice loop). Equal datetimes format equally (aware ones are compared as
    UTC instants, naive ones are taken as UTC), so the cache cannot mix two timestamps up.
    """
    ts = ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


RETRYING_TYPES = frozenset({"Task", "Parallel", "Map"})
"""The state types that can retry, and whose ``$$.State`` carries ``RetryCount``. AWS records a
Pass, Choice, Wait, Succeed or Fail state's ``State`` as ``{"Name", "EnteredTime"}`` only."""


def context_object(
    ctx: ExecutionContext,
    execution_input: JSON,
    *,
    state_name: str,
    entered_time: datetime | None,
    retry_count: int | None,
    task_token: str | None = None,
    map_item: tuple[int, JSON] | None = None,
) -> JSONObject:
    given = ctx.given_context
    if given is not None:
        return given  # TestState's context, as the request gave it
    execution: JSONObject = {
        "Id": ctx.execution_arn,
        "Input": execution_input,
        "Name": ctx.execution_name,
        "RoleArn": ctx.role_arn,
        "StartTime": iso(ctx.start_time),
        "RedriveCount": ctx.redrive_count,
    }
    state: JSONObject = {"EnteredTime": iso(entered_time or ctx.start_time), "Name": state_name}
    if retry_count is not None:
        state["RetryCount"] = retry_count
    out: JSONObject = {
        "Execution": execution,
        "State": state,
        "StateMachine": {"Id": ctx.state_machine_arn, "Name": ctx.state_machine_name},
    }
    if task_token is not None:
        out["Task"] = {"Token": task_token}
    if map_item is not None:
        out["Map"] = {"Item": {"Index": map_item[0], "Value": map_item[1]}}
    return out


class _LazyRandom:
    """Seeds a :class:`random.Random` on first use: seeding (and even formatting the seed)
    costs more than most states, and almost no state draws a number."""

    __slots__ = ("_ctx", "_event_id", "_rng")

    def __init__(self, ctx: ExecutionContext, event_id: int) -> None:
        self._ctx = ctx
        self._event_id = event_id
        self._rng: random.Random | None = None

    def __getattr__(self, name: str) -> Any:
        rng = self._rng
        if rng is None:
            ctx = self._ctx
            rng = self._rng = random.Random(f"{ctx.seed}|{ctx.execution_arn}|{self._event_id}")
        return getattr(rng, name)


def rng_for(ctx: ExecutionContext, event_id: int) -> random.Random:
    """A generator seeded by the execution's seed and the next event id: a replay of the same
    history draws the same numbers (States.UUID, $random, FULL jitter)."""
    # Not typing.cast: that is a call too, and this runs for every template and Choice.
    return _LazyRandom(ctx, event_id)  # type: ignore[return-value]


def task_token(ctx: ExecutionContext, task_id: str) -> str:
    """A deterministic token for ``$$.Task.Token`` (stable across replays).

    It names its execution and task, so ``SendTaskSuccess`` finds them from the token alone
    (AWS's tokens are opaque too, and as long: up to 1024 characters); the digest makes a
    token made up from a guessed ARN and task id one that :func:`token_task` refuses.
    """
    digest = hashlib.sha256(f"{ctx.seed}|{ctx.execution_arn}|{task_id}".encode()).hexdigest()
    body = f"{ctx.execution_arn}\n{task_id}\n{digest[:32]}".encode()
    return base64.urlsafe_b64encode(body).decode().rstrip("=")


def token_task(token: str) -> tuple[str, str] | None:
    """The (execution ARN, task id) a :func:`task_token` names, or None for a malformed one.
    The caller checks the digest with :func:`task_token` and the execution's context."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    parts = text.split("\n")
    if len(parts) != 3 or not parts[0].startswith("arn:") or not parts[1]:
        return None
    return parts[0], parts[1]
