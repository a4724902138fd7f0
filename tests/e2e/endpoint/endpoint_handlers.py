"""Lambda handlers the endpoint tests invoke through Lambda's REST API."""

from __future__ import annotations

from typing import Any


def echo(event: Any, context: Any) -> Any:
    return {"got": event, "function": context.function_name}


def fail(event: Any, context: Any) -> Any:
    raise ValueError(f"bad event: {event}")
