"""GetFunction and ListFunctions of local functions (lambdas/catalog.py): Lambda's
``FunctionConfiguration`` and ListFunctions' marker paging."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from eltflow.errors import AwsApiError
from eltflow.lambdas.catalog import configuration, get_function, list_functions
from eltflow.lambdas.config import FunctionSpec, LambdaSettings
from eltflow.lambdas.runner import LambdaRunner

NAMES = ("Delta", "Alpha", "Charlie", "Bravo")


@pytest.fixture
def runner() -> Iterator[LambdaRunner]:
    specs = {n: FunctionSpec(name=n, handler=f"handlers:{n.lower()}") for n in NAMES}
    r = LambdaRunner(LambdaSettings(functions=specs, region="eu-west-1", account="111122223333"))
    yield r
    r.close()


def test_a_configuration_is_lambdas_shape() -> None:
    settings = LambdaSettings(region="eu-west-1", account="111122223333")
    spec = FunctionSpec(name="Load", handler="pkg.jobs:run", timeout_seconds=0.4, memory_mb=256)
    got = configuration(settings, spec)
    assert got["FunctionArn"] == "arn:aws:lambda:eu-west-1:111122223333:function:Load"
    assert got["Handler"] == "pkg.jobs.run"  # AWS writes module.function
    assert got["Runtime"] == f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert got["Role"] == "arn:aws:iam::111122223333:role/eltflow-lambda"
    assert (got["Timeout"], got["MemorySize"]) == (1, 256)  # at least a second
    # No timeout of its own: Lambda's maximum.
    assert configuration(settings, FunctionSpec(name="F", handler="m:f"))["Timeout"] == 900


def test_get_function(runner: LambdaRunner) -> None:
    got = get_function(runner, "Bravo")
    assert got["Configuration"]["FunctionName"] == "Bravo"
    assert got["Code"] == {"RepositoryType": "S3"}
    with pytest.raises(AwsApiError) as e:
        get_function(runner, "Nope")
    assert e.value.code == "ResourceNotFoundException"


def test_list_functions_pages_by_name_after_the_marker(runner: LambdaRunner) -> None:
    first = list_functions(runner, max_items=3)
    assert [f["FunctionName"] for f in first["Functions"]] == ["Alpha", "Bravo", "Charlie"]
    assert first["NextMarker"] == "Charlie"
    rest = list_functions(runner, first["NextMarker"], 3)
    assert [f["FunctionName"] for f in rest["Functions"]] == ["Delta"]
    assert "NextMarker" not in rest


@pytest.mark.parametrize(("asked", "size"), [(0, 1), (-5, 1), (2, 2), (500, 4)])
def test_max_items_is_clamped_to_one_to_fifty(runner: LambdaRunner, asked: int, size: int) -> None:
    assert len(list_functions(runner, max_items=asked)["Functions"]) == size


def test_no_lambda_service_lists_nothing() -> None:
    assert list_functions(None) == {"Functions": []}
