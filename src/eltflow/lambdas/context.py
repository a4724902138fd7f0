"""The context object a handler receives, shaped like AWS's Python runtime's."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class LambdaContext:
    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"
    # When the invocation must end, on time.monotonic()'s scale; None means no limit.
    deadline: float | None = None
    log_group_name: str = field(default="")
    log_stream_name: str = field(default="")
    # Present on AWS's context too; None unless invoked from a mobile SDK.
    identity: object | None = None
    client_context: object | None = None

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        self.log_stream_name = self.log_stream_name or f"local/[$LATEST]{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        if self.deadline is None:
            return 900_000  # AWS's longest function timeout: 15 minutes
        return max(0, int((self.deadline - time.monotonic()) * 1000))
