"""Lambda functions recorded in the state store (created by a CloudFormation stack), so every
worker process finds them; functions in eltflow.toml take precedence over a recorded one of the
same name. A recorded function's code lives in its ``code_dir`` and its handler is AWS's
``file.function`` form (``index.handler``). The SQL is the store's named queries
``sql/lambdas.sql``."""

from __future__ import annotations

import json
from typing import Any

from eltflow.errors import AwsApiError
from eltflow.lambdas.config import FunctionSpec
from eltflow.store.db import Database
from eltflow.store.queries import service_queries


def _spec(row: dict[str, Any]) -> FunctionSpec:
    timeout = row["timeout_seconds"]
    return FunctionSpec(
        name=row["name"],
        handler=row["handler"],
        runtime=row["runtime"],
        code_dir=row["code_dir"],
        timeout_seconds=None if timeout is None else float(timeout),
        memory_mb=int(row["memory_mb"]),
        environment=json.loads(row["environment"]),
    )


class FunctionStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.q = service_queries("lambdas", db.dialect)

    def get(self, name: str) -> FunctionSpec | None:
        rows = self.db.execute(self.q["get_function"], {"n": name})
        return _spec(rows[0]) if rows else None

    def all(self) -> list[FunctionSpec]:
        return [_spec(r) for r in self.db.execute(self.q["list_functions"])]

    def put(self, spec: FunctionSpec, now_iso: str, *, replace: bool = False) -> None:
        """Record ``spec``; without ``replace`` an existing name is AWS's
        ``ResourceConflictException``."""
        if spec.code_dir is None:
            raise ValueError("a recorded function needs its code_dir")
        row = {
            "n": spec.name,
            "h": spec.handler,
            "r": spec.runtime,
            "c": spec.code_dir,
            "t": None if spec.timeout_seconds is None else int(spec.timeout_seconds),
            "m": spec.memory_mb,
            "e": json.dumps(dict(spec.environment)),
            "at": now_iso,
        }
        with self.db.transaction() as conn:
            exists = conn.execute(self.q["function_exists"], row)
            if exists and not replace:
                raise AwsApiError(
                    "ResourceConflictException", f"Function already exist: {spec.name}"
                )
            conn.execute(self.q["delete_function"], row)
            conn.execute(self.q["insert_function"], row)

    def delete(self, name: str) -> bool:
        with self.db.transaction() as conn:
            found = conn.execute(self.q["function_exists"], {"n": name})
            conn.execute(self.q["delete_function"], {"n": name})
        return bool(found)
