"""Stacks in the state store: one row per stack, one per resource, one per export (the export
name is the primary key, so two stacks cannot export the same name). The SQL is the store's
named queries ``sql/stacks.sql`` (bound parameters only); JSON columns are text."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from eltflow.errors import AwsApiError
from eltflow.store.db import Connection, Database
from eltflow.store.queries import service_queries
from eltflow.types import JSON, JSONObject


@dataclass(frozen=True, kw_only=True)
class ResourceRecord:
    logical_id: str
    type: str
    physical_id: str
    status: str  # CREATE_COMPLETE, UPDATE_COMPLETE, CREATE_FAILED, DELETE_COMPLETE...
    reason: str = ""
    properties: JSONObject = field(default_factory=dict)  # as resolved and applied
    attributes: JSONObject = field(default_factory=dict)  # Fn::GetAtt values
    position: int = 0  # creation order
    updated_us: int = 0


@dataclass(frozen=True, kw_only=True)
class ParameterRecord:
    key: str
    value: str
    no_echo: bool = False


@dataclass(frozen=True, kw_only=True)
class OutputRecord:
    key: str
    value: str
    description: str = ""
    export_name: str = ""


@dataclass(frozen=True, kw_only=True)
class EventRecord:
    stack_id: str
    stack_name: str
    event_id: str
    logical_id: str
    physical_id: str
    type: str
    status: str
    reason: str
    timestamp_us: int


@dataclass(frozen=True, kw_only=True)
class StackRecord:
    name: str
    stack_id: str
    status: str
    reason: str = ""
    description: str = ""
    template: str = ""
    parameters: tuple[ParameterRecord, ...] = ()
    outputs: tuple[OutputRecord, ...] = ()
    imports: tuple[str, ...] = ()  # export names this stack's template imports
    created_us: int = 0
    updated_us: int | None = None
    resources: tuple[ResourceRecord, ...] = ()

    def resource(self, logical_id: str) -> ResourceRecord | None:
        return next((r for r in self.resources if r.logical_id == logical_id), None)

    def parameter_values(self) -> dict[str, str]:
        return {p.key: p.value for p in self.parameters}


def _load(text: str) -> Any:
    return json.loads(text)


def _stack(row: dict[str, Any], resources: list[ResourceRecord]) -> StackRecord:
    return StackRecord(
        name=row["name"],
        stack_id=row["stack_id"],
        status=row["status"],
        reason=row["status_reason"],
        description=row["description"],
        template=row["template"],
        parameters=tuple(ParameterRecord(**p) for p in _load(row["parameters"])),
        outputs=tuple(OutputRecord(**o) for o in _load(row["outputs"])),
        imports=tuple(_load(row["imports"])),
        created_us=int(row["created_us"]),
        updated_us=None if row["updated_us"] is None else int(row["updated_us"]),
        resources=tuple(resources),
    )


def _resource(row: dict[str, Any]) -> ResourceRecord:
    return ResourceRecord(
        logical_id=row["logical_id"],
        type=row["resource_type"],
        physical_id=row["physical_id"],
        status=row["status"],
        reason=row["status_reason"],
        properties=cast(JSONObject, _load(row["properties"])),
        attributes=cast(JSONObject, _load(row["attributes"])),
        position=int(row["position"]),
        updated_us=int(row["updated_us"]),
    )


class StackStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.q = service_queries("stacks", db.dialect)

    def get(self, name: str) -> StackRecord | None:
        with self.db.transaction() as conn:
            rows = conn.execute(self.q["get_stack"], {"n": name})
            if not rows:
                return None
            return _stack(rows[0], self._resources(conn, name))

    def all(self) -> list[StackRecord]:
        with self.db.transaction() as conn:
            rows = conn.execute(self.q["list_stacks"])
            return [_stack(r, self._resources(conn, r["name"])) for r in rows]

    def _resources(self, conn: Connection, name: str) -> list[ResourceRecord]:
        rows = conn.execute(self.q["stack_resources"], {"n": name})
        return [_resource(r) for r in rows]

    def save(self, stack: StackRecord) -> None:
        """Write the stack, its resources and its exports as they are now (one transaction).
        An export name another stack owns is AWS's ``Export with name X is already exported
        by stack Y``."""
        stack_row = {
            "n": stack.name,
            "id": stack.stack_id,
            "s": stack.status,
            "r": stack.reason,
            "d": stack.description,
            "t": stack.template,
            "p": json.dumps([vars(p) for p in stack.parameters]),
            "o": json.dumps([vars(o) for o in stack.outputs]),
            "i": json.dumps(list(stack.imports)),
            "c": stack.created_us,
            "u": stack.updated_us,
        }
        with self.db.transaction() as conn:
            for output in stack.outputs:
                if not output.export_name:
                    continue
                owner = conn.execute(self.q["export_owner"], {"e": output.export_name})
                if owner and owner[0]["stack_name"] != stack.name:
                    raise AwsApiError(
                        "ValidationError",
                        f"Export with name {output.export_name} is already exported by stack "
                        f"{owner[0]['stack_name']}",
                    )
            conn.execute(self.q["upsert_stack"], stack_row)
            conn.execute(self.q["delete_stack_resources"], {"n": stack.name})
            conn.executemany(
                self.q["insert_stack_resource"],
                [
                    {
                        "n": stack.name,
                        "l": r.logical_id,
                        "pos": r.position,
                        "t": r.type,
                        "p": r.physical_id,
                        "s": r.status,
                        "r": r.reason,
                        "props": json.dumps(r.properties),
                        "a": json.dumps(r.attributes),
                        "u": r.updated_us,
                    }
                    for r in stack.resources
                ],
            )
            conn.execute(self.q["delete_stack_exports"], {"n": stack.name})
            conn.executemany(
                self.q["insert_export"],
                [
                    {"e": o.export_name, "n": stack.name, "v": o.value}
                    for o in stack.outputs
                    if o.export_name
                ],
            )

    def claim(self, stack: StackRecord, expected: str | None) -> bool:
        """Start an operation: record ``stack`` (its ``*_IN_PROGRESS`` status) only if the
        stored stack is still in status ``expected`` (``None``: no stack of that name yet).
        False when another operation got there first — the check and the write are one
        statement, so two deploys of one stack cannot both start."""
        with self.db.transaction() as conn:
            if expected is None:
                rows = conn.execute(
                    self.q["claim_new_stack"],
                    {
                        "n": stack.name,
                        "id": stack.stack_id,
                        "s": stack.status,
                        "r": stack.reason,
                        "d": stack.description,
                        "t": stack.template,
                        "c": stack.created_us,
                    },
                )
            else:
                rows = conn.execute(
                    self.q["claim_stack"],
                    {"n": stack.name, "s": stack.status, "r": stack.reason, "expected": expected},
                )
        return bool(rows)

    def delete(self, name: str) -> None:
        """Remove the stack, its resources, exports and change sets (events stay)."""
        with self.db.transaction() as conn:
            key = {"n": name}
            conn.execute(self.q["delete_change_sets_of_stack"], key)
            conn.execute(self.q["delete_stack_exports"], key)
            conn.execute(self.q["delete_stack_resources"], key)
            conn.execute(self.q["delete_stack"], key)

    def add_event(self, event: EventRecord) -> None:
        """Append an event (its seq is the stack's next one)."""
        with self.db.transaction() as conn:
            rows = conn.execute(self.q["last_event_seq"], {"s": event.stack_id})
            conn.execute(
                self.q["insert_event"],
                {
                    "s": event.stack_id,
                    "seq": int(rows[0]["n"]) + 1,
                    "e": event.event_id,
                    "n": event.stack_name,
                    "l": event.logical_id,
                    "p": event.physical_id,
                    "t": event.type,
                    "st": event.status,
                    "r": event.reason,
                    "ts": event.timestamp_us,
                },
            )

    def events(self, stack_id: str) -> list[EventRecord]:
        """A stack's events, newest first (as DescribeStackEvents lists them)."""
        rows = self.db.execute(self.q["stack_events"], {"s": stack_id})
        return [
            EventRecord(
                stack_id=r["stack_id"],
                stack_name=r["stack_name"],
                event_id=r["event_id"],
                logical_id=r["logical_id"],
                physical_id=r["physical_id"],
                type=r["resource_type"],
                status=r["status"],
                reason=r["status_reason"],
                timestamp_us=int(r["timestamp_us"]),
            )
            for r in rows
        ]

    def stack_id_of(self, name_or_id: str) -> str | None:
        """The id of the stack called ``name_or_id`` now, or of a (maybe deleted) stack id."""
        if name_or_id.startswith("arn:"):
            rows = self.db.execute(self.q["stack_id_has_events"], {"s": name_or_id})
            return name_or_id if rows else None
        rows = self.db.execute(self.q["stack_id_of_name"], {"n": name_or_id})
        return str(rows[0]["stack_id"]) if rows else None

    def exports(self, *, excluding: str = "") -> dict[str, str]:
        """Export name → value, from every stack but ``excluding``."""
        rows = self.db.execute(self.q["exports_excluding"], {"n": excluding})
        return {r["name"]: r["value"] for r in rows}

    def exporter(self, export_name: str) -> str:
        rows = self.db.execute(self.q["export_owner"], {"e": export_name})
        return str(rows[0]["stack_name"]) if rows else ""

    def importers(self, export_names: list[str], *, excluding: str) -> dict[str, str]:
        """Export name → the first other stack that imports it (what blocks deleting it)."""
        found: dict[str, str] = {}
        for stack in self.all():
            if stack.name == excluding:
                continue
            for name in stack.imports:
                if name in export_names:
                    found.setdefault(name, stack.name)
        return found


def json_text(value: JSON) -> str:
    """An output value as CloudFormation shows it (lists joined with commas)."""
    if isinstance(value, list):
        return ",".join(json_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value)
    return "" if value is None else str(value)
