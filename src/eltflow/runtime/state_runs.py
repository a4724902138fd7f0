"""Per-state runs of an execution, folded from its history: what the console's graph colours
and state table show, what ``eltflow executions states`` prints and what
``GET /api/executions/{arn}/states`` returns. One fold, so the three always agree.

Each ``*StateEntered`` event opens a run of that state; later events belong to the state their
``previousEventId`` chain leads to. A failure event marks the run FAILED; a retry (the task
scheduled or started again) puts it back to RUNNING; a ``*StateExited`` after a failure means
a Catch took it (CAUGHT); a run still open when the execution fails, times out or aborts ends
with the execution. A state run several times (loops, Map iterations) shows, in ``status``, a
running run if it has one, else its last.

A run's ``previous`` is the state whose ``*StateExited`` event its ``*StateEntered`` event
follows (``previousEventId``): the transition the execution took into it (a Catch too, which
exits the failed state first). The first state of a branch or iteration follows its container's
start event and the first state of the execution ``ExecutionStarted``: ``previous`` is None.

Map iterations (what the console's iteration picker shows): each ``MapIterationStarted`` opens
an iteration of the Map run it follows, and a state entered after it belongs to it, as do the
states its chain leads to. A run's ``iteration`` is its path of Map iterations, outermost
first (empty outside any Map); ``iterations`` lists every iteration with its status from the
``MapIteration*`` events. A Distributed Map's iterations are child executions with histories
of their own (``MapRun*`` events here), so they are not listed. A state redriven inside an
iteration follows ``ExecutionRedriven``, not its iteration: it is listed outside any
(unverified against AWS's redrive history of inline Map iterations).

A run's ``attempts`` (the console's timeline draws one segment each) run from a ``*Scheduled``
/ ``*Started`` / ``*Submitted`` event with no attempt open to the next ``*Succeeded`` /
``*Failed`` / ``*TimedOut`` / ``*Aborted`` event (or the state's exit): a retried Task has one
per try, the gaps between them its Retry intervals; a Map or Parallel one (its own start to
end); a Pass, Choice, Wait... none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypedDict

from eltflow.runtime.service import StatesService
from eltflow.types import JSON, JSONObject

_FAILURE = re.compile(r"(Failed|TimedOut)$")
_NOT_A_STATE = re.compile(r"^(Execution|MapIteration|ParallelBranch|MapRun)")
_ITERATION = re.compile(r"^(MapIteration|MapRun)")
_ITERATION_END = {
    "MapIterationSucceeded": "SUCCEEDED",
    "MapIterationFailed": "FAILED",
    "MapIterationAborted": "ABORTED",
}
_OUTCOME = re.compile(r"(Succeeded|Failed|TimedOut|Aborted)$")
_OUTCOME_STATUS = {
    "Succeeded": "SUCCEEDED",
    "Failed": "FAILED",
    "TimedOut": "TIMED_OUT",
    "Aborted": "ABORTED",
}
_RESTART = re.compile(r"(Scheduled|Started|Submitted)$")
_EXECUTION_END = re.compile(r"^Execution(Failed|TimedOut|Aborted)$")

# AWS's GetExecutionHistory returns at most 1000 events a page.
_PAGE = 1000


class IterationKey(TypedDict):
    map: str  # the Map state's name
    run: int  # the index, in ``runs``, of the Map state's run
    index: int  # the iteration's index (its item's position)


class MapIteration(TypedDict):
    map: str
    run: int
    index: int
    status: str  # RUNNING | SUCCEEDED | FAILED | ABORTED
    start: JSON
    end: JSON
    iteration: list[IterationKey]  # the Map run's own iteration path


class Attempt(TypedDict):
    start: JSON
    end: JSON  # None while it runs
    status: str  # RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    error: str | None


class StateRun(TypedDict):
    name: str
    type: str  # the state's type as the event names it: Task, Pass, Map...
    start: JSON  # the StateEntered event's timestamp
    end: JSON  # None while the run is open
    status: str  # RUNNING | SUCCEEDED | FAILED | CAUGHT | ABORTED
    input: JSON
    output: JSON
    error: str | None
    cause: str | None
    retries: int
    eventIds: list[int]  # the history events of this run, in order
    previous: str | None  # the state whose exit led here (None: first of its (sub)machine)
    iteration: list[IterationKey]  # the Map iterations it ran in, outermost first
    attempts: list[Attempt]  # each try of its work (a Task's retries), in order


class ExecutionStates(TypedDict):
    status: dict[str, str]  # state name -> status of its shown run
    runs: list[StateRun]
    iterations: list[MapIteration]


def _str(value: JSON) -> str | None:
    return value if isinstance(value, str) and value else None


def _details(event: JSONObject) -> JSONObject:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def _owner(
    chained: int | None, exited: JSON, runs: list[StateRun], open_runs: dict[str, list[int]]
) -> int | None:
    """The run an event belongs to: that of the event it follows, else (a ``*StateExited``
    whose chain is broken) the latest open run of the state it names. Following the chain keeps
    concurrent runs of one state (Map iterations) apart."""
    if isinstance(exited, dict):
        name = str(exited.get("name"))
        if chained is not None and runs[chained]["name"] == name:
            return chained if chained in open_runs.get(name, []) else None
        stack = open_runs.get(name, [])
        return stack[-1] if stack else None
    if chained is None or chained not in open_runs.get(runs[chained]["name"], []):
        return None
    return chained


def _path_after(
    before: JSON,
    started: dict[JSON, list[IterationKey]],
    run_of: dict[JSON, int],
    runs: list[StateRun],
) -> list[IterationKey]:
    """The iteration path of a state entered after event ``before``: the iteration it starts,
    else that of the run it follows (a transition, or a Parallel branch's start)."""
    if before in started:
        return list(started[before])
    if before in run_of:
        return list(runs[run_of[before]]["iteration"])
    return []


def _iteration_event(
    kind: str,
    event: JSONObject,
    details: JSONObject,
    owner: int,
    runs: list[StateRun],
    iterations: list[MapIteration],
    iteration_at: dict[tuple[int, int], int],
    started: dict[JSON, list[IterationKey]],
) -> None:
    """Open or close an iteration of the Map run ``owner`` from a ``MapIteration*`` event."""
    index = details.get("index")
    if not isinstance(index, int):
        return
    key = (owner, index)
    if kind == "MapIterationStarted":
        parent = runs[owner]["iteration"]
        started[event.get("id")] = [
            *parent,
            IterationKey(map=runs[owner]["name"], run=owner, index=index),
        ]
        iteration_at[key] = len(iterations)
        iterations.append(
            MapIteration(
                map=runs[owner]["name"],
                run=owner,
                index=index,
                status="RUNNING",
                start=event.get("timestamp"),
                end=None,
                iteration=list(parent),
            )
        )
    elif kind in _ITERATION_END and key in iteration_at:
        it = iterations[iteration_at[key]]
        it["status"] = _ITERATION_END[kind]
        it["end"] = event.get("timestamp")


def _attempt_event(
    kind: str, event: JSONObject, details: JSONObject, attempts: list[Attempt], exit: bool
) -> None:
    """Open or close an attempt of a run from one of its events."""
    current = attempts[-1] if attempts and attempts[-1]["end"] is None else None
    at = event.get("timestamp")
    outcome = _OUTCOME.search(kind)
    if exit:
        if current is not None:
            current["end"], current["status"] = at, "SUCCEEDED"
    elif _RESTART.search(kind):
        if current is None:
            attempts.append(Attempt(start=at, end=None, status="RUNNING", error=None))
    elif outcome is not None and current is not None:
        current["end"], current["status"] = at, _OUTCOME_STATUS[outcome.group(1)]
        current["error"] = _str(details.get("error"))


def fold(events: Sequence[JSONObject]) -> ExecutionStates:
    """Per-state runs and statuses from AWS-shaped history events (oldest first)."""
    run_of: dict[JSON, int] = {}  # event id -> index of the run it belongs to
    exits: set[JSON] = set()  # ids of *StateExited events
    runs: list[StateRun] = []
    failed: list[bool] = []  # per run: failed and not (yet) retried
    open_runs: dict[str, list[int]] = {}  # state name -> indexes of its open runs
    iterations: list[MapIteration] = []
    iteration_at: dict[tuple[int, int], int] = {}  # (Map run, index) -> its position
    started: dict[JSON, list[IterationKey]] = {}  # MapIterationStarted id -> its path
    for event in events:
        kind = str(event.get("type", ""))
        entered = event.get("stateEnteredEventDetails")
        exited = event.get("stateExitedEventDetails")
        event_id = event.get("id")
        before = event.get("previousEventId")
        if isinstance(entered, dict):
            name = str(entered.get("name"))
            run_of[event_id] = len(runs)
            open_runs.setdefault(name, []).append(len(runs))
            failed.append(False)
            runs.append(
                StateRun(
                    name=name,
                    type=kind.removesuffix("StateEntered"),
                    start=event.get("timestamp"),
                    end=None,
                    status="RUNNING",
                    input=entered.get("input"),
                    output=None,
                    error=None,
                    cause=None,
                    retries=0,
                    eventIds=[int(str(event_id))],
                    previous=runs[run_of[before]]["name"] if before in exits else None,
                    iteration=_path_after(before, started, run_of, runs),
                    attempts=[],
                )
            )
            continue
        index = _owner(run_of.get(before), exited, runs, open_runs)
        if index is None:
            continue
        run_of[event_id] = index
        run = runs[index]
        run["eventIds"].append(int(str(event_id)))
        details = _details(event)
        if kind.startswith("MapIteration"):
            _iteration_event(kind, event, details, index, runs, iterations, iteration_at, started)
            continue
        if not kind.startswith("Execution"):
            _attempt_event(kind, event, details, run["attempts"], isinstance(exited, dict))
        if isinstance(exited, dict):
            exits.add(event_id)
            run["end"] = event.get("timestamp")
            run["output"] = exited.get("output")
            run["status"] = "CAUGHT" if failed[index] else "SUCCEEDED"
            open_runs[run["name"]].remove(index)
        elif _FAILURE.search(kind) and not _ITERATION.match(kind):
            failed[index] = True
            run["status"] = "FAILED"
            run["error"] = _str(details.get("error"))
            run["cause"] = _str(details.get("cause"))
            if kind.startswith("Execution"):
                run["end"] = event.get("timestamp")
        elif kind.endswith("Aborted") and not _NOT_A_STATE.match(kind):
            run["status"] = "ABORTED"
        elif _RESTART.search(kind) and failed[index]:
            failed[index] = False
            run["status"] = "RUNNING"
            run["retries"] += 1
    last = events[-1] if events else None
    ended = str(last.get("type")) if last is not None else ""
    status: dict[str, str] = {}
    for run in runs:
        if run["status"] == "RUNNING" and last is not None and _EXECUTION_END.match(ended):
            run["status"] = "ABORTED" if ended == "ExecutionAborted" else "FAILED"
            run["end"] = last.get("timestamp")
        for attempt in run["attempts"]:
            if attempt["end"] is None and run["end"] is not None:
                attempt["end"] = run["end"]
                attempt["status"] = "ABORTED" if run["status"] == "ABORTED" else "FAILED"
        if status.get(run["name"]) != "RUNNING":
            status[run["name"]] = run["status"]
    for it in iterations:
        if it["status"] == "RUNNING" and last is not None and _EXECUTION_END.match(ended):
            it["status"] = "ABORTED" if ended == "ExecutionAborted" else "FAILED"
            it["end"] = last.get("timestamp")
    return ExecutionStates(status=status, runs=runs, iterations=iterations)


class StateRuns:
    """The per-state runs of executions in the app's Step Functions service."""

    def __init__(self, states: StatesService) -> None:
        self.states = states

    def history(self, execution_arn: str) -> list[JSONObject]:
        """The execution's whole history, oldest first (every page)."""
        events: list[JSONObject] = []
        token: str | None = None
        while True:
            page = self.states.get_execution_history(
                execution_arn=execution_arn, max_results=_PAGE, next_token=token
            )
            listed = page.get("events")
            if isinstance(listed, list):
                events += [e for e in listed if isinstance(e, dict)]
            token = _str(page.get("nextToken"))
            if token is None:
                return events

    def of(self, execution_arn: str) -> ExecutionStates:
        return fold(self.history(execution_arn))
