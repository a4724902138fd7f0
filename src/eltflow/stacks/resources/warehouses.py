"""``AWS::Redshift::Cluster`` and ``AWS::RedshiftServerless::Workgroup`` (with its
``Namespace``): not created — the Data API reaches the project's local warehouses by name
(``[warehouses.<ClusterIdentifier or WorkgroupName>]`` in eltflow.toml, or the default warehouse
when none is configured). The resource records the name and the attributes templates read
(Endpoint.Address / Endpoint.Port, Arn); a name no configured warehouse answers to is a
warning, since statements to it would fail."""

from __future__ import annotations

from eltflow.stacks.resources.base import Outcome, Request, Services, physical_name, text
from eltflow.types import JSONObject

_NAME_PROPERTY = {
    "AWS::Redshift::Cluster": "ClusterIdentifier",
    "AWS::RedshiftServerless::Workgroup": "WorkgroupName",
    "AWS::RedshiftServerless::Namespace": "NamespaceName",
}


class WarehouseProvider:
    replace_on = frozenset({"ClusterIdentifier", "WorkgroupName", "NamespaceName"})
    name_property = ""

    def __init__(self, resource_type: str) -> None:
        self.type = resource_type

    def _outcome(self, services: Services, name: str) -> Outcome:
        region, account = services.region, services.account
        attributes: JSONObject
        if self.type == "AWS::Redshift::Cluster":
            attributes = {
                "Endpoint.Address": f"{name}.local.{region}.redshift.amazonaws.com",
                "Endpoint.Port": "5439",
                "ClusterNamespaceArn": f"arn:aws:redshift:{region}:{account}:namespace:{name}",
            }
        elif self.type == "AWS::RedshiftServerless::Workgroup":
            attributes = {
                "Workgroup.WorkgroupName": name,
                "Workgroup.WorkgroupArn": f"arn:aws:redshift-serverless:{region}:{account}:"
                f"workgroup/{name}",
                "Workgroup.Endpoint.Address": f"{name}.{account}.{region}"
                ".redshift-serverless.amazonaws.com",
                "Workgroup.Endpoint.Port": 5439,
            }
        else:
            attributes = {
                "Namespace.NamespaceName": name,
                "Namespace.NamespaceArn": f"arn:aws:redshift-serverless:{region}:{account}:"
                f"namespace/{name}",
            }
        warnings: tuple[str, ...] = ()
        known = services.warehouse_names
        if self.type != "AWS::RedshiftServerless::Namespace" and known and name not in known:
            warnings = (
                f"no [warehouses.{name}] in eltflow.toml: Data API statements to {name} will "
                "fail (configured: " + ", ".join(known) + ")",
            )
        return Outcome(physical_id=name, attributes=attributes, warnings=warnings)

    def create(self, services: Services, request: Request) -> Outcome:
        name = text(request.properties, _NAME_PROPERTY[self.type])
        return self._outcome(services, name or physical_name(request, 63).lower())

    def update(self, services: Services, request: Request) -> Outcome:
        return self._outcome(services, request.physical_id)

    def delete(self, services: Services, request: Request) -> None:
        return None  # the local warehouse is the project's, not the stack's
