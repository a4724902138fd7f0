"""``App.workers``: which workers are running, decided from their heartbeats with the app's
clock (a virtual one here, so "a minute later" is a value, not a wait)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from eltflow.app import build_app
from eltflow.cli import main
from eltflow.clock import VirtualClock
from eltflow.runtime.workers import LIVENESS_WINDOW
from eltflow.store.rows import to_us

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def test_a_worker_is_live_until_its_heartbeat_is_older_than_the_window(store_url: str) -> None:
    clock = VirtualClock(T0)
    app = build_app(state_url=store_url, clock=clock)
    try:
        assert not app.workers.any_running()
        app.store.heartbeat("w-1", to_us(T0))
        assert app.workers.live() == ["w-1"]
        clock.sleep(LIVENESS_WINDOW.total_seconds())
        assert app.workers.live() == ["w-1"]  # exactly one window old: still counted
        clock.sleep(1)
        assert not app.workers.any_running()
        app.store.heartbeat("w-1", to_us(clock.now()))
        assert app.workers.any_running()
        app.store.worker_gone("w-1")  # a clean stop removes it at once
        assert not app.workers.any_running()
    finally:
        app.close()


def test_start_says_when_no_worker_will_run_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("ELTFLOW_HOME", "ELTFLOW_STATE", "ELTFLOW_WAREHOUSE"):
        monkeypatch.delenv(var, raising=False)
    state = f"sqlite:///{tmp_path / 'state.db'}"
    (tmp_path / "eltflow.toml").write_text(f'state = "{state}"\n', "utf-8")
    app = build_app(state_url=state)
    app.service.create_state_machine(name="p", definition=PASS)
    app.close()
    argv = ["--project-dir", str(tmp_path), "start", "p"]
    assert main(argv) == 0
    assert "no worker is running" in capsys.readouterr().err
    app = build_app(state_url=state)
    app.store.heartbeat("w-1", to_us(app.clock.now()))
    app.close()
    assert main(argv) == 0
    assert "no worker is running" not in capsys.readouterr().err
