"""Settings from ``eltflow.toml`` (all keys optional) and the environment.

Each subsystem reads its own table (``[warehouses.*]``, ``[tables.*]``, ``[lambda.functions]``,
``[topics.*]``, ``[schedules.*]``...) from :attr:`Settings.raw`, validating the values where it
uses them and raising :class:`~eltflow.errors.ConfigError` that names the key.

The *names* are checked here, once, for every command: :data:`SCHEMA` is the one declaration of
the file's keys and sections, so a typo (``warehous =``, ``[tabels.X]``) is an error naming the
file, the key and the closest known one instead of a silent fallback to the defaults.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eltflow.errors import ConfigError

CONFIG_FILE = "eltflow.toml"

# Schemes each URL may use, as the store (eltflow.store.db) and the warehouse directory
# (eltflow.warehouse.directory) open them. A bare path is a SQLite state file.
STATE_SCHEMES = ("sqlite", "postgresql", "postgres")
WAREHOUSE_SCHEMES = ("duckdb", "postgresql", "postgres", "redshift")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


# -- the shape of eltflow.toml ---------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A TOML table with these keys; each key's shape is nested, or ``None`` for a plain value
    (string, number, boolean, date, array: a table there is a misplaced section)."""

    keys: Mapping[str, Shape]


@dataclass(frozen=True)
class Named:
    """A table whose keys the user names (``[tables.<Name>]``), each entry shaped ``entry``."""

    entry: Shape


@dataclass(frozen=True)
class Items:
    """An array whose elements are shaped ``entry`` (``subscriptions = [{...}]``)."""

    entry: Shape


@dataclass(frozen=True)
class Free:
    """Any value, tables included, not looked into (a schedule's ``input``)."""


Shape = Table | Named | Items | Free | None

# Where the values are read: [warehouses] warehouse/directory.py (+ redshift_engine.py),
# [tables] items/config.py, [lambda] lambdas/config.py, [topics]/[notify] notify/config.py,
# [schedules] scheduler/model.py, [aws] aws.py, [dataapi] dataapi/factory.py,
# [pipelines] pipelines/reference. tests/unit/test_config.py checks these sets against the
# dataclasses they fill, so adding a field there without adding it here fails a test.
SCHEDULE_KEYS = frozenset(
    {
        "expression",
        "state_machine",
        "timezone",
        "input",
        "state",
        "start_date",
        "end_date",
        "flexible_window_minutes",
        "catchup",
        "max_catchup",
        "overlap",
        "description",
    }
)


def _keys(*names: str) -> dict[str, Shape]:
    return dict.fromkeys(names)


SCHEMA = Table(
    {
        "state": None,
        "warehouse": None,
        "warehouses": Named(
            Table(
                {
                    **_keys("url", "cluster_identifier", "workgroup_name", "region"),
                    **_keys("db_user", "secret_arn", "database"),
                    "databases": Named(None),
                }
            )
        ),
        "tables": Named(
            Table(_keys("partition_key", "partition_key_type", "sort_key", "sort_key_type"))
        ),
        "lambda": Table(
            {
                **_keys("isolation", "workers"),
                "functions": Named(
                    Table(
                        {
                            **_keys("handler", "timeout", "memory", "code", "runtime"),
                            "environment": Free(),
                        }
                    )
                ),
            }
        ),
        "topics": Named(Table({"subscriptions": Items(Table(_keys("protocol", "endpoint")))})),
        "notify": Table(
            {
                "http": Table(_keys("max_attempts", "backoff_base", "backoff_max", "timeout")),
                "smtp": Table(
                    _keys("host", "port", "sender", "starttls", "username", "password", "timeout")
                ),
            }
        ),
        "schedules": Named(Table({**_keys(*sorted(SCHEDULE_KEYS)), "input": Free()})),
        "aws": Table(_keys("mode", "region", "account", "endpoint_url")),
        "s3": Table(_keys("root")),
        "dataapi": Table(
            _keys(
                *("max_workers", "page_rows", "max_active", "max_result_bytes", "max_sessions"),
                *("heartbeat_seconds", "drain_seconds"),
            )
        ),
        "pipelines": Table(
            {
                "reference": Table(
                    _keys(
                        *("cluster", "database", "audit_table", "job_id", "topic_name"),
                        *("lease_seconds", "state_machine"),
                    )
                )
            }
        ),
    }
)


def unknown_key(where: str, key: str, known: Iterable[str], kind: str = "key") -> ConfigError:
    """The error for ``key`` not being one of ``known``, with the closest match if any."""
    choices = sorted(known)
    close = difflib.get_close_matches(key, choices, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"{where}: unknown {kind} {key!r}{hint} (known: {', '.join(choices)})")


def check_keys(raw: Mapping[str, Any], file: Path | str = CONFIG_FILE) -> None:
    """Raise :class:`ConfigError` for the first key of ``raw`` that :data:`SCHEMA` lacks."""
    _check(raw, SCHEMA, str(file), ())


def _check(value: Any, shape: Shape, file: str, table: tuple[str, ...], inner: str = "") -> None:
    # ``table`` is the dotted name of the enclosing [table]; ``inner`` the keys inside it that
    # are not tables of their own ("subscriptions[0]"). Values of the wrong kind (a string
    # where a table belongs) are left to the subsystem reading them, which says what it wants.
    if isinstance(shape, Items):
        if isinstance(value, list):
            for i, item in enumerate(value):
                _check(item, shape.entry, file, table, f"{inner}[{i}]")
    elif isinstance(value, Mapping) and isinstance(shape, Named):
        for name, entry in value.items():
            _check(entry, shape.entry, file, (*table, str(name)))
    elif isinstance(value, Mapping) and isinstance(shape, Table):
        for raw_key, entry in value.items():
            key = str(raw_key)
            if key in shape.keys:
                nested = shape.keys[key]
                if nested is None and isinstance(entry, Mapping) and not inner:
                    # A section where a plain value belongs: [warehouse.x] for [warehouses.x].
                    raise _unknown_section(file, table, key, shape)
                if inner or isinstance(nested, Items):
                    _check(entry, nested, file, table, f"{inner}.{key}" if inner else key)
                else:
                    _check(entry, nested, file, (*table, key))
                continue
            if isinstance(entry, Mapping) and not inner:
                raise _unknown_section(file, table, key, shape)
            if not table and not inner:
                raise unknown_key(file, key, shape.keys, "top-level key")
            raise unknown_key(f"{file}: {_label(table, inner)}", key, shape.keys)


def _unknown_section(file: str, table: tuple[str, ...], key: str, shape: Table) -> ConfigError:
    sections = sorted(k for k, v in shape.keys.items() if isinstance(v, Table | Named))
    close = difflib.get_close_matches(key, sections, n=1)
    hint = f"; did you mean {_section((*table, close[0]))}?" if close else ""
    known = ", ".join(_section((*table, s)) for s in sections) or "none"
    return ConfigError(f"{file}: unknown section {_section((*table, key))}{hint} (known: {known})")


def _label(table: tuple[str, ...], inner: str) -> str:
    head = _section(table) if table else ""
    return f"{head} {inner}".strip()


def _section(table: tuple[str, ...]) -> str:
    # TOML's own spelling: [a.b], quoting names that are not bare keys.
    parts = (p if re.fullmatch(r"[A-Za-z0-9_-]+", p) else f'"{p}"' for p in table)
    return f"[{'.'.join(parts)}]"


# -- URLs --------------------------------------------------------------------------------------


def check_url(
    url: str, what: str, schemes: tuple[str, ...], where: str, *, bare_path: bool = False
) -> None:
    """Refuse a URL whose scheme is not one of ``schemes`` (a bare path only if ``bare_path``).

    ``mysql://...`` used to become a SQLite file named ``mysql:``; only the scheme is quoted
    back, so a password in the URL never reaches a terminal or a log.
    """
    match = _SCHEME.match(url)
    if match is None:
        if not bare_path:
            raise ConfigError(f"{where}: {what} must be a URL ({_listed(schemes)})")
        return
    scheme = match.group(1).lower()
    if scheme not in schemes:
        raise ConfigError(
            f"{where}: {what} URL scheme '{scheme}://' is not supported; "
            f"use one of {_listed(schemes)}"
        )


def _listed(schemes: tuple[str, ...]) -> str:
    return ", ".join(f"{s}://" for s in schemes)


# -- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Settings:
    project_dir: Path
    state_url: str
    warehouse_url: str
    raw: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Settings built in code (tests, embedding) get the same strictness as the file.
        check_keys(self.raw, self.project_dir / CONFIG_FILE)

    @property
    def data_dir(self) -> Path:
        return self.project_dir / ".eltflow"

    @property
    def s3_root(self) -> Path:
        """``[s3] root``: the folder whose subfolders are the local S3 buckets (relative to the
        project folder; default ``.eltflow/s3``)."""
        root = self.section("s3").get("root")
        if root is None:
            return self.data_dir / "s3"
        if not isinstance(root, str) or not root:
            raise ConfigError(f"{CONFIG_FILE}: [s3] root must be a folder path (got {root!r})")
        return self.project_dir / root

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.raw.get(name, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"{CONFIG_FILE}: [{name}] must be a table")
        return value


def load_settings(
    project_dir: Path | str | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read ``eltflow.toml`` in ``project_dir`` (default: ``ELTFLOW_HOME`` or the cwd).

    The folder must exist: nothing here creates it (``eltflow demo`` writes a new project
    before reading it), so a mistyped ``--project-dir`` is reported, not silently created.
    """
    env = os.environ if environ is None else environ
    given = project_dir or env.get("ELTFLOW_HOME")
    # Absolute, so the store and warehouse URLs built from it mean the same file to every
    # component (and to a worker started from another folder).
    base = Path(given or Path.cwd()).resolve()
    if not base.is_dir():
        source = "" if project_dir else " (ELTFLOW_HOME)"
        state = "is not a folder" if base.exists() else "does not exist"
        raise ConfigError(
            f"project folder {base}{source} {state}; create it with `mkdir -p {base}` "
            f"(or `eltflow --project-dir {base} demo` for a project with the reference pipeline)"
        )
    raw: dict[str, Any] = {}
    path = base / CONFIG_FILE
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: {e}") from e
    check_keys(raw, path)
    for key in ("state", "warehouse"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{path}: '{key}' must be a string URL or path")
    data = base / ".eltflow"
    state = _url(env, raw, "state", path) or f"sqlite:///{data / 'state.db'}"
    # duckdb://<path>, as the warehouse directory reads it; the path is absolute already.
    warehouse = _url(env, raw, "warehouse", path) or f"duckdb://{data / 'warehouse.duckdb'}"
    return Settings(project_dir=base, state_url=state, warehouse_url=warehouse, raw=raw)


def _url(env: Mapping[str, str], raw: Mapping[str, Any], key: str, path: Path) -> str | None:
    variable = f"ELTFLOW_{key.upper()}"
    schemes = STATE_SCHEMES if key == "state" else WAREHOUSE_SCHEMES
    # A bare path is a SQLite state file; the warehouse directory only opens URLs.
    bare = key == "state"
    if env.get(variable):
        check_url(env[variable], key, schemes, variable, bare_path=bare)
        return env[variable]
    value: str | None = raw.get(key)
    if value:
        check_url(value, key, schemes, f"{path}: {key}", bare_path=bare)
    return value
