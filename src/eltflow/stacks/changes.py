"""A change set: what a deploy would do, without doing it (``stack deploy
--no-execute-changeset``). Reads the stack record; changes nothing.

Each resource's properties are evaluated against the resources as they are now; a value that
depends on a resource still to be made (or changed) is unknown until the deploy, so a
difference there is ``Replacement: Conditional``, as in CloudFormation's change sets.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

from eltflow.stacks.errors import TemplateError
from eltflow.stacks.intrinsics import Created, resolve
from eltflow.stacks.plan import Plan
from eltflow.stacks.records import StackRecord
from eltflow.stacks.resources import provider_for
from eltflow.types import JSON

_UNKNOWN = "{{resolved at deploy}}"


@dataclass(frozen=True, kw_only=True)
class ResourceChange:
    """One row of a change set, in DescribeChangeSet's words."""

    action: str  # Add, Modify, Remove
    logical_id: str
    type: str
    physical_id: str = ""
    replacement: str = ""  # True, False, Conditional (Modify only)


class _Later(Mapping[str, JSON]):
    """The attributes of a resource not made yet: any name, value unknown."""

    def __getitem__(self, key: str) -> JSON:
        return _UNKNOWN

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _unknown(value: JSON) -> bool:
    if isinstance(value, str):
        return _UNKNOWN in value
    if isinstance(value, list):
        return any(_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_unknown(v) for v in value.values())
    return False


def change_set(plan: Plan, old: StackRecord | None) -> list[ResourceChange]:
    existing = {
        r.logical_id: r
        for r in (old.resources if old is not None else ())
        if r.status not in ("CREATE_FAILED", "DELETE_COMPLETE")
    }
    made: dict[str, Created] = {}
    changes: list[ResourceChange] = []
    for logical in plan.order:
        body = plan.resources[logical]
        type_ = str(body["Type"])
        prev = existing.get(logical)
        path = f"Resources.{logical}.Properties"
        props = resolve(body.get("Properties") or {}, replace(plan.scope, resources=made), path)
        if not isinstance(props, dict):
            raise TemplateError("Template format error: Properties must be an object", path)
        if prev is None:
            changes.append(ResourceChange(action="Add", logical_id=logical, type=type_))
            made[logical] = Created(ref=_UNKNOWN, attributes=_Later(), type=type_)
            continue
        if prev.type == type_ and props == prev.properties:
            made[logical] = Created(ref=prev.physical_id, attributes=prev.attributes, type=type_)
            continue
        keys = provider_for(type_).replace_on
        differs = [
            k for k in set(props) | set(prev.properties) if props.get(k) != prev.properties.get(k)
        ]
        if prev.type != type_ or any(k in keys and not _unknown(props.get(k)) for k in differs):
            replacement = "True"
        elif any(k in keys for k in differs):
            replacement = "Conditional"
        else:
            replacement = "False"
        changes.append(
            ResourceChange(
                action="Modify",
                logical_id=logical,
                type=type_,
                physical_id=prev.physical_id,
                replacement=replacement,
            )
        )
        unchanged_ref = replacement == "False"
        made[logical] = Created(
            ref=prev.physical_id if unchanged_ref else _UNKNOWN,
            attributes=prev.attributes if unchanged_ref else _Later(),
            type=type_,
        )
    for logical, r in existing.items():
        if logical not in plan.resources:
            changes.append(
                ResourceChange(
                    action="Remove", logical_id=logical, type=r.type, physical_id=r.physical_id
                )
            )
    return changes
