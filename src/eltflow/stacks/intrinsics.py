"""CloudFormation's intrinsic functions, evaluated over plain JSON values. Pure: no I/O, no clock.

:func:`resolve` replaces every ``Ref``, ``Fn::*`` and pseudo parameter in a value with what
CloudFormation would put there, given a :class:`Scope` (parameter values, mappings, evaluated
conditions, the resources created so far, the exports of other stacks). ``Ref: AWS::NoValue``
removes the property or list element that holds it. Condition functions (``Fn::Equals``,
``Fn::And``, ``Fn::Or``, ``Fn::Not``, ``Condition``) are evaluated with ``conditions=True`` (the
Conditions section); anywhere else they are errors, as in CloudFormation.

Errors are :class:`~eltflow.stacks.errors.TemplateError` naming the template path and using
CloudFormation's wording where we know it (messages AWS words differently are ours).
"""

from __future__ import annotations

import base64
import ipaddress
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, TypeAlias

from eltflow.stacks.errors import TemplateError, unresolved
from eltflow.types import JSON


class _NoValue:
    """``Ref: AWS::NoValue``: the value that removes its property."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Final = _NoValue()
Value: TypeAlias = "JSON | _NoValue"

# Rule functions (the Rules section) are evaluated like condition functions.
RULE_FUNCTIONS = ("Fn::Contains", "Fn::EachMemberEquals", "Fn::EachMemberIn")
SUPPORTED = (
    "Fn::Base64",
    "Fn::Cidr",
    "Fn::GetAtt",
    "Fn::GetAZs",
    "Fn::ImportValue",
    "Fn::Join",
    "Fn::Split",
    "Fn::FindInMap",
    "Fn::Select",
    "Ref",
    "Fn::Equals",
    "Fn::If",
    "Fn::Not",
    "Condition",
    "Fn::And",
    "Fn::Or",
    "Fn::Sub",
    *RULE_FUNCTIONS,
)
CONDITION_FUNCTIONS = ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition", *RULE_FUNCTIONS)


@dataclass(frozen=True, kw_only=True)
class Pseudo:
    """The pseudo parameters of one stack (``AWS::Region``...)."""

    stack_name: str
    stack_id: str
    region: str = "us-east-1"
    account: str = "123456789012"
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"

    def get(self, name: str) -> Value | None:
        values: dict[str, Value] = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.stack_id,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        return values.get(name)

    def azs(self, region: str) -> list[JSON]:
        """Fn::GetAZs: three zones named like AWS's (``us-east-1a``...); unverified count."""
        return [f"{region or self.region}{letter}" for letter in "abc"]


@dataclass(frozen=True, kw_only=True)
class Created:
    """A resource that exists: what ``Ref`` returns and its ``Fn::GetAtt`` attributes."""

    ref: str
    attributes: Mapping[str, JSON] = field(default_factory=dict)
    type: str = ""


@dataclass(frozen=True, kw_only=True)
class Scope:
    pseudo: Pseudo
    parameters: Mapping[str, JSON] = field(default_factory=dict)
    mappings: Mapping[str, JSON] = field(default_factory=dict)
    conditions: Mapping[str, bool] = field(default_factory=dict)
    resources: Mapping[str, Created] = field(default_factory=dict)
    exports: Mapping[str, str] = field(default_factory=dict)
    # Evaluated lazily by the Conditions section itself (a condition naming another).
    condition_lookup: Callable[[str, str], bool] | None = None

    def condition(self, name: str, path: str) -> bool:
        if name in self.conditions:
            return self.conditions[name]
        if self.condition_lookup is not None:
            return self.condition_lookup(name, path)
        raise TemplateError(
            f"Template format error: Unresolved condition dependency {name} in Fn::If", path
        )


def resolve(value: JSON, scope: Scope, path: str = "", *, conditions: bool = False) -> JSON:
    """``value`` with every intrinsic function evaluated (``AWS::NoValue`` at the top → None)."""
    out = _Evaluator(scope, conditions).eval(value, path)
    return None if isinstance(out, _NoValue) else out


def is_function(value: JSON) -> bool:
    """A one-key object whose key names an intrinsic function (``Ref``, ``Fn::…``)."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return key == "Ref" or key.startswith("Fn::")


def _join_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


_SUB_VAR = re.compile(r"\$\{([^}]*)\}")
_SUB_NAME = re.compile(r"[A-Za-z0-9_.:]+")


def sub_variables(template: str) -> list[str]:
    """The ``${Name}`` / ``${Res.Attr}`` variables of a Fn::Sub string (``${!x}`` is literal)."""
    return [
        m.group(1).strip() for m in _SUB_VAR.finditer(template) if not m.group(1).startswith("!")
    ]


class _Evaluator:
    def __init__(self, scope: Scope, conditions: bool) -> None:
        self.scope = scope
        self.conditions = conditions

    # -- structure -------------------------------------------------------------------------
    def eval(self, value: JSON, path: str) -> Value:
        if isinstance(value, dict):
            if len(value) == 1:
                key = next(iter(value))
                if (
                    key == "Ref"
                    or key.startswith("Fn::")
                    or (self.conditions and key == "Condition")
                ):
                    return self.call(key, value[key], _join_path(path, key))
            out: dict[str, JSON] = {}
            for k, v in value.items():
                item = self.eval(v, _join_path(path, k))
                if not isinstance(item, _NoValue):
                    out[k] = item
            return out
        if isinstance(value, list):
            items: list[JSON] = []
            for i, v in enumerate(value):
                item = self.eval(v, _join_path(path, i))
                if not isinstance(item, _NoValue):
                    items.append(item)
            return items
        return value

    def call(self, name: str, args: JSON, path: str) -> Value:
        handler = _FUNCTIONS.get(name)
        if handler is None:
            raise TemplateError(
                f"Template format error: Encountered unsupported function: {name} Supported "
                f"functions are: [{', '.join(SUPPORTED)}]",
                path,
            )
        if name in CONDITION_FUNCTIONS and not self.conditions:
            raise TemplateError(
                f"Template format error: {name} can only be used in the Conditions section "
                "(use Fn::If with a named condition here)",
                path,
            )
        return handler(self, args, path)

    def string(self, value: JSON, path: str, what: str) -> str:
        out = self.eval(value, path)
        if isinstance(out, bool):
            return "true" if out else "false"
        if isinstance(out, int | float):
            return str(out)
        if not isinstance(out, str):
            raise TemplateError(f"Template error: {what} must resolve to a string", path)
        return out

    def string_list(self, value: JSON, path: str, what: str) -> list[str]:
        out = self.eval(value, path)
        if not isinstance(out, list):
            raise TemplateError(f"Template error: {what} must resolve to a list of strings", path)
        items: list[str] = []
        for i, item in enumerate(out):
            if isinstance(item, bool):
                items.append("true" if item else "false")
            elif isinstance(item, int | float | str):
                items.append(str(item))
            else:
                raise TemplateError(
                    f"Template error: {what} must resolve to a list of strings",
                    _join_path(path, i),
                )
        return items

    # -- Ref / GetAtt ----------------------------------------------------------------------
    def ref(self, args: JSON, path: str) -> Value:
        if not isinstance(args, str):
            raise TemplateError(
                "Template format error: Every Ref object must have a single String value.", path
            )
        return self.lookup(args, path)

    def lookup(self, name: str, path: str) -> Value:
        scope = self.scope
        pseudo = scope.pseudo.get(name)
        if pseudo is not None:
            return pseudo
        if name in scope.parameters:
            return scope.parameters[name]
        if self.conditions:
            raise TemplateError(
                f"Template format error: Unresolved dependencies [{name}]. Cannot reference "
                "resources in the Conditions block of the template",
                path,
            )
        created = scope.resources.get(name)
        if created is None:
            raise TemplateError(unresolved([name]), path)
        return created.ref

    def get_att(self, args: JSON, path: str) -> Value:
        if isinstance(args, str):
            logical, dot, attribute = args.partition(".")
            if not dot:
                raise TemplateError(
                    "Template error: every Fn::GetAtt object requires two non-empty parameters",
                    path,
                )
        elif isinstance(args, list) and len(args) == 2 and isinstance(args[0], str):
            logical = args[0]
            attribute = self.string(args[1], _join_path(path, 1), "the Fn::GetAtt attribute")
        else:
            raise TemplateError(
                "Template error: every Fn::GetAtt object requires two non-empty parameters", path
            )
        return self.attribute(logical, attribute, path)

    def attribute(self, logical: str, attribute: str, path: str) -> JSON:
        if self.conditions:
            raise TemplateError(
                f"Template format error: Unresolved dependencies [{logical}]. Cannot reference "
                "resources in the Conditions block of the template",
                path,
            )
        created = self.scope.resources.get(logical)
        if created is None:
            raise TemplateError(
                f"Template error: instance of Fn::GetAtt references undefined resource {logical}",
                path,
            )
        if attribute not in created.attributes:
            kind = f" ({created.type})" if created.type else ""
            raise TemplateError(
                f"Template error: resource {logical}{kind} does not support attribute type "
                f"{attribute} in Fn::GetAtt",
                path,
            )
        return created.attributes[attribute]

    # -- strings ---------------------------------------------------------------------------
    def sub(self, args: JSON, path: str) -> Value:
        variables: dict[str, JSON] = {}
        if isinstance(args, str):
            text = args
        elif (
            isinstance(args, list)
            and len(args) == 2
            and isinstance(args[0], str)
            and isinstance(args[1], dict)
        ):
            text = args[0]
            for key, raw in args[1].items():
                value = self.eval(raw, _join_path(_join_path(path, 1), key))
                variables[key] = None if isinstance(value, _NoValue) else value
        else:
            raise TemplateError(
                "Template error: One or more Fn::Sub intrinsic functions don't specify expected "
                "arguments. Specify a string as first argument, and an optional second argument "
                "to specify a mapping of values to replace in the string",
                path,
            )

        def replace(match: re.Match[str]) -> str:
            body = match.group(1)
            if body.startswith("!"):
                return "${" + body[1:] + "}"  # ${!Literal} writes ${Literal}
            name = body.strip()
            if not _SUB_NAME.fullmatch(name):
                raise TemplateError(
                    "Template error: variable names in Fn::Sub syntax must contain only "
                    "alphanumeric characters, underscores, periods, and colons",
                    path,
                )
            if name in variables:
                value: Value = variables[name]
            elif "." in name and not name.startswith("AWS::"):
                logical, _, attribute = name.partition(".")
                if logical not in self.scope.resources and logical not in self.scope.parameters:
                    raise TemplateError(unresolved([logical]), path)
                value = self.attribute(logical, attribute, path)
            else:
                value = self.lookup(name, path)
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, int | float | str):
                return str(value)
            raise TemplateError(
                f"Template error: variable {name} in Fn::Sub expression does not resolve to a "
                "string",
                path,
            )

        return _SUB_VAR.sub(replace, text)

    def join(self, args: JSON, path: str) -> Value:
        if not isinstance(args, list) or len(args) != 2 or not isinstance(args[0], str):
            raise TemplateError(
                "Template error: every Fn::Join object requires two parameters, (1) a string "
                "delimiter and (2) a list of strings to be joined or a function that returns a "
                "list of strings (such as Fn::GetAZs) to be joined.",
                path,
            )
        return args[0].join(self.string_list(args[1], _join_path(path, 1), "Fn::Join's list"))

    def split(self, args: JSON, path: str) -> Value:
        if not isinstance(args, list) or len(args) != 2 or not isinstance(args[0], str):
            raise TemplateError(
                "Template error: every Fn::Split object requires two parameters, (1) a string "
                "delimiter and (2) a string to be split or a function that returns a string to be "
                "split.",
                path,
            )
        source = self.string(args[1], _join_path(path, 1), "Fn::Split's source")
        parts: list[JSON] = list(source.split(args[0])) if args[0] else [source]
        return parts

    def select(self, args: JSON, path: str) -> Value:
        if not isinstance(args, list) or len(args) != 2:
            raise TemplateError(
                "Template error: Fn::Select requires a list argument with two elements: an "
                "integer index and a list",
                path,
            )
        index_text = self.string(args[0], _join_path(path, 0), "Fn::Select's index")
        try:
            index = int(index_text)
        except ValueError:
            raise TemplateError(
                "Template error: Fn::Select requires a list argument with two elements: an "
                "integer index and a list",
                path,
            ) from None
        items = self.eval(args[1], _join_path(path, 1))
        if not isinstance(items, list):
            raise TemplateError(
                "Template error: Fn::Select requires a list argument with two elements: an "
                "integer index and a list",
                path,
            )
        if not 0 <= index < len(items):
            raise TemplateError(
                f"Template error: Fn::Select cannot select nonexistent value at index {index}",
                path,
            )
        return items[index]

    def base64(self, args: JSON, path: str) -> Value:
        text = self.string(args, path, "Fn::Base64's argument")
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    def cidr(self, args: JSON, path: str) -> Value:
        """Fn::Cidr [ipBlock, count, cidrBits]: the first ``count`` blocks of ``cidrBits``
        host bits in ``ipBlock`` (``["10.0.0.0/16", 2, 8]`` gives ``10.0.0.0/24``,
        ``10.0.1.0/24``); IPv4 or IPv6. The error wording is unverified."""
        usage = (
            "Template error: Fn::Cidr requires three parameters: an ip block in CIDR notation, "
            "the count of CIDRs to generate (1 to 256) and the number of subnet bits"
        )
        if not isinstance(args, list) or len(args) != 3:
            raise TemplateError(usage, path)
        block = self.string(args[0], _join_path(path, 0), "Fn::Cidr's ip block")
        count_text = self.string(args[1], _join_path(path, 1), "Fn::Cidr's count")
        bits_text = self.string(args[2], _join_path(path, 2), "Fn::Cidr's subnet bits")
        try:
            network = ipaddress.ip_network(block, strict=False)
            count, bits = int(count_text), int(bits_text)
        except ValueError:
            raise TemplateError(usage, path) from None
        prefix = network.max_prefixlen - bits
        if not 1 <= count <= 256 or bits < 0 or prefix < network.prefixlen:
            raise TemplateError(usage, path)
        blocks = list(itertools.islice(network.subnets(new_prefix=prefix), count))
        if len(blocks) < count:
            raise TemplateError(
                f"Template error: Fn::Cidr: {block} holds only {len(blocks)} blocks of "
                f"{bits} subnet bits, not {count}",
                path,
            )
        out: list[JSON] = [str(b) for b in blocks]
        return out

    def get_azs(self, args: JSON, path: str) -> Value:
        region = self.string(args, path, "Fn::GetAZs's region") if args != "" else ""
        return self.scope.pseudo.azs(region)

    def find_in_map(self, args: JSON, path: str) -> Value:
        if not isinstance(args, list) or len(args) != 3:
            raise TemplateError(
                "Template error: every Fn::FindInMap object requires three parameters, the map "
                "name, map key and the attribute for return value",
                path,
            )
        name, top, second = (
            self.string(a, _join_path(path, i), "a Fn::FindInMap key") for i, a in enumerate(args)
        )
        mapping = self.scope.mappings.get(name)
        if not isinstance(mapping, dict):
            raise TemplateError(
                f"Template error: Mapping named '{name}' is not present in the 'Mappings' "
                "section of template.",
                path,
            )
        level = mapping.get(top)
        if not isinstance(level, dict) or second not in level:
            raise TemplateError(
                f"Template error: Unable to get mapping for {name}::{top}::{second}", path
            )
        return level[second]

    def import_value(self, args: JSON, path: str) -> Value:
        name = self.string(args, path, "Fn::ImportValue's export name")
        if name not in self.scope.exports:
            raise TemplateError(f"No export named {name} found.", path)
        return self.scope.exports[name]

    # -- conditions ------------------------------------------------------------------------
    def if_(self, args: JSON, path: str) -> Value:
        if not isinstance(args, list) or len(args) != 3 or not isinstance(args[0], str):
            raise TemplateError(
                "Template error: Fn::If requires a list argument with three elements: a "
                "condition name, a value if true and a value if false",
                path,
            )
        chosen = 1 if self.scope.condition(args[0], path) else 2
        return self.eval(args[chosen], _join_path(path, chosen))

    def boolean(self, value: JSON, path: str) -> bool:
        out = self.eval(value, path)
        if isinstance(out, bool):
            return out
        if out in ("true", "false"):
            return out == "true"
        raise TemplateError(
            "Template format error: Fn::And, Fn::Or and Fn::Not take conditions (Fn::Equals, "
            "another condition function, or {Condition: Name})",
            path,
        )

    def equals(self, args: JSON, path: str) -> Value:
        if not isinstance(args, list) or len(args) != 2:
            raise TemplateError(
                "Template error: Fn::Equals requires a list argument with two elements", path
            )
        left, right = (self.eval(a, _join_path(path, i)) for i, a in enumerate(args))
        return _scalar_text(left) == _scalar_text(right)

    def and_or(self, args: JSON, path: str, combine: Callable[[list[bool]], bool]) -> Value:
        name = path.rsplit(".", 1)[-1]
        if not isinstance(args, list) or not 2 <= len(args) <= 10:
            raise TemplateError(
                f"Template error: {name} requires a list argument of 2 to 10 conditions", path
            )
        # Every operand is evaluated (CloudFormation does not short-circuit validation).
        return combine([self.boolean(a, _join_path(path, i)) for i, a in enumerate(args)])

    def not_(self, args: JSON, path: str) -> Value:
        if not isinstance(args, list) or len(args) != 1:
            raise TemplateError(
                "Template error: Fn::Not requires a list argument with one element", path
            )
        return not self.boolean(args[0], _join_path(path, 0))

    def members(self, value: JSON, path: str) -> list[str]:
        out = self.eval(value, path)
        items = out if isinstance(out, list) else [out]
        return [str(_scalar_text(i)) for i in items if not isinstance(i, _NoValue)]

    def contains(self, args: JSON, path: str) -> Value:
        if not isinstance(args, list) or len(args) != 2:
            raise TemplateError("Template error: Fn::Contains requires a list and a string", path)
        return str(_scalar_text(self.eval(args[1], _join_path(path, 1)))) in self.members(
            args[0], _join_path(path, 0)
        )

    def each_member_equals(self, args: JSON, path: str) -> Value:
        if not isinstance(args, list) or len(args) != 2:
            raise TemplateError(
                "Template error: Fn::EachMemberEquals requires a list and a string", path
            )
        value = str(_scalar_text(self.eval(args[1], _join_path(path, 1))))
        return all(m == value for m in self.members(args[0], _join_path(path, 0)))

    def each_member_in(self, args: JSON, path: str) -> Value:
        if not isinstance(args, list) or len(args) != 2:
            raise TemplateError("Template error: Fn::EachMemberIn requires two lists", path)
        allowed = set(self.members(args[1], _join_path(path, 1)))
        return all(m in allowed for m in self.members(args[0], _join_path(path, 0)))

    def condition_ref(self, args: JSON, path: str) -> Value:
        if not isinstance(args, str):
            raise TemplateError(
                "Template format error: Every Condition member must be a string.", path
            )
        return self.scope.condition(args, path)


def _scalar_text(value: Value) -> JSON:
    """Fn::Equals compares values as CloudFormation's strings (``1`` equals ``"1"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, _NoValue):
        return None
    return value


_FUNCTIONS: dict[str, Callable[[_Evaluator, JSON, str], Value]] = {
    "Ref": _Evaluator.ref,
    "Fn::GetAtt": _Evaluator.get_att,
    "Fn::Sub": _Evaluator.sub,
    "Fn::Join": _Evaluator.join,
    "Fn::Split": _Evaluator.split,
    "Fn::Select": _Evaluator.select,
    "Fn::Base64": _Evaluator.base64,
    "Fn::Cidr": _Evaluator.cidr,
    "Fn::GetAZs": _Evaluator.get_azs,
    "Fn::FindInMap": _Evaluator.find_in_map,
    "Fn::ImportValue": _Evaluator.import_value,
    "Fn::If": _Evaluator.if_,
    "Fn::Equals": _Evaluator.equals,
    "Fn::And": lambda e, a, p: e.and_or(a, p, all),
    "Fn::Or": lambda e, a, p: e.and_or(a, p, any),
    "Fn::Not": _Evaluator.not_,
    "Condition": _Evaluator.condition_ref,
    "Fn::Contains": _Evaluator.contains,
    "Fn::EachMemberEquals": _Evaluator.each_member_equals,
    "Fn::EachMemberIn": _Evaluator.each_member_in,
}
