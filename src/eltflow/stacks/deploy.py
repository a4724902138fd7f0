"""Create, update and delete stacks: the plan (pure) first, then each resource in dependency
order through its provider, the outputs, and the record in the store.

Create: a failure deletes what this deploy made, in reverse order, and leaves the stack in
``ROLLBACK_COMPLETE`` with the failing resource's reason (delete it before deploying again, as
in AWS). Update (a second deploy of the same name): unchanged resources are kept as they are
(a table keeps its items), changed ones are updated in place or replaced when a property that
requires replacement changed, resources no longer in the template are deleted last; a failure
reverts what this update did and leaves ``UPDATE_ROLLBACK_COMPLETE`` with the previous template.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from eltflow.clock import Clock
from eltflow.errors import AwsApiError
from eltflow.stacks.changes import ResourceChange, change_set
from eltflow.stacks.errors import DeployFailed, TemplateError
from eltflow.stacks.intrinsics import Created, Pseudo, resolve
from eltflow.stacks.plan import Plan, plan_stack
from eltflow.stacks.records import (
    EventRecord,
    OutputRecord,
    ParameterRecord,
    ResourceRecord,
    StackRecord,
    StackStore,
    json_text,
)
from eltflow.stacks.resources import is_supported, provider_for
from eltflow.stacks.resources.base import Outcome, Request, Services
from eltflow.stacks.sam import expand
from eltflow.stacks.template import Template, load_template
from eltflow.store.rows import to_us

# CREATE_FAILED / UPDATE_FAILED: stacks whose failure was kept (DisableRollback); an update
# resumes from there, as AWS's "preserve successfully provisioned resources" allows.
UPDATABLE = (
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "CREATE_FAILED",
    "UPDATE_FAILED",
)
# A stack a CREATE change set made: a name and id, no resources, until the change set runs.
REVIEW = "REVIEW_IN_PROGRESS"
_STACK = "AWS::CloudFormation::Stack"
_STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]{0,127}")


@dataclass(frozen=True, kw_only=True)
class Change:
    """One resource change, in ``aws cloudformation deploy``'s change-set words."""

    action: str  # Add, Modify, Replace, Remove
    logical_id: str
    type: str
    physical_id: str


@dataclass(frozen=True, kw_only=True)
class DeployResult:
    stack: StackRecord
    changes: tuple[Change, ...] = ()
    warnings: tuple[str, ...] = ()
    created: bool = False  # a new stack (not an update)
    unchanged: bool = False  # an update with nothing to do ("No updates are to be performed.")


class _Recording(Mapping[str, str]):
    """The exports of other stacks, remembering which ones the template imported."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)
        self.used: set[str] = set()

    def __getitem__(self, key: str) -> str:
        value = self._values[key]
        self.used.add(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


@dataclass
class _Run:
    """What one deploy has done so far (for the record, and to undo it)."""

    records: dict[str, ResourceRecord] = field(default_factory=dict)
    done: list[tuple[str, str, ResourceRecord | None]] = field(default_factory=list)
    # (action, logical id, the record it replaced or modified)
    cleanup: list[ResourceRecord] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    created: dict[str, Created] = field(default_factory=dict)
    template_dir: str = ""
    # The stack's *_IN_PROGRESS event, written with the first change (an update with nothing
    # to do leaves no events, as AWS refuses it).
    pending: EventRecord | None = None


class Stacks:
    """The stack operations over a store and the local services."""

    def __init__(self, store: StackStore, services: Services, clock: Clock) -> None:
        self.store = store
        self.services = services
        self.clock = clock

    # -- deploy ----------------------------------------------------------------------------
    def deploy(
        self,
        name: str,
        template: Template,
        parameters: Mapping[str, str] | None = None,
        *,
        from_review: bool = False,
        disable_rollback: bool = False,
        skip_unsupported: bool = False,
    ) -> DeployResult:
        """Create or update stack ``name``. ``from_review``: a CREATE change set runs, so a
        stack in ``REVIEW_IN_PROGRESS`` is created (under its id) instead of refused.
        ``disable_rollback`` (CreateStack's DisableRollback / OnFailure=DO_NOTHING): a failure
        keeps what was made and leaves ``CREATE_FAILED`` / ``UPDATE_FAILED``.
        ``skip_unsupported``: a resource type eltflow cannot create is recorded with a warning
        instead of stopping the deploy before anything is made."""
        check_stack_name(name)
        old = self.store.get(name)
        review: StackRecord | None = None
        if old is not None and old.status == REVIEW and from_review:
            review, old = old, None
        if old is not None and old.status not in UPDATABLE:
            raise AwsApiError(
                "ValidationError",
                f"Stack:{old.stack_id} is in {old.status} state and can not be updated.",
            )
        stack_id = (
            old.stack_id
            if old is not None
            else review.stack_id
            if review is not None
            else self.new_stack_id(name)
        )
        exports = _Recording(self.store.exports(excluding=name))
        template = self._expand(template, parameters)
        plan = plan_stack(
            template,
            parameters or {},
            pseudo=Pseudo(
                stack_name=name,
                stack_id=stack_id,
                region=self.services.region,
                account=self.services.account,
            ),
            exports=exports,
            previous=old.parameter_values() if old is not None else None,
        )
        unsupported = [
            f"{logical} ({plan.resources[logical]['Type']})"
            for logical in plan.order
            if not is_supported(str(plan.resources[logical]["Type"]))
        ]
        if unsupported and not skip_unsupported:
            raise AwsApiError(
                "ValidationError",
                "eltflow cannot create these resources locally: "
                f"[{', '.join(unsupported)}]; deploy with --skip-unsupported to record them "
                "and continue",
            )
        now_us = to_us(self.clock.now())
        params = tuple(
            ParameterRecord(key=p.key, value=p.text, no_echo=p.no_echo)
            for p in plan.parameters.values()
        )
        if old is None:
            stack = StackRecord(
                name=name,
                stack_id=stack_id,
                status="CREATE_IN_PROGRESS",
                reason="User Initiated",
                description=template.description or "",
                template=template.body,
                parameters=params,
                created_us=now_us,
            )
        else:
            stack = replace(old, status="UPDATE_IN_PROGRESS", reason="User Initiated")
        expected = old.status if old is not None else (REVIEW if review is not None else None)
        if not self.store.claim(stack, expected):
            now = self.store.get(name)
            status = now.status if now is not None else "DELETE_COMPLETE"
            raise AwsApiError(
                "ValidationError",
                f"Stack:{stack_id} is in {status} state and can not be updated.",
            )
        # A skipped type's warning comes from its (recorded) provider, per resource.
        run = _Run(template_dir=template.source_dir, warnings=list(plan.warnings))
        run.pending = self._record(
            stack, stack.name, stack.stack_id, _STACK, stack.status, "User Initiated"
        )
        failed, failed_type = "", ""
        try:
            for logical in plan.order:
                failed, failed_type = logical, str(plan.resources[logical]["Type"])
                self._apply(stack, old, plan, logical, run)
                self.store.save(replace(stack, resources=self._ordered(old, run)))
            failed, failed_type = "Outputs", ""
            outputs = self._outputs(template, plan, run)
            self._check_exports_in_use(name, old, outputs)
        except Exception as e:  # any failure rolls back; the reason is kept on the stack
            reason = e.message if isinstance(e, AwsApiError) else f"{type(e).__name__}: {e}"
            if failed != "Outputs":
                status = (
                    "CREATE_FAILED"
                    if old is None or old.resource(failed) is None
                    else ("UPDATE_FAILED")
                )
                self._event(run, stack, failed, "", failed_type, status, reason)
            if disable_rollback:
                self._keep_failed(stack, old, plan, run, (failed, failed_type), reason)
            self._roll_back(stack, old, run, (failed, failed_type), reason)
            raise AssertionError("unreachable") from e  # both raise DeployFailed
        if old is not None:
            run.changes += [
                Change(
                    action="Remove", logical_id=r.logical_id, type=r.type, physical_id=r.physical_id
                )
                for r in _removed(old, plan)
            ]
        if (
            old is not None
            and old.status not in ("CREATE_FAILED", "UPDATE_FAILED")  # a resume always completes
            and not run.changes
            and old.outputs == outputs
            and old.parameters == params
        ):
            self.store.save(old)
            return DeployResult(stack=old, warnings=tuple(run.warnings), unchanged=True)
        self._clean_up(stack, old, plan, run)
        final_status = "CREATE_COMPLETE" if old is None else "UPDATE_COMPLETE"
        self._event(run, stack, stack.name, stack.stack_id, _STACK, final_status)
        final = replace(
            stack,
            status=final_status,
            reason="",
            description=template.description or "",
            template=template.body,
            parameters=params,
            outputs=outputs,
            imports=tuple(sorted(exports.used)),
            updated_us=None if old is None else to_us(self.clock.now()),
            resources=tuple(run.records[logical] for logical in plan.order),
        )
        self.store.save(final)
        return DeployResult(
            stack=final,
            changes=tuple(run.changes),
            warnings=tuple(run.warnings),
            created=old is None,
        )

    def _record(
        self,
        stack: StackRecord,
        logical: str,
        physical: str,
        type_: str,
        status: str,
        reason: str = "",
    ) -> EventRecord:
        return EventRecord(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            event_id=str(uuid.uuid4()),
            logical_id=logical,
            physical_id=physical,
            type=type_,
            status=status,
            reason=reason,
            timestamp_us=to_us(self.clock.now()),
        )

    def _event(
        self,
        run: _Run,
        stack: StackRecord,
        logical: str,
        physical: str,
        type_: str,
        status: str,
        reason: str = "",
    ) -> None:
        """Record one stack event (the run's pending stack event first)."""
        if run.pending is not None:
            self.store.add_event(run.pending)
            run.pending = None
        self.store.add_event(self._record(stack, logical, physical, type_, status, reason))

    def _ordered(self, old: StackRecord | None, run: _Run) -> tuple[ResourceRecord, ...]:
        """Resources for a progress save: this run's, then the previous ones not yet touched."""
        seen = dict(run.records)
        for r in old.resources if old is not None else ():
            seen.setdefault(r.logical_id, r)
        for r in run.cleanup:
            seen.setdefault(f"{r.logical_id}", r)
        return tuple(sorted(seen.values(), key=lambda r: r.position))

    def _apply(
        self,
        stack: StackRecord,
        old: StackRecord | None,
        plan: Plan,
        logical: str,
        run: _Run,
    ) -> None:
        body = plan.resources[logical]
        type_ = str(body["Type"])
        provider = provider_for(type_)
        scope = replace(plan.scope, resources=run.created)
        path = f"Resources.{logical}.Properties"
        props = resolve(body.get("Properties") or {}, scope, path)
        if not isinstance(props, dict):
            raise TemplateError("Template format error: Properties must be an object", path)
        prev = old.resource(logical) if old is not None else None
        if prev is not None and prev.status in ("CREATE_FAILED", "DELETE_COMPLETE"):
            prev = None
        metadata = body.get("Metadata")
        request = Request(
            stack_name=stack.name,
            stack_id=stack.stack_id,
            logical_id=logical,
            type=type_,
            properties=props,
            physical_id=prev.physical_id if prev is not None else "",
            old_properties=prev.properties if prev is not None else {},
            metadata=metadata if isinstance(metadata, dict) else {},
            template_dir=run.template_dir,
        )
        position = plan.order.index(logical)
        if prev is None:
            self._event(run, stack, logical, "", type_, "CREATE_IN_PROGRESS")
            outcome = provider.create(self.services, request)
            action, status = "Add", "CREATE_COMPLETE"
        elif prev.type == type_ and props == prev.properties:
            outcome = Outcome(physical_id=prev.physical_id, attributes=prev.attributes)
            action, status = "", prev.status
        elif prev.type != type_ or any(
            props.get(k) != prev.properties.get(k) for k in provider.replace_on
        ):
            custom = provider.name_property and props.get(provider.name_property)
            if custom and custom == prev.properties.get(provider.name_property):
                raise AwsApiError(
                    "ValidationError",
                    "CloudFormation cannot update a stack when a custom-named resource requires "
                    f"replacing. Rename {custom} and update the stack again.",
                )
            self._event(
                run,
                stack,
                logical,
                prev.physical_id,
                type_,
                "UPDATE_IN_PROGRESS",
                "Requested update requires the creation of a new physical resource; hence "
                "creating one.",
            )
            outcome = provider.create(self.services, replace(request, replaces=prev.physical_id))
            action, status = "Replace", "UPDATE_COMPLETE"
        else:
            self._event(run, stack, logical, prev.physical_id, type_, "UPDATE_IN_PROGRESS")
            outcome = provider.update(self.services, request)
            # A custom resource that answers with a new physical id was replaced.
            replaced = outcome.physical_id != prev.physical_id
            action, status = ("Replace" if replaced else "Modify"), "UPDATE_COMPLETE"
        record = ResourceRecord(
            logical_id=logical,
            type=type_,
            physical_id=outcome.physical_id,
            status=status,
            properties=props,
            attributes=outcome.attributes,
            position=position,
            updated_us=to_us(self.clock.now()) if action else (prev.updated_us if prev else 0),
        )
        run.records[logical] = record
        if action:
            self._event(run, stack, logical, record.physical_id, type_, status)
        run.created[logical] = Created(
            ref=outcome.physical_id, attributes=outcome.attributes, type=type_
        )
        run.warnings += [f"{logical} ({type_}): {w}" for w in outcome.warnings]
        if action:
            run.done.append((action, logical, prev))
            run.changes.append(
                Change(
                    action=action, logical_id=logical, type=type_, physical_id=record.physical_id
                )
            )
        if action == "Replace" and prev is not None:
            run.cleanup.append(prev)

    def _outputs(self, template: Template, plan: Plan, run: _Run) -> tuple[OutputRecord, ...]:
        scope = replace(plan.scope, resources=run.created)
        out: list[OutputRecord] = []
        for key, raw in template.section("Outputs").items():
            assert isinstance(raw, dict)
            condition = raw.get("Condition")
            if isinstance(condition, str) and not plan.scope.conditions[condition]:
                continue
            path = f"Outputs.{key}"
            value = resolve(raw.get("Value"), scope, f"{path}.Value")
            export = raw.get("Export")
            export_name = ""
            if isinstance(export, dict):
                resolved = resolve(export.get("Name"), scope, f"{path}.Export.Name")
                if not isinstance(resolved, str) or not resolved:
                    raise TemplateError("Export Name must resolve to a string", f"{path}.Export")
                export_name = resolved
            description = raw.get("Description")
            out.append(
                OutputRecord(
                    key=key,
                    value=json_text(value),
                    description=description if isinstance(description, str) else "",
                    export_name=export_name,
                )
            )
        return tuple(out)

    def _check_exports_in_use(
        self, name: str, old: StackRecord | None, outputs: tuple[OutputRecord, ...]
    ) -> None:
        others = self.store.exports(excluding=name)
        for o in outputs:
            if o.export_name in others:
                owner = self.store.exporter(o.export_name)
                raise AwsApiError(
                    "ValidationError",
                    f"Export with name {o.export_name} is already exported by stack {owner}",
                )
        if old is None:
            return
        new = {o.export_name: o.value for o in outputs if o.export_name}
        touched = [
            o.export_name
            for o in old.outputs
            if o.export_name and new.get(o.export_name) != o.value
        ]
        for export, importer in self.store.importers(touched, excluding=name).items():
            raise AwsApiError(
                "ValidationError",
                f"Cannot update export {export} as it is in use by {importer}",
            )

    def _clean_up(self, stack: StackRecord, old: StackRecord | None, plan: Plan, run: _Run) -> None:
        """After a successful update: delete replaced resources and those the template (or its
        conditions) dropped, in reverse creation order. A failure here is a warning, as in
        CloudFormation's UPDATE_COMPLETE_CLEANUP_IN_PROGRESS."""
        if old is None:
            return
        previous = load_template(old.template).resources
        removed = _removed(old, plan)
        doomed = sorted(removed + run.cleanup, key=lambda r: -r.position)
        if doomed:
            self._event(
                run,
                stack,
                stack.name,
                stack.stack_id,
                _STACK,
                "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            )
        for r in doomed:
            body = previous.get(r.logical_id)
            policy_key = "UpdateReplacePolicy" if r in run.cleanup else "DeletionPolicy"
            if isinstance(body, dict) and body.get(policy_key) == "Retain":
                run.warnings.append(f"{r.logical_id}: {policy_key} Retain: {r.physical_id} kept")
                self._event(run, stack, r.logical_id, r.physical_id, r.type, "DELETE_SKIPPED")
                continue
            self._event(run, stack, r.logical_id, r.physical_id, r.type, "DELETE_IN_PROGRESS")
            try:
                self._delete_resource(stack, r)
            except Exception as e:
                run.warnings.append(f"{r.logical_id}: could not delete {r.physical_id}: {e}")
                self._event(
                    run, stack, r.logical_id, r.physical_id, r.type, "DELETE_FAILED", str(e)
                )
            else:
                self._event(run, stack, r.logical_id, r.physical_id, r.type, "DELETE_COMPLETE")

    def _delete_resource(self, stack: StackRecord, r: ResourceRecord) -> None:
        provider_for(r.type).delete(
            self.services,
            _request(stack, r),
        )

    def _keep_failed(
        self,
        stack: StackRecord,
        old: StackRecord | None,
        plan: Plan,
        run: _Run,
        failing: tuple[str, str],
        reason: str,
    ) -> None:
        """DisableRollback: what this deploy made stays as it is (``CREATE_COMPLETE``...), the
        failing resource is ``CREATE_FAILED`` (``UPDATE_FAILED`` when it existed), and the stack
        ``CREATE_FAILED`` / ``UPDATE_FAILED`` until the next update resumes it or a delete
        removes what was kept. Unverified against AWS: an update's other changes are kept
        too (AWS rolls back only the failed resource to its last stable state)."""
        failed, failed_type = failing
        kind = "create" if old is None else "update"
        summary = f"The following resource(s) failed to {kind}: [{failed}]. "
        records = {r.logical_id: r for r in self._ordered(old, run)}
        if failed != "Outputs":
            before = old.resource(failed) if old is not None else None
            existed = before is not None and before.status not in ("CREATE_FAILED",)
            records[failed] = ResourceRecord(
                logical_id=failed,
                type=failed_type,
                physical_id=before.physical_id if before is not None and existed else "",
                status="UPDATE_FAILED" if existed else "CREATE_FAILED",
                reason=reason,
                properties=before.properties if before is not None and existed else {},
                attributes=before.attributes if before is not None and existed else {},
                position=plan.order.index(failed) if failed in plan.order else len(records),
                updated_us=to_us(self.clock.now()),
            )
        status = "CREATE_FAILED" if old is None else "UPDATE_FAILED"
        self.store.save(
            replace(
                stack,
                status=status,
                reason=summary,
                resources=tuple(sorted(records.values(), key=lambda r: r.position)),
            )
        )
        self._event(run, stack, stack.name, stack.stack_id, _STACK, status, summary)
        raise DeployFailed(stack.name, status, f"{failed}: {reason} (rollback disabled)")

    def _roll_back(
        self,
        stack: StackRecord,
        old: StackRecord | None,
        run: _Run,
        failing: tuple[str, str],
        reason: str,
    ) -> None:
        failed, failed_type = failing
        problems: list[str] = []
        kind = "create" if old is None else "update"
        summary = f"The following resource(s) failed to {kind}: [{failed}]."
        rolling = "ROLLBACK_IN_PROGRESS" if old is None else "UPDATE_ROLLBACK_IN_PROGRESS"
        self._event(run, stack, stack.name, stack.stack_id, _STACK, rolling, summary)
        for action, logical, prev in reversed(run.done):
            record = run.records[logical]
            try:
                if action in ("Add", "Replace"):
                    self._event(
                        run, stack, logical, record.physical_id, record.type, "DELETE_IN_PROGRESS"
                    )
                    self._delete_resource(stack, record)
                    run.records[logical] = replace(record, status="DELETE_COMPLETE")
                    self._event(
                        run, stack, logical, record.physical_id, record.type, "DELETE_COMPLETE"
                    )
                elif action == "Modify" and prev is not None:
                    provider_for(prev.type).update(
                        self.services,
                        replace(_request(stack, prev), old_properties=record.properties),
                    )
            except Exception as e:
                problems.append(f"{logical}: {e}")
                run.records[logical] = replace(record, status="DELETE_FAILED", reason=str(e))
                self._event(
                    run, stack, logical, record.physical_id, record.type, "DELETE_FAILED", str(e)
                )
        if old is None:
            failed_record = ResourceRecord(
                logical_id=failed,
                type=failed_type,
                physical_id="",
                status="CREATE_FAILED",
                reason=reason,
                position=len(run.records),
                updated_us=to_us(self.clock.now()),
            )
            records = dict(run.records)
            if failed != "Outputs":
                records[failed] = failed_record
            status = "ROLLBACK_FAILED" if problems else "ROLLBACK_COMPLETE"
            final = replace(
                stack,
                status=status,
                reason=f"{summary} Rollback requested by user.",
                resources=tuple(sorted(records.values(), key=lambda r: r.position)),
            )
        else:
            status = "UPDATE_ROLLBACK_FAILED" if problems else "UPDATE_ROLLBACK_COMPLETE"
            final = replace(old, status=status, reason=f"{summary} {reason}")
        self.store.save(final)
        self._event(run, stack, stack.name, stack.stack_id, _STACK, status)
        detail = f"{failed}: {reason}" + (
            f" (rollback problems: {'; '.join(problems)})" if problems else ""
        )
        raise DeployFailed(stack.name, status, detail)

    def _expand(self, template: Template, parameters: Mapping[str, str] | None) -> Template:
        """The template with its SAM transform applied (see :mod:`eltflow.stacks.sam`)."""
        return expand(
            template,
            region=self.services.region,
            account=self.services.account,
            parameters=parameters or {},
        )

    def new_stack_id(self, name: str) -> str:
        return (
            f"arn:aws:cloudformation:{self.services.region}:{self.services.account}:"
            f"stack/{name}/{uuid.uuid4()}"
        )

    def plan(
        self,
        name: str,
        template: Template,
        parameters: Mapping[str, str] | None = None,
        *,
        stack_id: str = "",
    ) -> tuple[Plan, list[ResourceChange]]:
        """What deploying ``template`` as ``name`` would do: the plan (parameter values...)
        and the change set. Nothing is changed; a stack under review counts as none."""
        old = self.store.get(name)
        if old is not None and old.status == REVIEW:
            stack_id, old = stack_id or old.stack_id, None
        template = self._expand(template, parameters)
        plan = plan_stack(
            template,
            parameters or {},
            pseudo=Pseudo(
                stack_name=name,
                stack_id=old.stack_id
                if old is not None
                else stack_id
                or f"arn:aws:cloudformation:"
                f"{self.services.region}:{self.services.account}:stack/{name}/(new)",
                region=self.services.region,
                account=self.services.account,
            ),
            exports=self.store.exports(excluding=name),
            previous=old.parameter_values() if old is not None else None,
        )
        return plan, change_set(plan, old)

    def preview(
        self, name: str, template: Template, parameters: Mapping[str, str] | None = None
    ) -> list[ResourceChange]:
        """The change set of deploying ``template`` as ``name`` (nothing is changed)."""
        return self.plan(name, template, parameters)[1]

    def start_review(self, name: str, stack_id: str, template: Template) -> StackRecord:
        """Record stack ``name`` as ``REVIEW_IN_PROGRESS`` (a CREATE change set's stack: no
        resources until the change set is executed)."""
        check_stack_name(name)
        stack = StackRecord(
            name=name,
            stack_id=stack_id,
            status=REVIEW,
            reason="User Initiated",
            description=template.description or "",
            template=template.body,
            created_us=to_us(self.clock.now()),
        )
        if not self.store.claim(stack, None):
            raise AwsApiError(
                "ValidationError", f"Stack {name} is being changed by another operation; retry"
            )
        self.store.add_event(self._record(stack, name, stack_id, _STACK, REVIEW, "User Initiated"))
        return stack

    # -- delete ----------------------------------------------------------------------------
    def delete(self, name: str) -> bool:
        """Delete the stack's resources (reverse order) and its record. A stack that does not
        exist is not an error (DeleteStack is idempotent); returns whether one existed."""
        stack = self.store.get(name)
        if stack is None:
            return False
        exported = [o.export_name for o in stack.outputs if o.export_name]
        for export, importer in self.store.importers(exported, excluding=name).items():
            raise AwsApiError(
                "ValidationError",
                f"Export {export} cannot be deleted as it is in use by {importer}",
            )
        # Any state, IN_PROGRESS included: deleting is how a stack left half-done by a crashed
        # deploy is cleaned up (unlike AWS, which would still be working on it).
        if not self.store.claim(
            replace(stack, status="DELETE_IN_PROGRESS", reason="User Initiated"), stack.status
        ):
            raise AwsApiError(
                "ValidationError", f"Stack {name} is being changed by another operation; retry"
            )
        policies: dict[str, Any] = {}
        with contextlib.suppress(TemplateError):  # a template that no longer loads: delete all
            policies = dict(load_template(stack.template).resources)
        problems: list[str] = []
        remaining: list[ResourceRecord] = []
        run = _Run()
        self._event(
            run, stack, name, stack.stack_id, _STACK, "DELETE_IN_PROGRESS", "User Initiated"
        )
        for r in sorted(stack.resources, key=lambda r: -r.position):
            if r.status in ("CREATE_FAILED", "DELETE_COMPLETE") or not r.physical_id:
                continue
            body = policies.get(r.logical_id)
            if isinstance(body, dict) and body.get("DeletionPolicy") == "Retain":
                self._event(run, stack, r.logical_id, r.physical_id, r.type, "DELETE_SKIPPED")
                continue
            self._event(run, stack, r.logical_id, r.physical_id, r.type, "DELETE_IN_PROGRESS")
            try:
                self._delete_resource(stack, r)
            except Exception as e:
                problems.append(f"{r.logical_id}: {e}")
                remaining.append(replace(r, status="DELETE_FAILED", reason=str(e)))
                self._event(
                    run, stack, r.logical_id, r.physical_id, r.type, "DELETE_FAILED", str(e)
                )
            else:
                self._event(run, stack, r.logical_id, r.physical_id, r.type, "DELETE_COMPLETE")
        if problems:
            names = ", ".join(r.logical_id for r in remaining)
            reason = f"The following resource(s) failed to delete: [{names}]."
            self.store.save(
                replace(stack, status="DELETE_FAILED", reason=reason, resources=tuple(remaining))
            )
            self._event(run, stack, name, stack.stack_id, _STACK, "DELETE_FAILED", reason)
            raise DeployFailed(name, "DELETE_FAILED", "; ".join(problems))
        self._event(run, stack, name, stack.stack_id, _STACK, "DELETE_COMPLETE")
        self.store.delete(name)
        return True


def check_stack_name(name: str) -> None:
    if not _STACK_NAME.fullmatch(name):
        raise AwsApiError(
            "ValidationError",
            f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "[a-zA-Z][-a-zA-Z0-9]*",
        )


def _request(stack: StackRecord, r: ResourceRecord) -> Request:
    """A provider request for a recorded resource (to delete it, or to put it back)."""
    return Request(
        stack_name=stack.name,
        stack_id=stack.stack_id,
        logical_id=r.logical_id,
        type=r.type,
        properties=r.properties,
        physical_id=r.physical_id,
    )


def _removed(old: StackRecord, plan: Plan) -> list[ResourceRecord]:
    """The previous resources the template (or its conditions) no longer has."""
    return [
        r
        for r in old.resources
        if r.logical_id not in plan.resources
        and r.status not in ("CREATE_FAILED", "DELETE_COMPLETE")
    ]
