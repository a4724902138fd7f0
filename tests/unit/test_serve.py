"""eltflow.serve in process: who needs a token, the server's lifecycle on a real socket."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from eltflow.app import App, build_app
from eltflow.errors import ConfigError
from eltflow.serve import Server, is_loopback, read_token_file, required_token


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.0.2.7", False),
        ("example.internal", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_token_rules() -> None:
    assert required_token("127.0.0.1", None, {}) is None
    assert required_token("127.0.0.1", "t", {}) == "t"
    assert required_token("0.0.0.0", None, {"ELTFLOW_TOKEN": "from-env"}) == "from-env"
    assert required_token("0.0.0.0", "flag", {"ELTFLOW_TOKEN": "env"}) == "flag"
    with pytest.raises(ConfigError, match=r"refusing to serve on 0\.0\.0\.0.*--token"):
        required_token("0.0.0.0", None, {})
    with pytest.raises(ConfigError, match="refusing"):
        required_token("0.0.0.0", None, {"ELTFLOW_TOKEN": ""})


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    built = build_app(state_url=f"sqlite:///{tmp_path / 'state.db'}")
    yield built
    built.close()


def test_server_needs_a_token_off_loopback(app: App) -> None:
    with pytest.raises(ConfigError, match="token is required"):
        Server(app, host="0.0.0.0", port=0)


def test_start_on_a_free_port_serve_and_stop(app: App) -> None:
    server = Server(app, port=0, worker_options={"poll_seconds": 0.05})
    with server.running():
        assert server.port != 0 and server.url == f"http://127.0.0.1:{server.port}"
        r = httpx.post(
            f"{server.url}/api/state-machines",
            json={
                "name": "m",
                "definition": {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}},
            },
        )
        assert r.status_code == 200, r.text
        assert httpx.get(f"{server.url}/").status_code == 200
    assert server.errors == []
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/api/state-machines", timeout=2)
    server.stop()  # idempotent


def test_a_busy_port_fails_at_once_with_the_address(app: App) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        server = Server(app, port=port)
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            server.start()


def test_a_token_can_come_from_a_file(tmp_path: Path) -> None:
    # A --token flag shows in the process list; a file (or $ELTFLOW_TOKEN) does not.
    secret = tmp_path / "token"
    secret.write_text("from-file\n", encoding="utf-8")
    assert read_token_file(secret) == "from-file"
    assert required_token("0.0.0.0", read_token_file(secret), {}) == "from-file"
    secret.write_text("  \n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"token file .*token is empty"):
        read_token_file(secret)
    with pytest.raises(ConfigError, match=r"cannot read the token file .*missing"):
        read_token_file(tmp_path / "missing")
