"""Lambda functions recorded in the state store (a stack's AWS::Lambda::Function), on SQLite and
PostgreSQL: every query of store/sql/lambdas.sql through :class:`FunctionStore`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eltflow.errors import AwsApiError
from eltflow.lambdas.config import FunctionSpec
from eltflow.lambdas.functions import FunctionStore
from eltflow.store.db import Database
from eltflow.store.migrate import migrate

NOW = "2026-12-06T00:00:00+00:00"


@pytest.fixture
def functions(store_url: str) -> Iterator[FunctionStore]:
    db = Database(store_url)
    migrate(db)
    yield FunctionStore(db)
    db.close()


def _spec(name: str, **fields: object) -> FunctionSpec:
    base: dict[str, object] = {"handler": "index.handler", "code_dir": f"/code/{name}"}
    return FunctionSpec(name=name, **{**base, **fields})  # type: ignore[arg-type]


def test_recorded_functions_read_back_as_specs(functions: FunctionStore) -> None:
    b = _spec("b", timeout_seconds=30, memory_mb=256, environment={"STAGE": "dev"})
    functions.put(b, NOW)
    functions.put(_spec("a"), NOW)
    assert functions.get("b") == b
    assert functions.get("missing") is None
    assert [f.name for f in functions.all()] == ["a", "b"]
    assert functions.get("a") == _spec("a")  # no timeout stays None


def test_a_name_is_taken_unless_replaced(functions: FunctionStore) -> None:
    functions.put(_spec("f"), NOW)
    with pytest.raises(AwsApiError) as e:
        functions.put(_spec("f", handler="other.handler"), NOW)
    assert e.value.code == "ResourceConflictException"
    assert functions.get("f") == _spec("f")
    functions.put(_spec("f", handler="other.handler"), NOW, replace=True)
    got = functions.get("f")
    assert got is not None and got.handler == "other.handler"
    assert len(functions.all()) == 1


def test_delete_says_whether_there_was_one(functions: FunctionStore) -> None:
    functions.put(_spec("f"), NOW)
    assert functions.delete("f") is True
    assert functions.delete("f") is False
    assert functions.all() == []


def test_a_recorded_function_needs_its_code_folder(functions: FunctionStore) -> None:
    with pytest.raises(ValueError, match="code_dir"):
        functions.put(FunctionSpec(name="f", handler="index.handler"), NOW)
