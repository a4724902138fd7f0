"""What a resource provider is given and returns, and the services it may use."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from eltflow.errors import AwsApiError
from eltflow.s3.service import S3Service
from eltflow.types import JSON, JSONObject

REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass(frozen=True, kw_only=True)
class Services:
    """The local services a stack creates resources through (the app's own objects)."""

    states: Any  # eltflow.runtime.service.StatesService
    dynamodb: Any = None  # .call(operation, request), DynamoDB's API
    sns: Any = None  # .call(operation, request), SNS's API
    lambdas: Any = None  # eltflow.lambdas.functions.FunctionStore
    lambda_runner: Any = None  # eltflow.lambdas.runner.LambdaRunner (custom resources)
    schedules: Any = None  # eltflow.scheduler.store.ScheduleStore
    rules: Any = None  # eltflow.scheduler.rules.RuleStore (rules with an EventPattern)
    # Names [warehouses.*] configures (empty: every name reaches the default warehouse).
    warehouse_names: tuple[str, ...] = ()
    data_dir: Path | None = None  # where resources keep files (Lambda code)
    s3_service: S3Service | None = None  # the app's local S3 ([s3] root)
    region: str = REGION
    account: str = ACCOUNT
    clock: Any = None  # eltflow.clock.Clock, for the times services record

    def s3(self) -> S3Service:
        """The app's local S3, the one the endpoint and the warehouses use (without an app:
        ``.eltflow/s3`` under ``data_dir``)."""
        if self.s3_service is not None:
            return self.s3_service
        if self.data_dir is None:
            raise AwsApiError("ValidationError", "no local S3 in this project")
        return S3Service(Path(self.data_dir) / "s3")

    def s3_object(self, bucket: JSON, key: JSON, where: str) -> Path:
        """The file of a local S3 object (``.eltflow/s3/<bucket>/<key>``)."""
        if self.data_dir is None and self.s3_service is None:
            raise AwsApiError("ValidationError", f"{where}: no local S3 in this project")
        if not isinstance(bucket, str) or not isinstance(key, str) or not bucket or not key:
            raise AwsApiError("ValidationError", f"{where}: Bucket and Key must be strings")
        try:
            s3 = self.s3()
            s3.head_object(bucket, key)
            return s3.object_path(bucket, key)
        except AwsApiError as e:
            raise AwsApiError(
                "ValidationError",
                f"{where}: s3://{bucket}/{key} does not exist in the local S3 "
                f"({self.s3().root}): {e.message}",
            ) from None

    def now_iso(self) -> str:
        return self.clock.now().isoformat() if self.clock is not None else ""


@dataclass(frozen=True, kw_only=True)
class Request:
    stack_name: str
    stack_id: str
    logical_id: str
    type: str
    properties: JSONObject
    physical_id: str = ""  # for update / delete
    old_properties: JSONObject = field(default_factory=dict)
    replaces: str = ""  # the physical id this new resource replaces (a fresh generated name)
    metadata: JSONObject = field(default_factory=dict)  # the resource's Metadata, as written
    template_dir: str = ""  # the template's folder (CDK assets are relative to it)


@dataclass(frozen=True, kw_only=True)
class Outcome:
    physical_id: str
    attributes: JSONObject = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


class Provider(Protocol):
    # Properties whose change replaces the resource (a new physical resource, then the old one
    # deleted), as in each type's CloudFormation reference ("Update requires: Replacement").
    replace_on: frozenset[str]
    # The property that names the resource: replacing a resource that keeps its custom name
    # is refused, as CloudFormation does (the new one could not be created beside the old).
    name_property: str

    def create(self, services: Services, request: Request) -> Outcome: ...

    def update(self, services: Services, request: Request) -> Outcome: ...

    def delete(self, services: Services, request: Request) -> None: ...


def physical_name(request: Request, limit: int, separator: str = "-") -> str:
    """A generated name like CloudFormation's ``stack-Logical-1A2B3C4D5E6F``: stable for one
    stack and logical id (a replacement gets a new one), truncated to ``limit`` characters."""
    seed = f"{request.stack_id}/{request.logical_id}/{request.replaces}"
    suffix = hashlib.sha256(seed.encode()).hexdigest()[:12].upper()
    room = limit - len(suffix) - 2 * len(separator)
    stack = request.stack_name[: max(room // 2, 1)]
    logical = request.logical_id[: max(room - len(stack), 1)]
    return f"{stack}{separator}{logical}{separator}{suffix}"


def text(properties: Mapping[str, JSON], key: str, default: str = "") -> str:
    value = properties.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise AwsApiError("ValidationError", f"Properties.{key} must be a string")
    return value


def changed(request: Request, keys: frozenset[str]) -> bool:
    return any(request.properties.get(k) != request.old_properties.get(k) for k in keys)
