"""ARN helpers (runtime/arns.py): a version ARN's number."""

from __future__ import annotations

import pytest

from eltflow.runtime import arns


@pytest.mark.parametrize("version", [1, 7, 120])
def test_version_number_reads_back_version_arn(version: int) -> None:
    assert arns.version_number(arns.version_arn("nightly-load", version)) == version


def test_a_machine_arn_has_no_version_number() -> None:
    with pytest.raises(ValueError):
        arns.version_number(arns.machine_arn("nightly-load"))
