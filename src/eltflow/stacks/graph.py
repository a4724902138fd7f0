"""The order resources are created in: each after the resources it references (``Ref``,
``Fn::GetAtt``, ``Fn::Sub`` variables) and those named in ``DependsOn``; deleted in reverse.
A reference to nothing known and a cycle are CloudFormation's template errors. Pure."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from eltflow.stacks.errors import TemplateError, unresolved
from eltflow.stacks.intrinsics import sub_variables
from eltflow.types import JSON, JSONObject


def references(value: JSON) -> set[str]:
    """Logical names a value refers to (parameters and pseudo parameters included). Both
    branches of a Fn::If count, as they do for CloudFormation's dependency graph."""
    return set(located_references(value))


def located_references(value: JSON, path: str = "") -> dict[str, str]:
    """Each name a value refers to, with the path of its first reference."""
    found: dict[str, str] = {}

    def add(name: str, where: str) -> None:
        found.setdefault(name, where)

    def walk(v: JSON, where: str) -> None:
        if isinstance(v, dict):
            if len(v) == 1:
                key, args = next(iter(v.items()))
                here = f"{where}.{key}" if where else key
                if key == "Ref" and isinstance(args, str):
                    add(args, here)
                    return
                if key == "Fn::GetAtt":
                    if isinstance(args, str):
                        add(args.split(".", 1)[0], here)
                        return
                    if isinstance(args, list) and args and isinstance(args[0], str):
                        add(args[0], here)
                        walk(args[1:], here)
                        return
                if key == "Fn::Sub":
                    text: JSON = args
                    local: dict[str, JSON] = {}
                    if isinstance(args, list) and args and isinstance(args[0], str):
                        text = args[0]
                        if len(args) > 1 and isinstance(args[1], dict):
                            local = args[1]
                        walk(list(local.values()), here)
                    if isinstance(text, str):
                        for name in sub_variables(text):
                            if name not in local:
                                add(name.split(".", 1)[0] if "." in name else name, here)
                    return
            for k, item in v.items():
                walk(item, f"{where}.{k}" if where else k)
        elif isinstance(v, list):
            for i, item in enumerate(v):
                walk(item, f"{where}[{i}]")

    walk(value, path)
    return found


def depends_on(body: JSONObject, path: str) -> list[str]:
    raw = body.get("DependsOn")
    if raw is None:
        return []
    names = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(n, str) for n in names):
        raise TemplateError(
            "Template format error: DependsOn must be a string or a list of strings",
            f"{path}.DependsOn",
        )
    return [str(n) for n in names]


def dependencies(
    resources: Mapping[str, JSONObject], known: Collection[str]
) -> dict[str, set[str]]:
    """``{logical id: resources it waits for}``; ``known`` are the parameter names (pseudo
    parameters are always known). Unknown names: CloudFormation's unresolved error."""
    out: dict[str, set[str]] = {}
    for logical, body in resources.items():
        path = f"Resources.{logical}"
        located = located_references({k: v for k, v in body.items() if k != "DependsOn"}, path)
        names = set(located)
        for name, where in located.items():
            if name not in resources and name not in known and not name.startswith("AWS::"):
                raise TemplateError(unresolved([name]), where)
        missing = {n for n in depends_on(body, path) if n not in resources}
        if missing:
            raise TemplateError(unresolved(missing), f"{path}.DependsOn")
        out[logical] = {n for n in names if n in resources} | set(depends_on(body, path))
    return out


def creation_order(deps: Mapping[str, set[str]]) -> list[str]:
    """Resources in an order where each comes after what it depends on; ties keep template
    order. A cycle is CloudFormation's ``Circular dependency between resources``."""
    remaining = {name: set(d) for name, d in deps.items()}
    order: list[str] = []
    while remaining:
        ready = [n for n, d in remaining.items() if not d]
        if not ready:
            raise TemplateError(
                "Template format error: Circular dependency between resources: "
                f"[{', '.join(sorted(_cycle_members(remaining)))}]"
            )
        for name in ready:
            order.append(name)
            del remaining[name]
        for d in remaining.values():
            d.difference_update(ready)
    return order


def _cycle_members(remaining: Mapping[str, set[str]]) -> set[str]:
    """The resources on a cycle (not those merely waiting behind one)."""
    members: set[str] = set()
    for start in remaining:
        seen: set[str] = set()
        stack = list(remaining[start])
        while stack:
            node = stack.pop()
            if node == start:
                members.add(start)
                break
            if node in seen or node not in remaining:
                continue
            seen.add(node)
            stack.extend(remaining[node])
    return members or set(remaining)
