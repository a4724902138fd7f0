"""Load a CloudFormation template (YAML with the short-form tags ``!Sub``, ``!GetAtt``…, or JSON)
into plain dicts, lists and strings, with cfn-lint's decoder (the one AWS's own linter uses), and
check the top-level shape with CloudFormation's error wording."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from eltflow.stacks.errors import TemplateError
from eltflow.types import JSON, JSONObject

SECTIONS = (
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
    "Hooks",
    "Globals",  # SAM's; removed by the transform
)
# Sections whose value must be an object of named members.
_OBJECT_SECTIONS = ("Parameters", "Mappings", "Conditions", "Resources", "Outputs")
# CloudFormation's quotas on a template's sections.
_LIMITS = {"Resources": 500, "Parameters": 200, "Outputs": 200, "Mappings": 200}
RESOURCE_KEYS = (
    "Type",
    "Properties",
    "DependsOn",
    "Condition",
    "Metadata",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "CreationPolicy",
    "UpdatePolicy",
)


@dataclass(frozen=True)
class Template:
    """A decoded template: ``body`` as written (stored with the stack), ``data`` as plain JSON."""

    body: str
    data: JSONObject = field(default_factory=dict)
    # The folder the template was read from: CDK asset folders (cdk.out/asset.<hash>) are
    # found relative to it. Empty for a template given as text.
    source_dir: str = ""

    def section(self, name: str) -> JSONObject:
        value = self.data.get(name) or {}
        return cast(JSONObject, value)

    @property
    def resources(self) -> JSONObject:
        return self.section("Resources")

    @property
    def description(self) -> str | None:
        value = self.data.get("Description")
        return value if isinstance(value, str) else None


def plain(value: Any) -> JSON:
    """cfn-lint's node classes (str/dict subclasses with line marks) as plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value) if isinstance(value, int) else float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()  # an unquoted YAML date such as 2010-09-09
    return str(value)


def load_template(text: str) -> Template:
    """Decode ``text``; a syntax error is AWS's ``Template format error: YAML not
    well-formed. (line L, column C)`` (or JSON)."""
    from cfnlint.decode import decode_str  # heavy (imports sympy): only when a stack is deployed

    if not text.strip():
        raise TemplateError("Template format error: the template is empty")
    decoded, matches = decode_str(text)
    if matches or decoded is None:
        kind = "JSON" if text.lstrip().startswith("{") else "YAML"
        first = matches[0] if matches else None
        where = f" (line {first.linenumber}, column {first.columnnumber})" if first else ""
        detail = f": {first.message}" if first is not None and first.message else ""
        raise TemplateError(f"Template format error: {kind} not well-formed.{where}{detail}")
    data = plain(decoded)
    if not isinstance(data, dict):
        raise TemplateError("Template format error: the template must be a JSON or YAML object")
    check_shape(data)
    return Template(body=text, data=data)


def read_template(path: str | Path) -> Template:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise TemplateError(f"cannot read template file {path}: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise TemplateError(f"template file {path} is not UTF-8 text") from e
    template = load_template(text)
    return Template(
        body=template.body, data=template.data, source_dir=str(Path(path).resolve().parent)
    )


def check_shape(data: JSONObject) -> None:
    """The checks CloudFormation makes before looking at any value."""
    unknown = [k for k in data if k not in SECTIONS]
    if unknown:
        raise TemplateError(
            f"Template format error: Invalid template property or properties [{', '.join(unknown)}]"
        )
    for name in _OBJECT_SECTIONS:
        if name in data and not isinstance(data[name], dict):
            raise TemplateError(f"Template format error: {name} must be an object", name)
    transform = data.get("Transform")
    names = transform if isinstance(transform, list) else [transform]
    if transform is not None and names != ["AWS::Serverless-2016-10-31"]:
        # The SAM transform is expanded by eltflow.stacks.sam; no other runs locally.
        raise TemplateError(
            f"Transform {', '.join(str(n) for n in names)} is not supported locally: deploy the "
            "processed template instead (for SAM: sam build / sam package output, or "
            "`aws cloudformation get-template --template-stage Processed`)",
            "Transform",
        )
    for name, limit in _LIMITS.items():
        section = data.get(name)
        if isinstance(section, dict) and len(section) > limit:
            raise TemplateError(
                f"Template format error: Number of {name.lower()}, {len(section)}, is greater "
                f"than maximum allowed, {limit}"
            )
    resources = data.get("Resources")
    if not resources:
        raise TemplateError("Template format error: At least one Resources member must be defined.")
    assert isinstance(resources, dict)
    for logical_id, body in resources.items():
        path = f"Resources.{logical_id}"
        if not logical_id.isalnum():
            raise TemplateError(
                f"Template format error: Resource name {logical_id} is non alphanumeric.", path
            )
        if not isinstance(body, dict) or not isinstance(body.get("Type"), str):
            raise TemplateError(
                f"Template format error: [/Resources/{logical_id}] Every Resources object must "
                "contain a Type member.",
                path,
            )
        extra = [k for k in body if k not in RESOURCE_KEYS]
        if extra:
            raise TemplateError(
                f"Template format error: Invalid resource attribute(s) [{', '.join(extra)}]", path
            )
        if "Properties" in body and not isinstance(body["Properties"], dict):
            raise TemplateError(
                "Template format error: Properties must be an object", f"{path}.Properties"
            )
    outputs = data.get("Outputs") or {}
    assert isinstance(outputs, dict)
    for key, body in outputs.items():
        if not isinstance(body, dict) or "Value" not in body:
            raise TemplateError(
                f"Template format error: Every Outputs member must contain a Value object, the "
                f"Outputs member {key} is missing the Value object.",
                f"Outputs.{key}",
            )
