"""Cross-site request rules for ``eltflow serve``: what a web page the user visits cannot do.

``eltflow serve`` on loopback needs no token, so the browser itself is the attacker's way in:

- **DNS rebinding.** A page on ``evil.example`` whose name later resolves to 127.0.0.1 is, to
  the browser, same-origin with itself and can read every response. Its requests carry
  ``Host: evil.example``, so only requests naming this server (the bound address, the loopback
  names, or a name the user configured) are answered.
- **Cross-site writes.** A page may POST to any address without a CORS preflight as long as the
  body is a "simple" one (``text/plain``, a form). Browsers mark such a request with ``Origin``
  (and usually ``Referer``), so a state-changing request whose ``Origin`` or ``Referer`` names
  another origin is refused. Requests with neither (boto3, the AWS CLI, curl) pass: they don't
  come from a page. The JSON API also insists on ``Content-Type: application/json``
  (:func:`is_json_content`), which no simple request can send.

The rules run before routing, as plain ASGI, so every route (console, JSON API, AWS protocol
endpoints mounted later) is covered and no body is read for a refused request.

:class:`BodyLimit` bounds what a request may make the server hold, token or not: a body whose
``Content-Length`` is over the limit is refused unread, a chunked one as soon as it passes it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
API_BODY_LIMIT = 2 << 20
"""The JSON API's largest body: AWS caps a definition at 1 MiB (CreateStateMachine) and an
execution input at 256 KiB (StartExecution), so 2 MiB holds any valid request."""
BODY_LIMIT = 64 << 20
"""Everything else (the AWS endpoint: DynamoDB batches of up to 16 MB, Lambda payloads of
6 MB, S3 objects); ``eltflow serve --max-body-mb`` changes it."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def host_name(host: str) -> str:
    """The name part of a ``Host`` header or netloc: no port, no brackets, lower case, no
    trailing dot (``[::1]:80`` → ``::1``, ``LocalHost.:8642`` → ``localhost``)."""
    host = host.strip().lower()
    if host.startswith("["):
        name = host[1:].split("]", 1)[0]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name.rstrip(".")


def allowed_hosts(bound: str, extra: Collection[str] = ()) -> frozenset[str] | None:
    """The ``Host`` names a server bound to ``bound`` answers: the loopback names, the bound
    address and ``extra``; ``None`` (any) when bound to every interface (0.0.0.0 or ::), which
    ``eltflow serve`` only does behind a token, since the machine's names are not knowable."""
    name = host_name(bound)
    if name in ("0.0.0.0", "::", ""):
        return None
    return LOOPBACK_NAMES | {name} | {host_name(h) for h in extra}


def _netloc(value: str, *, scheme: str | None = None) -> str | None:
    """``host[:port]`` of an Origin or Referer (or of a ``Host`` header, given its ``scheme``),
    lower case, without a default port; ``None`` for anything else (``null``, an opaque or
    malformed origin). A ``Host`` header has no scheme, so either default port is dropped."""
    try:
        parts = urlsplit(f"{scheme}://{value.strip()}" if scheme else value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    name = parts.hostname.rstrip(".")
    name = f"[{name}]" if ":" in name else name
    defaults = _DEFAULT_PORTS.values() if scheme else (_DEFAULT_PORTS[parts.scheme],)
    if port is None or str(port) in defaults:
        return name
    return f"{name}:{port}"


def cross_site_reason(
    method: str, headers: MutableMapping[str, str], hosts: frozenset[str] | None
) -> tuple[int, str, str] | None:
    """Why a request must be refused, as ``(status, code, message)``, or ``None`` to let it in.

    ``headers`` maps lower-case names to values.
    """
    host = headers.get("host", "")
    name = host_name(host)
    # *.localhost names only ever resolve to loopback (RFC 6761, and browsers hard-code it),
    # so a rebinding page cannot own one; S3's virtual-hosted buckets use them.
    if hosts is not None and name not in hosts and not name.endswith(".localhost"):
        return (
            421,
            "MisdirectedRequest",
            f"this server does not answer for host {host!r}; use one of "
            f"{', '.join(sorted(hosts))} (eltflow serve --allow-host NAME adds a name)",
        )
    if method.upper() in SAFE_METHODS:
        return None
    for header in ("origin", "referer"):
        if header not in headers:
            continue  # a request from a page has an Origin; a Referer says the same if not
        source = _netloc(headers[header])
        if source is None or source != _netloc(host, scheme="http"):
            return (
                403,
                "CrossOriginRequest",
                f"refusing a {method} from {headers[header]!r}: state-changing requests "
                f"must come from this server's own pages or from a client that is not a "
                f"web page",
            )
        return None
    return None


def is_json_content(content_type: str) -> bool:
    """True for ``application/json`` (any parameters), the only body type the JSON API takes,
    so that no request a page can send without a CORS preflight reaches a handler."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json"


def header_map(scope: Scope) -> dict[str, str]:
    """An HTTP scope's headers by lower-case name (ASGI gives latin-1 bytes)."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"code": code, "message": message}).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: request bodies over the limit get 413 without being held in memory
    (``/api/`` bodies: ``api_limit``; others: ``limit``)."""

    def __init__(self, app: ASGIApp, *, limit: int = BODY_LIMIT, api_limit: int = API_BODY_LIMIT):
        self.app = app
        self.limit = limit
        self.api_limit = api_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = min(self.limit, self.api_limit) if path.startswith("/api/") else self.limit
        headers = dict(scope["headers"])
        too_large = (
            f"the request body is over the {limit}-byte limit for {path} (eltflow serve "
            f"--max-body-mb raises it for the AWS endpoint)"
        )
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await refuse(send, 400, "BadRequest", "Content-Length is not a number")
            elif int(declared) > limit:
                await refuse(send, 413, "RequestEntityTooLarge", too_large)
            else:  # the HTTP server holds the body to its declared length
                await self.app(scope, receive, send)
            return
        if b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body
            return
        # Chunked: take it in up to the limit, then hand it on as one piece.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = bytes(message.get("body", b""))
            size += len(chunk)
            if size > limit:
                await refuse(send, 413, "RequestEntityTooLarge", too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


class CrossSiteGuard:
    """ASGI middleware applying :func:`cross_site_reason` to every HTTP request."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str] | None) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = cross_site_reason(scope["method"], header_map(scope), self.hosts)
        if refused is None:
            await self.app(scope, receive, send)
            return
        await refuse(send, *refused)
