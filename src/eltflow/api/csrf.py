"""A per-session CSRF token for the console's state-changing requests (start, stop, redrive,
jobs reset, task success/failure, schedules...), on top of the Host/Origin rules of
:mod:`eltflow.api.guard`.

- **Getting it.** ``GET /api/csrf`` gives the console a session (an ``HttpOnly``,
  ``SameSite=Strict`` cookie) and that session's token in its JSON body. Only this server's own
  pages can read the body: the API sends no CORS headers, and DNS rebinding is refused by the
  Host check. The token is an HMAC of the session id under a secret made per server process,
  so nothing is stored and a restart simply makes the console ask again.
- **Sending it.** The console sends the token as ``X-Eltflow-CSRF`` on every state-changing
  request. A custom header cannot be set cross-site without a CORS preflight, which this server
  never grants.
- **Who must.** A state-changing ``/api/`` request that comes from a browser — one carrying
  ``Origin``, ``Referer``, ``Cookie`` or ``Sec-Fetch-*`` headers, which browsers add and
  programs (curl, httpx, boto3, ``--token`` scripts) don't — without a valid token for its
  session is refused with 403 ``CsrfTokenInvalid``. Other API clients are unaffected, and so
  is the AWS protocol endpoint (its paths are not under ``/api/``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import CookieError, SimpleCookie

from eltflow.api.guard import SAFE_METHODS, ASGIApp, Receive, Scope, Send, header_map, refuse

HEADER = "x-eltflow-csrf"
COOKIE = "eltflow_session"
# Headers a browser adds to a request and a program normally doesn't.
_BROWSER_HEADERS = ("origin", "referer", "cookie", "sec-fetch-site", "sec-fetch-mode")


class CsrfTokens:
    """Sessions and their tokens under one secret (one per server process)."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret if secret is not None else secrets.token_bytes(32)

    @staticmethod
    def new_session() -> str:
        return secrets.token_urlsafe(24)

    def token_for(self, session: str) -> str:
        return hmac.new(self._secret, session.encode("utf-8"), hashlib.sha256).hexdigest()

    def valid(self, session: str | None, token: str | None) -> bool:
        if not session or not token:
            return False
        return hmac.compare_digest(self.token_for(session).encode(), token.encode())


def session_of(cookie_header: str | None) -> str | None:
    """The console session id in a ``Cookie`` header, if any."""
    if not cookie_header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None and morsel.value else None


def from_browser(headers: dict[str, str]) -> bool:
    return any(name in headers for name in _BROWSER_HEADERS)


def csrf_reason(
    method: str, path: str, headers: dict[str, str], tokens: CsrfTokens
) -> tuple[int, str, str] | None:
    """Why a request must be refused for lack of a CSRF token (status, code, message), or None.
    ``headers``: lower-case names."""
    if method.upper() in SAFE_METHODS or not path.startswith("/api/"):
        return None
    if not from_browser(headers):
        return None
    session = session_of(headers.get("cookie"))
    token = headers.get(HEADER)
    if tokens.valid(session, token):
        return None
    problem = (
        "it has no console session (cookie)"
        if session is None
        else "it carries no X-Eltflow-CSRF header"
        if not token
        else "its X-Eltflow-CSRF header does not match its session"
    )
    return (
        403,
        "CsrfTokenInvalid",
        f"refusing a {method} to {path} from a browser: {problem}. The console gets its "
        "token from GET /api/csrf and sends it as X-Eltflow-CSRF (reload the page); programs "
        "that are not web pages need no token",
    )


class CsrfGuard:
    """ASGI middleware applying :func:`csrf_reason` to every HTTP request."""

    def __init__(self, app: ASGIApp, tokens: CsrfTokens) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = str(scope.get("path", ""))
            refused = csrf_reason(scope["method"], path, header_map(scope), self.tokens)
            if refused is not None:
                await refuse(send, *refused)
                return
        await self.app(scope, receive, send)
