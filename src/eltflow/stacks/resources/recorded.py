"""Resources recorded but not created: IAM (roles, policies, managed policies, instance
profiles — eltflow does not enforce IAM) and any type without a local service. AWS accepts them,
so the stack deploys; each gets a physical id and the attributes templates usually read
(``Arn``; IAM's ``RoleId``), and a warning is recorded for types that are not IAM."""

from __future__ import annotations

import hashlib

from eltflow.stacks.resources.base import Outcome, Request, Services, physical_name, text
from eltflow.types import JSONObject

_NAME_PROPERTY = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::Policy": "PolicyName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::StepFunctions::Activity": "Name",
}


# Types that are only metadata on AWS too: recorded without a warning.
_SILENT = ("AWS::CDK::Metadata", "AWS::CloudFormation::WaitConditionHandle")


class RecordedProvider:
    replace_on: frozenset[str] = frozenset()
    name_property = ""

    def __init__(self, resource_type: str) -> None:
        self.type = resource_type

    def _outcome(self, services: Services, request: Request, name: str) -> Outcome:
        service = self.type.split("::")[1].lower() if self.type.count("::") == 2 else "custom"
        iam = self.type.startswith("AWS::IAM::")
        kind = self.type.rsplit("::", 1)[-1].lower()
        if iam:
            kind = "policy" if kind == "managedpolicy" else kind
            arn = f"arn:aws:iam::{services.account}:{kind}/{name}"
        else:
            arn = f"arn:aws:{service}:{services.region}:{services.account}:{kind}/{name}"
        attributes: JSONObject = {"Arn": arn}
        if self.type == "AWS::IAM::Role":
            attributes["RoleId"] = "AROA" + hashlib.sha256(arn.encode()).hexdigest()[:17].upper()
        physical = arn if self.type == "AWS::IAM::ManagedPolicy" else name
        if self.type == "AWS::StepFunctions::Activity":
            # Ref is the activity's ARN; activity tasks do not run locally.
            arn = f"arn:aws:states:{services.region}:{services.account}:activity:{name}"
            physical, attributes = arn, {"Arn": arn, "Name": name}
        warnings: tuple[str, ...] = ()
        if not iam and self.type not in _SILENT:
            warnings = (f"{self.type} is not created locally: recorded only",)
        return Outcome(physical_id=physical, attributes=attributes, warnings=warnings)

    def create(self, services: Services, request: Request) -> Outcome:
        prop = _NAME_PROPERTY.get(self.type, "")
        name = (text(request.properties, prop) if prop else "") or physical_name(request, 64)
        return self._outcome(services, request, name)

    def update(self, services: Services, request: Request) -> Outcome:
        name = request.physical_id.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        return self._outcome(services, request, name)

    def delete(self, services: Services, request: Request) -> None:
        return None
