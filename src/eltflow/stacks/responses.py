"""Where custom resources answer: a small HTTP server on 127.0.0.1 that takes the ``PUT`` a
function's ``cfnresponse.send`` makes to its ``ResponseURL`` (CloudFormation's pre-signed S3
URL), for as long as a custom resource operation runs."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Responses:
    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self._bodies: dict[str, Any] = {}
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def new_url(self) -> tuple[str, str]:
        """A fresh (token, ResponseURL)."""
        token = uuid.uuid4().hex
        with self._lock:
            self._events[token] = threading.Event()
        host, port = self._server.server_address[:2]
        return token, f"http://{host!s}:{port}/{token}"

    def _receive(self, token: str, body: bytes) -> bool:
        with self._lock:
            event = self._events.get(token)
            if event is None:
                return False
            try:
                self._bodies[token] = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                self._bodies[token] = {"Status": "FAILED", "Reason": "the response is not JSON"}
        event.set()
        return True

    def wait(self, token: str, timeout: float) -> Any:
        """The response for ``token``, or None when none arrives within ``timeout`` seconds."""
        with self._lock:
            event = self._events[token]
        if not event.wait(timeout):
            return None
        with self._lock:
            return self._bodies.get(token)


@contextmanager
def serve_responses() -> Iterator[Responses]:
    holder: list[Responses] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            ok = holder[0]._receive(self.path.strip("/"), body)
            self.send_response(200 if ok else 404)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: the stack records the outcome

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(Responses(server))
    thread = threading.Thread(target=server.serve_forever, name="cfn-responses", daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
