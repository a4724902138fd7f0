"""Local S3: buckets are folders under the project's ``.eltflow/s3`` (see :mod:`.store`)."""

from __future__ import annotations

from eltflow.s3.store import LocalS3, S3Error

__all__ = ["LocalS3", "S3Error"]
