"""``eltflow.aws.client(name)``: a boto3-shaped client, local or real.

Code written against boto3 (``client.execute_statement(Sql=..., ClusterIdentifier=...)``) runs
unchanged on a laptop: by default the client is eltflow's local implementation of the service;
with ``[aws] mode = "aws"`` in eltflow.toml it is real boto3 (``region`` and ``endpoint_url``
taken from the same table). Each service adds one entry to :data:`LOCAL_CLIENTS`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from eltflow.config import CONFIG_FILE, Settings, load_settings
from eltflow.errors import ConfigError

LocalFactory = Callable[[Settings], Any]


@dataclass(frozen=True)
class LocalClients:
    """One app's local clients, by service name, for the project on ``state_url``.

    A Lambda handler that calls ``client("redshift-data")`` while the app runs it talks to the
    app's own service (its statements, its warehouse connections), as a handler's boto3 client
    on AWS reaches the one regional service, instead of opening a second service on the same
    files. The binding is per invocation (a context variable set around the handler call by
    :meth:`bound`), never process-wide: two apps in one process each reach their own data.
    """

    state_url: str
    factories: Mapping[str, Callable[[], Any]]

    @contextmanager
    def bound(self) -> Iterator[None]:
        """Make ``client(name)`` return this app's client inside the ``with`` block (this
        thread or task only: a context variable)."""
        token = _BOUND.set(self)
        try:
            yield
        finally:
            _BOUND.reset(token)


_BOUND: ContextVar[LocalClients | None] = ContextVar("eltflow_aws_local_clients", default=None)


def _bound(service_name: str, settings: Settings | None) -> Callable[[], Any] | None:
    """The client bound for this invocation, if any, and if it is for the project asked for
    (``settings`` None: handler code means the app that is running it)."""
    bound = _BOUND.get()
    if bound is None or (settings is not None and settings.state_url != bound.state_url):
        return None
    return bound.factories.get(service_name)


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


def in_aws_lambda() -> bool:
    """True inside AWS Lambda, whose runtimes set ``AWS_EXECUTION_ENV`` to ``AWS_Lambda_...``
    (a reserved variable: eltflow's own functions never have it)."""
    return os.environ.get("AWS_EXECUTION_ENV", "").startswith("AWS_Lambda_")


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

    Inside a Lambda handler that an app runs, the app's own local service (see
    :class:`LocalClients`); deployed in AWS Lambda, boto3's client; otherwise one opened from
    ``settings`` (default: eltflow.toml of
    the current directory). Local clients own their resources: call ``close()`` when done
    (boto3 clients have it too).
    """
    bound = _bound(service_name, settings)
    if bound is not None:
        return bound()
    if settings is None and in_aws_lambda():
        # Deployed (eltflow export cloudformation): the function's own AWS services.
        import boto3

        return boto3.client(service_name)  # type: ignore[call-overload]
    if settings is None:
        settings = load_settings()
    if aws_mode(settings):
        return boto3_client(service_name, settings)
    factory = LOCAL_CLIENTS.get(service_name)
    if factory is None:
        raise ConfigError(
            f"no local implementation of AWS service {service_name!r} (local services: "
            f'{", ".join(sorted(LOCAL_CLIENTS))}); set [aws] mode = "aws" in {CONFIG_FILE} '
            "to use real AWS"
        )
    return factory(settings)
