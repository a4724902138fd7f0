"""Handlers the Lambda tests invoke by name (``lambda_handlers_for_tests:echo``)."""

from __future__ import annotations

import time
from typing import Any


def echo(event: Any, context: Any) -> dict[str, Any]:
    return {
        "event": event,
        "function_name": context.function_name,
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "remaining_ok": 0 < context.get_remaining_time_in_millis() <= 900_000,
    }


class JobFailed(Exception):
    pass


def fail(event: Any, context: Any) -> None:
    raise JobFailed(f"job {event['JobID']} failed")


def sleepy(event: Any, context: Any) -> str:
    # A handler that outlives its timeout: its duration is what the test measures against.
    time.sleep(float(event.get("seconds", 5)))
    return "done"


def not_json(event: Any, context: Any) -> object:
    return object()


def chatty(event: Any, context: Any) -> str:
    """Prints, writes to stderr and logs, tagged with its own id, then returns it."""
    import logging
    import sys

    tag = str(event["tag"])
    for i in range(int(event.get("lines", 3))):
        print(f"{tag} out {i}")
        # A yield so concurrent invocations' lines interleave (what the capture must keep
        # apart); the assertions hold either way, so there is nothing to await.
        time.sleep(0.001)
    print(f"{tag} err", file=sys.stderr)
    logging.getLogger("chatty").warning("%s logged", tag)
    if event.get("fail"):
        raise JobFailed(f"{tag} failed")
    return tag
