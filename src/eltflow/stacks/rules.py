"""The Rules section: each rule's assertions checked against the parameter values before
anything is made (when its RuleCondition holds). Pure.

A failed assertion is a ValidationError worded with its AssertDescription (AWS's exact wording
around it is unverified). Rules using functions that read the account (``Fn::ValueOf``,
``Fn::ValueOfAll``, ``Fn::RefAll``) are skipped with a warning: there is no account here.
"""

from __future__ import annotations

from eltflow.stacks.errors import TemplateError
from eltflow.stacks.intrinsics import Scope, resolve
from eltflow.types import JSON, JSONObject

_ACCOUNT_FUNCTIONS = ("Fn::ValueOf", "Fn::ValueOfAll", "Fn::RefAll")


def _uses_account(value: JSON) -> bool:
    if isinstance(value, dict):
        return any(k in _ACCOUNT_FUNCTIONS or _uses_account(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_uses_account(v) for v in value)
    return False


def check_rules(section: JSONObject, scope: Scope) -> list[str]:
    """Raise on the first failed assertion; return warnings for rules not checked."""
    warnings: list[str] = []
    for name, rule in section.items():
        path = f"Rules.{name}"
        if not isinstance(rule, dict) or not isinstance(rule.get("Assertions"), list):
            raise TemplateError(
                "Template format error: Every Rules member must contain an Assertions list", path
            )
        if _uses_account(rule):
            warnings.append(f"{path}: Fn::ValueOf/ValueOfAll/RefAll read the AWS account: skipped")
            continue
        condition = rule.get("RuleCondition")
        if condition is not None and not _holds(condition, scope, f"{path}.RuleCondition"):
            continue
        assertions = rule["Assertions"]
        assert isinstance(assertions, list)
        for i, assertion in enumerate(assertions):
            where = f"{path}.Assertions[{i}]"
            if not isinstance(assertion, dict) or "Assert" not in assertion:
                raise TemplateError(
                    "Template format error: Every Assertions member must contain an Assert", where
                )
            if not _holds(assertion["Assert"], scope, f"{where}.Assert"):
                description = assertion.get("AssertDescription")
                raise TemplateError(
                    str(description) if description else f"Assertion failed for rule {name}",
                    where,
                )
    return warnings


def _holds(value: JSON, scope: Scope, path: str) -> bool:
    out = resolve(value, scope, path, conditions=True)
    if not isinstance(out, bool):
        raise TemplateError("Template format error: a rule must be a boolean function", path)
    return out
