"""``eltflow init [DIR]``: scaffold a project (see :mod:`eltflow.pipelines.scaffold`) and
register its state machine, so ``eltflow start pipeline --wait`` runs it at once."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _init(args: argparse.Namespace) -> int:
    from eltflow.app import build_app
    from eltflow.config import load_settings
    from eltflow.pipelines import scaffold

    # `eltflow --project-dir X init` and `eltflow init X` mean the same folder.
    target = Path(args.dir or args.project_dir or ".")
    made = scaffold.write_project(target)
    app = build_app(load_settings(target))
    try:
        definition = (target / scaffold.DEFINITION).read_text(encoding="utf-8")
        out = app.service.create_state_machine(name=scaffold.MACHINE, definition=definition)
    finally:
        app.close()
    here = made.project_dir
    print(f"eltflow project in {here.resolve()}:")
    for path in made.written:
        print(f"  {path.relative_to(here).as_posix()}")
    print(f"state machine {scaffold.MACHINE}: {out['stateMachineArn']}")
    cd = "" if here.resolve() == Path.cwd().resolve() else f"cd {here} && "
    print("\nnext (with .venv activated, or .venv/bin/eltflow):")
    print(f"  {cd}eltflow validate {scaffold.DEFINITION}")
    print(f'  eltflow start {scaffold.MACHINE} --input \'{{"JobID": "1"}}\' --wait')
    print("  eltflow sql 'SELECT * FROM public.load_log'")
    print(f"  eltflow schedules resume {scaffold.SCHEDULE} && eltflow serve   # every 5 minutes")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "init",
        help="create a project: eltflow.toml, a two-load pipeline, its SQL, a schedule",
        description="Write eltflow.toml (every section, commented), pipeline.asl.json (two "
        "SQL loads, each one Task calling eltflow's bundled run-sql Lambda handler, with "
        "Retry on RedshiftData.StatementFailed and Catch), sql/load_orders.sql and a "
        "disabled rate(5 minutes) schedule into DIR (default: "
        "the project folder or the current one), and register the state machine. Existing "
        "files are never overwritten.",
    )
    p.add_argument("dir", nargs="?", default=None, metavar="DIR", help="project folder")
    p.set_defaults(handler=_init)
