"""StartExecution through the AWS endpoint (boto3 over HTTP, one client thread) vs the same
call in process (``app.service.start_execution``), on one SQLite state store.

Both sides do the same durable work (record the execution and its first events); no worker
runs, so the difference is the wire: boto3's request building and signing, HTTP, uvicorn,
the endpoint's routing and botocore-model checks, and parsing the answer. The ratio is
in-process rate / HTTP rate (how many times slower a call over HTTP is).

Run with ``python -m bench.endpoint_bench`` (or as part of ``python -m bench``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Rate, format_rate, format_ratio, machine_note, measure_interleaved, table
from eltflow.app import build_app
from eltflow.serve import endpoint_thread

MACHINE = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}


@dataclass(frozen=True)
class EndpointResult:
    in_process: Rate
    http: Rate

    @property
    def ratio(self) -> float:
        if self.http.per_second == 0:
            return float("inf")
        return self.in_process.per_second / self.http.per_second


def run(seconds: float) -> EndpointResult:
    import boto3
    from botocore.config import Config

    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(state_url=f"sqlite:///{Path(tmp) / 'state.db'}")
        try:
            created = app.service.create_state_machine(name="bench", definition=json.dumps(MACHINE))
            arn = str(created["stateMachineArn"])
            with endpoint_thread(app) as url:
                sfn = boto3.client(
                    "stepfunctions",
                    endpoint_url=url,
                    region_name="us-east-1",
                    aws_access_key_id="bench",
                    aws_secret_access_key="bench",
                    config=Config(retries={"max_attempts": 1}),
                )
                sfn.list_state_machines()  # connect and load the model before timing
                counter = itertools.count()

                def in_process() -> Any:
                    return app.service.start_execution(
                        state_machine_arn=arn, name=f"p{next(counter)}", input="{}"
                    )

                def over_http() -> Any:
                    return sfn.start_execution(
                        stateMachineArn=arn, name=f"h{next(counter)}", input="{}"
                    )

                local, http = measure_interleaved([in_process, over_http], seconds=seconds)
        finally:
            app.close()
    return EndpointResult(in_process=local, http=http)


def render(result: EndpointResult) -> str:
    rows = [
        ["in process (app.service)", format_rate(result.in_process.per_second), ""],
        [
            "boto3 over HTTP (1 thread)",
            format_rate(result.http.per_second),
            format_ratio(result.ratio),
        ],
    ]
    return table(["StartExecution", "calls/s", "slower by"], rows)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.endpoint_bench")
    p.add_argument("--seconds", type=float, default=3.0, help="time budget per side")
    args = p.parse_args(argv)
    print()
    print(
        f"AWS endpoint: StartExecution calls/s, boto3 over HTTP vs in process "
        f"(SQLite, no worker; {machine_note()})"
    )
    print(render(run(args.seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
