"""Chaos: a running worker under a store that fails (issue 17).

A fault-injecting wrapper around the store's database makes transactions fail the way a real
store does — busy (SQLite's lock held past the busy timeout), disconnect (a PostgreSQL
connection the server dropped), disk full — at BEGIN or at COMMIT (the body ran, then the
commit failed and everything rolled back), on a seeded schedule. The faults surface as
:class:`StoreError`, as the real ones do through ``eltflow.store.db``. Under them a worker
runs executions of a machine with tasks, a Wait, a Parallel and a Map; the test's own
StartExecution calls meet the faults too and retry on the typed error.

Asserted: every execution started is SUCCEEDED with the right output (0 lost), its history
has each event once with consecutive ids (0 duplicated), and every error anyone saw was a
StoreError (0 untyped). A task whose outcome's record failed runs again once its lease lapses
(at least once, as on AWS); those re-runs are counted, not hidden. The figures are printed
(``pytest -s``).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from eltflow.app import App, build_app
from eltflow.clock import SystemClock
from eltflow.errors import StoreError
from eltflow.store.db import Connection, Database
from eltflow.types import JSON

WORK = "arn:aws:lambda:us-east-1:123456789012:function:work"
FAULTS = {
    "busy": "database is locked",
    "disconnect": "server closed the connection unexpectedly",
    "disk-full": "database or disk is full",
}
EXECUTIONS = 12
MACHINE = {
    "StartAt": "T",
    "States": {
        "T": {
            "Type": "Task",
            "Resource": WORK,
            "Parameters": {"k": "t", "n.$": "$.n"},
            "ResultPath": "$.t",
            "Next": "W",
        },
        "W": {"Type": "Wait", "Seconds": 0, "Next": "P"},
        "P": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "A",
                    "States": {
                        "A": {
                            "Type": "Task",
                            "Resource": WORK,
                            "Parameters": {"k": "a", "n.$": "$.n"},
                            "End": True,
                        }
                    },
                },
                {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "b", "End": True}}},
            ],
            "ResultPath": "$.p",
            "Next": "M",
        },
        "M": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "StartAt": "I",
                "States": {
                    "I": {
                        "Type": "Task",
                        "Resource": WORK,
                        "Parameters": {"k": "i", "n.$": "$"},
                        "End": True,
                    }
                },
            },
            "ResultPath": "$.m",
            "End": True,
        },
    },
}


@dataclass
class Faults:
    """Seeded faults at BEGIN and COMMIT of the database's transactions."""

    rate: float
    rng: random.Random
    injected: Counter[str] = field(default_factory=Counter)
    seen: Counter[str] = field(default_factory=Counter)  # errors that reached a caller, by type
    on: bool = True

    def maybe(self, where: str) -> None:
        if self.on and self.rng.random() < self.rate:
            kind = self.rng.choice(sorted(FAULTS))
            self.injected[kind] += 1
            raise StoreError(f"injected {kind} at {where}: {FAULTS[kind]}")


def inject(db: Database, faults: Faults) -> None:
    """Wrap ``db``'s transactions (writes and reads) with ``faults``."""
    real_transaction, real_read = db.transaction, db.read_transaction

    def wrap(real: Any) -> Any:
        @contextmanager
        def faulty() -> Iterator[Connection]:
            faults.maybe("BEGIN")
            with real() as conn:
                yield conn
                faults.maybe("COMMIT")  # raised inside: the transaction rolls back

        return faulty

    db.transaction = wrap(real_transaction)  # type: ignore[method-assign]
    db.read_transaction = wrap(real_read)  # type: ignore[method-assign]


@pytest.mark.parametrize("seed", [1])
def test_a_worker_under_store_faults_loses_and_repeats_nothing(store_url: str, seed: int) -> None:
    app: App = build_app(state_url=store_url, clock=SystemClock())
    runs: Counter[str] = Counter()

    def work(p: JSON) -> JSON:
        assert isinstance(p, dict)
        runs[f"{p['k']}:{p['n']}"] += 1
        return {"k": p["k"], "n": p["n"]}

    app.register(WORK, work)
    app.service.create_state_machine(name="chaos", definition=MACHINE)
    faults = Faults(rate=0.08, rng=random.Random(seed))
    inject(app.db, faults)
    untyped: list[BaseException] = []

    def call(fn: Any, **kwargs: Any) -> Any:
        while True:  # as a client retries a typed, retryable error
            try:
                return fn(**kwargs)
            except StoreError:
                faults.seen["StoreError"] += 1
            except BaseException as e:
                untyped.append(e)
                raise

    arns = [
        str(
            call(
                app.service.start_execution,
                state_machine_arn="chaos",
                name=f"e{i}",
                input=f'{{"n": {i}, "items": [{i}, {i + 100}]}}',
            )["executionArn"]
        )
        for i in range(EXECUTIONS)
    ]
    worker = app.worker(lease_seconds=0.2, poll_seconds=0.01, pause=lambda _s: None)
    worker.run(until_idle=True)
    faults.on = False
    worker = app.worker(lease_seconds=0.2, poll_seconds=0.01)
    worker.run(until_idle=True)  # anything a fault left to a lapsed lease
    lost = duplicated = 0
    for i, arn in enumerate(arns):
        desc = app.service.describe_execution(execution_arn=arn)
        if desc["status"] != "SUCCEEDED":
            lost += 1
            continue
        events = app.service.get_execution_history(execution_arn=arn, max_results=1000)["events"]
        assert isinstance(events, list)
        ids = [int(str(e["id"])) for e in events if isinstance(e, dict)]
        if ids != list(range(1, len(ids) + 1)):
            duplicated += 1
        output = desc["output"]
        assert isinstance(output, str)
        assert f'"m":[{{"k":"i","n":{i}}},{{"k":"i","n":{i + 100}}}]' in output
    reruns = sum(n - 1 for n in runs.values())
    print(
        f"\nchaos store faults ({store_url.split(':')[0]}, seed {seed}): "
        f"{sum(faults.injected.values())} faults injected {dict(faults.injected)}, "
        f"{EXECUTIONS} executions, {lost} lost, {duplicated} duplicated, "
        f"{len(untyped)} untyped, {faults.seen['StoreError']} typed errors at the client, "
        f"{reruns} task re-runs after a failed record, worker health {worker.health.ok}"
    )
    assert sum(faults.injected.values()) > 0
    assert (lost, duplicated, untyped) == (0, 0, [])
    assert len(runs) == EXECUTIONS * 4  # every task ran: T, A and two Map items each
    app.close()
