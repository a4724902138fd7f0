"""Everything decided before a resource is touched: parameter values, rules, conditions, which
resources the conditions keep, and the order to create them in. Pure; any template error is
raised here, so a bad template changes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from eltflow.stacks.conditions import evaluate_conditions
from eltflow.stacks.errors import TemplateError, unresolved
from eltflow.stacks.graph import creation_order, dependencies, located_references
from eltflow.stacks.intrinsics import Pseudo, Scope
from eltflow.stacks.parameters import Parameter, resolve_parameters
from eltflow.stacks.rules import check_rules
from eltflow.stacks.template import Template
from eltflow.types import JSONObject


@dataclass(frozen=True, kw_only=True)
class Plan:
    parameters: dict[str, Parameter]
    scope: Scope  # parameters, mappings, conditions, exports; resources are added as made
    resources: dict[str, JSONObject]  # the resources the conditions keep, by logical id
    order: list[str]
    warnings: tuple[str, ...] = ()


def plan_stack(
    template: Template,
    given: Mapping[str, str],
    *,
    pseudo: Pseudo,
    exports: Mapping[str, str],
    previous: Mapping[str, str] | None = None,
) -> Plan:
    parameters = resolve_parameters(template.section("Parameters"), given, previous)
    base = Scope(
        pseudo=pseudo,
        parameters={k: p.value for k, p in parameters.items()},
        mappings=template.section("Mappings"),
        exports=exports,
    )
    warnings = check_rules(template.section("Rules"), base)
    conditions = evaluate_conditions(template.section("Conditions"), base)
    kept: dict[str, JSONObject] = {}
    dropped: set[str] = set()
    for logical, raw in template.resources.items():
        assert isinstance(raw, dict)  # checked when the template was loaded
        condition = raw.get("Condition")
        if condition is not None:
            if not isinstance(condition, str) or condition not in conditions:
                raise TemplateError(
                    f"Template format error: Unresolved condition dependency {condition} in "
                    f"Resources.{logical}",
                    f"Resources.{logical}.Condition",
                )
            if not conditions[condition]:
                dropped.add(logical)
                continue
        kept[logical] = raw
    declared = set(template.resources) | set(parameters)
    for key, raw in template.section("Outputs").items():
        for name, where in located_references(raw, f"Outputs.{key}").items():
            if name not in declared and not name.startswith("AWS::"):
                raise TemplateError(unresolved([name], "Outputs"), where)
        condition = raw.get("Condition") if isinstance(raw, dict) else None
        if condition is not None and (
            not isinstance(condition, str) or condition not in conditions
        ):
            raise TemplateError(
                f"Template format error: Unresolved condition dependency {condition} in "
                f"Outputs.{key}",
                f"Outputs.{key}.Condition",
            )
    # References to resources a condition dropped are resolved (or fail) when evaluated: a
    # Fn::If usually guards them.
    order = creation_order(dependencies(kept, known=set(parameters) | dropped))
    scope = Scope(
        pseudo=pseudo,
        parameters=base.parameters,
        mappings=base.mappings,
        conditions=conditions,
        exports=exports,
    )
    return Plan(
        parameters=parameters, scope=scope, resources=kept, order=order, warnings=tuple(warnings)
    )
