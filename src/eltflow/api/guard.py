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
    if hosts is not None and host_name(host) not in hosts:
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


class CrossSiteGuard:
    """ASGI middleware applying :func:`cross_site_reason` to every HTTP request."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str] | None) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refused = cross_site_reason(scope["method"], headers, self.hosts)
        if refused is None:
            await self.app(scope, receive, send)
            return
        status, code, message = refused
        body = json.dumps({"code": code, "message": message}).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode("ascii")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
