"""boto3 as the endpoint tests use it: a client for a server URL, and waiting for an execution
the way AWS's own samples do (poll DescribeExecution)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from tests.support.wait import wait_until


def aws_client(service: str, url: str, *, access_key: str = "test") -> Any:
    """A real boto3 client for ``url``: no retries (a retried request would hide a 5xx), and
    no host prefixes (StartSyncExecution and TestState otherwise go to "sync-<host>", as with
    any custom endpoint)."""
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, inject_host_prefix=False),
    )


def wait_closed(sfn: Any, execution_arn: str, timeout: float = 60.0) -> dict[str, Any]:
    """DescribeExecution once the execution has left RUNNING (fails after ``timeout``)."""

    def closed() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        return described if described["status"] != "RUNNING" else None

    return wait_until(closed, timeout, what=f"{execution_arn} to leave RUNNING", interval=0.05)
