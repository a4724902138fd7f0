"""``AWS::S3::Bucket`` as a folder of the local S3 (``.eltflow/s3/<bucket>``, where the
warehouses' COPY/UNLOAD, Lambda code and state machine definitions find objects).

BucketName (or a generated lowercase name); creating a bucket that exists is AWS's
``BucketAlreadyOwnedByYou``; deleting a bucket that still holds objects fails with AWS's "The
bucket you tried to delete is not empty" (use DeletionPolicy: Retain to keep it). ``Ref`` is the
name; ``Fn::GetAtt``: Arn, DomainName, RegionalDomainName. Versioning, encryption, lifecycle
and notifications are recorded only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from eltflow.errors import AwsApiError
from eltflow.stacks.resources.base import Outcome, Request, Services, physical_name, text
from eltflow.types import JSONObject


class BucketProvider:
    replace_on = frozenset({"BucketName"})
    name_property = "BucketName"

    def _outcome(self, services: Services, name: str) -> Outcome:
        attributes: JSONObject = {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{services.region}.amazonaws.com",
            "WebsiteURL": f"http://{name}.s3-website-{services.region}.amazonaws.com",
        }
        return Outcome(physical_id=name, attributes=attributes)

    def create(self, services: Services, request: Request) -> Outcome:
        name = text(request.properties, "BucketName") or physical_name(request, 63).lower()
        services.s3().create_bucket(name, services.clock.now() if services.clock else _now())
        return self._outcome(services, name)

    def update(self, services: Services, request: Request) -> Outcome:
        return self._outcome(services, request.physical_id)

    def delete(self, services: Services, request: Request) -> None:
        try:
            services.s3().delete_bucket(request.physical_id)
        except AwsApiError as e:
            if e.code != "NoSuchBucket":  # already gone: nothing to delete
                raise


def _now() -> datetime:
    return datetime.now(UTC)
