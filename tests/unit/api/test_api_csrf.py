"""The console's per-session CSRF token (issue 17): a state-changing request from a browser
needs its session's token, whatever the route; programs (curl, boto3, ``--token`` scripts)
need none. Over a real server socket, against every state-changing route the OpenAPI lists."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from eltflow.api.csrf import CsrfTokens, csrf_reason, session_of
from eltflow.api.openapi import OPENAPI
from eltflow.app import App, build_app
from eltflow.runtime import arns
from eltflow.serve import Server

MACHINE = {
    "name": "m",
    "definition": {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
}
WRITES = sorted(
    (method.upper(), path)
    for path, operations in OPENAPI["paths"].items()
    for method in operations
    if method in ("post", "put", "patch", "delete")
)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    built = build_app(state_url=f"sqlite:///{tmp_path / 'state.db'}")
    yield built
    built.close()


@pytest.fixture
def server(app: App) -> Iterator[Server]:
    srv = Server(app, port=0, scheduler=False, worker_options={"poll_seconds": 0.05})
    with srv.running():
        yield srv


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the refusals (nothing is created: every request is refused)."""
    built = build_app(state_url=f"sqlite:///{tmp_path_factory.mktemp('csrf') / 'state.db'}")
    srv = Server(built, port=0, scheduler=False, worker_options={"poll_seconds": 0.05})
    try:
        with srv.running():
            yield srv
    finally:
        built.close()


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_there_are_state_changing_routes_to_check() -> None:
    assert ("POST", "/api/executions/{arn}/stop") in WRITES
    assert ("POST", "/api/tasks/success") in WRITES
    assert ("POST", "/api/jobs/{table}/{job_id}/reset") in WRITES
    assert len(WRITES) >= 12


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_a_same_origin_page_without_the_token_is_refused_on_every_write(
    shared: Server, method: str, path: str
) -> None:
    own = shared.url
    # What a page on this origin sends (a script injected in the console, a browser that
    # dropped the Origin check's premise): Origin and Referer right, no CSRF token.
    r = httpx.request(
        method,
        f"{own}{_concrete(path)}",
        json={},
        headers={"origin": own, "referer": f"{own}/", "sec-fetch-site": "same-origin"},
    )
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "CsrfTokenInvalid"
    assert "X-Eltflow-CSRF" in r.json()["message"] or "session" in r.json()["message"]


def test_the_token_is_bound_to_its_session(server: Server, app: App) -> None:
    own = server.url
    page = {"origin": own, "referer": f"{own}/"}
    with httpx.Client() as a, httpx.Client() as b:
        token_a = a.get(f"{own}/api/csrf").json()["token"]
        token_b = b.get(f"{own}/api/csrf").json()["token"]
        assert token_a != token_b
        assert a.get(f"{own}/api/csrf").json()["token"] == token_a  # stable per session
        url = f"{own}/api/state-machines"
        for client, headers in (
            (a, page),  # the cookie alone is not enough
            (a, {**page, "x-eltflow-csrf": token_b}),  # another session's token
            (a, {**page, "x-eltflow-csrf": "0" * 64}),
        ):
            r = client.post(url, json=MACHINE, headers=headers)
            assert (r.status_code, r.json()["code"]) == (403, "CsrfTokenInvalid"), r.text
        # A token without its session cookie (a fresh client) is refused too.
        r = httpx.post(url, json=MACHINE, headers={**page, "x-eltflow-csrf": token_a})
        assert (r.status_code, r.json()["code"]) == (403, "CsrfTokenInvalid")
        assert app.service.list_state_machines()["stateMachines"] == []
        r = a.post(url, json=MACHINE, headers={**page, "x-eltflow-csrf": token_a})
        assert r.status_code == 200, r.text
    # The session cookie is out of scripts' and other sites' reach.
    cookie = httpx.get(f"{own}/api/csrf").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_programs_need_no_token(server: Server, app: App) -> None:
    r = httpx.post(f"{server.url}/api/state-machines", json=MACHINE)
    assert r.status_code == 200, r.text
    r = httpx.post(f"{server.url}/api/state-machines/m/executions", json={})
    assert r.status_code == 200, r.text
    # The AWS protocol endpoint is not under /api/: boto3 works as before.
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    assert [m["name"] for m in sfn.list_state_machines()["stateMachines"]] == ["m"]
    started = sfn.start_execution(stateMachineArn=arns.machine_arn("m"))
    assert ":execution:m:" in started["executionArn"]


def test_a_token_server_keeps_bearer_clients_working_and_still_checks_browsers(app: App) -> None:
    srv = Server(app, port=0, token="open-sesame", scheduler=False)
    with srv.running():
        bearer = {"authorization": "Bearer open-sesame"}
        r = httpx.post(f"{srv.url}/api/state-machines", json=MACHINE, headers=bearer)
        assert r.status_code == 200, r.text
        page = {**bearer, "origin": srv.url}
        r = httpx.post(f"{srv.url}/api/state-machines/m/executions", json={}, headers=page)
        assert (r.status_code, r.json()["code"]) == (403, "CsrfTokenInvalid")
        assert httpx.get(f"{srv.url}/api/csrf").status_code == 401  # the token comes first
        with httpx.Client(headers=bearer) as browser:
            csrf = browser.get(f"{srv.url}/api/csrf").json()["token"]
            r = browser.post(
                f"{srv.url}/api/state-machines/m/executions",
                json={},
                headers={"origin": srv.url, "x-eltflow-csrf": csrf},
            )
            assert r.status_code == 200, r.text


def test_the_rule_itself() -> None:
    tokens = CsrfTokens(b"k" * 32)
    session = tokens.new_session()
    cookie = f"other=1; eltflow_session={session}"
    assert session_of(cookie) == session and session_of("broken=\x00;") is None
    browser = {"origin": "http://127.0.0.1:8642", "cookie": cookie}
    assert csrf_reason("GET", "/api/executions", browser, tokens) is None  # reads are safe
    assert csrf_reason("POST", "/", browser, tokens) is None  # the AWS endpoint
    assert csrf_reason("POST", "/api/x", {"content-type": "application/json"}, tokens) is None
    refused = csrf_reason("POST", "/api/x", browser, tokens)
    assert refused is not None and refused[:2] == (403, "CsrfTokenInvalid")
    signed = {**browser, "x-eltflow-csrf": tokens.token_for(session)}
    assert csrf_reason("DELETE", "/api/x", signed, tokens) is None
    # Another server process (another secret) does not accept it.
    assert csrf_reason("DELETE", "/api/x", signed, CsrfTokens(b"j" * 32)) is not None
