"""The CloudFormation API over local stacks: AWS request dicts in, AWS response dicts out
(``CreateStack``, ``UpdateStack``, ``DeleteStack``, ``DescribeStacks``, ``ListStacks``,
``DescribeStackResources``, ``ListStackResources``, ``DescribeStackEvents``, ``GetTemplate``,
``GetTemplateSummary``, ``ValidateTemplate``, ``ListExports``, and the change sets of
:mod:`eltflow.stacks.changesets`), for a wire protocol to serve unchanged.

As in AWS, CreateStack and UpdateStack reject a bad template or bad parameters at once
(``ValidationError``) and otherwise return the StackId; a failure while resources are made
shows in the stack's status (``ROLLBACK_COMPLETE``...), not as an error of the call. Here the
work is done before the call returns, so the first DescribeStacks already sees the outcome.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from eltflow.errors import AwsApiError
from eltflow.stacks.changesets import ChangeSets
from eltflow.stacks.deploy import Stacks
from eltflow.stacks.describe import (
    describe_stack,
    stack_events,
    stack_resources,
    stack_summary,
)
from eltflow.stacks.errors import DeployFailed, stack_missing
from eltflow.stacks.records import StackRecord
from eltflow.stacks.template import Template, load_template
from eltflow.types import JSON, JSONObject

Request = dict[str, Any]


def _on_failure(request: Request, *, creating: bool) -> str:
    """What a failed deploy does: ``ROLLBACK`` (default), ``DO_NOTHING`` (DisableRollback:
    keep what was made) or, on create only, ``DELETE``."""
    disable = request.get("DisableRollback")
    on_failure = request.get("OnFailure")
    if disable is not None and on_failure is not None:
        raise AwsApiError(
            "ValidationError", "You can specify either DisableRollback or OnFailure, but not both."
        )
    if on_failure is not None:
        if not creating:
            raise AwsApiError("ValidationError", "OnFailure is a CreateStack parameter")
        if on_failure not in ("DO_NOTHING", "ROLLBACK", "DELETE"):
            raise AwsApiError(
                "ValidationError",
                f"1 validation error detected: Value '{on_failure}' at 'onFailure' failed to "
                "satisfy constraint: Member must satisfy enum value set: "
                "[DO_NOTHING, ROLLBACK, DELETE]",
            )
        return str(on_failure)
    return "DO_NOTHING" if disable in (True, "true") else "ROLLBACK"


def _parameters(request: Request, previous: StackRecord | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in request.get("Parameters") or []:
        key = item.get("ParameterKey")
        if not isinstance(key, str):
            raise AwsApiError("ValidationError", "Parameters: every item needs a ParameterKey")
        if item.get("UsePreviousValue"):
            if previous is None or key not in previous.parameter_values():
                raise AwsApiError(
                    "ValidationError",
                    f"Invalid input for parameter key {key}. Cannot specify "
                    "usePreviousValue as true for a parameter key not in the previous template",
                )
            out[key] = previous.parameter_values()[key]
        else:
            out[key] = str(item.get("ParameterValue", ""))
    return out


def _declared_parameters(template: Template, *, summary: bool) -> list[JSON]:
    """The template's parameters as ValidateTemplate (and, with ``summary``,
    GetTemplateSummary: type and allowed values too) list them."""
    out: list[JSON] = []
    for key, spec in template.section("Parameters").items():
        spec = spec if isinstance(spec, dict) else {}
        no_echo = str(spec.get("NoEcho", False)).lower() == "true"
        item: JSONObject = {"ParameterKey": key, "NoEcho": no_echo}
        if "Default" in spec:
            item["DefaultValue"] = str(spec["Default"])
        if isinstance(spec.get("Description"), str):
            item["Description"] = spec["Description"]
        if summary:
            item["ParameterType"] = str(spec.get("Type", "String"))
            allowed = spec.get("AllowedValues")
            if isinstance(allowed, list):
                item["ParameterConstraints"] = {"AllowedValues": [str(a) for a in allowed]}
        out.append(item)
    return out


class CloudFormationService:
    def __init__(self, stacks: Stacks) -> None:
        self.stacks = stacks
        self.change_sets = ChangeSets(stacks)

    def call(self, operation: str, request: Request) -> JSONObject:
        name = operation[:1].upper() + operation[1:]
        handler: Callable[[CloudFormationService, Request], JSONObject] | None = {
            "CreateStack": CloudFormationService.create_stack,
            "UpdateStack": CloudFormationService.update_stack,
            "DeleteStack": CloudFormationService.delete_stack,
            "DescribeStacks": CloudFormationService.describe_stacks,
            "ListStacks": CloudFormationService.list_stacks,
            "DescribeStackResources": CloudFormationService.describe_stack_resources,
            "ListStackResources": CloudFormationService.list_stack_resources,
            "GetTemplate": CloudFormationService.get_template,
            "ValidateTemplate": CloudFormationService.validate_template,
            "ListExports": CloudFormationService.list_exports,
            "DescribeStackEvents": CloudFormationService.describe_stack_events,
            "GetTemplateSummary": CloudFormationService.get_template_summary,
            "CreateChangeSet": CloudFormationService.create_change_set,
            "DescribeChangeSet": CloudFormationService.describe_change_set,
            "ExecuteChangeSet": CloudFormationService.execute_change_set,
            "DeleteChangeSet": CloudFormationService.delete_change_set,
            "ListChangeSets": CloudFormationService.list_change_sets,
        }.get(name)
        if handler is None:
            raise AwsApiError("InvalidAction", f"Unsupported CloudFormation operation: {operation}")
        return handler(self, dict(request or {}))

    def _name(self, request: Request) -> str:
        name = request.get("StackName")
        if not isinstance(name, str) or not name:
            raise AwsApiError("ValidationError", "StackName is required")
        # A stack id (ARN) names the stack too.
        return name.split("/")[1] if name.startswith("arn:") and "/" in name else name

    def _get(self, request: Request) -> StackRecord:
        name = self._name(request)
        stack = self.stacks.store.get(name)
        if stack is None:
            raise stack_missing(name)
        return stack

    def _template_text(self, request: Request, previous: StackRecord | None) -> str:
        if request.get("UsePreviousTemplate"):
            if previous is None:
                raise AwsApiError("ValidationError", "UsePreviousTemplate needs an existing stack")
            return previous.template
        body = request.get("TemplateBody")
        if isinstance(body, str):
            return body
        if request.get("TemplateURL"):
            raise AwsApiError(
                "ValidationError", "TemplateURL is not supported locally: pass TemplateBody"
            )
        raise AwsApiError(
            "ValidationError", "Either Template URL or Template Body must be specified."
        )

    def _deploy(self, request: Request, previous: StackRecord | None) -> JSONObject:
        name = self._name(request)
        template = load_template(self._template_text(request, previous))
        on_failure = _on_failure(request, creating=previous is None)
        try:
            result = self.stacks.deploy(
                name,
                template,
                _parameters(request, previous),
                disable_rollback=on_failure == "DO_NOTHING",
            )
        except DeployFailed:
            stack = self.stacks.store.get(name)
            assert stack is not None
            if on_failure == "DELETE":  # rolled back, then deleted, as AWS does
                self.stacks.delete(name)
            return {"StackId": stack.stack_id}
        if result.unchanged:
            raise AwsApiError("ValidationError", "No updates are to be performed.")
        return {"StackId": result.stack.stack_id}

    def create_stack(self, request: Request) -> JSONObject:
        name = self._name(request)
        existing = self.stacks.store.get(name)
        if existing is not None:
            raise AwsApiError("AlreadyExistsException", f"Stack [{name}] already exists")
        return self._deploy(request, None)

    def update_stack(self, request: Request) -> JSONObject:
        return self._deploy(request, self._get(request))

    def delete_stack(self, request: Request) -> JSONObject:
        # A failure shows as DELETE_FAILED with its reason on the stack, as in AWS.
        with contextlib.suppress(DeployFailed):
            self.stacks.delete(self._name(request))
        return {}

    def describe_stacks(self, request: Request) -> JSONObject:
        if request.get("StackName"):
            return {"Stacks": [describe_stack(self._get(request))]}
        return {"Stacks": [describe_stack(s) for s in self.stacks.store.all()]}

    def list_stacks(self, request: Request) -> JSONObject:
        wanted = request.get("StackStatusFilter") or []
        return {
            "StackSummaries": [
                stack_summary(s)
                for s in self.stacks.store.all()
                if not wanted or s.status in wanted
            ]
        }

    def describe_stack_resources(self, request: Request) -> JSONObject:
        out = stack_resources(self._get(request))
        logical = request.get("LogicalResourceId")
        if logical:
            items = out["StackResources"]
            assert isinstance(items, list)
            out["StackResources"] = [
                r for r in items if isinstance(r, dict) and r.get("LogicalResourceId") == logical
            ]
        return out

    def list_stack_resources(self, request: Request) -> JSONObject:
        summaries: list[JSON] = []
        items = stack_resources(self._get(request))["StackResources"]
        assert isinstance(items, list)
        for r in items:
            assert isinstance(r, dict)
            summary: JSONObject = {
                k: v
                for k, v in r.items()
                if k
                in (
                    "LogicalResourceId",
                    "PhysicalResourceId",
                    "ResourceType",
                    "ResourceStatus",
                    "ResourceStatusReason",
                    "DriftInformation",
                )
            }
            summary["LastUpdatedTimestamp"] = r["Timestamp"]
            summaries.append(summary)
        return {"StackResourceSummaries": summaries}

    def get_template(self, request: Request) -> JSONObject:
        return {"TemplateBody": self._get(request).template, "StagesAvailable": ["Original"]}

    def validate_template(self, request: Request) -> JSONObject:
        template = load_template(self._template_text(request, None))
        out: JSONObject = {"Parameters": _declared_parameters(template, summary=False)}
        if template.description:
            out["Description"] = template.description
        return out

    def get_template_summary(self, request: Request) -> JSONObject:
        """The template of ``TemplateBody`` or of stack ``StackName``: its parameters (what
        ``aws cloudformation deploy`` asks before an update), resource types, transforms."""
        if request.get("StackName"):
            template = load_template(self._get(request).template)
        else:
            template = load_template(self._template_text(request, None))
        types = sorted({str(r["Type"]) for r in template.resources.values() if isinstance(r, dict)})
        transform = template.data.get("Transform")
        declared = transform if isinstance(transform, list) else [transform] if transform else []
        out: JSONObject = {
            "Parameters": _declared_parameters(template, summary=True),
            "ResourceTypes": list(types),
            "Version": str(template.data.get("AWSTemplateFormatVersion") or "2010-09-09"),
            "DeclaredTransforms": [str(t) for t in declared],
        }
        if template.description:
            out["Description"] = template.description
        return out

    # -- change sets ------------------------------------------------------------------------
    def _change_set_name(self, request: Request) -> str:
        name = request.get("ChangeSetName")
        if not isinstance(name, str) or not name:
            raise AwsApiError("ValidationError", "ChangeSetName is required")
        return name

    def create_change_set(self, request: Request) -> JSONObject:
        name = self._name(request)
        kind = str(request.get("ChangeSetType") or "UPDATE")
        existing = self.stacks.store.get(name)
        previous = existing if kind == "UPDATE" else None
        template = load_template(self._template_text(request, previous))
        description = request.get("Description")
        return self.change_sets.create(
            stack_name=name,
            name=self._change_set_name(request),
            kind=kind,
            template=template,
            parameters=_parameters(request, previous),
            description=description if isinstance(description, str) else "",
        )

    def _stack_of_change_set(self, request: Request) -> str:
        stack = request.get("StackName")
        return stack if isinstance(stack, str) else ""

    def describe_change_set(self, request: Request) -> JSONObject:
        return self.change_sets.describe(
            self._change_set_name(request), self._stack_of_change_set(request)
        )

    def execute_change_set(self, request: Request) -> JSONObject:
        return self.change_sets.execute(
            self._change_set_name(request),
            self._stack_of_change_set(request),
            disable_rollback=request.get("DisableRollback") in (True, "true"),
        )

    def delete_change_set(self, request: Request) -> JSONObject:
        return self.change_sets.delete(
            self._change_set_name(request), self._stack_of_change_set(request)
        )

    def list_change_sets(self, request: Request) -> JSONObject:
        return self.change_sets.list(self._name(request))

    def describe_stack_events(self, request: Request) -> JSONObject:
        """Events of the stack of that name, or of a stack id (a deleted stack's too)."""
        name = request.get("StackName")
        if not isinstance(name, str) or not name:
            raise AwsApiError("ValidationError", "StackName is required")
        stack_id = self.stacks.store.stack_id_of(name)
        if stack_id is None:
            raise stack_missing(name)
        return stack_events(self.stacks.store.events(stack_id))

    def list_exports(self, request: Request) -> JSONObject:
        exports: list[JSON] = []
        for stack in self.stacks.store.all():
            for o in stack.outputs:
                if o.export_name:
                    exports.append(
                        {
                            "ExportingStackId": stack.stack_id,
                            "Name": o.export_name,
                            "Value": o.value,
                        }
                    )
        return {"Exports": exports}
