"""Bucket names and object keys as S3 accepts them, and as a folder tree can hold them.

Bucket names follow S3's general-purpose naming rules
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html): 3-63
characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or
digit, no two adjacent dots, not shaped like an IP address.

Keys are up to 1024 bytes of UTF-8 (S3's ``KeyTooLongError`` past that). A key is a path below
its bucket's folder, so keys a folder tree cannot hold apart are refused with
``InvalidArgument`` (a deliberate local limit, not S3's): empty, ``.`` or ``..`` segments (S3
would store ``a//b`` and ``../x`` as names; here they would alias or escape the bucket), a
first segment starting with ``.eltflow`` (eltflow's own bookkeeping), NUL and backslash.
"""

from __future__ import annotations

import re

from eltflow.errors import AwsApiError

MAX_KEY_BYTES = 1024
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP = re.compile(r"\d+\.\d+\.\d+\.\d+")


def check_bucket(name: str) -> str:
    """``name`` if S3 accepts it as a bucket name, else ``InvalidBucketName``."""
    if not _BUCKET.fullmatch(name) or ".." in name or _IP.fullmatch(name):
        raise AwsApiError("InvalidBucketName", f"The specified bucket is not valid: {name!r}")
    return name


def check_key(key: str) -> str:
    """``key`` if it names an object this local S3 can store (see the module docstring)."""
    if not key:
        raise AwsApiError("InvalidArgument", "The object key must not be empty")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise AwsApiError("KeyTooLongError", "Your key is too long")
    if "\x00" in key or "\\" in key:
        raise AwsApiError(
            "InvalidArgument", f"Object key {key!r}: NUL and backslash are not stored locally"
        )
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise AwsApiError(
            "InvalidArgument",
            f"Object key {key!r}: empty, '.' and '..' path segments cannot be stored in the "
            "local S3 (its keys are paths under the bucket folder)",
        )
    if parts[0].startswith(".eltflow"):
        raise AwsApiError("InvalidArgument", f"Object key {key!r}: '.eltflow*' is reserved")
    return key


def split_url(url: str) -> tuple[str, str]:
    """(bucket, key or prefix) of ``s3://bucket/key``; ``InvalidArgument`` for another URL."""
    if not url.startswith("s3://"):
        raise AwsApiError("InvalidArgument", f"Not an s3:// URL: {url!r}")
    bucket, _, key = url[len("s3://") :].partition("/")
    return check_bucket(bucket), key
