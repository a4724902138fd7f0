"""``AWS::StepFunctions::StateMachine`` through the runtime's StatesService.

Definition (an object), DefinitionString, DefinitionS3Location (the local S3),
DefinitionSubstitutions (``${Key}`` in the
definition replaced by the value, as CloudFormation does before creating the machine),
StateMachineName, StateMachineType (STANDARD, or EXPRESS: runtime/express.py), RoleArn. Logging,
tracing and tags are recorded with the resource, not acted on. ``Ref`` is the ARN;
``Fn::GetAtt``: Arn, Name, StateMachineRevisionId.
"""

from __future__ import annotations

import json

from eltflow.asl.substitutions import substitute
from eltflow.errors import AwsApiError
from eltflow.stacks.resources.base import Outcome, Request, Services, physical_name, text
from eltflow.types import JSON, JSONObject


def definition_text(properties: JSONObject, services: Services | None = None) -> str:
    """The definition with DefinitionSubstitutions applied; unknown ``${x}`` stay as written.
    DefinitionS3Location is read from the local S3 (``.eltflow/s3/<Bucket>/<Key>``)."""
    given = [
        k for k in ("Definition", "DefinitionString", "DefinitionS3Location") if k in properties
    ]
    if len(given) > 1:
        raise AwsApiError(
            "ValidationError",
            "Specify only one of Definition, DefinitionString, DefinitionS3Location",
        )
    location = properties.get("DefinitionS3Location")
    if location is not None:
        if services is None or not isinstance(location, dict):
            raise AwsApiError("ValidationError", "DefinitionS3Location must be an object")
        path = services.s3_object(
            location.get("Bucket"), location.get("Key"), "Properties.DefinitionS3Location"
        )
        body = path.read_text(encoding="utf-8")
    elif isinstance(properties.get("Definition"), dict):
        body = json.dumps(properties["Definition"], indent=2)
    elif isinstance(properties.get("DefinitionString"), str):
        body = str(properties["DefinitionString"])
    else:
        raise AwsApiError(
            "ValidationError",
            "Properties: one of Definition (an object) or DefinitionString (a string) is required",
        )
    substitutions = properties.get("DefinitionSubstitutions") or {}
    if not isinstance(substitutions, dict):
        raise AwsApiError("ValidationError", "DefinitionSubstitutions must be an object")

    values = {str(k): _substitution(v) for k, v in substitutions.items()}
    # CloudFormation replaces text as it is (no JSON escaping), unknown placeholders stay.
    return substitute(body, values, escape=False)


def _substitution(value: JSON) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise AwsApiError(
        "ValidationError", "DefinitionSubstitutions values must be strings, numbers or booleans"
    )


class StateMachineProvider:
    replace_on = frozenset({"StateMachineName", "StateMachineType"})
    name_property = "StateMachineName"

    def _name(self, request: Request) -> str:
        return text(request.properties, "StateMachineName") or physical_name(request, 80)

    def _outcome(self, services: Services, arn: str) -> Outcome:
        described = services.states.describe_state_machine(state_machine_arn=arn)
        attributes: JSONObject = {
            "Arn": arn,
            "Name": described["name"],
            "StateMachineRevisionId": described["revisionId"],
        }
        return Outcome(physical_id=arn, attributes=attributes)

    def create(self, services: Services, request: Request) -> Outcome:
        props = request.properties
        kwargs: dict[str, str] = {}
        role = text(props, "RoleArn")
        if role:
            kwargs["role_arn"] = role
        out = services.states.create_state_machine(
            name=self._name(request),
            definition=definition_text(props, services),
            type=text(props, "StateMachineType", "STANDARD"),
            **kwargs,
        )
        return self._outcome(services, str(out["stateMachineArn"]))

    def update(self, services: Services, request: Request) -> Outcome:
        role = text(request.properties, "RoleArn") or None
        services.states.update_state_machine(
            state_machine_arn=request.physical_id,
            definition=definition_text(request.properties, services),
            role_arn=role,
        )
        return self._outcome(services, request.physical_id)

    def delete(self, services: Services, request: Request) -> None:
        services.states.delete_state_machine(state_machine_arn=request.physical_id)
