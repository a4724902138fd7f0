"""Stacks in the state store: one row per stack, one per resource, one per export (the export
name is the primary key, so two stacks cannot export the same name). SQL with bound parameters
only; JSON columns are text."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from eltflow.errors import AwsApiError
from eltflow.store.db import Connection, Database
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

    def get(self, name: str) -> StackRecord | None:
        with self.db.transaction() as conn:
            rows = conn.execute("SELECT * FROM cfn_stacks WHERE name = :n", {"n": name})
            if not rows:
                return None
            return _stack(rows[0], self._resources(conn, name))

    def all(self) -> list[StackRecord]:
        with self.db.transaction() as conn:
            rows = conn.execute("SELECT * FROM cfn_stacks ORDER BY name")
            return [_stack(r, self._resources(conn, r["name"])) for r in rows]

    def _resources(self, conn: Connection, name: str) -> list[ResourceRecord]:
        rows = conn.execute(
            "SELECT * FROM cfn_stack_resources WHERE stack_name = :n ORDER BY position, logical_id",
            {"n": name},
        )
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
                owner = conn.execute(
                    "SELECT stack_name FROM cfn_exports WHERE name = :e", {"e": output.export_name}
                )
                if owner and owner[0]["stack_name"] != stack.name:
                    raise AwsApiError(
                        "ValidationError",
                        f"Export with name {output.export_name} is already exported by stack "
                        f"{owner[0]['stack_name']}",
                    )
            conn.execute(
                "INSERT INTO cfn_stacks (name, stack_id, status, status_reason, description, "
                "template, parameters, outputs, imports, created_us, updated_us) VALUES "
                "(:n, :id, :s, :r, :d, :t, :p, :o, :i, :c, :u) ON CONFLICT (name) DO UPDATE SET "
                "stack_id = excluded.stack_id, status = excluded.status, "
                "status_reason = excluded.status_reason, description = excluded.description, "
                "template = excluded.template, parameters = excluded.parameters, "
                "outputs = excluded.outputs, imports = excluded.imports, "
                "updated_us = excluded.updated_us",
                stack_row,
            )
            conn.execute("DELETE FROM cfn_stack_resources WHERE stack_name = :n", {"n": stack.name})
            conn.executemany(
                "INSERT INTO cfn_stack_resources (stack_name, logical_id, position, "
                "resource_type, physical_id, status, status_reason, properties, attributes, "
                "updated_us) VALUES (:n, :l, :pos, :t, :p, :s, :r, :props, :a, :u)",
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
            conn.execute("DELETE FROM cfn_exports WHERE stack_name = :n", {"n": stack.name})
            conn.executemany(
                "INSERT INTO cfn_exports (name, stack_name, value) VALUES (:e, :n, :v)",
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
                    "INSERT INTO cfn_stacks (name, stack_id, status, status_reason, description, "
                    "template, parameters, outputs, imports, created_us, updated_us) VALUES "
                    "(:n, :id, :s, :r, :d, :t, '[]', '[]', '[]', :c, NULL) "
                    "ON CONFLICT (name) DO NOTHING RETURNING name",
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
                    "UPDATE cfn_stacks SET status = :s, status_reason = :r "
                    "WHERE name = :n AND status = :expected RETURNING name",
                    {"n": stack.name, "s": stack.status, "r": stack.reason, "expected": expected},
                )
        return bool(rows)

    def delete(self, name: str) -> None:
        """Remove the stack, its resources, exports and change sets (events stay)."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM cfn_change_sets WHERE stack_name = :n", {"n": name})
            conn.execute("DELETE FROM cfn_exports WHERE stack_name = :n", {"n": name})
            conn.execute("DELETE FROM cfn_stack_resources WHERE stack_name = :n", {"n": name})
            conn.execute("DELETE FROM cfn_stacks WHERE name = :n", {"n": name})

    def add_event(self, event: EventRecord) -> None:
        """Append an event (its seq is the stack's next one)."""
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) AS n FROM cfn_stack_events WHERE stack_id = :s",
                {"s": event.stack_id},
            )
            conn.execute(
                "INSERT INTO cfn_stack_events (stack_id, seq, event_id, stack_name, logical_id, "
                "physical_id, resource_type, status, status_reason, timestamp_us) VALUES "
                "(:s, :seq, :e, :n, :l, :p, :t, :st, :r, :ts)",
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
        rows = self.db.execute(
            "SELECT * FROM cfn_stack_events WHERE stack_id = :s ORDER BY seq DESC", {"s": stack_id}
        )
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
            rows = self.db.execute(
                "SELECT stack_id FROM cfn_stack_events WHERE stack_id = :s LIMIT 1",
                {"s": name_or_id},
            )
            return name_or_id if rows else None
        rows = self.db.execute("SELECT stack_id FROM cfn_stacks WHERE name = :n", {"n": name_or_id})
        return str(rows[0]["stack_id"]) if rows else None

    def exports(self, *, excluding: str = "") -> dict[str, str]:
        """Export name → value, from every stack but ``excluding``."""
        rows = self.db.execute(
            "SELECT name, value FROM cfn_exports WHERE stack_name <> :n", {"n": excluding}
        )
        return {r["name"]: r["value"] for r in rows}

    def exporter(self, export_name: str) -> str:
        rows = self.db.execute(
            "SELECT stack_name FROM cfn_exports WHERE name = :e", {"e": export_name}
        )
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
