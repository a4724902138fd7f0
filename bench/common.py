"""Shared benchmark parts: the three ASL cases, a throughput timer, moto's Step Functions as a
peer, and the comparison table.

Every benchmark measures *completed executions per second* from one process run, so numbers
printed side by side were taken under the same machine load. The moto peer is driven exactly
as a user would drive AWS: boto3 ``start_execution`` with a unique name, then
``describe_execution`` until the execution is no longer RUNNING.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eltflow.types import JSON, JSONObject

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

    from eltflow.app import App

REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/eltflow-bench"
# moto never checks credentials, but botocore refuses to sign without some; these are set in
# this process only, so a developer's real credentials are never read or sent anywhere.
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


# --- the cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One state machine and the input every execution of it gets."""

    name: str
    title: str
    definition: JSONObject
    input: JSON

    @property
    def definition_text(self) -> str:
        return json.dumps(self.definition)


def _pass_chain(prefix: str, n: int) -> JSONObject:
    """``n`` Pass states in a row, named ``{prefix}0`` … (names are unique machine-wide)."""
    states: JSONObject = {}
    for i in range(n):
        last = i == n - 1
        states[f"{prefix}{i}"] = (
            {"Type": "Pass", "End": True} if last else {"Type": "Pass", "Next": f"{prefix}{i + 1}"}
        )
    return {"StartAt": f"{prefix}0", "States": states}


def pass_chain_case(n: int = 10) -> Case:
    chain = _pass_chain("Step", n)
    definition: JSONObject = {"Comment": f"{n} Pass states in a row", **chain}
    return Case(
        name="pass-chain",
        title=f"{n}-state Pass chain",
        definition=definition,
        input={"order": 42, "items": ["a", "b", "c"], "ok": True},
    )


def parallel_case(branches: int = 2, depth: int = 3) -> Case:
    definition: JSONObject = {
        "Comment": f"Parallel of {branches} branches x {depth} Pass states",
        "StartAt": "Fork",
        "States": {
            "Fork": {
                "Type": "Parallel",
                "Branches": [_pass_chain(f"B{b}S", depth) for b in range(branches)],
                "End": True,
            }
        },
    }
    return Case(
        name="parallel",
        title=f"Parallel {branches} branches x {depth} Pass",
        definition=definition,
        input={"order": 42, "ok": True},
    )


def map_case(items: int = 100) -> Case:
    definition: JSONObject = {
        "Comment": f"Map over {items} items, one Pass state per item",
        "StartAt": "EachItem",
        "States": {
            "EachItem": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Touch",
                    "States": {"Touch": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }
    return Case(
        name="map",
        title=f"Map over {items} items x 1 Pass",
        definition=definition,
        input={"items": [{"id": i, "sku": f"SKU-{i:04d}"} for i in range(items)]},
    )


def asl_cases() -> list[Case]:
    """The three definitions issue 2 asks for, in the order they are reported."""
    return [pass_chain_case(), parallel_case(), map_case()]


# --- timing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """``runs`` completed in ``seconds`` of wall time, using ``cpu_seconds`` of this process's
    CPU (all threads: moto runs executions on its own threads, which this counts too)."""

    runs: int
    seconds: float
    cpu_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.runs / self.seconds if self.seconds > 0 else float("inf")

    @property
    def per_cpu_second(self) -> float:
        """Executions per CPU-second: less sensitive than wall time to other processes'
        load on a shared machine (it ignores time spent waiting for a core)."""
        return self.runs / self.cpu_seconds if self.cpu_seconds > 0 else float("inf")


def measure(
    run_once: Callable[[], object],
    *,
    seconds: float,
    min_runs: int = 1,
    max_runs: int | None = None,
) -> Rate:
    """Call ``run_once`` repeatedly for about ``seconds`` (at least ``min_runs`` times, at most
    ``max_runs``) and return how many calls completed in how long.

    A time budget rather than a fixed count keeps a slow peer (moto: a few executions per
    second) and a fast one comparable without hand-tuning counts per case.
    """
    runs = 0
    cpu_start = time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        run_once()
        runs += 1
        now = time.perf_counter()
        if max_runs is not None and runs >= max_runs:
            break
        if runs >= min_runs and now >= deadline:
            break
    return Rate(runs=runs, seconds=now - start, cpu_seconds=time.process_time() - cpu_start)


def measure_interleaved(
    runners: Sequence[Callable[[], object]],
    *,
    seconds: float,
    slices: int = 6,
    min_runs: int = 1,
) -> list[Rate]:
    """Time several runners for about ``seconds`` each, taking turns in ``slices`` short
    slices rather than one after the other.

    On a shared machine the load changes from second to second; taking turns exposes every
    runner to the same load, so their *ratio* is steadier than back-to-back timing gives.
    Each runner runs at least ``min_runs`` times (in its first slice).
    """
    totals = [Rate(runs=0, seconds=0.0) for _ in runners]
    share = seconds / max(slices, 1)
    for turn in range(max(slices, 1)):
        for i, run_once in enumerate(runners):
            if turn > 0 and seconds == 0:
                continue
            got = measure(run_once, seconds=share, min_runs=min_runs if turn == 0 else 1)
            t = totals[i]
            totals[i] = Rate(
                runs=t.runs + got.runs,
                seconds=t.seconds + got.seconds,
                cpu_seconds=t.cpu_seconds + got.cpu_seconds,
            )
    return totals


# --- moto's Step Functions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How one execution ended, in DescribeExecution's terms (output parsed from JSON)."""

    status: str
    output: JSON
    error: str | None = None
    cause: str | None = None


class MotoStepFunctions:
    """A boto3 ``stepfunctions`` client against moto with its ASL interpreter switched on.

    Use :func:`moto_stepfunctions` to get one; executions run on moto's own threads, so
    :meth:`run` polls ``describe_execution``. Each poll is a full boto3 request that holds
    the GIL moto's worker thread needs, so polls back off: ``poll_interval`` first, growing
    by half each time up to ``poll_cap``. Short executions are seen finishing within about a
    millisecond; long ones (the Map case, ~0.5 s) are not slowed by hundreds of polls.
    """

    def __init__(self, client: SFNClient, poll_interval: float, poll_cap: float = 0.02) -> None:
        self.client = client
        self.poll_interval = poll_interval
        self.poll_cap = max(poll_cap, poll_interval)

    def create(self, definition: str | Mapping[str, Any], name: str | None = None) -> str:
        """Create a state machine once; returns its ARN."""
        text = definition if isinstance(definition, str) else json.dumps(definition)
        response = self.client.create_state_machine(
            name=name or f"bench-{uuid.uuid4().hex[:12]}", definition=text, roleArn=ROLE_ARN
        )
        return response["stateMachineArn"]

    def run(self, machine_arn: str, input: JSON) -> Outcome:
        """Start one execution (a unique name, or moto collapses them into one ARN) and wait
        for it to leave RUNNING."""
        started = self.client.start_execution(
            stateMachineArn=machine_arn, name=uuid.uuid4().hex, input=json.dumps(input)
        )
        arn = started["executionArn"]
        pause = self.poll_interval
        while True:
            described = self.client.describe_execution(executionArn=arn)
            status = described["status"]
            if status != "RUNNING":
                break
            time.sleep(pause)
            pause = min(pause * 1.5, self.poll_cap)
        output_text = described.get("output")
        return Outcome(
            status=status,
            output=json.loads(output_text) if output_text is not None else None,
            error=described.get("error"),
            cause=described.get("cause"),
        )


@contextmanager
def moto_stepfunctions(poll_interval: float = 0.001) -> Iterator[MotoStepFunctions]:
    """A fresh in-process moto backend with ``execute_state_machine`` on, for one block."""
    # Imported here: moto and boto3 are dev dependencies and cost ~0.5 s to import.
    import boto3
    from moto import mock_aws

    saved = {key: os.environ.get(key) for key in _FAKE_CREDENTIALS}
    os.environ.update(_FAKE_CREDENTIALS)
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            client = boto3.client("stepfunctions", region_name=REGION)
            yield MotoStepFunctions(client, poll_interval)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# --- output ------------------------------------------------------------------------------------


def format_rate(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def format_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}x" if value >= 10 else f"{value:.1f}x"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain ``a | b | c`` table: first column left-aligned, the rest right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        out = [cells[0].ljust(widths[0])]
        out += [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return " | ".join(out)

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def machine_note() -> str:
    """CPU count and load, printed with results: a loaded machine slows both sides."""
    try:
        load = "load avg {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:  # not available on every platform
        load = "load avg n/a"
    return f"{os.cpu_count()} CPUs, {load}"


def start_to_succeeded_ms(
    app: App, *, input_text: str, runs: int, warmup: int = 0
) -> tuple[float, float]:
    """(p50, p90) ms from StartExecution of the machine ``latency`` to SUCCEEDED, run by a
    worker thread of ``app`` while the caller polls DescribeExecution every 0.5 ms; the first
    ``warmup`` runs (caches, connections) are not counted."""
    worker = app.worker(threads=4)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        return timed_starts_ms(app, input_text=input_text, runs=runs, warmup=warmup)
    finally:
        worker.stop()
        thread.join(30)


def timed_starts_ms(
    app: App, *, input_text: str, runs: int, warmup: int = 0
) -> tuple[float, float]:
    """(p50, p90) ms from StartExecution of the machine ``latency`` to SUCCEEDED, one after
    another, run by whatever worker runs (this process's or another's) while the caller polls
    DescribeExecution every 0.5 ms; the first ``warmup`` runs are not counted."""
    latencies = []
    for i in range(warmup + runs):
        started = time.perf_counter()
        arn = str(
            app.service.start_execution(
                state_machine_arn="latency", input=input_text, name=f"run-{i}"
            )["executionArn"]
        )
        while app.service.describe_execution(execution_arn=arn)["status"] == "RUNNING":
            time.sleep(0.0005)  # the caller's poll, not the worker's
        if i >= warmup:
            latencies.append((time.perf_counter() - started) * 1000)
    ordered = sorted(latencies)
    return statistics.median(ordered), ordered[max(math.ceil(len(ordered) * 0.9) - 1, 0)]
