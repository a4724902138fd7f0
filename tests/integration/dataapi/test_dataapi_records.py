"""Python values as Data API ``Field`` unions and columns as ``ColumnMetadata``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

import pytest

from eltflow.dataapi.records import column_metadata, field
from eltflow.warehouse.base import Column


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {"isNull": True}),
        (True, {"booleanValue": True}),
        (7, {"longValue": 7}),
        (2.5, {"doubleValue": 2.5}),
        (float("nan"), {"stringValue": "nan"}),
        (Decimal("12.30"), {"stringValue": "12.30"}),
        (Decimal("1E+2"), {"stringValue": "100"}),
        (datetime(2024, 1, 2, 3, 4, 5), {"stringValue": "2024-01-02 03:04:05"}),
        (
            datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=UTC),
            {"stringValue": "2024-01-02 03:04:05.600000+00:00"},
        ),
        (date(2024, 2, 29), {"stringValue": "2024-02-29"}),
        (time(10, 11), {"stringValue": "10:11:00"}),
        (timedelta(days=1, hours=2), {"stringValue": "1 day, 2:00:00"}),
        (b"\x00\xff", {"blobValue": "AP8="}),
        ("text", {"stringValue": "text"}),
        (UUID(int=1), {"stringValue": "00000000-0000-0000-0000-000000000001"}),
        ([1, {"a": None}], {"stringValue": '[1,{"a":null}]'}),
    ],
)
def test_field(value: Any, expected: dict[str, Any]) -> None:
    assert field(value) == expected


def test_column_metadata_flags() -> None:
    columns = [
        Column(name="n", type_name="numeric", precision=10, scale=2),
        Column(name="s", type_name="varchar", length=20),
    ]
    meta = cast(list[dict[str, Any]], column_metadata(columns))
    assert meta[0]["isSigned"] is True and meta[0]["isCaseSensitive"] is False
    assert (meta[0]["precision"], meta[0]["scale"]) == (10, 2)
    assert meta[1]["isCaseSensitive"] is True and meta[1]["length"] == 20
    assert meta[1]["label"] == meta[1]["name"] == "s"
