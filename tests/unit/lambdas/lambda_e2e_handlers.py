"""Handlers the end-to-end audit-lock pipeline test invokes."""

from __future__ import annotations

from typing import Any


class LoadFailed(Exception):
    pass


def load(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("fail"):
        raise LoadFailed(f"load of job {event['JobID']} failed")
    return {"rows": 42, "job": event["JobID"], "by": context.function_name}
