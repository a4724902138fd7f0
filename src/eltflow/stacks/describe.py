"""Stacks in AWS's response shapes: DescribeStacks, DescribeStackResources, ListStacks.
``NoEcho`` parameter values are masked."""

from __future__ import annotations

from eltflow.stacks.parameters import MASK
from eltflow.stacks.records import EventRecord, StackRecord
from eltflow.store.rows import from_us
from eltflow.types import JSON, JSONObject


def _iso(us: int) -> str:
    return from_us(us).isoformat()


def describe_stack(stack: StackRecord) -> JSONObject:
    """One element of DescribeStacks' ``Stacks``."""
    out: JSONObject = {
        "StackId": stack.stack_id,
        "StackName": stack.name,
        "Parameters": [
            {"ParameterKey": p.key, "ParameterValue": MASK if p.no_echo else p.value}
            for p in stack.parameters
        ],
        "CreationTime": _iso(stack.created_us),
        "RollbackConfiguration": {},
        "StackStatus": stack.status,
        # Only a deploy with rollback disabled leaves a *_FAILED stack (the flag itself is not
        # stored).
        "DisableRollback": stack.status in ("CREATE_FAILED", "UPDATE_FAILED"),
        "NotificationARNs": [],
        "Capabilities": [],
        "Outputs": [_output(o.key, o.value, o.description, o.export_name) for o in stack.outputs],
        "Tags": [],
        "EnableTerminationProtection": False,
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
    }
    if stack.description:
        out["Description"] = stack.description
    if stack.reason:
        out["StackStatusReason"] = stack.reason
    if stack.updated_us is not None:
        out["LastUpdatedTime"] = _iso(stack.updated_us)
    return out


def _output(key: str, value: str, description: str, export_name: str) -> JSON:
    out: JSONObject = {"OutputKey": key, "OutputValue": value}
    if description:
        out["Description"] = description
    if export_name:
        out["ExportName"] = export_name
    return out


def describe_stacks(stacks: list[StackRecord]) -> JSONObject:
    return {"Stacks": [describe_stack(s) for s in stacks]}


def stack_resources(stack: StackRecord) -> JSONObject:
    """DescribeStackResources' response."""
    items: list[JSON] = []
    for r in stack.resources:
        item: JSONObject = {
            "StackName": stack.name,
            "StackId": stack.stack_id,
            "LogicalResourceId": r.logical_id,
            "PhysicalResourceId": r.physical_id,
            "ResourceType": r.type,
            "Timestamp": _iso(r.updated_us or stack.created_us),
            "ResourceStatus": r.status,
            "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"},
        }
        if r.reason:
            item["ResourceStatusReason"] = r.reason
        items.append(item)
    return {"StackResources": items}


def stack_summary(stack: StackRecord) -> JSONObject:
    """One element of ListStacks' ``StackSummaries``."""
    out: JSONObject = {
        "StackId": stack.stack_id,
        "StackName": stack.name,
        "CreationTime": _iso(stack.created_us),
        "StackStatus": stack.status,
    }
    if stack.description:
        out["TemplateDescription"] = stack.description
    if stack.updated_us is not None:
        out["LastUpdatedTime"] = _iso(stack.updated_us)
    if stack.reason:
        out["StackStatusReason"] = stack.reason
    return out


def stack_events(events: list[EventRecord]) -> JSONObject:
    """DescribeStackEvents' response (newest first)."""
    items: list[JSON] = []
    for e in events:
        item: JSONObject = {
            "StackId": e.stack_id,
            "EventId": e.event_id,
            "StackName": e.stack_name,
            "LogicalResourceId": e.logical_id,
            "PhysicalResourceId": e.physical_id,
            "ResourceType": e.type,
            "Timestamp": _iso(e.timestamp_us),
            "ResourceStatus": e.status,
        }
        if e.reason:
            item["ResourceStatusReason"] = e.reason
        items.append(item)
    return {"StackEvents": items}
