"""The one exception hierarchy of eltflow.

Every error a user can see is an :class:`EltflowError`. Errors that happen *inside* an execution
(a task failing, a bad path at run time) are not Python exceptions that escape: they become ASL
error names (``States.TaskFailed``...) recorded in history; :class:`StatesError` carries one of
those names while the interpreter decides what to do with it.
"""

from __future__ import annotations

from dataclasses import dataclass


class EltflowError(Exception):
    """Base class of every eltflow error."""


@dataclass(frozen=True, kw_only=True)
class Diagnostic:
    """One problem found in a definition, located by a JSON pointer-ish path.

    ``code`` follows AWS's ValidateStateMachineDefinition codes (``SCHEMA_VALIDATION_FAILED``,
    ``MISSING_TRANSITION_TARGET``, ...).
    """

    path: str
    code: str
    message: str
    # eltflow's own advice next to AWS's message ("did you mean 'LoadFact'?"): kept apart so
    # ``message`` stays exactly AWS's wording for the API and the endpoint.
    hint: str = ""
    # AWS's two severities: an ERROR stops the machine from being created, a WARNING does not.
    severity: str = "ERROR"

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        level = "" if self.severity == "ERROR" else f"{self.severity} "
        return f"{level}{self.code} at {self.path or '/'}: {self.message}{hint}"


class DefinitionError(EltflowError):
    """The state machine definition is invalid."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        lines = "\n".join(f"  - {d}" for d in self.diagnostics)
        super().__init__(f"Invalid state machine definition:\n{lines}")


class StatesError(EltflowError):
    """A runtime error with an ASL error name, e.g. ``States.IntrinsicFailure``.

    Raised by pure ASL helpers (paths, intrinsics, JSONata) and by integrations; the interpreter
    turns it into Retry/Catch decisions and history events.
    """

    def __init__(self, error: str, cause: str = "") -> None:
        self.error = error
        self.cause = cause
        super().__init__(f"{error}: {cause}" if cause else error)


class ConfigError(EltflowError):
    """Configuration (eltflow.toml, environment) is invalid."""


class StoreError(EltflowError):
    """The state store failed; the driver's error is the ``__cause__``."""


class ConflictError(StoreError):
    """A write conflicts with what is already recorded."""


class UnavailableError(EltflowError):
    """A database or file cannot be opened now: missing, locked by another process, unreachable.

    The message says which one and what to do (``createdb NAME``, stop the process holding it).
    """


class NotFoundError(EltflowError):
    """A named resource (state machine, execution, table, ...) does not exist."""


class AwsApiError(EltflowError):
    """An AWS-API-shaped error returned by a local service (``ExecutionAlreadyExists``...).

    ``code`` is AWS's error code, as botocore would put in ``Error.Code``.
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class ScheduleError(EltflowError):
    """A schedule expression or schedule configuration is invalid."""
