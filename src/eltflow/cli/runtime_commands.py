"""``eltflow machines|start|executions|stop|redrive|tasks|worker``: thin commands over the service.

Read commands print a short human summary, or with ``--json`` AWS's response shape exactly
(DescribeExecution, GetExecutionHistory, ListExecutions...).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from eltflow.cli import substitution_args

if TYPE_CHECKING:
    from eltflow.app import App


def _app(args: argparse.Namespace) -> App:
    from eltflow.app import build_app
    from eltflow.config import load_settings

    return build_app(load_settings(args.project_dir))


@contextmanager
def _opened(args: argparse.Namespace) -> Iterator[App]:
    """The project's app for one command, closed whatever happens."""
    app = _app(args)
    try:
        yield app
    finally:
        app.close()


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=_jsonable))


def _jsonable(value: Any) -> Any:
    """What services return beyond JSON: dates (Data API statements) as ISO-8601 text."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _read_definition(path: str) -> str:
    from eltflow.errors import EltflowError

    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise EltflowError(f"cannot read definition file {path}: {e.strerror}") from e


# -- task tokens ------------------------------------------------------------------------------
def _tasks_success(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        out = app.service.send_task_success(task_token=args.token, output=args.output)
    _print_json(out) if args.json else print("task succeeded")
    return 0


def _tasks_failure(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        out = app.service.send_task_failure(
            task_token=args.token, error=args.error, cause=args.cause
        )
    _print_json(out) if args.json else print("task failed")
    return 0


def _tasks_heartbeat(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        out = app.service.send_task_heartbeat(task_token=args.token)
    _print_json(out) if args.json else print("heartbeat recorded")
    return 0


# -- machines ---------------------------------------------------------------------------------
def _machines_create(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        out = app.service.create_state_machine(
            name=args.name,
            definition=substitution_args.apply(args, _read_definition(args.definition)),
            type=args.type,
        )
    _print_json(out) if args.json else print(out["stateMachineArn"])
    return 0


def _machines_update(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        out = app.service.update_state_machine(
            state_machine_arn=args.name,
            definition=substitution_args.apply(args, _read_definition(args.definition)),
        )
    _print_json(out) if args.json else print(out["stateMachineVersionArn"])
    return 0


def _machines_list(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        machines: list[Any] = []
        token: str | None = None
        while True:
            page = app.service.list_state_machines(next_token=token)
            machines += cast(list[Any], page["stateMachines"])
            token = page.get("nextToken")  # type: ignore[assignment]
            if not token:
                break
    if args.json:
        _print_json({"stateMachines": machines})
    else:
        for m in machines:
            print(f"{m['name']}\t{m['stateMachineArn']}\t{m['creationDate']}")
    return 0


def _machines_describe(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        out = app.service.describe_state_machine(state_machine_arn=args.name)
    if args.json:
        _print_json(out)
    else:
        for key in ("name", "stateMachineArn", "stateMachineVersionArn", "status", "updateDate"):
            print(f"{key}: {out[key]}")
        print(out["definition"])
    return 0


def _machines_delete(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        app.service.delete_state_machine(state_machine_arn=args.name)
    print(f"deleted {args.name}")
    return 0


# -- executions -------------------------------------------------------------------------------
def _start_sync(args: argparse.Namespace) -> int:
    """StartSyncExecution of an EXPRESS machine: run here, print the output (or the error)."""
    with _opened(args) as app:
        return _run_sync(app, args)


def _run_sync(app: App, args: argparse.Namespace) -> int:
    from eltflow.serve import handler_endpoint

    with handler_endpoint(app):  # boto3 in Lambda handlers reaches this project
        out = app.service.start_sync_execution(
            state_machine_arn=args.machine, input=args.input, name=args.name
        )
    return _outcome(out, args.json)


def _start_express(app: App, args: argparse.Namespace) -> int:
    """An EXPRESS machine's StartExecution runs in this process (nothing records it for a
    worker): print its ARN, then stay until it has ended. ``--wait``: StartSyncExecution."""
    from eltflow.serve import handler_endpoint

    if args.wait:
        return _run_sync(app, args)
    with handler_endpoint(app):
        out = app.service.start_execution(
            state_machine_arn=args.machine, input=args.input, name=args.name
        )
        _print_json(out) if args.json else print(out["executionArn"])
        app.service.express.close()  # its outcome is logged (AWS: CloudWatch Logs)
    return 0


def _start(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        described = app.service.describe_state_machine(state_machine_arn=args.machine)
        if described["type"] == "EXPRESS":
            return _start_express(app, args)
        out = app.service.start_execution(
            state_machine_arn=args.machine, input=args.input, name=args.name
        )
        arn = str(out["executionArn"])
        if not args.wait:
            _print_json(out) if args.json else print(arn)
            if not app.workers.any_running():
                print(
                    "no worker is running: start one with `eltflow worker` "
                    "(or run this execution here with `eltflow start ... --wait`)",
                    file=sys.stderr,
                )
            return 0
        from eltflow.runtime.run import run_to_end
        from eltflow.serve import handler_endpoint

        print(arn, file=sys.stderr if args.json else sys.stdout)
        with handler_endpoint(app):  # boto3 in Lambda handlers reaches this project
            desc = run_to_end(app, arn)
    return _outcome(desc, args.json)


def _outcome(ended: Mapping[str, Any], as_json: bool) -> int:
    """Print how an execution ended (DescribeExecution's or StartSyncExecution's answer): the
    whole answer, or its output / status, error and cause; 0 when it succeeded, else 1."""
    if as_json:
        _print_json(ended)
    elif ended["status"] == "SUCCEEDED":
        print(ended.get("output"))
    else:
        print(f"{ended['status']}: {ended.get('error', '')} {ended.get('cause', '')}".rstrip())
    return 0 if ended["status"] == "SUCCEEDED" else 1


def _executions_list(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        out = app.service.list_executions(
            state_machine_arn=args.machine,
            status_filter=args.status,
            max_results=args.max,
            map_run_arn=args.map_run_arn,
        )
    if args.json:
        _print_json(out)
    else:
        for e in out["executions"]:  # type: ignore[union-attr]
            assert isinstance(e, dict)
            print(f"{e['status']:<10} {e['startDate']}  {e['executionArn']}")
    return 0


def _map_runs_list(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        out = app.service.list_map_runs(execution_arn=args.arn, max_results=args.max)
    if args.json:
        _print_json(out)
    else:
        for m in out["mapRuns"]:  # type: ignore[union-attr]
            assert isinstance(m, dict)
            print(f"{m['startDate']}  {m['mapRunArn']}")
    return 0


def _map_runs_describe(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        out = app.service.describe_map_run(map_run_arn=args.arn)
    if args.json:
        _print_json(out)
    else:
        for key in ("mapRunArn", "executionArn", "status", "startDate", "stopDate"):
            if key in out:
                print(f"{key}: {out[key]}")
        for key in ("itemCounts", "executionCounts"):
            counts = out[key]
            assert isinstance(counts, dict)
            shown = ", ".join(f"{k} {v}" for k, v in counts.items())
            print(f"{key}: {shown}")
    return 0


def _executions_describe(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        out = app.service.describe_execution(execution_arn=args.arn)
    if args.json:
        _print_json(out)
    else:
        for key in ("executionArn", "status", "startDate", "stopDate", "input", "output"):
            if key in out:
                print(f"{key}: {out[key]}")
        for key in ("error", "cause", "redriveCount", "redriveStatus"):
            if key in out:
                print(f"{key}: {out[key]}")
    return 0


def _executions_history(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        events = app.state_runs.history(args.arn)
    if args.reverse:
        events.reverse()
    if args.json:
        _print_json({"events": events})
    else:
        for line in history_lines(events):
            print(line)
    return 0


def history_lines(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """The history as text: one line per event with the state it belongs to
    (:func:`eltflow.runtime.event_states.event_states`), then its error and cause indented
    below, as the console's Events tab shows them."""
    from eltflow.runtime.event_states import details, event_states

    out = []
    for e, name in zip(events, event_states(events), strict=True):
        out.append(f"{e['id']:>5} {e['timestamp']}  {e['type']:<28} {name}".rstrip())
        detail = details(e)
        for key in ("error", "cause"):
            if detail.get(key):
                out.append(f"{'':>6}{key}: {detail[key]}")
    return out


def _executions_states(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        states = app.state_runs.of(args.arn)
    if args.json:
        _print_json(states)
        return 0
    for run in states["runs"]:
        retries = f"  {run['retries']} retr{'ies' if run['retries'] > 1 else 'y'}"
        error = f"  {run['error']}" if run["error"] else ""
        # Inside Map iterations: the path, as "Batches[1] > Each[0]".
        within = " > ".join(f"{k['map']}[{k['index']}]" for k in run["iteration"])
        print(
            f"{run['status']:<10} {run['start']}  {run['name']} ({run['type']})"
            f"{f'  in {within}' if within else ''}"
            f"{retries if run['retries'] else ''}{error}"
        )
    return 0


def _logs(args: argparse.Namespace) -> int:
    """Function logs per Task invocation, like CloudWatch Logs for a Lambda, with the Data API
    statements the execution's tasks submitted (SQL, status, duration, rows, error) in time
    order; ``--follow`` keeps printing new ones until the execution is no longer RUNNING (a
    statement once it has ended)."""
    import time

    from eltflow.runtime.execution_logs import merged, to_print

    shown: set[str] = set()
    following = False  # said that it follows, once
    with _opened(args) as app:
        logs = app.execution_logs
        while True:
            status = app.service.describe_execution(execution_arn=args.arn)["status"]
            records = logs.records(args.arn, args.state)
            statements = logs.statements(args.arn, args.state)
            if not args.follow:
                break
            if not following and status == "RUNNING":
                print(f"following {args.arn} while it is RUNNING", file=sys.stderr, flush=True)
                following = True
            ended = status != "RUNNING"
            for key, entry in to_print(merged(records, statements), shown, ended=ended):
                shown.add(key)
                _print_entry(entry)
            sys.stdout.flush()
            if ended:
                return 0
            time.sleep(0.5)  # a poll, as `aws logs tail --follow` does
    if args.json:
        _print_json({"logs": records, "statements": statements})
        return 0
    if not records and not statements:
        print(
            "no logs: no Lambda handler of this execution printed or logged anything, "
            "and none of its tasks submitted a Data API statement"
        )
    for _, entry in merged(records, statements):
        _print_entry(entry)
    return 0


def _print_entry(entry: dict[str, Any]) -> None:
    from eltflow.runtime.execution_logs import is_statement

    if is_statement(entry):
        _print_statement(entry)
    else:
        _print_log(entry)


def _print_log(r: dict[str, Any]) -> None:
    failed = f"  {r['error']}" if r.get("error") else ""
    print(f"== {r['timestamp']}  {r['state']}  {r['function']}  {r['requestId']}{failed}")
    text = str(r.get("text") or "")
    print(text if text.endswith("\n") or not text else text + "\n", end="")


def _print_statement(st: dict[str, Any]) -> None:
    """One Data API statement: when, state, status, duration, rows, then its SQL and error."""
    subs = st.get("SubStatements") or []
    sql = ";\n".join(str(x.get("QueryString", "")) for x in subs) if subs else st["QueryString"]
    rows = sum(max(0, int(x.get("ResultRows", 0) or 0)) for x in subs) if subs else None
    if rows is None:
        rows = int(st.get("ResultRows", -1))
    duration = int(st.get("Duration", -1))
    took = f"{duration / 1e6:.0f} ms" if duration >= 0 else "-"
    error = st.get("Error") or next((x.get("Error") for x in subs if x.get("Error")), "")
    created = st["CreatedAt"]
    at = created.isoformat() if hasattr(created, "isoformat") else str(created)
    name = f" ({st['StatementName']})" if st.get("StatementName") else ""
    print(
        f"== {at}  {st.get('StateName') or '-'}  statement {st['Id']}{name}  {st['Status']}"
        f"  {took}  {rows if rows >= 0 else '-'} rows"
    )
    print(str(sql).rstrip())
    if error:
        print(f"error: {error}")


def _stop(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        out = app.service.stop_execution(execution_arn=args.arn, error=args.error, cause=args.cause)
    _print_json(out) if args.json else print(f"stopped at {out['stopDate']}")
    return 0


def _redrive(args: argparse.Namespace) -> int:
    with _opened(args) as app:
        out = app.service.redrive_execution(execution_arn=args.arn)
    _print_json(out) if args.json else print(f"redriven at {out['redriveDate']}")
    return 0


def _worker(args: argparse.Namespace) -> int:
    from eltflow.serve import handler_endpoint

    with _opened(args) as app, handler_endpoint(app):  # boto3 in handlers reaches eltflow
        worker = app.worker(threads=args.threads, lease_seconds=args.lease_seconds)
        print(f"worker {worker.owner} on {app.db.dialect} store", file=sys.stderr)
        stats = worker.run(until_idle=args.until_idle)
    print(f"claimed {stats.claimed} executions, ran {stats.tasks_run} tasks", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def add(parent: Any, name: str, handler: Any, help: str, json_flag: bool = True) -> Any:
        p = parent.add_parser(name, help=help)
        if json_flag:
            p.add_argument("--json", action="store_true", help="print AWS's response JSON")
        p.set_defaults(handler=handler)
        return p

    machines = sub.add_parser(
        "machines", help="create, update, list, describe, delete"
    ).add_subparsers(dest="machines_command", metavar="ACTION", required=True)
    p = add(machines, "create", _machines_create, "create a state machine from a definition file")
    p.add_argument("name")
    p.add_argument("--definition", required=True, metavar="FILE")
    p.add_argument(
        "--type",
        choices=["STANDARD", "EXPRESS"],
        default="STANDARD",
        help="EXPRESS: run by StartSyncExecution (or StartExecution, unrecorded), at most 5 min",
    )
    substitution_args.add_arguments(p)
    p = add(machines, "update", _machines_update, "publish a new version of a state machine")
    p.add_argument("name")
    p.add_argument("--definition", required=True, metavar="FILE")
    substitution_args.add_arguments(p)
    add(machines, "list", _machines_list, "list state machines")
    p = add(machines, "describe", _machines_describe, "show a state machine")
    p.add_argument("name")
    p = add(machines, "delete", _machines_delete, "delete a state machine", json_flag=False)
    p.add_argument("name")

    p = add(sub, "start", _start, "start an execution (prints its ARN)")
    p.add_argument("machine", metavar="NAME")
    p.add_argument("--input", default=None, metavar="JSON")
    p.add_argument("--name", default=None, metavar="EXEC")
    p.add_argument(
        "--wait", action="store_true", help="run it to the end here and print the result"
    )
    p = add(sub, "start-sync", _start_sync, "StartSyncExecution: run an EXPRESS machine here")
    p.add_argument("machine", metavar="NAME")
    p.add_argument("--input", default=None, metavar="JSON")
    p.add_argument("--name", default=None, metavar="EXEC")

    executions = sub.add_parser(
        "executions", help="list, describe, history, states"
    ).add_subparsers(dest="executions_command", metavar="ACTION", required=True)
    p = add(executions, "list", _executions_list, "list executions")
    p.add_argument("--machine", default=None, metavar="NAME")
    p.add_argument(
        "--status", default=None, choices=["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
    )
    p.add_argument("--max", type=int, default=100)
    p.add_argument(
        "--map-run-arn", default=None, metavar="ARN", help="a Distributed Map's child executions"
    )
    p = add(executions, "describe", _executions_describe, "describe an execution")
    p.add_argument("arn", metavar="ARN")
    p = add(executions, "history", _executions_history, "an execution's event history")
    p.add_argument("arn", metavar="ARN")
    p.add_argument("--reverse", action="store_true")
    p = add(executions, "states", _executions_states, "each state's runs and status")
    p.add_argument("arn", metavar="ARN")

    map_runs = sub.add_parser(
        "map-runs", help="a Distributed Map's Map Runs: list, describe"
    ).add_subparsers(dest="map_runs_command", metavar="ACTION", required=True)
    p = add(map_runs, "list", _map_runs_list, "the Map Runs an execution started")
    p.add_argument("arn", metavar="EXECUTION_ARN")
    p.add_argument("--max", type=int, default=100)
    p = add(map_runs, "describe", _map_runs_describe, "a Map Run's settings and counts")
    p.add_argument("arn", metavar="MAP_RUN_ARN")

    p = add(
        sub,
        "logs",
        _logs,
        "what an execution's Lambda handlers printed and logged, and the SQL its tasks ran",
    )
    p.add_argument("arn", metavar="ARN")
    p.add_argument(
        "--state", default=None, metavar="NAME", help="only this state's invocations and statements"
    )
    p.add_argument(
        "--follow", action="store_true", help="keep printing new logs while it is RUNNING"
    )

    p = add(sub, "stop", _stop, "stop (abort) an execution")
    p.add_argument("arn", metavar="ARN")
    p.add_argument("--error", default=None)
    p.add_argument("--cause", default=None)
    p = add(sub, "redrive", _redrive, "redrive a failed, aborted or timed-out execution")
    p.add_argument("arn", metavar="ARN")

    tasks = sub.add_parser(
        "tasks", help="answer a task waiting for its token (success, failure, heartbeat)"
    ).add_subparsers(dest="tasks_command", metavar="ACTION", required=True)
    p = add(tasks, "success", _tasks_success, "SendTaskSuccess: complete the task with JSON")
    p.add_argument("token", metavar="TOKEN", help="the task's $$.Task.Token")
    p.add_argument("--output", required=True, metavar="JSON", help="the task's result (JSON)")
    p = add(tasks, "failure", _tasks_failure, "SendTaskFailure: fail the task")
    p.add_argument("token", metavar="TOKEN")
    p.add_argument("--error", default=None, help="error name Retry/Catch match on")
    p.add_argument("--cause", default=None)
    p = add(tasks, "heartbeat", _tasks_heartbeat, "SendTaskHeartbeat: restart HeartbeatSeconds")
    p.add_argument("token", metavar="TOKEN")

    p = add(sub, "worker", _worker, "run executions from the state store", json_flag=False)
    p.add_argument("--until-idle", action="store_true", help="exit when no execution has work left")
    p.add_argument("--threads", type=int, default=16)
    p.add_argument("--lease-seconds", type=float, default=30.0)
