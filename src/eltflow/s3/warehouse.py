"""The S3 service as the warehouses' COPY and UNLOAD see it (their
:class:`~eltflow.warehouse.s3local.LocalObjects`): the same bucket folders, with S3's bucket
and key rules (no key leaves its bucket, even through a symbolic link), errors as SQL errors
worded like Redshift's. The engines read and write the files directly (DuckDB's readers,
PostgreSQL's COPY streams); an object an UNLOAD wrote gets its ETag from its bytes when asked."""

from __future__ import annotations

from pathlib import Path

from eltflow.errors import AwsApiError
from eltflow.s3.names import check_key, split_url
from eltflow.s3.service import S3Service
from eltflow.warehouse.base import SqlError


class WarehouseObjects:
    def __init__(self, service: S3Service) -> None:
        self.service = service

    @property
    def path(self) -> Path:
        """The folder holding the buckets (as :class:`~eltflow.warehouse.s3local.S3Root`)."""
        return self.service.root

    def split(self, url: str) -> tuple[Path, str]:
        """(bucket folder, key prefix) of ``s3://bucket/prefix``."""
        bucket, prefix = self._split(url)
        return self.service.root / bucket, prefix

    def objects(self, url: str) -> list[Path]:
        """The files of every object whose key starts with the prefix, in key order (COPY
        loads "all files whose names begin with" it)."""
        bucket, prefix = self._split(url)
        keys: list[str] = []
        token = None
        try:
            while True:
                page = self.service.list_objects(bucket, prefix=prefix, continuation_token=token)
                keys += [o.key for o in page.contents]
                if not page.is_truncated:
                    break
                token = page.next_token
        except AwsApiError as e:
            if e.code == "NoSuchBucket":
                raise SqlError(
                    f"S3ServiceException: The specified bucket does not exist ({bucket}; "
                    f"local buckets are folders under {self.service.root})"
                ) from None
            raise SqlError(f"{url}: {e.code}: {e.message}") from None
        if not keys:
            raise SqlError(f"The specified S3 prefix '{prefix}' does not exist ({url})")
        return [self.file(f"s3://{bucket}/{key}") for key in keys]

    def file(self, url: str) -> Path:
        """The file of one object (an UNLOAD target or a MANIFEST). A bucket not made yet is
        no error here: the caller says so in its own words (UNLOAD's "bucket does not exist",
        a MANIFEST's "does not exist")."""
        bucket, key = self._split(url)
        if not key:
            raise SqlError(f"'{url}' names a bucket, not an object")
        try:
            if not (self.service.root / bucket).is_dir():
                return self.service.root / bucket / check_key(key)
            return self.service.object_path(bucket, key)
        except AwsApiError as e:
            raise SqlError(f"{url}: {e.message}") from None

    def url(self, path: Path) -> str:
        return "s3://" + "/".join(path.relative_to(self.service.root).parts)

    @staticmethod
    def _split(url: str) -> tuple[str, str]:
        try:
            return split_url(url)
        except AwsApiError as e:
            if not url.startswith("s3://"):
                raise SqlError(f"only s3:// locations are supported here (got '{url}')") from None
            raise SqlError(f"'{url}' names no S3 bucket: {e.message}") from None
