"""A Wait's Timestamp / TimestampPath / JSONata Timestamp as the Wait docs define it: RFC 3339
with an uppercase T and Z, an offset allowed, fractions of a second truncated."""

from __future__ import annotations

import pytest

from eltflow import execute
from eltflow.types import JSON

PATH_WAIT: dict[str, JSON] = {
    "StartAt": "W",
    "States": {"W": {"Type": "Wait", "TimestampPath": "$.t", "End": True}},
}
JSONATA_WAIT: dict[str, JSON] = {
    "QueryLanguage": "JSONata",
    "StartAt": "W",
    "States": {"W": {"Type": "Wait", "Timestamp": "{% $states.input.t %}", "End": True}},
}


@pytest.mark.parametrize(
    ("text", "ends"),
    [
        ("2030-01-01T00:00:00Z", "2030-01-01T00:00:00+00:00"),
        ("2030-01-01T00:00:00.987654Z", "2030-01-01T00:00:00+00:00"),  # truncated, not rounded
        ("2030-01-01T01:30:00+01:00", "2030-01-01T00:30:00+00:00"),
    ],
)
def test_valid_timestamps_are_waited_for_to_the_second(text: str, ends: str) -> None:
    for definition in (PATH_WAIT, JSONATA_WAIT):
        result = execute(definition, {"t": text}, virtual_time=True)
        assert result.status == "SUCCEEDED"
        assert result.history[-1].timestamp.isoformat() == ends


@pytest.mark.parametrize(
    "text",
    ["2030-01-01t00:00:00Z", "2030-01-01T00:00:00z", "2030-01-01T00:00Z", "2030-01-01T00:00:00"],
)
def test_lowercase_or_partial_timestamps_are_refused(text: str) -> None:
    at = "An error occurred while executing the state 'W' (entered at the event id #2). "
    path = execute(PATH_WAIT, {"t": text}, virtual_time=True)
    assert (path.error, path.cause) == (
        "States.Runtime",
        at + "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
        f"date-time format string: $.t == {text}",
    )
    jsonata = execute(JSONATA_WAIT, {"t": text}, virtual_time=True)
    assert jsonata.status == "FAILED" and jsonata.error == "States.QueryEvaluationError"
