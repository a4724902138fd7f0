"""Read a project through its services into an export :class:`~eltflow.stacks.export.Snapshot`:
state machines (StatesService), item tables (DynamoDB API), topics (SNS API), Lambda functions
(config and recorded ones) and schedules (the scheduler's store)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eltflow.lambdas.config import BUNDLED_HANDLERS
from eltflow.stacks.export import (
    FunctionInfo,
    MachineInfo,
    ScheduleInfo,
    Snapshot,
    TableInfo,
    TopicInfo,
)

if TYPE_CHECKING:
    from eltflow.app import App


def snapshot(app: App) -> Snapshot:
    return Snapshot(
        machines=tuple(_machines(app)),
        tables=tuple(_tables(app.items)),
        topics=tuple(_topics(app.topics)),
        functions=tuple(_functions(app.lambdas)),
        schedules=tuple(_schedules(app)),
    )


def _machines(app: App) -> list[MachineInfo]:
    out: list[MachineInfo] = []
    token: str | None = None
    while True:
        page = app.service.list_state_machines(next_token=token)
        for item in page["stateMachines"]:  # type: ignore[union-attr]
            arn = str(item["stateMachineArn"])  # type: ignore[call-overload, index]
            described = app.service.describe_state_machine(state_machine_arn=arn)
            out.append(
                MachineInfo(name=str(described["name"]), definition=str(described["definition"]))
            )
        token = page.get("nextToken")  # type: ignore[assignment]
        if not token:
            return out


def _tables(dynamodb: Any) -> list[TableInfo]:
    if dynamodb is None:
        return []
    out: list[TableInfo] = []
    for name in dynamodb.call("ListTables", {}).get("TableNames", []):
        table = dynamodb.call("DescribeTable", {"TableName": name})["Table"]
        types = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
        keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
        sort = keys.get("RANGE")
        out.append(
            TableInfo(
                name=name,
                partition_key=keys["HASH"],
                partition_type=types[keys["HASH"]],
                sort_key=sort,
                sort_type=types.get(sort) if sort else None,
            )
        )
    return out


def _topics(sns: Any) -> list[TopicInfo]:
    if sns is None:
        return []
    out: list[TopicInfo] = []
    for topic in sns.call("ListTopics", {}).get("Topics", []):
        arn = topic["TopicArn"]
        subs = sns.call("ListSubscriptionsByTopic", {"TopicArn": arn}).get("Subscriptions", [])
        out.append(
            TopicInfo(
                name=arn.rsplit(":", 1)[-1],
                arn=arn,
                subscriptions=tuple((s["Protocol"], s["Endpoint"]) for s in subs),
            )
        )
    return out


def _functions(runner: Any) -> list[FunctionInfo]:
    if runner is None:
        return []
    specs = dict(runner.settings.functions)
    if runner.functions is not None:
        for spec in runner.functions.all():
            specs.setdefault(spec.name, spec)
    out: list[FunctionInfo] = []
    for name, spec in sorted(specs.items()):
        timeout = int(spec.timeout_seconds) if spec.timeout_seconds else 3
        memory = spec.memory_mb
        if spec.code_dir is not None:  # a recorded function: its folder is the code
            folder = Path(spec.code_dir)
            # cfnresponse.py is CloudFormation's own module, given to inline code again there.
            files = tuple(
                (str(p.relative_to(folder)), str(p))
                for p in sorted(folder.rglob("*.py"))
                if p.name != "cfnresponse.py"
            )
            index = folder / "index.py"
            source = (
                index.read_text(encoding="utf-8") if len(files) == 1 and index.exists() else None
            )
            out.append(
                FunctionInfo(
                    name=name,
                    handler=spec.handler,
                    timeout_seconds=timeout,
                    memory_mb=memory,
                    source=source,
                    files=files,
                    environment=dict(spec.environment),
                )
            )
            continue
        module, _, function = spec.handler.partition(":")
        if module in BUNDLED_HANDLERS:
            out.append(_bundled(spec, module, function, timeout, runner.settings.search_path))
            continue
        out.append(
            FunctionInfo(
                name=name,
                handler=f"{module}.{function}",
                timeout_seconds=timeout,
                memory_mb=memory,
                source=_single_file_source(module),
                files=_package_files(module),
            )
        )
    return out


def _bundled(
    spec: Any, module: str, function: str, timeout: int, roots: tuple[str, ...]
) -> FunctionInfo:
    """A bundled handler (plain boto3): its one file at the package root, plus every .sql file
    of the project (the handler's ``SqlFile`` paths are relative to the package root on AWS
    and to the project folder here). Never inlined: inline code cannot carry the SQL files."""
    found = importlib.util.find_spec(module)
    assert found is not None and found.origin is not None  # eltflow's own module
    name = BUNDLED_HANDLERS[module]
    files: list[tuple[str, str]] = [(f"{name}.py", found.origin)]
    for root in (Path(r) for r in roots[:1]):
        files += [
            (p.relative_to(root).as_posix(), str(p))
            for p in sorted(root.rglob("*.sql"))
            if not any(part.startswith(".") for part in p.relative_to(root).parts)
        ]
    return FunctionInfo(
        name=spec.name,
        handler=f"{name}.{function}",
        timeout_seconds=timeout,
        memory_mb=spec.memory_mb,
        files=tuple(files),
        environment=dict(spec.environment),
        data_api=True,
    )


def _single_file_source(module: str) -> str | None:
    """A top-level module's source (a module inside a package may import its siblings, so it
    is zipped with them instead)."""
    if "." in module:
        return None
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    if spec.submodule_search_locations:  # a package
        return None
    return Path(spec.origin).read_text(encoding="utf-8")


def _package_files(module: str) -> tuple[tuple[str, str], ...]:
    """The files of the handler's top-level package (or its single module), with their names
    inside the zip: package data too (the reference handlers read their .sql files through
    importlib.resources, as they would in AWS Lambda), but no bytecode caches."""
    top = module.split(".", 1)[0]
    spec = importlib.util.find_spec(top)
    if spec is None or spec.origin is None:
        return ()
    if spec.submodule_search_locations:
        root = Path(next(iter(spec.submodule_search_locations)))
        return tuple(
            (str(Path(top) / p.relative_to(root)), str(p))
            for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        )
    return ((Path(spec.origin).name, spec.origin),)


def _schedules(app: App) -> list[ScheduleInfo]:
    from eltflow.runtime.arns import machine_name

    out: list[ScheduleInfo] = []
    for s in app.schedules.store.list_schedules():
        out.append(
            ScheduleInfo(
                name=s.name,
                expression=s.expression,
                timezone=s.timezone,
                state_machine=machine_name(s.state_machine),
                input=s.input,
                enabled=s.state.value == "ENABLED",
                description=s.description,
            )
        )
    return out
