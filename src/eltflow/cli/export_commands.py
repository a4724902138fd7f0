"""``eltflow export cloudformation [--out FILE]``: the project as a CloudFormation template
(JSON) that deploys it to AWS — or back here with ``eltflow stack deploy``. Functions that are
not inlined are zipped next to the template (``<name>.zip``, for the ArtifactBucket)."""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    export = subparsers.add_parser("export", help="export the project for AWS")
    sub = export.add_subparsers(dest="export_command", metavar="FORMAT", required=True)
    p = sub.add_parser("cloudformation", help="a CloudFormation template (cfn-lint clean)")
    p.add_argument("--out", default=None, help="template file (default: print to stdout)")
    p.set_defaults(handler=cmd_export_cloudformation)


def cmd_export_cloudformation(args: argparse.Namespace) -> int:
    from eltflow.app import build_app
    from eltflow.config import load_settings
    from eltflow.stacks.collect import snapshot
    from eltflow.stacks.export import build_template

    app = build_app(load_settings(args.project_dir))
    try:
        project = snapshot(app)
    finally:
        app.close()
    exported = build_template(project)
    text = json.dumps(exported.template, indent=2, ensure_ascii=False) + "\n"
    folder = Path(args.out).resolve().parent if args.out else Path.cwd()
    for name in exported.zipped:
        info = next(f for f in project.functions if f.name == name)
        target = folder / f"{name}.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for arcname, path in info.files:
                zf.write(path, arcname)
        print(f"wrote {target} (upload it to the ArtifactBucket)", file=sys.stderr)
    for note in exported.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
