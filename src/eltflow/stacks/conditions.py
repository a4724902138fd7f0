"""The Conditions section: every named condition evaluated once, in any order of reference, with
a reference cycle reported instead of recursing forever. Pure."""

from __future__ import annotations

from eltflow.stacks.errors import TemplateError
from eltflow.stacks.intrinsics import Scope, resolve
from eltflow.types import JSONObject


def evaluate_conditions(section: JSONObject, scope: Scope) -> dict[str, bool]:
    """``{name: bool}`` for every condition in ``section`` (``scope`` holds the parameters)."""
    done: dict[str, bool] = {}
    active: list[str] = []

    def lookup(name: str, path: str) -> bool:
        if name in done:
            return done[name]
        if name not in section:
            raise TemplateError(
                f"Template format error: Unresolved condition dependency {name} in Fn::If", path
            )
        if name in active:
            cycle = active[active.index(name) :]
            raise TemplateError(
                f"Template error: Circular condition dependency: [{', '.join(cycle)}]",
                f"Conditions.{name}",
            )
        active.append(name)
        value = resolve(
            section[name],
            Scope(
                pseudo=scope.pseudo,
                parameters=scope.parameters,
                mappings=scope.mappings,
                condition_lookup=lookup,
            ),
            f"Conditions.{name}",
            conditions=True,
        )
        active.pop()
        if not isinstance(value, bool):
            raise TemplateError(
                "Template format error: Conditions can only be boolean operations on parameters "
                "and other conditions",
                f"Conditions.{name}",
            )
        done[name] = value
        return value

    for name in section:
        lookup(name, f"Conditions.{name}")
    return done
