"""``AWS::DynamoDB::Table`` through the local DynamoDB API (CreateTable / DeleteTable).

TableName, KeySchema and AttributeDefinitions make the table; a change to TableName or
KeySchema replaces it (a new, empty table, as in CloudFormation), any other change keeps it
and its items. Secondary indexes, streams, TTL and billing settings are recorded with a
warning: the local tables have primary keys only. ``Ref`` is the table name; ``Fn::GetAtt``:
Arn (StreamArn only with a stream, which local tables do not have).
"""

from __future__ import annotations

from typing import Any

from eltflow.errors import AwsApiError
from eltflow.stacks.resources.base import Outcome, Request, Services, physical_name, text
from eltflow.types import JSONObject

_IGNORED = (
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
    "TimeToLiveSpecification",
    "KinesisStreamSpecification",
)


class TableProvider:
    replace_on = frozenset({"TableName", "KeySchema"})
    name_property = "TableName"

    def _request(self, request: Request, name: str) -> dict[str, Any]:
        props = request.properties
        schema = props.get("KeySchema")
        if not isinstance(schema, list) or not schema:
            raise AwsApiError("ValidationError", "Properties.KeySchema is required")
        keys = {k.get("AttributeName") for k in schema if isinstance(k, dict)}
        defs = props.get("AttributeDefinitions") or []
        if not isinstance(defs, list):
            raise AwsApiError("ValidationError", "Properties.AttributeDefinitions must be a list")
        # Index-only attributes are defined for the (unsupported) secondary indexes.
        key_defs = [d for d in defs if isinstance(d, dict) and d.get("AttributeName") in keys]
        return {"TableName": name, "KeySchema": schema, "AttributeDefinitions": key_defs}

    def _outcome(self, services: Services, name: str, warnings: list[str]) -> Outcome:
        arn = f"arn:aws:dynamodb:{services.region}:{services.account}:table/{name}"
        attributes: JSONObject = {"Arn": arn}
        return Outcome(physical_id=name, attributes=attributes, warnings=tuple(warnings))

    def _warnings(self, props: JSONObject) -> list[str]:
        return [
            f"{key} recorded, not applied (local tables have primary keys only)"
            for key in _IGNORED
            if props.get(key)
        ]

    def create(self, services: Services, request: Request) -> Outcome:
        name = text(request.properties, "TableName") or physical_name(request, 255)
        services.dynamodb.call("CreateTable", self._request(request, name))
        return self._outcome(services, name, self._warnings(request.properties))

    def update(self, services: Services, request: Request) -> Outcome:
        # Nothing that reaches the local table changed (key changes replace it): items stay.
        return self._outcome(services, request.physical_id, self._warnings(request.properties))

    def delete(self, services: Services, request: Request) -> None:
        try:
            services.dynamodb.call("DeleteTable", {"TableName": request.physical_id})
        except AwsApiError as e:
            if e.code != "ResourceNotFoundException":
                raise
