"""Template parameters: the values given, the previous ones (on update) or the defaults, checked
against Type, AllowedValues, AllowedPattern, Min/MaxLength and Min/MaxValue with
CloudFormation's messages. Pure.

``Ref`` to a ``CommaDelimitedList`` or ``List<…>`` parameter gives a list of strings; any other
parameter gives its string (a ``Number`` too, as in CloudFormation). ``NoEcho`` values are
masked (``****``) wherever the stack is described.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from eltflow.stacks.errors import TemplateError
from eltflow.types import JSON, JSONObject

MASK = "****"
_SIMPLE_TYPES = ("String", "Number", "List<Number>", "CommaDelimitedList")
_PARAM_KEYS = (
    "Type",
    "Default",
    "Description",
    "AllowedValues",
    "AllowedPattern",
    "ConstraintDescription",
    "MaxLength",
    "MinLength",
    "MaxValue",
    "MinValue",
    "NoEcho",
)


@dataclass(frozen=True, kw_only=True)
class Parameter:
    key: str
    text: str  # the value as given ("a,b" for a list)
    value: JSON  # what Ref returns
    no_echo: bool = False

    @property
    def shown(self) -> str:
        return MASK if self.no_echo else self.text


def _is_list(type_: str) -> bool:
    return type_ == "CommaDelimitedList" or type_.startswith("List<")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _text(value: JSON) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return "" if value is None else str(value)


def resolve_parameters(
    declared: JSONObject,
    given: Mapping[str, str],
    previous: Mapping[str, str] | None = None,
) -> dict[str, Parameter]:
    """Every declared parameter's value. ``previous`` (an update's earlier values) is used for
    parameters not given again, as ``aws cloudformation deploy`` does."""
    unknown = sorted(k for k in given if k not in declared)
    if unknown:
        raise TemplateError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    out: dict[str, Parameter] = {}
    missing: list[str] = []
    for key, spec in declared.items():
        path = f"Parameters.{key}"
        if not isinstance(spec, dict) or not isinstance(spec.get("Type"), str):
            raise TemplateError(
                "Template format error: Every Parameters object must contain a Type member.",
                path,
            )
        extra = [k for k in spec if k not in _PARAM_KEYS]
        if extra:
            raise TemplateError(
                f"Template format error: Invalid template parameter property '{extra[0]}'", path
            )
        if key in given:
            text = given[key]
        elif previous is not None and key in previous:
            text = previous[key]
        elif "Default" in spec:
            text = _text(spec["Default"])
        else:
            missing.append(key)
            continue
        out[key] = check_parameter(key, spec, text)
    if missing:
        raise TemplateError(f"Parameters: [{', '.join(missing)}] must have values")
    return out


def check_parameter(key: str, spec: JSONObject, text: str) -> Parameter:
    type_ = str(spec["Type"])
    path = f"Parameters.{key}"
    if not (
        type_ in _SIMPLE_TYPES
        or type_.startswith("AWS::")
        or (type_.startswith("List<") and type_.endswith(">"))
    ):
        raise TemplateError(
            f"Template format error: Unrecognized parameter type: {type_}", f"{path}.Type"
        )
    if type_.startswith("AWS::SSM::Parameter::"):
        # A local stack has no SSM Parameter Store: the value given is used as the value.
        pass
    items = [t.strip() for t in text.split(",")] if _is_list(type_) else [text]
    constraint = spec.get("ConstraintDescription")

    def fail(message: str) -> TemplateError:
        if isinstance(constraint, str) and constraint:
            return TemplateError(f"Parameter '{key}' failed to satisfy constraint: {constraint}")
        return TemplateError(message)

    numeric = type_ in ("Number", "List<Number>")
    for item in items:
        if numeric and _number(item) is None:
            raise TemplateError(f"Parameter '{key}' must be a number")
        allowed = spec.get("AllowedValues")
        if isinstance(allowed, list) and item not in [_text(a) for a in allowed]:
            raise fail(f"Parameter '{key}' must be one of AllowedValues")
        pattern = spec.get("AllowedPattern")
        if isinstance(pattern, str):
            try:
                matched = re.fullmatch(pattern, item) is not None
            except re.error as e:
                raise TemplateError(
                    f"Template format error: AllowedPattern {pattern!r} is not a valid regular "
                    f"expression: {e}",
                    f"{path}.AllowedPattern",
                ) from None
            if not matched:
                raise fail(f"Parameter '{key}' must match pattern {pattern}")
        length = len(item)
        low_len, high_len = spec.get("MinLength"), spec.get("MaxLength")
        if low_len is not None and length < int(_number(_text(low_len)) or 0):
            raise fail(f"Parameter '{key}' must contain at least {_text(low_len)} characters")
        if high_len is not None and length > int(_number(_text(high_len)) or 0):
            raise fail(f"Parameter '{key}' must contain at most {_text(high_len)} characters")
        if numeric:
            number = _number(item)
            assert number is not None
            low, high = spec.get("MinValue"), spec.get("MaxValue")
            if low is not None and number < (_number(_text(low)) or 0):
                raise fail(f"Parameter '{key}' must be a number not less than {_text(low)}")
            if high is not None and number > (_number(_text(high)) or 0):
                raise fail(f"Parameter '{key}' must be a number not greater than {_text(high)}")
    value: JSON = list(items) if _is_list(type_) else text
    no_echo = _text(spec.get("NoEcho", False)).lower() == "true"
    return Parameter(key=key, text=text, value=value, no_echo=no_echo)
