"""Change sets over local stacks: ``CreateChangeSet``, ``DescribeChangeSet``,
``ExecuteChangeSet``, ``DeleteChangeSet``, ``ListChangeSets`` in AWS's request and response
shapes (what ``aws cloudformation deploy`` and SAM/CDK deploys call).

A change set holds a template and its parameter values with the resource changes they would
make (:func:`eltflow.stacks.changes.change_set`), computed when it is created, so the first
DescribeChangeSet already shows ``CREATE_COMPLETE`` (or ``FAILED`` with "didn't contain
changes"). A CREATE change set records its stack as ``REVIEW_IN_PROGRESS``. Executing one
deploys its template with its values; then, as in AWS, the stack's change sets are deleted.
A change set made before the stack changed another way is ``OBSOLETE`` and cannot run.
ExecuteChangeSet's ``DisableRollback`` keeps a failed deploy's resources (``CREATE_FAILED`` /
``UPDATE_FAILED``), as CreateStack's does.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from dataclasses import asdict, dataclass

from eltflow.errors import AwsApiError
from eltflow.stacks.changes import ResourceChange
from eltflow.stacks.deploy import REVIEW, Stacks
from eltflow.stacks.errors import DeployFailed
from eltflow.stacks.parameters import MASK
from eltflow.stacks.records import ParameterRecord, StackRecord
from eltflow.stacks.template import Template, load_template
from eltflow.store.db import Database
from eltflow.store.queries import service_queries
from eltflow.store.rows import from_us, to_us
from eltflow.types import JSON, JSONObject

_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]{0,127}")
NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to "
    "create a change set."
)


@dataclass(frozen=True, kw_only=True)
class ChangeSetRecord:
    change_set_id: str
    name: str
    stack_name: str
    stack_id: str
    type: str  # CREATE, UPDATE
    status: str  # CREATE_COMPLETE, FAILED
    execution_status: str  # AVAILABLE, UNAVAILABLE, OBSOLETE
    reason: str = ""
    description: str = ""
    template: str = ""
    parameters: tuple[ParameterRecord, ...] = ()
    changes: tuple[ResourceChange, ...] = ()
    created_us: int = 0
    based_on_us: int = 0  # the stack's last change when this was made (0: a new stack)


class ChangeSetStore:
    """Change sets in the state store: the store's named queries ``sql/stacks.sql`` (bound
    parameters only; JSON columns are text)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.q = service_queries("stacks", db.dialect)

    def add(self, cs: ChangeSetRecord) -> None:
        with self.db.transaction() as conn:
            taken = conn.execute(self.q["change_set_name_taken"], {"s": cs.stack_id, "n": cs.name})
            if taken:
                # Unverified wording: AWS answers AlreadyExistsException for a name in use.
                raise AwsApiError(
                    "AlreadyExistsException",
                    f"ChangeSet [{cs.name}] already exists for stack [{cs.stack_name}]",
                )
            conn.execute(
                self.q["insert_change_set"],
                {
                    "id": cs.change_set_id,
                    "n": cs.name,
                    "sn": cs.stack_name,
                    "sid": cs.stack_id,
                    "t": cs.type,
                    "st": cs.status,
                    "es": cs.execution_status,
                    "r": cs.reason,
                    "d": cs.description,
                    "tpl": cs.template,
                    "p": json.dumps([asdict(p) for p in cs.parameters]),
                    "c": json.dumps(
                        {"based_on_us": cs.based_on_us, "changes": [asdict(c) for c in cs.changes]}
                    ),
                    "cu": cs.created_us,
                },
            )

    def find(self, change_set: str, stack: str) -> ChangeSetRecord | None:
        """By change set id (ARN), or by name within the stack named (or id'd) ``stack``."""
        if change_set.startswith("arn:"):
            rows = self.db.execute(self.q["change_set_by_id"], {"id": change_set})
        else:
            rows = self.db.execute(self.q["change_set_by_name"], {"n": change_set, "s": stack})
        return _record(rows[0]) if rows else None

    def of_stack(self, stack: str) -> list[ChangeSetRecord]:
        rows = self.db.execute(self.q["change_sets_of_stack"], {"s": stack})
        return [_record(r) for r in rows]

    def delete(self, change_set_id: str) -> None:
        self.db.execute(self.q["delete_change_set"], {"id": change_set_id})

    def delete_of_stack(self, stack_id: str) -> None:
        self.db.execute(self.q["delete_change_sets_of_stack_id"], {"s": stack_id})


def _record(row: dict[str, object]) -> ChangeSetRecord:
    extra = json.loads(str(row["changes"]))
    return ChangeSetRecord(
        change_set_id=str(row["change_set_id"]),
        name=str(row["name"]),
        stack_name=str(row["stack_name"]),
        stack_id=str(row["stack_id"]),
        type=str(row["change_set_type"]),
        status=str(row["status"]),
        execution_status=str(row["execution_status"]),
        reason=str(row["status_reason"]),
        description=str(row["description"]),
        template=str(row["template"]),
        parameters=tuple(ParameterRecord(**p) for p in json.loads(str(row["parameters"]))),
        changes=tuple(ResourceChange(**c) for c in extra["changes"]),
        created_us=int(str(row["created_us"])),
        based_on_us=int(extra["based_on_us"]),
    )


def _version(stack: StackRecord | None) -> int:
    """When the stack last changed (what makes an older change set obsolete)."""
    if stack is None or stack.status == REVIEW:
        return 0
    return stack.updated_us or stack.created_us


class ChangeSets:
    """The change-set operations over :class:`~eltflow.stacks.deploy.Stacks`."""

    def __init__(self, stacks: Stacks) -> None:
        self.stacks = stacks
        self.store = ChangeSetStore(stacks.store.db)

    def create(
        self,
        *,
        stack_name: str,
        name: str,
        kind: str,
        template: Template,
        parameters: dict[str, str],
        description: str = "",
    ) -> JSONObject:
        if not _NAME.fullmatch(name):
            raise AwsApiError(
                "ValidationError",
                f"1 validation error detected: Value '{name}' at 'changeSetName' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "[a-zA-Z][-a-zA-Z0-9]*",
            )
        existing = self.stacks.store.get(stack_name)
        if kind == "CREATE":
            if existing is not None and existing.status != REVIEW:
                raise AwsApiError(
                    "ValidationError",
                    f"Stack [{stack_name}] already exists and cannot be created again with "
                    f"the changeSet [{name}].",
                )
        elif kind == "UPDATE":
            if existing is None or existing.status == REVIEW:
                raise AwsApiError("ValidationError", f"Stack [{stack_name}] does not exist")
        else:
            raise AwsApiError(
                "ValidationError", f"ChangeSetType {kind} is not supported locally (CREATE, UPDATE)"
            )
        stack_id = existing.stack_id if existing is not None else ""
        stack_id = stack_id or self.stacks.new_stack_id(stack_name)
        # Template and parameter errors are the call's (ValidationError), before anything
        # is recorded.
        plan, changes = self.stacks.plan(stack_name, template, parameters, stack_id=stack_id)
        values = tuple(
            ParameterRecord(key=p.key, value=p.text, no_echo=p.no_echo)
            for p in plan.parameters.values()
        )
        status, execution, reason = "CREATE_COMPLETE", "AVAILABLE", ""
        if (
            kind == "UPDATE"
            and existing is not None
            and not changes
            and existing.template == template.body
            and existing.parameters == values
        ):
            status, execution, reason = "FAILED", "UNAVAILABLE", NO_CHANGES
        if existing is None:
            self.stacks.start_review(stack_name, stack_id, template)
        record = ChangeSetRecord(
            change_set_id=f"arn:aws:cloudformation:{self.stacks.services.region}:"
            f"{self.stacks.services.account}:changeSet/{name}/{uuid.uuid4()}",
            name=name,
            stack_name=stack_name,
            stack_id=stack_id,
            type=kind,
            status=status,
            execution_status=execution,
            reason=reason,
            description=description,
            template=template.body,
            parameters=values,
            changes=tuple(changes),
            created_us=to_us(self.stacks.clock.now()),
            based_on_us=_version(existing),
        )
        self.store.add(record)
        return {"Id": record.change_set_id, "StackId": stack_id}

    def get(self, change_set: str, stack: str) -> ChangeSetRecord:
        found = self.store.find(change_set, stack)
        if found is None:
            raise AwsApiError("ChangeSetNotFound", f"ChangeSet [{change_set}] does not exist")
        return found

    def describe(self, change_set: str, stack: str) -> JSONObject:
        cs = self.get(change_set, stack)
        out = _summary(cs)
        out["Parameters"] = [
            {"ParameterKey": p.key, "ParameterValue": MASK if p.no_echo else p.value}
            for p in cs.parameters
        ]
        out["Changes"] = [_change(c) for c in cs.changes]
        out["NotificationARNs"] = []
        out["Capabilities"] = []
        out["Tags"] = []
        out["RollbackConfiguration"] = {}
        return out

    def execute(self, change_set: str, stack: str, *, disable_rollback: bool = False) -> JSONObject:
        cs = self.get(change_set, stack)
        current = self.stacks.store.get(cs.stack_name)
        execution = cs.execution_status
        if execution == "AVAILABLE" and (
            current is None
            or current.stack_id != cs.stack_id
            or _version(current) != cs.based_on_us
        ):
            execution = "OBSOLETE"
        if execution != "AVAILABLE":
            raise AwsApiError(
                "InvalidChangeSetStatus",
                f"ChangeSet [{cs.change_set_id}] cannot be executed in its current status of "
                f"[{cs.status if cs.status == 'FAILED' else execution}]",
            )
        values = {p.key: p.value for p in cs.parameters}
        # A failed deploy shows in the stack's status (ROLLBACK_COMPLETE...), as in AWS.
        with contextlib.suppress(DeployFailed):
            self.stacks.deploy(
                cs.stack_name,
                load_template(cs.template),
                values,
                from_review=cs.type == "CREATE",
                disable_rollback=disable_rollback,
            )
        self.store.delete_of_stack(cs.stack_id)
        return {}

    def delete(self, change_set: str, stack: str) -> JSONObject:
        self.store.delete(self.get(change_set, stack).change_set_id)
        return {}

    def list(self, stack: str) -> JSONObject:
        summaries: list[JSON] = [_summary(cs) for cs in self.store.of_stack(stack)]
        return {"Summaries": summaries}


def _summary(cs: ChangeSetRecord) -> JSONObject:
    out: JSONObject = {
        "ChangeSetName": cs.name,
        "ChangeSetId": cs.change_set_id,
        "StackId": cs.stack_id,
        "StackName": cs.stack_name,
        "CreationTime": from_us(cs.created_us).isoformat(),
        "ExecutionStatus": cs.execution_status,
        "Status": cs.status,
        "IncludeNestedStacks": False,
    }
    if cs.reason:
        out["StatusReason"] = cs.reason
    if cs.description:
        out["Description"] = cs.description
    return out


def _change(c: ResourceChange) -> JSON:
    change: JSONObject = {
        "Action": c.action,
        "LogicalResourceId": c.logical_id,
        "ResourceType": c.type,
        "Scope": [],
        "Details": [],
    }
    if c.physical_id:
        change["PhysicalResourceId"] = c.physical_id
    if c.replacement:
        change["Replacement"] = c.replacement
    return {"Type": "Resource", "ResourceChange": change}
