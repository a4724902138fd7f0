"""ARNs and names exactly as AWS Step Functions spells them.

``arn:aws:states:us-east-1:123456789012:stateMachine:NAME`` and
``arn:aws:states:us-east-1:123456789012:execution:MACHINE:EXEC``; a version ARN appends
``:N`` to the machine ARN. An Express execution is
``arn:aws:states:us-east-1:123456789012:express:MACHINE:EXEC:UUID`` (AWS's, as StartSyncExecution
returns it: the name, then a UUID, since Express names need not be unique).
"""

from __future__ import annotations

from eltflow.asl import limits
from eltflow.errors import AwsApiError

REGION = "us-east-1"
ACCOUNT = "123456789012"
PREFIX = f"arn:aws:states:{REGION}:{ACCOUNT}"
DEFAULT_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/eltflow"


def validate_name(name: str, what: str = "name") -> str:
    """``name`` if AWS accepts it as a resource name (the rules are asl/limits.py's), else
    ``InvalidName`` saying what is wrong; ``what`` says which name it is."""
    kind: limits.NameKind = "state machine" if what.startswith("state machine") else "execution"
    problem = limits.validate_name(name, kind)
    if problem is not None:
        raise AwsApiError("InvalidName", f"Invalid {what}: {problem}")
    return name


def machine_arn(name: str) -> str:
    return f"{PREFIX}:stateMachine:{name}"


def version_arn(name: str, version: int) -> str:
    return f"{machine_arn(name)}:{version}"


def version_number(arn: str) -> int:
    """The version of a state machine version ARN (:func:`version_arn`'s ``version``): AWS
    gives it only as the ARN's last part. ValueError for an ARN without one."""
    return int(arn.rsplit(":", 1)[1])


def execution_arn(machine: str, name: str) -> str:
    return f"{PREFIX}:execution:{machine}:{name}"


def express_execution_arn(machine: str, name: str, run_id: str) -> str:
    return f"{PREFIX}:express:{machine}:{name}:{run_id}"


EXPRESS_NOT_VALID = "Invalid Arn: 'Resource type not valid in this context: express'"
"""What the execution APIs answer for an Express execution's ARN (InvalidArn): AWS keeps no
record of Express executions to describe, stop or read history from. The wording is AWS's
for a resource type an API does not take (recorded for StartExecution given an execution
ARN: "Resource type not valid in this context: execution"); for ``express`` unverified."""


def machine_name(arn_or_name: str) -> str:
    """The machine name of a state machine (or version) ARN; a bare name is returned as is."""
    if not arn_or_name.startswith("arn:"):
        return arn_or_name
    parts = arn_or_name.split(":")
    if len(parts) not in (7, 8) or parts[2] != "states" or parts[5] != "stateMachine":
        raise AwsApiError("InvalidArn", f"Invalid Arn: '{arn_or_name}' is not a state machine ARN")
    return parts[6]


def parse_execution_arn(arn: str) -> tuple[str, str]:
    """``(machine name, execution name)`` of an execution ARN."""
    parts = arn.split(":")
    if len(parts) == 9 and parts[:3] == ["arn", "aws", "states"] and parts[5] == "express":
        if "/" not in parts[6]:
            # A top-level Express execution (StartSyncExecution, StartExecution on EXPRESS).
            raise AwsApiError("InvalidArn", EXPRESS_NOT_VALID)
        # A Distributed Map's EXPRESS child: ...:express:MACHINE/LABEL:MAP_RUN_UUID:UUID.
        return parts[6], parts[8]
    if len(parts) != 8 or parts[:3] != ["arn", "aws", "states"] or parts[5] != "execution":
        raise AwsApiError("InvalidArn", f"Invalid Arn: '{arn}' is not an execution ARN")
    return parts[6], parts[7]


def parse_map_run_arn(arn: str) -> tuple[str, str, str]:
    """``(machine name, label, run id)`` of a Map Run ARN
    (``arn:aws:states:REGION:ACCOUNT:mapRun:MACHINE/LABEL:UUID``)."""
    parts = arn.split(":")
    if len(parts) != 8 or parts[:3] != ["arn", "aws", "states"] or parts[5] != "mapRun":
        raise AwsApiError("InvalidArn", f"Invalid Arn: '{arn}' is not a Map Run ARN")
    machine, _, label = parts[6].rpartition("/")
    if not machine or not label:
        raise AwsApiError("InvalidArn", f"Invalid Arn: '{arn}' is not a Map Run ARN")
    return machine, label, parts[7]
