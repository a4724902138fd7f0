"""CloudFormation's errors: ``ValidationError`` (bad template or parameters, unknown stack) and
``AlreadyExistsException``, raised as :class:`~eltflow.errors.AwsApiError` so the CLI and the
HTTP layer print AWS's code, with the template path first where one is known."""

from __future__ import annotations

from eltflow.errors import AwsApiError, EltflowError


class TemplateError(AwsApiError):
    """A template or parameter problem: AWS's ``ValidationError`` wording, located by ``path``
    (``Resources.MyMachine.Properties.DefinitionString``)."""

    def __init__(self, message: str, path: str = "") -> None:
        self.path = path
        self.reason = message
        super().__init__("ValidationError", f"{path}: {message}" if path else message)


def unresolved(names: list[str] | set[str], block: str = "Resources") -> str:
    """AWS's message for a Ref / GetAtt / DependsOn to something the template lacks."""
    listed = ", ".join(sorted(names))
    return (
        f"Template format error: Unresolved resource dependencies [{listed}] in the {block} "
        "block of the template"
    )


def stack_missing(name: str) -> AwsApiError:
    return AwsApiError("ValidationError", f"Stack with id {name} does not exist")


class DeployFailed(EltflowError):
    """A stack operation failed after it started changing resources; what was made is rolled
    back and the stack shows ``status`` (``ROLLBACK_COMPLETE``...) with ``reason``."""

    def __init__(self, stack: str, status: str, reason: str) -> None:
        self.stack = stack
        self.status = status
        self.reason = reason
        super().__init__(f"stack {stack} is {status}: {reason}")
