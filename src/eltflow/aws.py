"""``eltflow.aws.client(name)``: a boto3-shaped client, local or real.

Code written against boto3 (``client.execute_statement(Sql=..., ClusterIdentifier=...)``) runs
unchanged on a laptop: by default the client is eltflow's local implementation of the service;
with ``[aws] mode = "aws"`` in eltflow.toml it is real boto3 (``region`` and ``endpoint_url``
taken from the same table). Each service adds one entry to :data:`LOCAL_CLIENTS`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from eltflow.config import CONFIG_FILE, Settings, load_settings
from eltflow.errors import ConfigError

LocalFactory = Callable[[Settings], Any]

# Local services of the apps running in this process, by (service name, state store URL). A
# Lambda handler that calls ``client("redshift-data")`` inside a worker then talks to the app's
# own service (its statements, its warehouse connections), as a handler's boto3 client on AWS
# reaches the one regional service, instead of opening a second service on the same files.
_LIVE: dict[tuple[str, str], list[Callable[[], Any]]] = {}
_LIVE_LOCK = threading.Lock()


def bind_local(state_url: str, clients: Mapping[str, Callable[[], Any]]) -> Callable[[], None]:
    """Make ``client(name)`` return ``clients[name]()`` for projects on ``state_url``;
    returns the function that undoes it (bindings stack, the newest wins)."""
    with _LIVE_LOCK:
        for name, factory in clients.items():
            _LIVE.setdefault((name, state_url), []).append(factory)

    def unbind() -> None:
        with _LIVE_LOCK:
            for name, factory in clients.items():
                stack = _LIVE.get((name, state_url), [])
                if factory in stack:
                    stack.remove(factory)
                if not stack:
                    _LIVE.pop((name, state_url), None)

    return unbind


def _live(service_name: str, state_url: str | None) -> Callable[[], Any] | None:
    """The newest binding for the store, or for any store when ``state_url`` is None (handler
    code calls ``client(name)`` without settings and means the app that is running it)."""
    with _LIVE_LOCK:
        if state_url is not None:
            stack = _LIVE.get((service_name, state_url))
            return stack[-1] if stack else None
        for (name, _), factories in reversed(_LIVE.items()):
            if name == service_name and factories:
                return factories[-1]
        return None


def _redshift_data(settings: Settings) -> Any:
    from eltflow.dataapi.client import LocalRedshiftDataClient
    from eltflow.dataapi.factory import build_dataapi
    from eltflow.store.db import Database

    db = Database(settings.state_url)
    return LocalRedshiftDataClient(build_dataapi(settings, db), owns_service=True, db=db)


def _dynamodb(settings: Settings) -> Any:
    from eltflow.items.client import LocalDynamoDBClient
    from eltflow.items.config import build_items
    from eltflow.store.db import Database
    from eltflow.store.migrate import migrate

    db = Database(settings.state_url)
    migrate(db)
    return LocalDynamoDBClient(build_items(settings, db), db=db)


def _sns(settings: Settings) -> Any:
    from eltflow.notify.client import LocalSnsClient
    from eltflow.notify.topics import build_topics
    from eltflow.store.db import Database
    from eltflow.store.migrate import migrate

    db = Database(settings.state_url)
    migrate(db)
    return LocalSnsClient(build_topics(settings, db), db=db)


# service name (as boto3 spells it) → factory of the local client
LOCAL_CLIENTS: dict[str, LocalFactory] = {
    "redshift-data": _redshift_data,
    "dynamodb": _dynamodb,
    "sns": _sns,
}


def aws_mode(settings: Settings) -> bool:
    """True when ``[aws] mode = "aws"``: calls go to real AWS through boto3."""
    mode = settings.section("aws").get("mode", "local")
    if mode not in ("local", "aws"):
        raise ConfigError(f'{CONFIG_FILE}: [aws] mode must be "local" or "aws" (got {mode!r})')
    return bool(mode == "aws")


def boto3_client(service_name: str, settings: Settings) -> Any:
    """A real boto3 client, configured from ``[aws]`` (``region``, ``endpoint_url``)."""
    import boto3

    section = settings.section("aws")
    kwargs: dict[str, Any] = {}
    if section.get("region"):
        kwargs["region_name"] = str(section["region"])
    if section.get("endpoint_url"):
        kwargs["endpoint_url"] = str(section["endpoint_url"])
    return boto3.client(service_name, **kwargs)  # type: ignore[call-overload]


def client(service_name: str, settings: Settings | None = None) -> Any:
    """A client for ``service_name`` with boto3's method names and response shapes.

    Local clients own their resources: call ``close()`` when done (boto3 clients have it too).
    """
    if settings is None:
        live = _live(service_name, None)
        if live is not None:
            return live()
        settings = load_settings()
    if aws_mode(settings):
        return boto3_client(service_name, settings)
    live = _live(service_name, settings.state_url)
    if live is not None:
        return live()
    factory = LOCAL_CLIENTS.get(service_name)
    if factory is None:
        raise ConfigError(
            f"no local implementation of AWS service {service_name!r} (local services: "
            f'{", ".join(sorted(LOCAL_CLIENTS))}); set [aws] mode = "aws" in {CONFIG_FILE} '
            "to use real AWS"
        )
    return factory(settings)
