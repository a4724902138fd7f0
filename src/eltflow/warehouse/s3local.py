"""Local S3 as the warehouses see it: buckets are folders under a root, keys are paths.

``s3://bucket/some/prefix`` is the folder ``<root>/bucket`` and every file in it whose key
(path relative to the bucket, with ``/``) starts with ``some/prefix`` — Redshift's COPY loads
"all files whose names begin with" the prefix
(https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-source-s3.html). The root
defaults to ``.eltflow/s3`` in the project (the issue's ``[s3] root``; its configuration key
belongs with the settings). Object metadata and ETags are the S3 storage's business, not this
module's: files named ``*.eltflow-meta`` or under ``.eltflow*`` folders are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from eltflow.warehouse.base import SqlError


class LocalObjects(Protocol):
    """Where the engines find S3 objects as files. The app gives them the S3 service's view
    (``eltflow.s3.warehouse.WarehouseObjects``: the same bucket folders, with S3's bucket and
    key rules); :class:`S3Root` is the plain folder view an engine opened alone uses."""

    @property
    def path(self) -> Path:
        """The folder holding the buckets."""
        ...

    def split(self, url: str) -> tuple[Path, str]: ...

    def objects(self, url: str) -> list[Path]: ...

    def file(self, url: str) -> Path: ...

    def url(self, path: Path) -> str: ...


def local_objects(source: Path | LocalObjects | None) -> LocalObjects:
    """An engine's local S3: the given view, a folder, or ``.eltflow/s3`` by default."""
    if source is None:
        return S3Root(Path(".eltflow") / "s3")
    if isinstance(source, Path):
        return S3Root(source)
    return source


@dataclass(frozen=True)
class S3Root:
    """The folder holding the local buckets."""

    path: Path

    def split(self, url: str) -> tuple[Path, str]:
        """(bucket folder, key prefix) of an ``s3://bucket/prefix`` URL."""
        if not url.startswith("s3://"):
            raise SqlError(f"only s3:// locations are supported here (got '{url}')")
        bucket, _, key = url[len("s3://") :].partition("/")
        if not bucket or "/" in bucket or bucket in (".", ".."):
            raise SqlError(f"'{url}' names no S3 bucket")
        if any(part == ".." for part in key.split("/")):
            raise SqlError(f"'{url}': '..' is not allowed in an S3 key")
        return self.path / bucket, key

    def objects(self, url: str) -> list[Path]:
        """The files under ``url``'s prefix, in key order; an error like Redshift's if none."""
        folder, prefix = self.split(url)
        if not folder.is_dir():
            raise SqlError(
                f"S3ServiceException: The specified bucket does not exist ({folder.name}; "
                f"local buckets are folders under {self.path})"
            )
        found = [
            p
            for p in folder.rglob("*")
            if p.is_file()
            and _key(folder, p).startswith(prefix)
            and not p.name.endswith(".eltflow-meta")
            and not any(part.startswith(".eltflow") for part in p.relative_to(folder).parts)
        ]
        if not found:
            raise SqlError(f"The specified S3 prefix '{prefix}' does not exist ({url})")
        return sorted(found, key=lambda p: _key(folder, p))

    def file(self, url: str) -> Path:
        """The local path of one object (for UNLOAD and MANIFEST files)."""
        folder, key = self.split(url)
        if not key:
            raise SqlError(f"'{url}' names a bucket, not an object")
        return folder / key

    def url(self, path: Path) -> str:
        """The ``s3://`` URL of a local object path."""
        rel = path.relative_to(self.path)
        return "s3://" + "/".join(rel.parts)


def _key(folder: Path, path: Path) -> str:
    return "/".join(path.relative_to(folder).parts)
