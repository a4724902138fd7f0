"""ARNs and names exactly as AWS Step Functions spells them.

``arn:aws:states:us-east-1:123456789012:stateMachine:NAME`` and
``arn:aws:states:us-east-1:123456789012:execution:MACHINE:EXEC``; a version ARN appends
``:N`` to the machine ARN.
"""

from __future__ import annotations

import re

from eltflow.errors import AwsApiError

REGION = "us-east-1"
ACCOUNT = "123456789012"
PREFIX = f"arn:aws:states:{REGION}:{ACCOUNT}"
DEFAULT_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/eltflow"

# AWS: 1-80 characters; no whitespace, brackets, wildcards, punctuation that ARNs or URLs use,
# or control characters.
_BAD_NAME = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")


def validate_name(name: str, what: str = "name") -> str:
    if not 1 <= len(name) <= 80:
        raise AwsApiError("InvalidName", f"Invalid {what}: {name!r} must be 1-80 characters")
    bad = _BAD_NAME.search(name)
    if bad:
        raise AwsApiError(
            "InvalidName", f"Invalid {what}: {name!r} contains {bad.group()!r} (not allowed)"
        )
    return name


def machine_arn(name: str) -> str:
    return f"{PREFIX}:stateMachine:{name}"


def version_arn(name: str, version: int) -> str:
    return f"{machine_arn(name)}:{version}"


def execution_arn(machine: str, name: str) -> str:
    return f"{PREFIX}:execution:{machine}:{name}"


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
    if len(parts) != 8 or parts[:3] != ["arn", "aws", "states"] or parts[5] != "execution":
        raise AwsApiError("InvalidArn", f"Invalid Arn: '{arn}' is not an execution ARN")
    return parts[6], parts[7]
