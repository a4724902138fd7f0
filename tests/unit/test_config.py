"""Settings: defaults, overrides, and URLs that mean one file to every component."""

from __future__ import annotations

from pathlib import Path

import pytest

from eltflow.config import Settings, load_settings
from eltflow.errors import ConfigError
from eltflow.store.db import sqlite_path
from eltflow.warehouse.bulk import duckdb_path


def test_defaults_are_absolute_even_for_a_relative_project_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "proj").mkdir()
    settings = load_settings("proj", environ={})
    assert settings.project_dir == tmp_path / "proj"
    # The state store and the bulk loader resolve the URLs to the same absolute files.
    assert Path(sqlite_path(settings.state_url)) == tmp_path / "proj/.eltflow/state.db"
    assert Path(duckdb_path(settings.warehouse_url)) == tmp_path / "proj/.eltflow/warehouse.duckdb"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    (tmp_path / "eltflow.toml").write_text('state = "postgresql://a/b"\n', encoding="utf-8")
    assert load_settings(tmp_path, environ={}).state_url == "postgresql://a/b"
    env = {"ELTFLOW_STATE": "postgresql://c/d", "ELTFLOW_WAREHOUSE": "duckdb:///x.duckdb"}
    settings = load_settings(tmp_path, environ=env)
    assert (settings.state_url, settings.warehouse_url) == (
        "postgresql://c/d",
        "duckdb:///x.duckdb",
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [("state = [1]\n", "'state' must be a string"), ("state = \n", "eltflow.toml")],
)
def test_bad_config_names_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / "eltflow.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=needle):
        load_settings(tmp_path, environ={})


def _write(folder: Path, text: str) -> Path:
    path = folder / "eltflow.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'warehous = "duckdb:///w.duckdb"\n',
            "unknown top-level key 'warehous'; did you mean 'warehouse'?",
        ),
        ('[tabels.X]\npartition_key = "K"\n', "unknown section [tabels]; did you mean [tables]?"),
        (
            '[tables.X]\npartition_kye = "K"\n',
            "[tables.X]: unknown key 'partition_kye'; did you mean 'partition_key'?",
        ),
        (
            "[notify.htp]\nmax_attempts = 2\n",
            "unknown section [notify.htp]; did you mean [notify.http]?",
        ),
        (
            '[lambda.functions]\nLoad = { handler = "m:f", timout = 3 }\n',
            "[lambda.functions.Load]: unknown key 'timout'; did you mean 'timeout'?",
        ),
        (
            '[topics.t]\nsubscriptions = [{ protocol = "log", endpont = "x" }]\n',
            "[topics.t] subscriptions[0]: unknown key 'endpont'; did you mean 'endpoint'?",
        ),
        (
            '[schedules."nightly run"]\nexpresion = "rate(1 day)"\n',
            "[schedules.\"nightly run\"]: unknown key 'expresion'; did you mean 'expression'?",
        ),
        ("[pipelines.reference]\nclustr = 'c'\n", "did you mean 'cluster'?"),
        ("[frobnicate]\nx = 1\n", "unknown section [frobnicate] (known: [aws], [dataapi]"),
    ],
)
def test_unknown_keys_and_sections_name_the_file_the_key_and_the_closest(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_settings(tmp_path, environ={})
    assert str(e.value).startswith(f"{path}: ")
    assert message in str(e.value)


def test_every_documented_key_is_accepted(tmp_path: Path) -> None:
    _write(
        tmp_path,
        """
state = "sqlite:///s.db"
warehouse = "duckdb:///w.duckdb"
[warehouses.w]
url = "redshift://"
databases = { dev = "postgresql://h/dev" }
cluster_identifier = "c"
workgroup_name = "g"
region = "eu-west-1"
db_user = "u"
secret_arn = "arn"
database = "dev"
[tables.T]
partition_key = "K"
partition_key_type = "S"
sort_key = "S"
sort_key_type = "N"
[lambda]
isolation = "thread"
workers = 2
[lambda.functions]
A = "m:f"
B = { handler = "m:g", timeout = 3, memory = 256 }
[topics.t]
subscriptions = [{ protocol = "log", endpoint = "x" }]
[notify.http]
max_attempts = 1
[notify.smtp]
host = "h"
[schedules.s]
expression = "rate(1 day)"
state_machine = "m"
input = { any = { nested = "value" } }
[aws]
mode = "local"
[s3]
root = "buckets"
[dataapi]
page_rows = 10
[pipelines.reference]
cluster = "c"
""",
    )
    assert load_settings(tmp_path, environ={}).section("tables")["T"]["sort_key"] == "S"


def test_the_schema_knows_every_field_of_the_tables_it_fills() -> None:
    # The schema is the one list of key names; these dataclasses are filled from it.
    from dataclasses import fields

    from eltflow.config import SCHEMA, Table
    from eltflow.dataapi.service import DataApiOptions
    from eltflow.notify.config import HttpPolicy, SmtpSettings
    from eltflow.pipelines.reference import ReferenceConfig

    def keys(*path: str) -> set[str]:
        shape = SCHEMA
        for part in path:
            nested = shape.keys[part]
            assert isinstance(nested, Table)
            shape = nested
        return set(shape.keys)

    assert keys("pipelines", "reference") == {f.name for f in fields(ReferenceConfig)}
    assert keys("notify", "http") == {f.name for f in fields(HttpPolicy)}
    assert keys("notify", "smtp") == {f.name for f in fields(SmtpSettings)}
    assert keys("dataapi") <= {f.name for f in fields(DataApiOptions)}


def test_settings_built_in_code_are_checked_too(tmp_path: Path) -> None:
    # A section where a plain value belongs is a misspelt section, not a value to ignore.
    with pytest.raises(ConfigError, match=r"section \[warehouse\]; did you mean \[warehouses\]"):
        Settings(
            project_dir=tmp_path,
            state_url="sqlite://",
            warehouse_url="duckdb://",
            raw={"warehouse": {"x": {"url": "duckdb://"}}},
        )


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        (
            'state = "mysql://u:pw@h/db"\n',
            {},
            "eltflow.toml: state: state URL scheme 'mysql://' is not supported; "
            "use one of sqlite://, postgresql://, postgres://",
        ),
        (
            'warehouse = "sqlite:///w.db"\n',
            {},
            "warehouse: warehouse URL scheme 'sqlite://' is not supported; "
            "use one of duckdb://, postgresql://, postgres://, redshift://",
        ),
        ("", {"ELTFLOW_STATE": "redis://h"}, "ELTFLOW_STATE: state URL scheme 'redis://'"),
        (
            "",
            {"ELTFLOW_WAREHOUSE": "w.duckdb"},
            "ELTFLOW_WAREHOUSE: warehouse must be a URL (duckdb://, postgresql://",
        ),
    ],
)
def test_unknown_url_schemes_are_refused_with_the_supported_list(
    tmp_path: Path, text: str, environ: dict[str, str], message: str
) -> None:
    _write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_settings(tmp_path, environ=environ)
    assert message in str(e.value)
    assert "pw@" not in str(e.value)


def test_a_bare_path_is_still_a_sqlite_state_file(tmp_path: Path) -> None:
    _write(tmp_path, f'state = "{tmp_path / "s.db"}"\n')
    assert load_settings(tmp_path, environ={}).state_url == str(tmp_path / "s.db")


def test_a_missing_project_folder_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(ConfigError, match=f"project folder {missing} does not exist; create it"):
        load_settings(missing, environ={})
    with pytest.raises(ConfigError, match=r"\(ELTFLOW_HOME\) does not exist"):
        load_settings(environ={"ELTFLOW_HOME": str(missing)})
    assert not missing.exists()
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not a folder"):
        load_settings(tmp_path / "file", environ={})
