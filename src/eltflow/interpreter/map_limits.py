"""A Map state's MaxConcurrency / ToleratedFailureCount / ToleratedFailurePercentage read
through their ``...Path`` fields: which values AWS accepts and how it words the rest.

The causes are AWS's as LocalStack's AWS-validated snapshot tests pin them:

- ``The MaxConcurrencyPath field refers to value "x" which is not a valid integer: $.path``,
  ``Expected non-negative integer for MaxConcurrency, got '-1' instead.``;
- ``The ToleratedFailureCountPath field refers to value "1.5" which is not a valid integer:
  $.path``, ``ToleratedFailureCount cannot be negative.``;
- ``The ToleratedFailurePercentagePath field refers to value "x" which is not a valid float:
  $.path``, ``ToleratedFailurePercentage must be between 0 and 100.``

A string holding an integer (``"3"``) is read as that integer; MaxConcurrency also truncates a
fractional number (Java's int conversion). The value inside the quotes is the string itself,
or the JSON text of any other value (``null``, ``{"a":1}``). How AWS treats ``true``, and the
JSON spacing of an object quoted there, is unverified: here a boolean is not a number.
"""

from __future__ import annotations

from eltflow.asl import errors as asl_errors
from eltflow.asl.java import compact_json
from eltflow.errors import StatesError
from eltflow.types import JSON


def _as_int(value: JSON) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _shown(value: JSON) -> str:
    return value if isinstance(value, str) else compact_json(value)


def _not_valid(field: str, path: str, value: JSON, kind: str) -> StatesError:
    return StatesError(
        asl_errors.RUNTIME,
        f'The {field}Path field refers to value "{_shown(value)}" which is not a valid '
        f"{kind}: {path}",
    )


def in_range(field: str, number: float) -> float:
    """The range check of a resolved number, wherever it came from (a ``...Path`` field or a
    JSONata expression): AWS's causes name the field, not the path. (For a JSONata value the
    wording is assumed to be the same: unverified.)"""
    if field == "MaxConcurrency" and number < 0:
        raise StatesError(
            asl_errors.RUNTIME,
            f"Expected non-negative integer for MaxConcurrency, got '{int(number)}' instead.",
        )
    if field == "ToleratedFailureCount" and number < 0:
        raise StatesError(asl_errors.RUNTIME, "ToleratedFailureCount cannot be negative.")
    if field == "ToleratedFailurePercentage" and not 0 <= number <= 100:
        raise StatesError(
            asl_errors.RUNTIME, "ToleratedFailurePercentage must be between 0 and 100."
        )
    return number


def max_concurrency(path: str, value: JSON) -> int:
    number = _as_int(value)
    if number is None and isinstance(value, float):
        number = int(value)  # truncated, as Java's (int) cast
    if number is None:
        raise _not_valid("MaxConcurrency", path, value, "integer")
    return int(in_range("MaxConcurrency", number))


def tolerated_failure_count(path: str, value: JSON) -> int:
    number = _as_int(value)
    if number is None:
        raise _not_valid("ToleratedFailureCount", path, value, "integer")
    return int(in_range("ToleratedFailureCount", number))


def tolerated_failure_percentage(path: str, value: JSON) -> float:
    number: float | None = _as_int(value)
    if number is None and isinstance(value, float):
        number = value
    if number is None:
        raise _not_valid("ToleratedFailurePercentage", path, value, "float")
    return in_range("ToleratedFailurePercentage", number)


FROM_PATH = {
    "MaxConcurrency": max_concurrency,
    "ToleratedFailureCount": tolerated_failure_count,
    "ToleratedFailurePercentage": tolerated_failure_percentage,
}
"""Field name -> the check of the value its ``...Path`` resolved to."""
