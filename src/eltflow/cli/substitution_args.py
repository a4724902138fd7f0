"""``--substitution NAME=VALUE`` and ``--substitutions FILE.json`` for the commands that read a
definition (``validate``, ``execute``, ``machines create|update``).

The values fill ``${Name}`` placeholders as CloudFormation's DefinitionSubstitutions do
(:mod:`eltflow.asl.substitutions`); ``--substitution`` wins over the file for the same name.
A placeholder left without a value is an error located by its JSON path.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from eltflow.errors import ConfigError, DefinitionError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--substitution",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a value for the definition's ${NAME} placeholder (repeatable), as "
        "CloudFormation's DefinitionSubstitutions",
    )
    parser.add_argument(
        "--substitutions",
        default=None,
        metavar="FILE.json",
        help='a JSON object of placeholder values: {"NAME": "VALUE", ...}',
    )


def values(args: argparse.Namespace) -> dict[str, str]:
    """The placeholder values the arguments give; ConfigError (exit 2) for unusable ones."""
    out: dict[str, str] = {}
    path = getattr(args, "substitutions", None)
    if path:
        try:
            loaded: Any = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as e:
            raise ConfigError(f"--substitutions: cannot read {path}: {e.strerror or e}") from e
        except json.JSONDecodeError as e:
            raise ConfigError(
                f"--substitutions: {path} is not JSON: {e.msg} at line {e.lineno} column {e.colno}"
            ) from e
        if not isinstance(loaded, dict):
            raise ConfigError(f"--substitutions: {path} must hold a JSON object of values")
        for name, value in loaded.items():
            out[str(name)] = _text(value, f"--substitutions {path}: {name}")
    for item in getattr(args, "substitution", None) or []:
        name, sep, value = str(item).partition("=")
        if not sep or not name:
            raise ConfigError(f"--substitution expects NAME=VALUE, got {item!r}")
        out[name] = value
    return out


def _text(value: Any, where: str) -> str:
    # CloudFormation takes strings, numbers and booleans; an array or object (an eltflow
    # convenience) is pasted as its JSON text, for a placeholder outside a string.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    raise ConfigError(f"{where}: a value must be a string, number, boolean, array or object")


def apply(args: argparse.Namespace, text: str) -> str:
    """``text`` with the placeholders filled; DefinitionError naming every one left."""
    from eltflow.asl.substitutions import substitute, unresolved

    filled = substitute(text, values(args))
    left = unresolved(filled)
    if left:
        raise DefinitionError(left)
    return filled
