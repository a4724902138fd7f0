"""Resources recorded but not created: IAM (roles, policies… — eltflow does not enforce IAM),
Lambda versions, aliases and permissions, log groups (the table below), and, with
``--skip-unsupported``, any other type without a local service. Each gets a physical id and the
attributes templates usually read, shaped like AWS's (the table below), and a warning is
recorded for the types whose absence could matter."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from eltflow.stacks.resources.base import Outcome, Request, Services, physical_name, text
from eltflow.types import JSONObject


@dataclass(frozen=True)
class _Shape:
    name_property: str = ""
    ref: str = "name"  # what Ref returns: "name", "arn" or "url"
    arn: str = "arn:aws:{service}:{region}:{account}:{kind}/{name}"
    attributes: tuple[tuple[str, str], ...] = ()  # (attribute, template)
    quiet: bool = False  # no warning: nothing local would behave differently


_IAM = "arn:aws:iam::{account}:"
_SHAPES: dict[str, _Shape] = {
    "AWS::IAM::Role": _Shape(
        "RoleName", arn=_IAM + "role/{name}", attributes=(("RoleId", "{id}"),), quiet=True
    ),
    "AWS::IAM::Policy": _Shape("PolicyName", arn=_IAM + "policy/{name}", quiet=True),
    "AWS::IAM::ManagedPolicy": _Shape(
        "ManagedPolicyName", ref="arn", arn=_IAM + "policy/{name}", quiet=True
    ),
    "AWS::IAM::InstanceProfile": _Shape(
        "InstanceProfileName", arn=_IAM + "instance-profile/{name}", quiet=True
    ),
    "AWS::IAM::User": _Shape("UserName", arn=_IAM + "user/{name}", quiet=True),
    "AWS::IAM::Group": _Shape("GroupName", arn=_IAM + "group/{name}", quiet=True),
    "AWS::StepFunctions::Activity": _Shape(
        "Name",
        ref="arn",
        arn="arn:aws:states:{region}:{account}:activity:{name}",
        attributes=(("Name", "{name}"),),
    ),
    "AWS::Lambda::Version": _Shape(
        ref="arn",
        arn="arn:aws:lambda:{region}:{account}:function:{function}:1",
        attributes=(("Version", "1"), ("FunctionArn", "{function_arn}")),
        quiet=True,
    ),
    "AWS::Lambda::Alias": _Shape(
        "Name",
        ref="arn",
        arn="arn:aws:lambda:{region}:{account}:function:{function}:{name}",
        attributes=(("AliasArn", "{arn}"),),
    ),
    "AWS::Lambda::Permission": _Shape(quiet=True),
    "AWS::Logs::LogGroup": _Shape(
        "LogGroupName", arn="arn:aws:logs:{region}:{account}:log-group:{name}:*", quiet=True
    ),
    "AWS::SQS::Queue": _Shape(
        "QueueName",
        ref="url",
        arn="arn:aws:sqs:{region}:{account}:{name}",
        attributes=(("QueueName", "{name}"), ("QueueUrl", "{url}")),
    ),
    "AWS::KMS::Key": _Shape(ref="name", arn="arn:aws:kms:{region}:{account}:key/{name}"),
    "AWS::CDK::Metadata": _Shape(quiet=True),
    "AWS::CloudFormation::WaitConditionHandle": _Shape(quiet=True),
}

# The types recorded on purpose; any other type is recorded only with --skip-unsupported.
RECORDED_TYPES = frozenset(_SHAPES)


class RecordedProvider:
    replace_on: frozenset[str] = frozenset()
    name_property = ""

    def __init__(self, resource_type: str) -> None:
        self.type = resource_type
        self.shape = _SHAPES.get(resource_type, _Shape())

    def _outcome(self, services: Services, request: Request, name: str) -> Outcome:
        parts = self.type.split("::")
        function = str(request.properties.get("FunctionName") or "").rsplit(":", 1)[-1]
        values = {
            "service": parts[1].lower() if len(parts) == 3 else "custom",
            "kind": parts[-1].lower(),
            "region": services.region,
            "account": services.account,
            "name": name,
            "function": function,
            "function_arn": f"arn:aws:lambda:{services.region}:{services.account}:function:"
            f"{function}",
            "url": f"https://sqs.{services.region}.amazonaws.com/{services.account}/{name}",
        }
        arn = self.shape.arn.format(**values)
        values["arn"] = arn
        values["id"] = "AROA" + hashlib.sha256(arn.encode()).hexdigest()[:17].upper()
        attributes: JSONObject = {"Arn": arn}
        for attribute, template in self.shape.attributes:
            attributes[attribute] = template.format(**values)
        physical = {"name": name, "arn": arn, "url": values["url"]}[self.shape.ref]
        warnings: tuple[str, ...] = ()
        if not self.shape.quiet:
            warnings = (f"{self.type} is not created locally: recorded only",)
        return Outcome(physical_id=physical, attributes=attributes, warnings=warnings)

    def create(self, services: Services, request: Request) -> Outcome:
        prop = self.shape.name_property
        name = (text(request.properties, prop) if prop else "") or physical_name(request, 64)
        return self._outcome(services, request, name)

    def update(self, services: Services, request: Request) -> Outcome:
        prop = self.shape.name_property
        name = text(request.properties, prop) if prop else ""
        if not name:  # generated: the name is the last part of the physical id
            name = request.physical_id.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        return self._outcome(services, request, name)

    def delete(self, services: Services, request: Request) -> None:
        return None
