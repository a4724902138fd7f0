"""Cross-site abuse of a loopback ``eltflow serve`` (no token): forged writes from another
page, DNS rebinding, simple-request bodies — over a real server socket. And what must keep
working: the console's own requests and unmodified boto3 requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.awsrequest import AWSPreparedRequest

from eltflow.api.guard import allowed_hosts, cross_site_reason, host_name
from eltflow.app import App, build_app
from eltflow.runtime.worker import Health
from eltflow.serve import Server

EVIL = "http://evil.example"
PWN = {
    "name": "pwned",
    "definition": {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    app: App = build_app(state_url=f"sqlite:///{tmp_path / 'state.db'}")
    srv = Server(app, port=0, scheduler=False, worker_options={"poll_seconds": 0.05})
    try:
        with srv.running():
            yield srv
    finally:
        app.close()


def _machines(server: Server) -> list[str]:
    listed = httpx.get(f"{server.url}/api/state-machines").json()
    return [m["name"] for m in listed["stateMachines"]]


def test_a_foreign_page_cannot_post_a_text_plain_state_machine(server: Server) -> None:
    # What <form enctype="text/plain"> or fetch(..., {mode: "no-cors"}) sends: no preflight.
    body = json.dumps(PWN)
    r = httpx.post(
        f"{server.url}/api/state-machines",
        content=body,
        headers={"content-type": "text/plain", "origin": EVIL, "referer": f"{EVIL}/x"},
    )
    assert r.status_code == 403 and r.json()["code"] == "CrossOriginRequest"
    assert _machines(server) == []


def test_a_text_plain_body_is_not_json_even_without_an_origin(server: Server) -> None:
    body = json.dumps(PWN)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        r = httpx.post(
            f"{server.url}/api/state-machines",
            content=body,
            headers={"content-type": content_type},
        )
        assert r.status_code == 415, (content_type, r.text)
        assert r.json()["code"] == "UnsupportedMediaType"
    assert _machines(server) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": EVIL},
        {"origin": "null"},  # sandboxed iframes, data: URLs
        {"referer": f"{EVIL}/page"},
        {"origin": "http://127.0.0.1:1"},  # another local service on another port
    ],
)
def test_forged_job_reset_and_stop_are_refused(server: Server, headers: dict[str, str]) -> None:
    for path in ("/api/jobs/audit/101/reset", "/api/executions/arn:x/stop"):
        r = httpx.post(f"{server.url}{path}", headers=headers)
        assert r.status_code == 403, (path, r.text)


def test_dns_rebinding_host_is_refused_even_for_reads(server: Server) -> None:
    r = httpx.get(
        f"{server.url}/api/state-machines", headers={"host": f"evil.example:{server.port}"}
    )
    assert r.status_code == 421 and r.json()["code"] == "MisdirectedRequest"
    assert httpx.get(f"{server.url}/", headers={"host": "rebind.evil.example"}).status_code == 421


def test_the_console_and_loopback_names_keep_working(server: Server) -> None:
    own = server.url
    with httpx.Client() as browser:  # keeps the session cookie, as the browser does
        csrf = browser.get(f"{own}/api/csrf").json()["token"]
        r = browser.post(
            f"{own}/api/state-machines",
            json=PWN,
            headers={"origin": own, "referer": f"{own}/#/machines", "x-eltflow-csrf": csrf},
        )
    assert r.status_code == 200, r.text
    for name in ("localhost", "LOCALHOST.", "127.0.0.1"):
        got = httpx.get(f"{own}/api/state-machines", headers={"host": f"{name}:{server.port}"})
        assert got.status_code == 200, (name, got.text)
    assert httpx.get(f"{own}/").status_code == 200


def test_configured_names_and_wildcard_binds() -> None:
    assert allowed_hosts("127.0.0.1", ["Box.Lan"]) == frozenset(
        {"localhost", "127.0.0.1", "::1", "box.lan"}
    )
    assert allowed_hosts("0.0.0.0") is None  # token-protected; the machine's names are open
    assert allowed_hosts("[::]") is None
    assert host_name("[::1]:8642") == "::1" and host_name("LocalHost.:1") == "localhost"
    hosts = allowed_hosts("127.0.0.1")
    assert cross_site_reason("GET", {"host": "[::1]:8642"}, hosts) is None
    # *.localhost is loopback by definition (RFC 6761): S3's virtual-hosted buckets.
    assert cross_site_reason("GET", {"host": "bucket.s3.localhost:8642"}, hosts) is None
    assert cross_site_reason("GET", {"host": "localhost.evil.example"}, hosts) is not None
    assert (
        cross_site_reason("POST", {"host": "127.0.0.1", "origin": "http://127.0.0.1:80"}, hosts)
        is None
    )
    refused = cross_site_reason(
        "POST", {"host": "127.0.0.1:8642", "origin": "https://127.0.0.1:8642:x"}, hosts
    )
    assert refused is not None and refused[0] == 403


class _Captured(Exception):
    """Stops boto3 right before sending: the request is all we want."""


def _boto3_headers(service: str, operation: str, **params: Any) -> dict[str, str]:
    """The headers unmodified boto3 sends to an ``eltflow serve`` endpoint, captured just
    before they would go on the wire."""
    sent: list[AWSPreparedRequest] = []

    def capture(request: AWSPreparedRequest, **_: Any) -> None:
        sent.append(request)
        raise _Captured

    client = boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url="http://127.0.0.1:8642",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.meta.events.register("before-send", capture)
    with pytest.raises(_Captured):
        getattr(client, operation)(**params)
    (request,) = sent
    return {k.lower(): _text(v) for k, v in request.headers.items()}


def _text(value: object) -> str:
    # botocore keeps some header values as bytes
    return str(value, "latin-1") if isinstance(value, bytes) else str(value)


@pytest.mark.parametrize(
    ("service", "operation", "params", "content_type"),
    [
        ("stepfunctions", "list_state_machines", {}, "application/x-amz-json-1.0"),
        ("dynamodb", "list_tables", {}, "application/x-amz-json-1.0"),
        ("redshift-data", "list_statements", {}, "application/x-amz-json-1.1"),
        ("sns", "list_topics", {}, "application/x-www-form-urlencoded"),
        ("lambda", "invoke", {"FunctionName": "f", "Payload": b"{}"}, ""),
    ],
)
def test_boto3_requests_pass(
    service: str, operation: str, params: dict[str, Any], content_type: str
) -> None:
    headers = _boto3_headers(service, operation, **params)
    headers["host"] = "127.0.0.1:8642"  # what the HTTP layer adds from endpoint_url
    assert headers.get("content-type", "").startswith(content_type)
    assert cross_site_reason("POST", headers, allowed_hosts("127.0.0.1")) is None


def test_an_oversized_api_body_is_refused_before_it_is_read(server: Server) -> None:
    big = {"name": "big", "definition": {"StartAt": "A", "States": {}}, "pad": "x" * 3_000_000}
    r = httpx.post(f"{server.url}/api/state-machines", json=big)
    assert r.status_code == 413 and r.json()["code"] == "RequestEntityTooLarge"
    assert _machines(server) == []


def test_an_oversized_chunked_body_is_refused_once_it_passes_the_limit(server: Server) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(40):  # 40 MiB if it were all read
            sent += 1
            yield b" " * (1 << 20)

    r = httpx.post(
        f"{server.url}/api/state-machines",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413
    assert sent < 40  # refused before the rest was sent


def test_aws_endpoint_bodies_have_their_own_bound(tmp_path: Path) -> None:
    app: App = build_app(state_url=f"sqlite:///{tmp_path / 'state.db'}")
    srv = Server(app, port=0, scheduler=False, max_body=1 << 20)
    try:
        with srv.running():
            r = httpx.post(
                srv.url,
                content=b"{" + b" " * (2 << 20) + b"}",
                headers={
                    "content-type": "application/x-amz-json-1.0",
                    "x-amz-target": "AWSStepFunctions.ListStateMachines",
                },
            )
            assert r.status_code == 413
            small = httpx.post(
                srv.url,
                content=b"{}",
                headers={
                    "content-type": "application/x-amz-json-1.0",
                    "x-amz-target": "AWSStepFunctions.ListStateMachines",
                },
            )
            assert small.status_code == 200, small.text
    finally:
        app.close()


def test_health_reports_the_worker_view_of_the_store(server: Server) -> None:
    ok = httpx.get(f"{server.url}/api/health")
    assert ok.status_code == 200 and ok.json() == {
        "status": "ok",
        "worker": {"ok": True, "failures": 0},
    }
    # What the worker records while the store fails (it keeps retrying; see the worker tests).
    # Stopped first, so its next good round does not put it back to ok under the test.
    server.worker.stop()
    for thread in threading.enumerate():
        if thread.name == "eltflow-worker":
            thread.join(10)
    server.worker.health = Health(ok=False, failures=2, error="database is locked")
    bad = httpx.get(f"{server.url}/api/health")
    assert bad.status_code == 503
    assert bad.json()["status"] == "degraded"
    assert bad.json()["worker"]["error"] == "database is locked"
