"""``eltflow s3 ls|cp|mb|rm``: the project's local S3 (``.eltflow/s3``) from the shell, shaped
like ``aws s3`` (``aws --endpoint-url ... s3 ...`` against ``eltflow serve`` reaches the same
buckets). Everything goes through ``App.s3``, the one S3 service."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eltflow.s3.service import S3Service


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "s3", help="the project's local S3 buckets", description="Local S3, like 'aws s3'."
    )
    sub = p.add_subparsers(dest="s3_command", metavar="COMMAND", required=True)
    ls = sub.add_parser("ls", help="list buckets, or the objects under s3://bucket/prefix")
    ls.add_argument("url", nargs="?", default=None, help="s3://bucket[/prefix]")
    ls.add_argument("--recursive", action="store_true", help="every key, not one level")
    ls.set_defaults(handler=_ls)
    cp = sub.add_parser("cp", help="copy a file or s3:// object to a file or s3:// object")
    cp.add_argument("source")
    cp.add_argument("destination")
    cp.add_argument("--recursive", action="store_true", help="a folder or a whole prefix")
    cp.add_argument("--content-type", default=None, help="Content-Type of uploaded objects")
    cp.set_defaults(handler=_cp)
    mb = sub.add_parser("mb", help="make a bucket")
    mb.add_argument("url", help="s3://bucket")
    mb.set_defaults(handler=_mb)
    rm = sub.add_parser("rm", help="delete an object, or with --recursive a prefix")
    rm.add_argument("url", help="s3://bucket/key")
    rm.add_argument("--recursive", action="store_true")
    rm.set_defaults(handler=_rm)


def _with_s3(args: argparse.Namespace, run: Any) -> int:
    from eltflow.app import build_app
    from eltflow.config import load_settings
    from eltflow.errors import ConfigError

    app = build_app(load_settings(args.project_dir))
    try:
        if app.s3 is None:
            raise ConfigError("this project has no local S3")
        run(app.s3, app.clock.now())
    finally:
        app.close()
    return 0


def _keys(s3: S3Service, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    token = None
    while True:
        page = s3.list_objects(bucket, prefix=prefix, continuation_token=token)
        keys += [o.key for o in page.contents]
        if not page.is_truncated:
            return keys
        token = page.next_token


def _ls(args: argparse.Namespace) -> int:
    from eltflow.s3.names import split_url

    def run(s3: S3Service, _now: Any) -> None:
        if args.url is None:
            for b in s3.list_buckets():
                print(f"{b.created:%Y-%m-%d %H:%M:%S} {b.name}")
            return
        bucket, prefix = split_url(args.url)
        token = None
        while True:
            page = s3.list_objects(
                bucket,
                prefix=prefix,
                delimiter="" if args.recursive else "/",
                continuation_token=token,
            )
            cut = 0 if args.recursive else len(prefix) - len(prefix.rpartition("/")[2])
            for common in page.common_prefixes:
                print(f"{'PRE':>30} {common[cut:]}")
            for o in page.contents:
                print(f"{o.last_modified:%Y-%m-%d %H:%M:%S} {o.size:>10} {o.key[cut:]}")
            if not page.is_truncated:
                return
            token = page.next_token

    return _with_s3(args, run)


def _cp(args: argparse.Namespace) -> int:
    from eltflow.errors import ConfigError
    from eltflow.s3.names import split_url
    from eltflow.s3.service import stream

    src, dst = args.source, args.destination

    def upload(s3: S3Service, path: Path, url: str) -> None:
        bucket, key = split_url(url)
        with path.open("rb") as f:
            s3.put_object(bucket, key, f, content_type=args.content_type)
        print(f"upload: {path} to {url}")

    def download(s3: S3Service, url: str, path: Path) -> None:
        bucket, key = split_url(url)
        _info, file, _span = s3.get_object(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            for chunk in stream(file, None):
                out.write(chunk)
        print(f"download: {url} to {path}")

    def copy(s3: S3Service, source: str, target: str) -> None:
        (sb, sk), (db, dk) = split_url(source), split_url(target)
        s3.copy_object(sb, sk, db, dk)
        print(f"copy: {source} to {target}")

    def one(s3: S3Service, source: str, target: str) -> None:
        if source.startswith("s3://") and target.startswith("s3://"):
            copy(s3, source, target)
        elif source.startswith("s3://"):
            path = Path(target)
            if path.is_dir() or target.endswith("/"):
                path = path / split_url(source)[1].rsplit("/", 1)[-1]
            download(s3, source, path)
        elif target.startswith("s3://"):
            if target.endswith("/"):
                target += Path(source).name
            upload(s3, Path(source), target)
        else:
            raise ConfigError("eltflow s3 cp: one side must be an s3:// URL")

    def run(s3: S3Service, _now: Any) -> None:
        if not args.recursive:
            one(s3, src, dst)
            return
        if src.startswith("s3://"):
            bucket, prefix = split_url(src)
            for key in _keys(s3, bucket, prefix):
                rest = key[len(prefix) :].lstrip("/")
                target = (
                    dst.rstrip("/") + "/" + rest
                    if dst.startswith("s3://")
                    else str(Path(dst, *rest.split("/")))
                )
                one(s3, f"s3://{bucket}/{key}", target)
            return
        folder = Path(src)
        if not folder.is_dir():
            raise ConfigError(f"eltflow s3 cp --recursive: {src} is not a folder")
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = "/".join(path.relative_to(folder).parts)
            one(s3, str(path), dst.rstrip("/") + "/" + rel)

    return _with_s3(args, run)


def _mb(args: argparse.Namespace) -> int:
    from eltflow.s3.names import split_url

    def run(s3: S3Service, now: Any) -> None:
        bucket, _ = split_url(args.url)
        s3.create_bucket(bucket, now)
        print(f"make_bucket: {bucket}")

    return _with_s3(args, run)


def _rm(args: argparse.Namespace) -> int:
    from eltflow.s3.names import split_url

    def run(s3: S3Service, _now: Any) -> None:
        bucket, key = split_url(args.url)
        keys = _keys(s3, bucket, key) if args.recursive else [key]
        for k in keys:
            s3.delete_object(bucket, k)
            print(f"delete: s3://{bucket}/{k}")

    return _with_s3(args, run)
