"""EXPRESS state machines: StartSyncExecution of a Task -> Pass machine, three ways, on one
SQLite project (the machine is read from the state store; the execution runs in memory):

- ``eltflow.execute`` of the same definition (the in-memory driver alone: the floor);
- ``app.service.start_sync_execution`` in process (adds the machine lookup, the Express ARNs
  and the answer);
- boto3's ``start_sync_execution`` over HTTP against the AWS endpoint (one client thread).

Ratios are calls/s of ``eltflow.execute`` over each. Run with ``python -m bench.express_bench``
(or as part of ``python -m bench``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import format_rate, format_ratio, machine_note, measure_interleaved, table
from eltflow.app import build_app
from eltflow.runtime.local import execute
from eltflow.serve import endpoint_thread

ADD = "arn:aws:lambda:us-east-1:123456789012:function:add"
MACHINE = {
    "StartAt": "T",
    "States": {
        "T": {"Type": "Task", "Resource": ADD, "Next": "P"},
        "P": {"Type": "Pass", "End": True},
    },
}


def _add(p: Any) -> Any:
    return {"sum": p["a"] + p["b"]}


def run(seconds: float) -> list[tuple[str, float]]:
    import boto3
    from botocore.config import Config

    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(state_url=f"sqlite:///{Path(tmp) / 'state.db'}")
        try:
            app.register(ADD, _add)
            arn = str(
                app.service.create_state_machine(
                    name="bench", definition=json.dumps(MACHINE), type="EXPRESS"
                )["stateMachineArn"]
            )
            with endpoint_thread(app) as url:
                sfn = boto3.client(
                    "stepfunctions",
                    endpoint_url=url,
                    region_name="us-east-1",
                    aws_access_key_id="bench",
                    aws_secret_access_key="bench",
                    config=Config(retries={"max_attempts": 1}, inject_host_prefix=False),
                )
                sfn.list_state_machines()  # connect and load the model before timing
                text = '{"a": 1, "b": 2}'

                def floor() -> Any:
                    return execute(MACHINE, {"a": 1, "b": 2}, tasks={ADD: _add})

                def service() -> Any:
                    return app.service.start_sync_execution(state_machine_arn=arn, input=text)

                def over_http() -> Any:
                    return sfn.start_sync_execution(stateMachineArn=arn, input=text)

                rates = measure_interleaved([floor, service, over_http], seconds=seconds)
        finally:
            app.close()
    names = ["eltflow.execute (in memory)", "service.start_sync_execution", "boto3 over HTTP"]
    return [(n, r.per_second) for n, r in zip(names, rates, strict=True)]


def render(rows: list[tuple[str, float]]) -> str:
    base = rows[0][1]
    return table(
        ["Task -> Pass, EXPRESS", "calls/s", "slower by"],
        [
            [name, format_rate(rate), "" if i == 0 else format_ratio(base / rate if rate else 0)]
            for i, (name, rate) in enumerate(rows)
        ],
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.express_bench")
    p.add_argument("--seconds", type=float, default=3.0, help="time budget per side")
    args = p.parse_args(argv)
    print()
    print(f"EXPRESS: StartSyncExecution calls/s ({machine_note()})")
    print(render(run(args.seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
