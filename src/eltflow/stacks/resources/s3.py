"""``AWS::S3::Bucket`` as a folder of the local S3 (``.eltflow/s3/<bucket>``, where the
warehouses' COPY/UNLOAD, Lambda code and state machine definitions find objects).

BucketName (or a generated lowercase name); creating a bucket that exists is AWS's
``BucketAlreadyOwnedByYou``; deleting a bucket that still holds objects fails with AWS's "The
bucket you tried to delete is not empty" (use DeletionPolicy: Retain to keep it). ``Ref`` is the
name; ``Fn::GetAtt``: Arn, DomainName, RegionalDomainName. Versioning, encryption, lifecycle
and notifications are recorded only.
"""

from __future__ import annotations

import re
from pathlib import Path

from eltflow.errors import AwsApiError
from eltflow.stacks.resources.base import Outcome, Request, Services, physical_name, text
from eltflow.types import JSONObject

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class BucketProvider:
    replace_on = frozenset({"BucketName"})
    name_property = "BucketName"

    def _folder(self, services: Services, name: str) -> Path:
        if services.data_dir is None:
            raise AwsApiError("ValidationError", "no local S3 in this project")
        if not _BUCKET.fullmatch(name) or ".." in name:
            raise AwsApiError("InvalidBucketName", f"The specified bucket is not valid: {name}")
        return Path(services.data_dir, "s3", name)

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
        folder = self._folder(services, name)
        if folder.exists():
            raise AwsApiError(
                "BucketAlreadyOwnedByYou",
                f"{name} already exists: Your previous request to create the named bucket "
                "succeeded and you already own it.",
            )
        folder.mkdir(parents=True)
        return self._outcome(services, name)

    def update(self, services: Services, request: Request) -> Outcome:
        return self._outcome(services, request.physical_id)

    def delete(self, services: Services, request: Request) -> None:
        folder = self._folder(services, request.physical_id)
        if not folder.exists():
            return
        if any(folder.iterdir()):
            raise AwsApiError("BucketNotEmpty", "The bucket you tried to delete is not empty")
        folder.rmdir()
