"""``eltflow serve``: one process running the scheduler, a worker, the HTTP API and the console.

Each part runs on its own thread over one :class:`~eltflow.app.App`:

- the HTTP server (uvicorn, on a socket bound before anything starts, so a busy port fails
  at once with a clear error instead of after the worker has claimed executions);
- the worker, claiming runnable executions from the state store with a lease;
- the scheduler loop, starting executions for due schedule fires.

Shutdown (SIGTERM, SIGINT or :meth:`Server.stop`) runs in the order that loses nothing: stop
accepting HTTP requests (those in progress finish), stop the scheduler between ticks (a fire
it claimed but didn't start stays PENDING and is taken over later), then let the worker finish
and record the tasks in flight; the worker releases the lease of each execution it drops, so
running executions (a long Wait, say) are picked up again by the next ``eltflow serve`` or
``eltflow worker``. Nothing is lost by a kill -9 either — leases lapse — it just takes longer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from eltflow.app import App
from eltflow.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8642
TOKEN_ENV = "ELTFLOW_TOKEN"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and addresses in 127.0.0.0/8 or ::1 (reachable only from here)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything, so treat it as exposed


def read_token_file(path: str | os.PathLike[str]) -> str:
    """The token kept in ``path`` (``--token-file``), surrounding whitespace dropped: unlike a
    ``--token`` flag it does not show in the process list.

    Raises:
        ConfigError: the file cannot be read, or holds only whitespace.
    """
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read the token file {path}: {e}") from e
    if not token:
        raise ConfigError(f"the token file {path} is empty")
    return token


def required_token(host: str, token: str | None, environ: Mapping[str, str]) -> str | None:
    """The token the server will demand: ``token`` or ``$ELTFLOW_TOKEN``; required off loopback.

    Raises:
        ConfigError: binding to a non-loopback address without a token.
    """
    chosen = token or environ.get(TOKEN_ENV) or None
    if chosen is None and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve on {host}, which other machines can reach, without a token: "
            f"pass --token T or set {TOKEN_ENV} (the API and console will then demand it), "
            f"or bind to 127.0.0.1"
        )
    return chosen


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: without it uvicorn's separate writes of headers and
    # body meet the client's delayed ACK and every request took ~45 ms instead of ~5 ms.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as e:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class Server:
    """The scheduler, a worker and the HTTP app over ``app``, each on its own thread.

    Use :meth:`start` / :meth:`stop` (or ``with server.running():``) from tests and embedding
    code; :func:`serve` adds signal handling for the command line.
    """

    def __init__(
        self,
        app: App,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        token: str | None = None,
        allow_hosts: Collection[str] = (),
        max_body: int | None = None,
        scheduler: bool = True,
        worker_options: Mapping[str, Any] | None = None,
        scheduler_poll_seconds: float = 1.0,
        log_level: str = "warning",
        console: bool = True,
    ) -> None:
        if token is None and not is_loopback(host):
            raise ConfigError(f"a token is required to serve on the non-loopback address {host}")
        self.app = app
        self.host = host
        self.port = port
        self.token = token
        self.allow_hosts = tuple(allow_hosts)
        self.max_body = max_body  # None: guard.BODY_LIMIT
        self.log_level = log_level
        self.console = console  # False: the AWS endpoint alone (``eltflow endpoint``)
        self.with_scheduler = scheduler
        self.scheduler_poll_seconds = scheduler_poll_seconds
        self.worker = app.worker(**dict(worker_options or {}))
        self._scheduler_stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []
        self._http: Any = None
        self._sock: socket.socket | None = None
        self._stopped = False

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, *, ready_timeout: float = 30.0) -> None:
        """Bind, start every part, and return once the HTTP server accepts connections."""
        import uvicorn

        from eltflow.api.app import create_app
        from eltflow.api.guard import BODY_LIMIT, BodyLimit, CrossSiteGuard, allowed_hosts
        from eltflow.endpoint import Endpoint, with_endpoint

        self._sock = _bind(self.host, self.port)
        self.port = self._sock.getsockname()[1]  # --port 0: the port the OS picked
        hosts = allowed_hosts(self.host, self.allow_hosts)
        # AWS SDK requests (X-Amz-Target, query Action, Lambda paths) go to the AWS endpoint,
        # behind the same Host/Origin rules as the console (boto3 sends no Origin).
        aws = CrossSiteGuard(Endpoint(self.app, token=self.token), hosts)
        http_app = (
            with_endpoint(
                create_app(self.app, token=self.token, hosts=hosts, health=self.health), aws
            )
            if self.console
            else aws
        )
        config = uvicorn.Config(
            BodyLimit(http_app, limit=self.max_body or BODY_LIMIT),
            log_level=self.log_level,
            lifespan="off",
            timeout_graceful_shutdown=10,
        )
        self._http = _http_server(config)
        self._point_handlers_here()
        self._spawn("eltflow-worker", self._run_worker)
        if self.with_scheduler:
            self._spawn("eltflow-scheduler", self._run_scheduler)
        self._spawn("eltflow-http", self._run_http)
        waited = 0.0
        while not self._http.started:
            if self._errors or waited > ready_timeout:
                self.stop()
                cause = self._errors[0] if self._errors else None
                raise ConfigError(f"the HTTP server did not start on {self.url}") from cause
            time.sleep(0.02)
            waited += 0.02

    def _point_handlers_here(self) -> None:
        point_handlers_at(self.app, self.url, self.token)

    def stop(self, timeout: float = 60.0) -> None:
        """Stop accepting requests, stop the scheduler, let the worker record what is in flight.

        Idempotent; joins every thread (``timeout`` seconds each at most).
        """
        if self._stopped:
            return
        self._stopped = True
        # In this order: no new requests (so nothing new gets started), no new fires, then the
        # worker records what is in flight and releases its executions.
        steps: list[tuple[str, Callable[[], None]]] = [
            ("eltflow-http", self._stop_http),
            ("eltflow-scheduler", self._scheduler_stop.set),
            ("eltflow-worker", self.worker.stop),
        ]
        for name, request_stop in steps:
            request_stop()
            for thread in self._threads:
                if thread.name == name:
                    thread.join(timeout)
                    if thread.is_alive():
                        log.warning("%s did not stop within %.0f s", name, timeout)
        if self._sock is not None:
            self._sock.close()

    def _stop_http(self) -> None:
        if self._http is not None:
            self._http.should_exit = True

    @contextmanager
    def running(self) -> Iterator[Server]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def health(self) -> dict[str, Any]:
        """What ``GET /api/health`` says: the worker's view of the state store."""
        h = self.worker.health
        worker: dict[str, Any] = {"ok": h.ok, "failures": h.failures}
        if not h.ok:
            worker["error"] = h.error
            worker["since"] = h.since.isoformat() if h.since else None
        return {"status": "ok" if h.ok else "degraded", "worker": worker}

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions that ended a part early (the others keep running)."""
        return list(self._errors)

    # -- the parts -------------------------------------------------------------------------
    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        def run() -> None:
            try:
                target()
            except BaseException as e:
                log.exception("%s stopped with an error", name)
                self._errors.append(e)

        thread = threading.Thread(target=run, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _run_http(self) -> None:
        assert self._sock is not None
        asyncio.run(self._http.serve(sockets=[self._sock]))

    def _run_worker(self) -> None:
        self.worker.run()

    def _run_scheduler(self) -> None:
        scheduler = self.app.schedules.scheduler(poll_seconds=self.scheduler_poll_seconds)
        scheduler.run(self._scheduler_stop)


def _http_server(config: Any) -> Any:
    import uvicorn

    class QuietServer(uvicorn.Server):
        """uvicorn's server without its signal handling: :func:`serve` owns the signals (and
        uvicorn would re-raise SIGTERM after shutting down, turning a clean exit into -15)."""

        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return QuietServer(config)


def serve(
    app: App,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    token: str | None = None,
    allow_hosts: Collection[str] = (),
    max_body: int | None = None,
    environ: Mapping[str, str] | None = None,
    announce: Callable[[str], None] | None = None,
    console: bool = True,
) -> int:
    """Run until SIGTERM or SIGINT, then shut down cleanly; returns the exit code (0)."""
    env = os.environ if environ is None else environ
    server = Server(
        app,
        host=host,
        port=port,
        token=required_token(host, token, env),
        allow_hosts=allow_hosts,
        max_body=max_body,
        console=console,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.start()
        say = announce or (lambda line: print(line, file=sys.stderr, flush=True))
        auth = " (token required)" if server.token else ""
        what = f"console at {server.url}/" if console else "AWS endpoint only"
        say(f"eltflow serving on {server.url}{auth}; {what}")
        while not stop.wait(0.5):
            if server.errors:
                break
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if server.errors:
        raise ConfigError(f"eltflow serve stopped: {server.errors[0]}") from server.errors[0]
    return 0


def point_handlers_at(app: App, url: str, token: str | None = None) -> None:
    """Lambda handler processes get ``url`` as their AWS endpoint, with dummy credentials (the
    token as access key when there is one) and the region, as a Lambda sandbox gets its
    region's endpoints. Not when the project runs against real AWS: handlers reach AWS."""
    from eltflow.aws import aws_mode

    runner = app.lambdas
    if runner is None or (app.settings is not None and aws_mode(app.settings)):
        return
    has_functions = bool(runner.settings.functions) or (
        runner.functions is not None and bool(runner.functions.all())
    )
    if has_functions and runner.settings.isolation != "process":
        # Threads share this process's environment, which eltflow's own boto3 clients (and
        # other code in it) read too, so it is not changed for them.
        log.info(
            "Lambda handlers run in threads: boto3 inside them does not reach %s; "
            'set [lambda] isolation = "process" for that',
            url,
        )
    region = runner.settings.region
    runner.set_handler_environment(
        {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": token or "eltflow",
            "AWS_SECRET_ACCESS_KEY": "eltflow",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            # botocore would send StartSyncExecution to "sync-" + the endpoint's host, which
            # does not resolve for a local address (see eltflow.endpoint.states).
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        }
    )


@contextmanager
def endpoint_thread(app: App, *, ready_timeout: float = 30.0) -> Iterator[str]:
    """The AWS endpoint alone (no worker, no scheduler, no console) on an ephemeral loopback
    port, in a thread, while the block runs; yields its URL."""
    import uvicorn

    from eltflow.api.guard import CrossSiteGuard, allowed_hosts
    from eltflow.endpoint import Endpoint

    sock = _bind(DEFAULT_HOST, 0)
    url = f"http://{DEFAULT_HOST}:{sock.getsockname()[1]}"
    aws = CrossSiteGuard(Endpoint(app), allowed_hosts(DEFAULT_HOST))
    server = _http_server(
        uvicorn.Config(aws, log_level="warning", lifespan="off", access_log=False)
    )
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=run, name="eltflow-endpoint", daemon=True)
    thread.start()
    deadline = time.monotonic() + ready_timeout
    while not server.started:
        if errors or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise ConfigError(f"the AWS endpoint did not start on {url}") from (
                errors[0] if errors else None
            )
        time.sleep(0.01)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def serving_handlers(app: App) -> App:
    """``app`` with :func:`handler_endpoint` served until the app closes (its first closer),
    for a command that hands the app on instead of running inside a ``with``
    (``pipeline demo --from-template``, ``test-state``)."""
    serving = handler_endpoint(app)
    serving.__enter__()

    def stop_serving() -> None:
        serving.__exit__(None, None, None)

    app.closers.insert(0, stop_serving)
    return app


@contextmanager
def handler_endpoint(app: App) -> Iterator[str | None]:
    """For ``eltflow worker`` and ``eltflow start --wait``, which have no HTTP server: when the
    project's Lambda handlers run in processes against the local services, serve the AWS
    endpoint on an ephemeral loopback port for them while the command runs (yields its URL,
    or None when there is nothing to serve).

    Whether eltflow.toml declares functions does not matter: functions a stack deployed are
    in the state store, and one may be deployed while a worker runs."""
    from eltflow.aws import aws_mode

    runner = app.lambdas
    wanted = (
        runner is not None
        and runner.settings.isolation == "process"
        and not (app.settings is not None and aws_mode(app.settings))
    )
    if not wanted:
        yield None
        return
    with endpoint_thread(app) as url:
        point_handlers_at(app, url)
        yield url
