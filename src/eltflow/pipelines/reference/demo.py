"""``eltflow demo``: the reference pipeline end to end on one machine, narrated.

Sets up the project (config, TPC-H staging data, targets, audit item, state machine), runs one
execution with a worker in this process while printing each state as it starts and ends, then
shows the validation counts and where to look next. ``--fail-at fact`` breaks the fact load's
input first and shows the failure (failed state, audit item, notification); the red run is left
for the user to look at, with the commands that repair it and redrive it printed (the demo does
not repair it itself: the point is to see, then do, the recovery).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from eltflow.config import Settings, load_settings
from eltflow.errors import EltflowError
from eltflow.pipelines import jobs
from eltflow.pipelines.host import PipelineHost, needed
from eltflow.pipelines.reference import ReferenceConfig, settings_for, stack
from eltflow.pipelines.reference.project import (
    counts,
    create_targets,
    ensure_config,
    load_staging,
    prepare,
    run_batch,
)
from eltflow.types import JSONObject

Printer = Callable[[str], None]
# Opens the application for a project (``eltflow.app.build_app``): passed in by the CLI, because
# the pipelines sit below the composition root and must not import it (docs/ARCHITECTURE.md).
AppFactory = Callable[[Settings], PipelineHost]
FAIL_POINTS = ("fact",)
# The injected failure: the fact load reads staging.orders, so hiding that table breaks it
# (and only it), exactly like a late or broken upstream extract would.
_BREAK = ["ALTER TABLE staging.orders RENAME TO orders_missing"]
_REPAIR = ["ALTER TABLE staging.orders_missing RENAME TO orders"]


# Deploys the reference stack for ``--from-template`` (``eltflow.stacks`` sits above the
# pipelines, so the CLI passes this in): (app, template, parameters, {(bucket, key): bytes} to
# upload first) -> one line saying what it did; a failed stack is an EltflowError.
StackDeployer = Callable[[PipelineHost, Path, dict[str, str], dict[tuple[str, str], bytes]], str]


@dataclass(frozen=True, kw_only=True)
class DemoOptions:
    project_dir: Path
    scale_factor: float = 0.1
    fail_at: str | None = None
    from_template: bool = False  # deploy the pipeline from its own CloudFormation template


def run_demo(
    options: DemoOptions,
    build_app: AppFactory,
    out: Printer = print,
    deploy: StackDeployer | None = None,
) -> int:
    if options.fail_at is not None and options.fail_at not in FAIL_POINTS:
        raise EltflowError(f"--fail-at must be one of {FAIL_POINTS}, got {options.fail_at!r}")
    if options.from_template and deploy is None:
        raise EltflowError("--from-template needs a stack deployer")
    wrote = ensure_config(options.project_dir, from_template=options.from_template)
    settings = load_settings(options.project_dir)
    config = settings_for(settings)
    out(
        "eltflow demo: the reference ELT pipeline"
        + (", deployed from its CloudFormation template" if options.from_template else "")
    )
    out(
        f"  project    {options.project_dir.resolve()}"
        + ("  (wrote eltflow.toml)" if wrote else "")
    )
    out(f"  state      {settings.state_url}")
    out(f"  warehouse  {settings.warehouse_url}")
    if _left_failed(settings, config, build_app, out):
        return 1

    out(f"\n[1/4] TPC-H staging data at scale factor {options.scale_factor:g}")
    staging = load_staging(settings, config, options.scale_factor)
    out(
        f"      generated in {staging.seconds_generate:.1f} s, loaded in "
        f"{staging.seconds_load:.1f} s: " + ", ".join(f"{t} {n:,}" for t, n in staging.rows.items())
    )
    app = build_app(settings)
    try:
        if options.from_template:
            assert deploy is not None
            out("[2/4] targets, the stack from the template, audit item")
            prepared = _deploy_stack(app, config, deploy, out)
        else:
            out("[2/4] targets, audit table and state machine")
            prepared = prepare(app, config)
        job = _job(app, config)
        out(
            f"      {config.audit_table}: JobID {config.job_id} is {job.get('JobState')}"
            + (" (created)" if prepared["jobCreated"] else "")
        )
        out(f"      state machine {config.state_machine} ({prepared['stateMachineArn']})")
        dataapi = app.dataapi
        if options.fail_at == "fact":
            out("[--fail-at fact] hiding staging.orders so that the fact load fails")
            run_batch(dataapi, config, _BREAK)
        out("[3/4] running the execution")
        name = f"demo-{app.clock.now():%Y%m%dT%H%M%S%f}"
        started = app.service.start_execution(
            state_machine_arn=prepared["stateMachineArn"],
            input=json.dumps({"JobID": config.job_id}),
            name=name,
        )
        arn = str(started["executionArn"])
        status = _run_and_narrate(app, arn, out)
        if options.fail_at == "fact":
            _show_failure(app, config, arn, status, out)
        if options.fail_at == "fact" and status == "FAILED":
            # The counts read staging.orders too, which stays hidden until the user repairs it.
            out("[4/4] validation counts: after the repair (staging.orders is hidden until then)")
            _how_to_recover(settings, config, arn, out)
            return 1
        out(f"[4/4] validation counts ({status})")
        for table, n in counts(dataapi, config).items():
            out(f"      {table:<26}{n:>12,}")
        _where_next(settings, config, arn, out)
        return 0 if status == "SUCCEEDED" else 1
    finally:
        app.close()


def _deploy_stack(
    app: PipelineHost, config: ReferenceConfig, deploy: StackDeployer, out: Printer
) -> dict[str, Any]:
    """What a deploy to AWS does, here: the targets' DDL, the function's zip to the artifact
    bucket, the stack from the shipped template (created, or updated in place), then the
    audit item in the table the stack made."""
    create_targets(app, config)
    template = stack.template_path()
    said = deploy(
        app,
        template,
        stack.parameters(config),
        {(stack.ARTIFACT_BUCKET, stack.ARTIFACT_KEY): stack.function_zip()},
    )
    out(f"      {template}")
    out(f"      stack {stack.STACK_NAME}: {said}")
    created = jobs.create_job(needed(app.items, "dynamodb"), config.audit_table, config.job_id)
    arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{config.state_machine}"
    return {"stateMachineArn": arn, "jobCreated": created}


def _left_failed(
    settings: Settings, config: ReferenceConfig, build_app: AppFactory, out: Printer
) -> bool:
    """A job left Failed (``--fail-at`` leaves its run for the user) would make this run end
    as skipped, quietly: say so and stop before reloading anything, so the failed run can
    still be repaired as printed."""
    app = build_app(settings)
    try:
        job = _job(app, config)
    finally:
        app.close()
    if job.get("JobState") != "Failed":
        return False
    here = f"--project-dir {settings.project_dir}"
    out(f"\n{config.audit_table}: JobID {config.job_id} is Failed: {job.get('JobError')}")
    if job.get("RunArn"):
        out(f"  left by {job['RunArn']}")
    out("A new run would find the job failed and end as skipped. Either finish that run")
    out(f"(the repair and redrive printed when it failed; `eltflow {here} serve` shows it),")
    out(f"or start over: eltflow {here} jobs reset {config.job_id}, then run the demo again.")
    return True


def _job(app: PipelineHost, config: ReferenceConfig) -> JSONObject:
    for job in jobs.list_jobs(needed(app.items, "dynamodb")):
        if job["table"] == config.audit_table and str(job.get("JobID")) == config.job_id:
            return job
    return {}


def _run_and_narrate(app: PipelineHost, arn: str, out: Printer, seen: int = 0) -> str:
    """Run the worker in a thread until the execution ends, printing its states as they go
    (history events from index ``seen`` on)."""
    done = threading.Event()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            app.worker().run(until=done.is_set)
        except BaseException as e:  # surfaced below; a thread can't raise to us
            errors.append(e)
            done.set()

    thread = threading.Thread(target=work, name="eltflow-demo-worker", daemon=True)
    thread.start()
    t0: datetime | None = None
    entered: dict[str, datetime] = {}
    status = "RUNNING"
    try:
        while True:
            status = str(app.service.describe_execution(execution_arn=arn)["status"])
            page = app.service.get_execution_history(execution_arn=arn, max_results=25000)
            listed = page["events"]
            events = [e for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []
            for e in events[seen:]:
                when = datetime.fromisoformat(str(e["timestamp"]))
                t0 = t0 or when
                line = _narrate(e, when, entered)
                if line:
                    out(f"      +{(when - t0).total_seconds():7.3f}s  {line}")
            seen = len(events)
            if status != "RUNNING" or errors:
                break
            time.sleep(0.1)
    finally:
        done.set()
        thread.join()
    if errors:
        raise EltflowError(f"the worker stopped: {errors[0]}") from errors[0]
    return str(status)


def _narrate(event: Mapping[str, Any], when: datetime, entered: dict[str, datetime]) -> str | None:
    kind = event["type"]
    if "stateEnteredEventDetails" in event:
        name = event["stateEnteredEventDetails"]["name"]
        entered[name] = when
        return f"> {name}"
    if "stateExitedEventDetails" in event:
        name = event["stateExitedEventDetails"]["name"]
        took = (when - entered.get(name, when)).total_seconds() * 1000
        return f"  {name} done in {took:,.0f} ms"
    for key in ("taskFailedEventDetails", "lambdaFunctionFailedEventDetails"):
        if key in event:
            d = event[key]
            return f"  ! {kind}: {d.get('error')}: {str(d.get('cause', ''))[:160]}"
    if kind in ("ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"):
        d = event.get("executionFailedEventDetails") or {}
        extra = f" ({d.get('error')})" if d else ""
        return f"= {kind}{extra}"
    if kind == "ExecutionRedriven":
        return "= ExecutionRedriven"
    return None


def _show_failure(
    app: PipelineHost, config: ReferenceConfig, arn: str, status: str, out: Printer
) -> None:
    desc = app.service.describe_execution(execution_arn=arn)
    out(f"      execution {status}: {desc.get('error')}")
    job = _job(app, config)
    out(f"      audit item: JobState={job.get('JobState')} JobError={job.get('JobError')!r}")
    if app.settings is None:
        return
    log = app.settings.project_dir / ".eltflow" / "notifications.jsonl"
    if log.exists():
        last = log.read_text(encoding="utf-8").strip().splitlines()[-1:]
        out(f"      notification ({log}): {last[0][:200] if last else '(none)'}")


def _how_to_recover(settings: Any, config: ReferenceConfig, arn: str, out: Printer) -> None:
    """The recovery a user does after a failed run, as commands to copy. Redrive re-runs only
    the failed fact load (the dimensions stay loaded) and its ReleaseLock checks that this run
    holds the audit item, so the item is NOT reset first; ``jobs reset`` is for giving up on the
    run and starting a new one."""
    here = f"--project-dir {settings.project_dir}"
    repair = "; ".join(_REPAIR)
    out("\nThe failed run is left for you to look at:")
    out(f"  eltflow {here} executions history {arn}")
    out(f"  eltflow {here} serve     # console: the red state, its error and cause, the job")
    out("To repair it and redrive it from the failed state:")
    out(f'  1. fix the cause:  eltflow {here} sql "{repair}"')
    out(f"  2. redrive:        eltflow {here} redrive {arn}")
    out(f"  3. run it:         eltflow {here} worker --until-idle   (or let `serve` run it)")
    out(
        f"Or give up on this run: eltflow {here} jobs reset {config.job_id} "
        "(the audit item back to Ready), fix the cause, and start a new one"
    )


def _where_next(settings: Any, config: ReferenceConfig, arn: str, out: Printer) -> None:
    here = f"--project-dir {settings.project_dir}"
    out("\nWhere to look next:")
    out(f"  eltflow {here} executions history {arn}")
    out(f"  eltflow {here} serve     # console: the graph, states, events, jobs")
    out(f'  eltflow {here} sql "SELECT * FROM public.fact_yearly_sale LIMIT 10"')
    notifications = settings.project_dir / ".eltflow" / "notifications.jsonl"
    if notifications.exists():  # the stack from the template has no file subscription
        out(f"  notifications: {notifications}")
