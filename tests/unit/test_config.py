"""Settings: defaults, overrides, and URLs that mean one file to every component."""

from __future__ import annotations

from pathlib import Path

import pytest

from eltflow.config import load_settings
from eltflow.errors import ConfigError
from eltflow.store.db import sqlite_path
from eltflow.warehouse.bulk import duckdb_path


def test_defaults_are_absolute_even_for_a_relative_project_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
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
